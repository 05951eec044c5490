"""/api/v1 for close-out, objections and look-backs: same scope and services as the pages; the
public objection routes work without a token, rate-limited per address."""

from __future__ import annotations

import datetime as dt
import json

from django.test import Client

from rectify.closeout.models import Closeout, CloseoutStatus, Objection
from rectify.orgs.services import issue_api_token
from tests.test_closeout import ALL_MET, assessed, make_eligible, through_notice

C = CloseoutStatus


def api(world, persona):
    user = world.users[persona]
    return Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(actor=user, user=user, name='test')}")


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_the_path_through_the_api(world):
    task = make_eligible(world, world.task_a)
    reviewer = api(world, "reviewer_a")
    body = {"items": {k: list(v) for k, v in ALL_MET.items()}, "completion_summary": "完成"}
    created = post(reviewer, f"/api/v1/tasks/{task.pk}/self-assessment", body)
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["status"] == "self_assessing" and "apply" in data["actions"] and len(data["assessments"]) == 1
    applied = post(reviewer, f"/api/v1/closeouts/{data['id']}/actions/apply", {"version": data["version"]})
    assert applied.status_code == 200 and applied.json()["status"] == "applied"
    stale = post(reviewer, f"/api/v1/closeouts/{data['id']}/actions/apply", {"version": data["version"]})
    assert stale.status_code == 409
    office = api(world, "office_admin")
    published = post(office, f"/api/v1/closeouts/{data['id']}/actions/publish_notice",
                     {"version": applied.json()["version"]})
    assert published.json()["status"] == "in_notice" and published.json()["notice_end"]
    assert post(api(world, "reporter_b"), f"/api/v1/closeouts/{data['id']}/actions/return",
                {"version": 1, "reason": "x"}).status_code == 404
    listing = office.get("/api/v1/closeouts?status=in_notice").json()
    assert [c["id"] for c in listing["items"]] == [data["id"]]
    assert api(world, "reporter_b").get("/api/v1/closeouts?status=").json()["count"] == 0


def public_notice(world):
    """A close-out in notice of a task the office disclosed (the portal shows its notice)."""
    from tests.listing import _disclose

    closeout = through_notice(world, assessed(world))
    _disclose("campaign", [world.campaign.pk])
    _disclose("task", [closeout.task_id])
    return closeout


def test_objections_from_the_public_without_a_token(world, settings):
    closeout = public_notice(world)
    public = Client()
    response = post(public, f"/api/v1/public/closeouts/{closeout.pk}/objections",
                    {"content": "排污口仍在使用。", "name": "李四", "phone": "13900001111"})
    assert response.status_code == 201
    receipt = response.json()["receipt"]
    looked = public.get(f"/api/v1/public/objections/{receipt}").json()
    assert looked["status"] == "open" and looked["answer"] == "" and "李四" not in json.dumps(looked)
    # the office sees the contact in full, the lead unit masked, the unit concerned not at all
    office = api(world, "office_admin").get(f"/api/v1/closeouts/{closeout.pk}").json()["objections"][0]
    lead = api(world, "lead_env").get(f"/api/v1/closeouts/{closeout.pk}").json()["objections"][0]
    unit = api(world, "reviewer_a").get(f"/api/v1/closeouts/{closeout.pk}").json()["objections"][0]
    assert (office["contact_name"], lead["contact_name"], unit["contact_name"]) == ("李四", "李*", None)
    answered = post(api(world, "office_admin"), f"/api/v1/objections/{office['id']}/answer",
                    {"action": "dismiss", "answer": "排污口已封堵，异议不成立。"})
    assert answered.status_code == 200
    assert public.get(f"/api/v1/public/objections/{receipt}").json()["status"] == "dismissed"
    assert public.get("/api/v1/public/objections/YY0000NOTREAL").status_code == 404
    # not in notice: nothing to object to
    Closeout.objects.filter(pk=closeout.pk).update(status=C.ACCEPTED)
    assert post(public, f"/api/v1/public/closeouts/{closeout.pk}/objections",
                {"content": "再提一条异议内容"}).status_code == 404


def test_public_objections_are_rate_limited_per_address(world, settings):
    settings.PUBLIC_OBJECTION_RATE = 2
    closeout = public_notice(world)
    public = Client(REMOTE_ADDR="10.0.0.9")
    codes = [post(public, f"/api/v1/public/closeouts/{closeout.pk}/objections", {"content": f"第{i}条异议内容"}).status_code
             for i in range(3)]
    assert codes == [201, 201, 429] and Objection.objects.count() == 2
    other = Client(REMOTE_ADDR="10.0.0.10")
    assert post(other, f"/api/v1/public/closeouts/{closeout.pk}/objections", {"content": "另一地址的异议"}).status_code == 201


def test_no_objection_to_the_notice_of_an_undisclosed_task(world):
    """The portal does not show the notice of a task the office has not disclosed; the public
    operation does not take objections to it either (nor tells that it exists)."""
    closeout = through_notice(world, assessed(world))
    response = post(Client(), f"/api/v1/public/closeouts/{closeout.pk}/objections", {"content": "排污口仍在使用。"})
    assert response.status_code == 404 and Objection.objects.count() == 0
    assert Client().get(f"/gongkai/notices/{closeout.pk}/").status_code == 404


def test_look_back_through_the_api(world):
    from tests.test_closeout import closed_task

    task = closed_task(world)
    office = api(world, "office_admin")
    created = post(office, "/api/v1/lookbacks", {"campaign": world.campaign.pk, "title": "回头看", "share_percent": 100,
                                                 "seed": "s1", "due_date": (dt.date.today() + dt.timedelta(days=9)).isoformat()})
    assert created.status_code == 201 and created.json()["checks"][0]["task"] == task.pk
    check_id = created.json()["checks"][0]["id"]
    assert post(api(world, "lead_env"), "/api/v1/lookbacks", {
        "campaign": world.campaign.pk, "title": "x", "share_percent": 1, "due_date": "2099-01-01"}).status_code == 403
    held = post(api(world, "lead_env"), f"/api/v1/lookback-checks/{check_id}/result",
                {"action": "hold", "statement": "巩固"})
    assert held.status_code == 200 and held.json()["result"] == "holding"


def test_policy_through_the_api(world):
    office = api(world, "office_admin")
    response = office.put(f"/api/v1/campaigns/{world.campaign.pk}/closeout-policy",
                          json.dumps({"notice_workdays": 7, "onsite_required": True, "verifier": "lead"}),
                          content_type="application/json")
    assert response.status_code == 200 and response.json()["notice_workdays"] == 7
    assert api(world, "lead_env").put(f"/api/v1/campaigns/{world.campaign.pk}/closeout-policy",
                                      json.dumps({"notice_workdays": 7, "onsite_required": True, "verifier": "lead"}),
                                      content_type="application/json").status_code == 404
