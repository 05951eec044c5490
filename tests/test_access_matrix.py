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
                   "/accounts/admin/users/", "/accounts/admin/units/", "/accounts/admin/tokens/",
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


ADMIN_PATHS = [p for p in PATHS if p.startswith("/accounts/admin/")]


@pytest.mark.parametrize("persona", ["office_staff", "lead_env", "reporter_a", "reviewer_a", "leader_a", "discipline",
                                     "auditor"])
def test_administration_refuses_every_other_role(world, persona):
    """账号与单位管理 is the system administrator's (and, by default, the office administrator's; the
    security administrator's for credentials): every other role gets 403 on every page and change,
    whatever the id (tests/test_office_admin_pages.py has the administrators themselves)."""
    assert len(ADMIN_PATHS) >= 10
    client = world.client(persona)
    for path in ADMIN_PATHS:
        get, post = client.get(path).status_code, client.post(path).status_code
        assert get in (403, 405) and post in (403, 405) and 403 in (get, post), (persona, path, get, post)


# The account's own security pages (rectify/orgs/security_views.py) answer every signed-in role; one
# account's sessions and second factor only its managers (the office administrator over its tree, the
# roles in RECTIFY_SECURITY_MANAGER_ROLES over every account).
OWN_ACCOUNT_PAGES = ("/accounts/sessions/", "/accounts/tokens/", "/accounts/2fa/setup/")
ACCOUNT_MANAGERS = {"office_admin"}


@pytest.mark.parametrize("persona", ["office_admin", "office_staff", "lead_env", "reporter_a", "reviewer_a",
                                     "leader_a", "discipline", "auditor"])
def test_account_security_pages_by_role(world, persona):
    client = world.client(persona)
    for path in OWN_ACCOUNT_PAGES:
        assert client.get(path).status_code == 200, (persona, path)
    other = world.users["reporter_b"]
    status = client.get(f"/accounts/users/{other.pk}/security/").status_code
    assert status == (200 if persona in ACCOUNT_MANAGERS else 403), (persona, status)
