"""Every non-public URL refuses anonymous users (SECURITY.md #9), generated from the URLconf."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

PUBLIC = {"/accounts/login/", "/"}
# Routes for the public by design (no login): tested in their own files (tests/test_closeout_api.py,
# tests/test_disclosure.py and tests/test_disclosure_markers.py for the portal, tests/test_wall.py for
# the wall screen, which carries a display token in its address).
PUBLIC_PREFIXES = ("/api/v1/public/", "/gongkai/", "/board/wall/")


def all_paths(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        pattern = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from all_paths(entry, pattern)
        elif isinstance(entry, URLPattern):
            # Fill every converter with a plausible value: ids 1, tokens "x".
            path = re.sub(r"<int:[^>]+>", "1", pattern)
            path = re.sub(r"<[^>]+>", "x", path)
            yield "/" + path.lstrip("^").rstrip("$")


PATHS = sorted({p for p in all_paths() if not p.startswith(("/admin", "/static")) and "(?" not in p})


def test_the_matrix_covers_every_app():
    for prefix in ["/ledger/", "/dispatch/", "/supervision/", "/documents/", "/plans/", "/calendar/", "/inbox/",
                   "/api/v1/tasks", "/api/v1/rounds", "/api/v1/reports", "/api/v1/escalations"]:
        assert any(p.startswith(prefix) for p in PATHS), prefix


@pytest.mark.parametrize("path", [p for p in PATHS if p not in PUBLIC and not p.startswith(PUBLIC_PREFIXES)])
def test_check_09_anonymous_users_are_refused(db, path):
    client = Client()
    for method in ("get", "post"):
        response = getattr(client, method)(path)
        if path.startswith("/api/") and not path.startswith(("/api/v1/docs", "/api/v1/openapi")):
            assert response.status_code in (401, 404, 405), (method, path, response.status_code)
        else:  # pages, and the API's schema and docs, which are for logged-in users
            assert response.status_code in (302, 403, 405), (method, path, response.status_code)
            if response.status_code == 302:
                assert response["Location"].startswith("/accounts/login/"), (method, path)
