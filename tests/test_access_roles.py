"""The generated access matrix (SECURITY.md checks 9 and 10): every URL pattern and every API
operation, for every role and the anonymous visitor, with an object inside the visitor's scope and
one outside it.

The expectations are declared in tests/access_rules.py, one line per route; a route that is not
declared there fails ``test_check_09_every_route_is_declared`` (so a new view cannot ship without saying who
may open it). For each declared route and each persona of tests/access_world.py:

- with the in-scope object (A): a role the line allows must be answered (2xx/3xx for a GET; for a
  write anything but a refusal and a server error), any other role must be refused (401, 403, 404 or
  a redirect to the login page);
- with the out-of-scope object (B: 祁阳市's for 零陵区's people, someone else's reminder, an
  undisclosed task on the portal), and for the mirrored personas of 祁阳市 with A: refused, always.

One world serves the whole module; every request runs inside a savepoint that is rolled back, so no
write of one request (a POST that succeeds, a download recorded in the audit chain) changes what the
next one sees. Writes are sent with a minimal body built from the schema (API) or an empty form
(pages): a refused role must be refused before its input is looked at.
"""

from __future__ import annotations

import copy
import functools
import io
import json
import os
import re
import time
from collections import Counter
from dataclasses import dataclass

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from rectify.orgs.services import issue_api_token
from tests.access_rules import API, WEB, Rule, expand
from tests.access_world import MIRRORS, PERSONAS, MatrixWorld, build

# Every test here runs in the test database (pytest-django sets it up only for marked tests); the
# module's world is built once, below, and each test's own transaction nests inside its transaction.
pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
# django-ninja's own pages: in the URLconf under api:, not operations of the schema
API_PAGES = {"api:openapi-json", "api:openapi-view", "api:api-root"}


# --- what exists -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    key: str  # "app:name" for a page, "METHOD /api/v1/path" for an API operation
    pattern: str  # the path with its converters, "/ledger/tasks/<int:pk>/" or "/api/v1/tasks/{task_id}"
    methods: tuple[str, ...]


def _web_patterns(resolver=None, prefix="", namespace=None):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        pattern = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _web_patterns(entry, pattern, entry.namespace or namespace)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else (entry.name or "")
            yield "/" + pattern, name


def web_routes() -> dict[str, Route]:
    routes = {}
    for pattern, name in _web_patterns():
        if pattern.startswith(("/admin/", "/static/")) or "(?" in pattern:
            continue
        if name.startswith("api:") and name not in API_PAGES:
            continue  # an API operation: checked from the schema, with its method
        key = name or pattern  # the home page "/" has no name
        routes[key] = Route(key, pattern, ("get", "post"))
    return routes


@functools.cache
def api_schema() -> dict:
    from rectify.api.api import api

    return api.get_openapi_schema(path_prefix="/api/v1")


def api_routes() -> dict[str, Route]:
    routes = {}
    for path, operations in api_schema()["paths"].items():
        for method in operations:
            key = f"{method.upper()} {path}"
            routes[key] = Route(key, path, (method,))
    return routes


def _stub(text: str) -> str:
    return f'    "{text}": Rule(kind=None, get=(...), post=(...)),'


def undeclared(web: dict[str, Route], api: dict[str, Route], web_rules: dict, api_rules: dict) -> list[str]:
    """What the declaration lacks (or names in vain), as the lines to add or remove."""
    missing_web = sorted(set(web) - set(web_rules))
    missing_api = sorted(set(api) - set(api_rules))
    stale = sorted((set(web_rules) - set(web)) | (set(api_rules) - set(api)))
    lines = []
    if missing_web:
        lines.append("Pages not declared: add to WEB in tests/access_rules.py (kind: what fills the id, from "
                     "tests/access_world.py, None if the path has none; get/post: the roles allowed, None if the "
                     "method is not served):")
        lines += [f'    "{k}": Rule({_kind_hint(web[k].pattern)}, get=(...), post=(...)),  # {web[k].pattern}'
                  for k in missing_web]
    if missing_api:
        lines.append("API operations not declared: add to API in tests/access_rules.py (kind, then the roles):")
        lines += [f'    "{k}": Rule({_kind_hint(api[k].pattern)}, (...)),' for k in missing_api]
    if stale:
        lines.append("Declared routes that no longer exist: remove from tests/access_rules.py:")
        lines += [f"    {k}" for k in stale]
    return lines


def test_check_09_every_route_is_declared():
    lines = undeclared(web_routes(), api_routes(), WEB, API)
    assert not lines, "\n".join(lines)


