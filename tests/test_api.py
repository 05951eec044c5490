"""/api/v1: token authentication, OpenAPI schema, tasks and measures through the services."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from rectify.core.models import Event
from rectify.ledger.models import Task, TaskStatus
from rectify.orgs.models import ApiToken
from rectify.orgs.services import issue_api_token, revoke_api_token


@pytest.fixture
def api(world):
    user = world.users["office_staff"]
    return Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(actor=user, user=user, name='test')}")


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_openapi_schema_lists_the_ledger_operations(world):
    schema = world.client("office_admin").get("/api/v1/openapi.json").json()
    assert schema["info"]["title"] == "督察整改调度平台 API"
    for path in ["/api/v1/tasks", "/api/v1/tasks/{task_id}", "/api/v1/tasks/{task_id}/measures",
                 "/api/v1/measures/{measure_id}", "/api/v1/campaigns"]:
        assert path in schema["paths"], path
    assert "BearerAuth" in json.dumps(schema["components"]["securitySchemes"]) or schema["components"]["securitySchemes"]
    docs = world.client("office_admin").get("/api/v1/docs")
    assert docs.status_code == 200 and b"cdn.jsdelivr" not in docs.content


def test_tokens_are_stored_as_digests(world):
    user = world.users["office_staff"]
    key = issue_api_token(actor=user, user=user, name="同步程序")
    stored = ApiToken.objects.get(user=user)
    assert key not in stored.digest and len(stored.digest) == 64
    assert Client(HTTP_AUTHORIZATION=f"Bearer {key}").get("/api/v1/tasks").status_code == 200
    revoke_api_token(actor=user, token=stored)
    assert Client(HTTP_AUTHORIZATION=f"Bearer {key}").get("/api/v1/tasks").status_code == 401


def test_create_read_update_task_and_measures(world, api):
    body = {"campaign": "T-2021", "code": "API-1", "title": "尾矿库渗漏", "problem": "尾矿库渗漏水未收集处理。",
            "category": "mines", "responsible_units": ["祁阳市", "零陵区"], "lead_supervisor": "市生态环境局",
            "co_supervisors": ["市住房和城乡建设局"], "leader": "leader_a", "deadline_kind": "by_date",
            "deadline": "2027-06-30", "measures": [{"text": "建设渗滤液收集池", "owner_unit": "祁阳市"}]}
    created = post(api, "/api/v1/tasks", body)
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["status"] == TaskStatus.ACTIVE and data["responsible_units"] == ["祁阳市", "零陵区"]
    assert data["acceptance_unit"] == "市生态环境局" and data["leader"] == "包零陵市领导"
    task_id, version = data["id"], data["version"]

    added = post(api, f"/api/v1/tasks/{task_id}/measures", {"version": version, "text": "开展地下水监测"})
    assert added.status_code == 201 and added.json()["ordinal"] == 2
    measures = api.get(f"/api/v1/tasks/{task_id}/measures").json()
    assert [m["text"] for m in measures] == ["建设渗滤液收集池", "开展地下水监测"]

    patched = api.patch(f"/api/v1/measures/{measures[0]['id']}", json.dumps({"version": version + 1, "done": True}),
                        content_type="application/json")
    assert patched.status_code == 200 and patched.json()["done"] is True
    detail = api.get(f"/api/v1/tasks/{task_id}").json()
    assert detail["version"] == version + 2 and detail["measures"][0]["done"] is True
    assert Event.objects.filter(object_type="ledger.task", object_id=str(task_id)).count() == 3
    assert "来源：API" in Event.objects.filter(object_type="ledger.task", object_id=str(task_id)).first().summary


def test_validation_errors_are_clear(world, api):
    bad = post(api, "/api/v1/tasks", {"campaign": "T-2021", "code": "API-2", "title": "x",
                                      "responsible_units": ["不存在的县"]})
    assert bad.status_code == 422 and "不存在的县" in json.dumps(bad.json(), ensure_ascii=False)
    unknown_campaign = post(api, "/api/v1/tasks", {"campaign": "NOPE", "code": "API-3", "title": "x"})
    assert unknown_campaign.status_code == 422
    assert not Task.objects.filter(code__startswith="API-").exists()


def test_list_filters_and_pagination(world, api):
    page = api.get("/api/v1/tasks?limit=1&offset=0&q=祁阳").json()
    assert page["count"] == 1 and page["items"][0]["code"] == "T-02"
    assert api.get(f"/api/v1/tasks?county={world.county_a.pk}").json()["items"][0]["code"] == "T-01"


def test_reporters_cannot_create_through_the_api(world):
    user = world.users["reporter_a"]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(actor=user, user=user, name='t')}")
    response = post(client, "/api/v1/tasks", {"campaign": "T-2021", "code": "API-9", "title": "x"})
    assert response.status_code in (403, 422)
    assert not Task.objects.filter(code="API-9").exists()
