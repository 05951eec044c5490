"""Scope matrix: every persona against tasks inside and outside its scope, by guessing ids,
through the web pages and through the API."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from rectify.orgs.services import issue_api_token

# persona -> (tasks it may read, tasks it may edit); "a" is 零陵区's task, "b" 祁阳市's.
MATRIX = {
    "office_admin": ({"a", "b"}, {"a", "b"}),
    "office_staff": ({"a", "b"}, {"a", "b"}),
    "lead_env": ({"a"}, set()),
    "lead_housing": ({"b"}, set()),
    "reporter_a": ({"a"}, set()),
    "reviewer_a": ({"a"}, set()),
    "reporter_b": ({"b"}, set()),
    "leader_a": ({"a"}, set()),
    "discipline": (set(), set()),
    "auditor": (set(), set()),
}
CASES = [(persona, key) for persona in MATRIX for key in ("a", "b")]


def _task(world, key):
    return world.task_a if key == "a" else world.task_b


def _edit_post(task, version):
    return {
        "version": version, "campaign": task.campaign_id, "code": task.code, "title": task.title + "（改）",
        "problem": task.problem, "category": task.category, "deadline_kind": task.deadline_kind,
        "deadline": task.deadline.isoformat(), "primary_unit": task.task_units.get(role="responsible").unit_id,
        "m-TOTAL_FORMS": "1", "m-INITIAL_FORMS": "0", "m-0-text": "措施",
    }


@pytest.mark.parametrize("persona,key", CASES)
def test_check_10_web_read_and_write(world, persona, key):
    readable, editable = MATRIX[persona]
    task = _task(world, key)
    client = world.client(persona)

    detail = client.get(f"/ledger/tasks/{task.pk}/")
    assert detail.status_code == (200 if key in readable else 404)
    listing = client.get("/ledger/").content.decode()
    assert (task.code in listing) == (key in readable)

    edit_page = client.get(f"/ledger/tasks/{task.pk}/edit/")
    assert edit_page.status_code == (200 if key in editable else 404)
    response = client.post(f"/ledger/tasks/{task.pk}/edit/", _edit_post(task, task.version))
    assert response.status_code == (302 if key in editable else 404)
    task.refresh_from_db()
    assert task.title.endswith("（改）") == (key in editable)


@pytest.mark.parametrize("persona,key", CASES)
def test_check_10_api_read_and_write(world, persona, key):
    readable, editable = MATRIX[persona]
    task = _task(world, key)
    user = world.users[persona]
    token = issue_api_token(actor=user, user=user, name="test")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    got = api.get(f"/api/v1/tasks/{task.pk}")
    assert got.status_code == (200 if key in readable else 404)
    codes = {row["code"] for row in api.get("/api/v1/tasks?limit=100").json()["items"]}
    assert (task.code in codes) == (key in readable)
    measure = task.measures.first()
    assert api.get(f"/api/v1/measures/{measure.pk}").status_code == (200 if key in readable else 404)

    payload = {"code": task.code, "title": "接口修改", "problem": task.problem, "category": task.category,
               "responsible_units": [task.task_units.get(role="responsible").unit.name],
               "deadline_kind": task.deadline_kind, "deadline": task.deadline.isoformat(), "version": task.version}
    put = api.put(f"/api/v1/tasks/{task.pk}", json.dumps(payload), content_type="application/json")
    expected = 200 if key in editable else (403 if key in readable else 404)
    assert put.status_code == expected, put.content
    patch = api.patch(f"/api/v1/measures/{measure.pk}", json.dumps({"version": put.json().get("version", task.version)
                                                                     if put.status_code == 200 else task.version,
                                                                     "done": True}),
                      content_type="application/json")
    assert patch.status_code == (200 if key in editable else (403 if key in readable else 404)), patch.content
    task.refresh_from_db()
    assert (task.title == "接口修改") == (key in editable)


@pytest.mark.parametrize("persona", sorted(MATRIX))
def test_only_office_creates_tasks(world, persona):
    client = world.client(persona)
    allowed = persona in {"office_admin", "office_staff"}
    assert client.get("/ledger/tasks/new/").status_code == (200 if allowed else 403)


def test_anonymous_is_refused_everywhere(world):
    anonymous = Client()
    for url in ["/ledger/", f"/ledger/tasks/{world.task_a.pk}/", f"/ledger/tasks/{world.task_a.pk}/edit/",
                "/ledger/tasks/new/"]:
        response = anonymous.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
    assert anonymous.get("/api/v1/tasks").status_code == 401
    assert Client(HTTP_AUTHORIZATION="Bearer rk_guessed").get("/api/v1/tasks").status_code == 401