def test_an_undeclared_route_is_named_with_the_line_to_add():
    web, api = web_routes(), api_routes()
    web_rules = {k: v for k, v in WEB.items() if k != "ledger:task_detail"}
    api_rules = {k: v for k, v in API.items() if k != "GET /api/v1/tasks"} | {"GET /api/v1/gone": Rule(None, ())}
    assert undeclared(web, api, web_rules, api_rules) == [
        undeclared(web, {}, {}, {})[0],  # "Pages not declared: add to WEB in tests/access_rules.py …"
        '    "ledger:task_detail": Rule("<kind>", get=(...), post=(...)),  # /ledger/tasks/<int:pk>/',
        undeclared({}, api, {}, {})[0],  # "API operations not declared: add to API …"
        '    "GET /api/v1/tasks": Rule(None, (...)),',
        "Declared routes that no longer exist: remove from tests/access_rules.py:",
        "    GET /api/v1/gone",
    ]


def _kind_hint(pattern: str) -> str:
    return '"<kind>"' if re.search(r"<[^>]+>|\{[^}]+\}", pattern) else "None"


# --- the world -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def matrix(django_db_setup, django_db_blocker, tmp_path_factory):
    """One world for the module, in a transaction rolled back at the end."""
    base = tmp_path_factory.mktemp("access")
    with django_db_blocker.unblock(), override_settings(
            MEDIA_ROOT=base / "files", UPLOAD_DIR=base / "uploads", JOBS_DIR=base / "jobs",
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"], AUDIT_HEAD_LOG=None,
            TOTP_REQUIRED_ROLES=[], MAX_SESSIONS_PER_USER=0):  # as tests/conftest.py
        from django.core.cache import cache

        with transaction.atomic():
            cache.clear()
            yield build()
            transaction.set_rollback(True)


def client_for(matrix: MatrixWorld, persona: str, api: bool) -> Client:
    """A signed-in browser or a token client of the persona, made once per world."""
    key = (persona, api)
    if key not in matrix.clients:
        if persona == "anonymous":
            client = Client()
        elif api:
            user = matrix.world.users[persona]
            client = Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(actor=user, user=user, name='matrix')}")
        else:
            client = Client()
            client.force_login(matrix.world.users[persona])
        matrix.clients[key] = client
    return matrix.clients[key]


# --- one request -----------------------------------------------------------------------------------


def fill(pattern: str, value, query: str = "") -> str:
    if query:
        return f"{pattern}?{query.format(value)}"
    values = list(value) if isinstance(value, tuple) else [value]
    converters = re.findall(r"<[^>]+>|\{[^}]+\}", pattern)
    if value is None:
        values = []
    assert len(values) == len(converters), (pattern, value)
    for converter, v in zip(converters, values, strict=True):
        pattern = pattern.replace(converter, str(v), 1)
    return pattern


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    if "allOf" in node:
        return _resolve(schema, node["allOf"][0])
    if "anyOf" in node:
        return _resolve(schema, next((n for n in node["anyOf"] if n.get("type") != "null"), node["anyOf"][0]))
    return node


def minimal(schema: dict, node: dict):
    """The smallest instance that passes the schema's validation (required fields only)."""
    node = _resolve(schema, node)
    if "enum" in node:
        return node["enum"][0]
    kind = node.get("type")
    if kind == "object":
        return {k: minimal(schema, v) for k, v in node.get("properties", {}).items() if k in node.get("required", [])}
    if kind == "array":
        return [minimal(schema, node.get("items", {})) for _ in range(node.get("minItems", 0))]
    if kind == "integer":
        return max(1, node.get("minimum", 1))
    if kind == "number":
        return 1
    if kind == "boolean":
        return False
    if "pattern" in node:  # the patterns the schema uses: a month, a date
        return next(c for c in ("2027-01", "2026-12-31", "x") if re.search(node["pattern"], c))
    if node.get("format") == "date":
        return "2026-12-31"
    if node.get("format") == "date-time":
        return "2026-12-31T00:00:00+08:00"
    return "x" * max(1, node.get("minLength", 1))


def _jpeg() -> io.BytesIO:
    from PIL import Image

    photo = io.BytesIO()
    Image.new("RGB", (16, 16), (40, 140, 60)).save(photo, "JPEG")
    photo.seek(0)
    photo.name = "现场.jpg"
    return photo


