"""Help for lagging units (帮扶) and quarterly supervision visits (一季一督导).

零陵区 (reporter_a) writes its difficulties in the month's report and turns them into a help request; 市生态环境局
(lead_env, T-01's lead unit) answers and assigns 市住建局 (lead_housing) to help, which records the help
given. The office plans and records a visit to 零陵区 with follow-up items.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.test import Client
from django.utils import timezone

from rectify.assessment import services
from rectify.assessment.models import HelpRequest, SupervisionVisit
from rectify.dispatch import services as dispatch
from rectify.dispatch.models import ProgressReport
from rectify.orgs.services import issue_api_token


def today() -> dt.date:
    """The date now, read per call: a date fixed at import goes stale when a run crosses midnight."""
    return timezone.localdate()


@pytest.fixture
def reported(world):
    rnd, _ = dispatch.open_round(actor=world.users["office_admin"], office=world.office, period="2026-11",
                                 due_date=today() + dt.timedelta(days=5))
    report = ProgressReport.objects.get(round=rnd, task=world.task_a)
    report = dispatch.transition(actor=world.users["reporter_a"], report=report, action="save", changes={
        "progress_text": "管网建设推进中。", "percent": 30, "difficulties": "征地拆迁受阻，缺少施工资金。"})
    world.round, world.report = rnd, report
    return world


def test_a_help_request_from_the_reports_difficulties_to_the_help_given(reported, django_capture_on_commit_callbacks):
    world = reported
    page = world.client("reporter_a").get(f"/dispatch/reports/{world.report.pk}/").content.decode()
    assert "据此申请帮扶" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = world.client("reporter_a").post(f"/assessment/reports/{world.report.pk}/help/", {
            "needs": "请协调征地和专项资金。", "asked_unit": world.dept_housing.pk})
    help_request = HelpRequest.objects.get()
    assert response.status_code == 302 and help_request.difficulty == "征地拆迁受阻，缺少施工资金。"
    assert help_request.status == "open" and help_request.unit == world.county_a
    assert world.users["lead_env"].notifications.filter(kind="help_requested").exists()
    # the dispatch table lists it for the office and the lead unit
    for persona in ("office_admin", "lead_env"):
        table = world.client(persona).get(f"/dispatch/rounds/{world.round.pk}/").content.decode()
        assert "帮扶申请（办理中 1 项）" in table and "请协调征地和专项资金" in table, persona
    assert world.client("reporter_b").get(f"/assessment/help/{help_request.pk}/").status_code == 404
    assert world.client("lead_housing").get(f"/assessment/help/{help_request.pk}/").status_code == 404
    with pytest.raises(PermissionDenied):
        services.help_transition(actor=world.users["reporter_a"], help_request=help_request, action="assign",
                                 answer="自己安排", helper_unit=world.dept_env)
    help_request = services.help_transition(actor=world.users["lead_env"], help_request=help_request, action="assign",
                                            answer="请住建局派员指导。", helper_unit=world.dept_housing,
                                            help_due=today() + dt.timedelta(days=15))
    assert help_request.status == "assigned"
    assert world.client("lead_housing").get(f"/assessment/help/{help_request.pk}/").status_code == 200  # the helper
    help_request = services.help_transition(actor=world.users["lead_housing"], help_request=help_request,
                                            action="record_help", help_given="派出技术组现场指导两次，协调资金 300 万元。")
    assert help_request.status == "helped" and help_request.helped_by == world.users["lead_housing"]
    from rectify.ledger.selectors import task_timeline

    actions = set(task_timeline(world.task_a, world.users["office_admin"]).values_list("action", flat=True))
    assert {"help_requested", "help_assigned", "help_recorded"} <= actions  # on the task's timeline


def test_no_help_request_without_difficulties_and_one_at_a_time(reported):
    world = reported
    with pytest.raises(Http404):  # another county's report does not exist for it
        services.request_help(actor=world.users["reporter_b"], report=world.report, needs="代为申请")
    services.request_help(actor=world.users["reporter_a"], report=world.report, needs="协调资金。")
    with pytest.raises(ValidationError, match="已有待办理"):
        services.request_help(actor=world.users["reviewer_a"], report=world.report, needs="再次申请。")
    other = ProgressReport.objects.get(round=world.round, task=world.task_b)
    other = dispatch.transition(actor=world.users["reporter_b"], report=other, action="save",
                                changes={"progress_text": "推进中。", "percent": 20})
    with pytest.raises(ValidationError, match="存在困难"):
        services.request_help(actor=world.users["reporter_b"], report=other, needs="协调。")


def test_withdraw_and_decline(reported):
    world = reported
    first = services.request_help(actor=world.users["reporter_a"], report=world.report, needs="协调资金。")
    first = services.help_transition(actor=world.users["reviewer_a"], help_request=first, action="withdraw")
    assert first.status == "withdrawn"
    second = services.request_help(actor=world.users["reporter_a"], report=world.report, needs="协调征地。")
    with pytest.raises(ValidationError):
        services.help_transition(actor=world.users["office_staff"], help_request=second, action="decline", answer="")
    second = services.help_transition(actor=world.users["office_staff"], help_request=second, action="decline",
                                      answer="属本级职责，请自行协调。")
    assert second.status == "declined"


def test_the_help_api(reported):
    world = reported
    reporter = world.users["reporter_a"]
    api = Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(actor=reporter, user=reporter, name='t')}")
    created = api.post(f"/api/v1/reports/{world.report.pk}/help-requests", {"needs": "请派员指导。"},
                       content_type="application/json")
    assert created.status_code == 201 and created.json()["actions"] == ["withdraw"]
    lead = world.users["lead_env"]
    lead_api = Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(actor=lead, user=lead, name='t')}")
    body = created.json()
    assigned = lead_api.post(f"/api/v1/help-requests/{body['id']}/actions/assign", {
        "version": body["version"], "answer": "安排住建局帮扶。", "helper_unit": world.dept_housing.pk},
        content_type="application/json")
    assert assigned.status_code == 200 and assigned.json()["helper_unit"] == "市住房和城乡建设局"
    stale = lead_api.post(f"/api/v1/help-requests/{body['id']}/actions/record_help", {
        "version": body["version"], "help_given": "已指导。"}, content_type="application/json")
    assert stale.status_code == 409
    other = world.users["reporter_b"]
    other_api = Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(actor=other, user=other, name='t')}")
    assert other_api.get(f"/api/v1/help-requests/{body['id']}").status_code == 404
    assert other_api.get("/api/v1/help-requests?tab=").json()["count"] == 0


def test_a_quarterly_visit_planned_and_recorded(world):
    admin = world.users["office_admin"]
    quarter = services.quarter_of(today())
    with pytest.raises(ValidationError):
        services.plan_visit(actor=admin, county=world.dept_env, quarter=quarter, planned_on=today(), team="督导组")
    with pytest.raises(PermissionDenied):
        services.plan_visit(actor=world.users["lead_env"], county=world.county_a, quarter=quarter, planned_on=today(),
                            team="督导组")
    response = world.client("office_staff").post("/assessment/visits/", {
        "county": world.county_a.pk, "quarter": quarter, "planned_on": today().isoformat(), "team": "王副主任带队，3 人"})
    assert response.status_code == 302
    visit = SupervisionVisit.objects.get()
    response = world.client("office_staff").post(f"/assessment/visits/{visit.pk}/step/", {
        "action": "record", "version": visit.version, "visited_on": today().isoformat(),
        "findings": "城区管网进度滞后，资金未到位。",
        "follow_ups": f"{world.task_a.code}｜10 日内报送资金到位计划｜{(today() + dt.timedelta(days=10)).isoformat()}\n"
                      "加强乡镇污水处理设施运维"})
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.status == "done" and visit.follow_ups.count() == 2
    first = visit.follow_ups.get(task=world.task_a)
    assert first.due_date == today() + dt.timedelta(days=10) and first.text == "10 日内报送资金到位计划"
    # the county and its leader see it; another county does not
    assert world.client("reporter_a").get(f"/assessment/visits/{visit.pk}/").status_code == 200
    assert world.client("leader_a").get(f"/assessment/visits/{visit.pk}/").status_code == 200
    assert world.client("reporter_b").get(f"/assessment/visits/{visit.pk}/").status_code == 404
    grid = world.client("office_admin").get(f"/assessment/visits/?year={today().year}").content.decode()
    assert "已督导" in grid and world.county_b.name in grid  # 祁阳市 shows a gap
    services.set_follow_up(actor=admin, follow_up=first, done=True)
    first.refresh_from_db()
    assert first.done and first.done_at == today()
