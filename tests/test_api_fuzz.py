"""Schemathesis over the whole /api/v1 schema (SECURITY.md checks 19 and 21): generated requests,
valid and invalid, for every operation; no answer may be a server error.

Bounded and reproducible: a fixed number of examples per operation, derandomised (the seed is
the test's), so CI sees the same requests every run. Requests go through Django's test client
with a real token, as an office administrator (the widest scope) — no mocks."""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")

from django.test import Client  # noqa: E402
from hypothesis import HealthCheck, Phase, settings  # noqa: E402

from rectify.api.api import api  # noqa: E402
from rectify.orgs.services import issue_api_token  # noqa: E402

EXAMPLES = 12  # per operation; ~100 operations x 12 in about a minute

schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
SERVER_ERRORS: list[str] = []


@pytest.fixture
def token_client(world):
    user = world.users["office_admin"]
    return Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(actor=user, user=user, name='fuzz')}")


@schema.parametrize()
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_check_21_no_operation_answers_with_a_server_error(case, token_client):
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    method = kwargs["method"]
    url = kwargs["url"].removeprefix("http://testserver")
    headers = {k: v for k, v in (kwargs.get("headers") or {}).items()
               if k.lower() not in ("authorization", "user-agent", "content-length")}
    extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items() if k.lower() != "content-type"}
    content_type = headers.get("Content-Type") or headers.get("content-type")
    params = kwargs.get("params") or {}
    if "json" in kwargs:
        import json

        body, content_type = json.dumps(kwargs["json"]), "application/json"
    elif kwargs.get("files") or kwargs.get("data") is not None and content_type and "multipart" in content_type:
        body = None
    else:
        body = kwargs.get("data")
    query = _query(params)
    response = token_client.generic(method.upper(), url + ("?" + query if query else ""),
                                    data=body if body is not None else "",
                                    content_type=content_type or "application/json", **extra)
    assert response.status_code < 500, f"{case.operation.label}: {response.status_code}\n{case.as_curl_command()}"


def _query(params) -> str:
    from urllib.parse import urlencode

    return urlencode(params, doseq=True)


HUGE = "59634237455192211456"


@pytest.mark.parametrize("url", [
    f"/api/v1/tasks?offset={HUGE}", f"/api/v1/tasks?limit={HUGE}", f"/api/v1/reports?round={HUGE}",
    f"/api/v1/reports?task={HUGE}", f"/api/v1/visits?offset={HUGE}", f"/api/v1/cases?offset={HUGE}",
    f"/api/v1/assessment-results?limit={HUGE}", f"/api/v1/tasks/{HUGE}", f"/api/v1/reports/{HUGE}",
    "/api/v1/tasks?q=%00", "/api/v1/tasks?offset=-1",
])
def test_the_integers_the_assessors_tried_are_refused_not_crashed(token_client, url):
    response = token_client.get(url)
    assert response.status_code in (400, 404, 422), (url, response.status_code)


def test_a_nul_in_a_json_body_is_refused_with_a_chinese_message(world, token_client):
    import json

    task = world.task_a
    body = {"version": task.version, "text": "整改措施\u0000", "owner_unit": None}
    response = token_client.post(f"/api/v1/tasks/{task.pk}/measures", json.dumps(body), content_type="application/json")
    assert response.status_code == 422 and "空字符" in response.json()["detail"]
    assert not task.measures.filter(text__startswith="整改措施").exists()
    escaped = json.dumps({"version": task.version, "text": "含有 \\u0000 六个字符的文字", "owner_unit": None})
    assert token_client.post(f"/api/v1/tasks/{task.pk}/measures", escaped,
                             content_type="application/json").status_code != 422  # a literal backslash-u is text


def test_a_nul_in_a_web_query_or_form_is_refused(world):
    client = world.client("office_admin")
    assert client.get("/ledger/?q=%00").status_code == 400
    response = client.post("/ledger/", "q=a%00b", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400 and "空字符" in response.content.decode()


def test_json_bodies_are_bounded_before_any_view_reads_them(world, token_client):
    import json

    task = world.task_a
    url = f"/api/v1/tasks/{task.pk}/measures"
    for body, word in [({"version": 2**64, "text": "措施"}, "数值超出范围"),
                       ({"version": task.version, "text": "长" * 100_001}, "文字过长"),
                       ({"version": task.version, "text": ["a", {"k\u0000": 1}]}, "空字符")]:
        response = token_client.post(url, json.dumps(body), content_type="application/json")
        assert response.status_code == 422 and word in response.json()["detail"], (body, response.content[:200])
    assert not task.measures.filter(text="措施").exists()


def test_no_api_list_uses_an_unbounded_paginator():
    """Every /api/v1 list pages through core.paging.ApiPagination (bounded limit and offset);
    ninja's LimitOffsetPagination accepted any offset (a 500 on SQLite)."""
    from pathlib import Path

    import rectify

    offenders = [str(p) for p in Path(rectify.__file__).parent.rglob("*.py")
                 if "LimitOffsetPagination" in p.read_text(encoding="utf-8")]
    assert not offenders