def request(client: Client, method: str, url: str, body=None) -> tuple[int, str, list[str]]:
    """Send one request in a savepoint that is rolled back; the client's cookies are kept as they were
    (a POST to the logout or password page must not change who the next request is)."""
    cookies = copy.deepcopy(client.cookies)
    try:
        with transaction.atomic(), CaptureQueriesContext(connection) as ctx:
            try:
                if method == "get":
                    response = client.get(url)
                elif isinstance(body, tuple) and body[0] == "multipart":
                    response = client.post(url, body[1])
                elif body is None:
                    response = getattr(client, method)(url)
                else:
                    response = getattr(client, method)(url, json.dumps(body), content_type="application/json")
                status, where = response.status_code, response.get("Location", "")
            except Exception as exc:  # a server error: reported with the route, not raised
                status, where = 500, f"{type(exc).__name__}: {exc}"[:200]
            transaction.set_rollback(True)
    finally:
        client.cookies = cookies
    return status, where, writes(ctx.captured_queries)


# Sent to log in, or to the second factor first: not through (a session that has not passed its
# second factor must not count as an answer).
NOT_THROUGH = (LOGIN, "/accounts/2fa/")


def refused(status: int, where: str) -> bool:
    return status in (401, 403, 404) or (300 <= status < 400 and where.startswith(NOT_THROUGH))


def answered(status: int, where: str) -> bool:
    """Past the access checks: served (2xx/3xx), or turned down for its input or the object's state
    (400, 409, 422, 429) — which only a visitor allowed to see the object may learn."""
    return not refused(status, where) and status < 500 and status != 405


# What a request may write whoever sends it: the session (its idle timer), an API token's last use,
# the shared cache (rate limits), a reminder marked read.
HOUSEKEEPING = re.compile(r'"?(django_session|orgs_apitoken|rectify_cache|core_notification)"?', re.I)
WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.I)


def writes(queries: list[dict]) -> list[str]:
    return [q["sql"][:120] for q in queries if WRITE.search(q["sql"]) and not HOUSEKEEPING.search(q["sql"][:80])]


# --- the matrix ------------------------------------------------------------------------------------


# Integer fields of request bodies that name a row: the schema's minimal instance says 1, which is
# the first row only on a fresh database (PostgreSQL's sequences go on across the whole suite), so
# the first row of the table it names stands in.
ID_FIELDS = {"task": "ledger.Task", "campaign": "ledger.Campaign", "unit": "orgs.Unit", "lead_unit": "orgs.Unit",
             "target_unit": "orgs.Unit", "asked_unit": "orgs.Unit", "helper_unit": "orgs.Unit",
             "commission": "orgs.Unit", "owner_unit": "orgs.Unit", "scheme": "assessment.AssessmentScheme",
             "task_ids": "ledger.Task", "unit_ids": "orgs.Unit"}


def _with_first_rows(body):
    from django.apps import apps

    if not isinstance(body, dict):
        return body
    out = dict(body)
    for key, label in ID_FIELDS.items():
        if out.get(key) == 1 or (isinstance(out.get(key), list) and out[key] and set(out[key]) == {1}):
            first = apps.get_model(label).objects.order_by("pk").values_list("pk", flat=True).first()
            first = first if first is not None else 1
            out[key] = [first] * len(out[key]) if isinstance(out[key], list) else first
    return out


def _api_body(route: Route):
    operation = api_schema()["paths"][route.pattern][route.methods[0]]
    content = operation.get("requestBody", {}).get("content", {})
    if "multipart/form-data" in content:
        props = _resolve(api_schema(), content["multipart/form-data"]["schema"]).get("properties", {})
        return ("multipart", {k: (_jpeg() if v.get("format") == "binary" else "x") for k, v in props.items()})
    if "application/json" in content:
        return _with_first_rows(minimal(api_schema(), content["application/json"]["schema"]))
    return None


def cases(matrix: MatrixWorld, persona: str, route: Route, rule: Rule, api: bool):
    """(method, url, body, which, expected) for one persona on one route; expected is "answer" or
    "refuse"."""
    role = PERSONAS.get(persona) or MIRRORS[persona]
    kind = matrix.kinds[rule.kind] if rule.kind else None
    for method in route.methods:
        allowed = expand(rule.roles(method, api))
        if allowed is None:
            continue  # the route does not serve this method
        body = (_api_body(route) if method != "get" else None) if api else ({} if method == "post" else None)
        mirror = persona in MIRRORS
        if not mirror:
            url = fill(route.pattern, kind.value("a", persona) if kind else None, rule.query)
            yield method, url, body, "A", "answer" if role in allowed else "refuse"
        if role not in allowed or kind is None:
            continue
        if mirror and kind.split and not rule.shared_with(role):
            yield method, fill(route.pattern, kind.value("a", persona), rule.query), body, "A", "refuse"
        elif not mirror and kind.out_of_scope(persona) and not rule.shared_with(role):
            yield method, fill(route.pattern, kind.value("b", persona), rule.query), body, "B", "refuse"


def verdict(expected: str, method: str, status: int, where: str, wrote: list[str]) -> tuple[bool, bool]:
    """(as declared, turned away softly). A write by a role that may not make it must be refused — or
    turned away with a message and a redirect, provided it wrote nothing."""
    if expected == "answer":
        return answered(status, where), False
    if method != "get" and not wrote and 300 <= status < 400 and not where.startswith(NOT_THROUGH):
        return True, True
    return refused(status, where) and not wrote, False


ALL_PERSONAS = [*PERSONAS, *MIRRORS]
TOTALS: Counter = Counter()
SOFT: set[str] = set()


def run(matrix: MatrixWorld, persona: str, api: bool) -> list[str]:
    routes = api_routes() if api else web_routes()
    table = API if api else WEB
    client = client_for(matrix, persona, api)
    failures, record = [], os.environ.get("RECTIFY_ACCESS_RECORD")
    seen = []
    for key, route in sorted(routes.items()):
        rule = table[key]
        for method, url, body, which, expected in cases(matrix, persona, route, rule, api):
            status, where, wrote = request(client, method, url, body)
            TOTALS["requests"] += 1
            TOTALS[f"{which} {expected}"] += 1
            seen.append({"key": key, "method": method, "url": url, "which": which, "status": status,
                         "where": where, "persona": persona, "wrote": wrote})
            if rule.lands_on_login and expected == "answer" and where.startswith(NOT_THROUGH):
                status, where = 200, ""  # the login or second-factor page is this route's answer
            ok, soft = verdict(expected, method, status, where, wrote)
            if soft:
                TOTALS["soft refusals"] += 1
                SOFT.add(f"{method.upper()} {key}")
            if not ok:
                failures.append(f"{persona} ({PERSONAS.get(persona) or MIRRORS[persona]}) {method.upper()} {url} "
                                f"[{key}, {which}]: {status} {where}, expected to {expected}")
    if record:
        with open(record, "a", encoding="utf-8") as out:
            for row in seen:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return failures


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_pages(matrix, persona):
    started = time.monotonic()
    failures = run(matrix, persona, api=False)
    print(f"\n{persona}: pages checked in {time.monotonic() - started:.1f}s")
    assert not failures or os.environ.get("RECTIFY_ACCESS_RECORD"), "\n".join(failures)


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_api(matrix, persona):
    failures = run(matrix, persona, api=True)
    assert not failures or os.environ.get("RECTIFY_ACCESS_RECORD"), "\n".join(failures)


def test_summary(matrix):
    """Printed at the end of the module (``-s`` shows it): the size of the matrix."""
    roles = sorted({*PERSONAS.values(), *MIRRORS.values()})
    print(f"\naccess matrix: {len(web_routes())} URL patterns + {len(api_routes())} API operations × "
          f"{len(roles)} roles ({len(ALL_PERSONAS)} personas) — {TOTALS['requests']} requests: "
          f"{TOTALS['A answer']} answered in scope, {TOTALS['A refuse']} refused in scope, "
          f"{TOTALS['B refuse']} refused out of scope; writes turned away by a redirect with a message "
          f"(no 403, nothing written): {TOTALS['soft refusals']} requests on {len(SOFT)} routes: {sorted(SOFT)}")
    assert TOTALS["requests"] == 0 or TOTALS["B refuse"] > 0


def test_the_matrix_catches_a_leak(matrix):
    """The checks can fail: with a declaration that says 零陵区's reporter may not open tasks, the
    reporter's own task answering 200 is reported; so would 祁阳市's task be if it answered."""
    route = Route("ledger:task_detail", "/ledger/tasks/<int:pk>/", ("get",))
    made = list(cases(matrix, "reporter_a", route, Rule("task", get=("office", "unit")), api=False))
    assert [(c[3], c[4]) for c in made] == [("A", "answer"), ("B", "refuse")]
    client = Client()
    client.force_login(matrix.world.users["reporter_a"])
    own = request(client, "get", made[0][1])
    other = request(client, "get", made[1][1])
    assert own[0] == 200 and other[0] == 404, (own, other)
    assert verdict("answer", "get", *own) == (True, False)
    assert verdict("refuse", "get", *other) == (True, False)
    assert verdict("refuse", "get", *own) == (False, False)  # a leak, as the matrix would see it
    assert verdict("refuse", "post", 302, "/ledger/", ["INSERT INTO ledger_task"]) == (False, False)
    wrong = list(cases(matrix, "reporter_a", route, Rule("task", get=("office",)), api=False))
    assert [(c[3], c[4]) for c in wrong] == [("A", "refuse")]
