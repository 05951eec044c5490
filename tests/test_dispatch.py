"""Monthly dispatch: rounds, report slots, the report state machine, evidence, the round table."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from PIL import Image

from rectify.core.models import Event, Notification
from rectify.dispatch import services
from rectify.dispatch.models import DispatchRound, Evidence, ProgressReport, ReportStatus
from rectify.ledger.models import Task, TaskStatus
from rectify.ledger.services import TaskInput, create_task
from tests.conftest import round_due

S = ReportStatus


@pytest.fixture
def rnd(world):
    rnd, created = services.open_round(actor=world.users["office_admin"], office=world.office, period="2026-11",
                                       due_date=round_due("2026-11"))
    assert created
    return rnd


def report_of(rnd, task):
    return ProgressReport.objects.get(round=rnd, task=task)


def go(world, persona, report, action, **kwargs):
    report.refresh_from_db()
    try:
        return services.transition(actor=world.users[persona], report=report, action=action,
                                   expected_version=report.version, **kwargs)
    finally:
        report.refresh_from_db()


CONTENT = {"progress_text": "完成截污管网 3.2 公里。", "percent": 40}


def test_open_round_gives_each_open_task_a_slot_per_responsible_unit(world):
    admin = world.users["office_admin"]
    both = create_task(actor=admin, campaign=world.campaign, data=TaskInput(
        code="T-03", title="两县共担", problem="p", responsible_units=[world.county_a, world.county_b],
        deadline_kind="long_term", measures=[]))
    closed = create_task(actor=admin, campaign=world.campaign, data=TaskInput(
        code="T-04", title="已销号", problem="p", responsible_units=[world.county_a], deadline_kind="long_term"))
    Task.objects.filter(pk=closed.pk).update(status=TaskStatus.CLOSED)
    rnd, created = services.open_round(actor=admin, office=world.office, period="2026-11", due_date=round_due("2026-11"))
    slots = set(rnd.reports.values_list("task__code", "unit__name"))
    assert slots == {("T-01", "零陵区"), ("T-02", "祁阳市"), ("T-03", "零陵区"), ("T-03", "祁阳市")}
    assert all(s == S.PENDING for s in rnd.reports.values_list("status", flat=True))
    again, created_again = services.open_round(actor=admin, office=world.office, period="2026-11", due_date=round_due("2026-11"))
    assert not created_again and again.pk == rnd.pk and DispatchRound.objects.count() == 1
    assert rnd.reports.count() == 4 and both.pk


def test_only_the_office_opens_rounds(world):
    with pytest.raises(PermissionDenied):
        services.open_round(actor=world.users["lead_env"], office=world.office, period="2026-11", due_date=round_due("2026-11"))


def test_report_goes_up_through_review_and_lead(world, rnd):
    report = report_of(rnd, world.task_a)
    go(world, "reporter_a", report, "save", changes={"progress_text": "草稿"})
    assert report.status == S.DRAFT
    go(world, "reporter_a", report, "submit", changes=CONTENT)
    assert report.status == S.AWAITING_REVIEW
    with pytest.raises(ValidationError):  # the lead unit cannot act before the unit's own review
        go(world, "lead_env", report, "accept")
    go(world, "reviewer_a", report, "approve")
    assert report.status == S.SUBMITTED
    with pytest.raises(ValidationError):
        go(world, "lead_env", report, "return")  # a reason is required
    go(world, "lead_env", report, "return", reason="缺少现场照片")
    assert report.status == S.RETURNED and report.return_reason == "缺少现场照片"
    go(world, "reporter_a", report, "submit", changes={**CONTENT, "percent": 45})
    go(world, "reviewer_a", report, "approve")
    go(world, "lead_env", report, "accept")
    assert report.status == S.ACCEPTED and report.percent == 45
    with pytest.raises(ValidationError):
        go(world, "reporter_a", report, "save", changes={"progress_text": "改"})
    summaries = list(Event.objects.filter(object_type="ledger.task", object_id=str(world.task_a.pk),
                                          action__startswith="report_").values_list("summary", flat=True))
    assert [s.split("：")[1][:4] for s in summaries] == ["保存草稿", "报送进展", "审核通过", "退回进展", "报送进展",
                                                        "审核通过", "采纳进展"]
    assert Notification.objects.filter(user=world.users["reporter_a"], kind="report_returned").count() == 1
    world.task_a.refresh_from_db()
    assert world.task_a.actual_percent == 45  # accepted progress feeds the derived status


def test_without_unit_review_reports_go_straight_to_the_lead(world):
    rnd, _ = services.open_round(actor=world.users["office_admin"], office=world.office, period="2026-12",
                                 due_date=round_due("2026-12"), require_unit_review=False)
    report = report_of(rnd, world.task_a)
    go(world, "reporter_a", report, "submit", changes=CONTENT)
    assert report.status == S.SUBMITTED


def test_check_12_nobody_approves_their_own_report(world, rnd):
    from rectify.orgs.models import Role

    reviewer = world.users["reviewer_a"]
    reviewer.role = Role.REPORTER
    reviewer.save()
    report = report_of(rnd, world.task_a)
    services.transition(actor=reviewer, report=report, action="submit", expected_version=1, changes=CONTENT)
    reviewer.role = Role.REVIEWER
    reviewer.save()
    with pytest.raises(PermissionDenied, match="不能审核自己"):
        go(world, "reviewer_a", report, "approve")


def test_submit_requires_progress_and_percent_is_bounded(world, rnd):
    report = report_of(rnd, world.task_a)
    with pytest.raises(ValidationError):
        go(world, "reporter_a", report, "submit", changes={"progress_text": ""})
    with pytest.raises(ValidationError):
        go(world, "reporter_a", report, "save", changes={"progress_text": "x", "percent": 120})
    report.refresh_from_db()
    assert report.status == S.PENDING


def test_completed_measures_count_and_are_marked_done_on_acceptance(world, rnd):
    report = report_of(rnd, world.task_a)
    first = world.task_a.measures.first()
    go(world, "reporter_a", report, "submit", changes={"progress_text": "方案已印发", "percent": None,
                                                        "measures_completed": [first.pk]})
    go(world, "reviewer_a", report, "approve")
    version = Task.objects.get(pk=world.task_a.pk).version
    go(world, "lead_env", report, "accept")
    first.refresh_from_db()
    assert first.done
    assert Task.objects.get(pk=world.task_a.pk).version == version + 1  # a stale edit form cannot undo it
    with pytest.raises(ValidationError):  # measures of another task are refused
        other = report_of(rnd, world.task_b)
        go(world, "reporter_b", other, "save", changes={"measures_completed": [first.pk]})


def test_stale_report_write_is_refused(world, rnd):
    report = report_of(rnd, world.task_a)
    services.transition(actor=world.users["reporter_a"], report=report, action="save", expected_version=1,
                        changes={"progress_text": "一"})
    with pytest.raises(services.StaleReportError):
        services.transition(actor=world.users["reporter_a"], report=report, action="save", expected_version=1,
                            changes={"progress_text": "二"})


@pytest.mark.parametrize("persona", ["reporter_b", "lead_housing", "leader_a", "discipline", "auditor"])
def test_outsiders_cannot_act_on_a_report(world, rnd, persona):
    from django.http import Http404

    report = report_of(rnd, world.task_a)
    for action in ["save", "submit"]:
        with pytest.raises((PermissionDenied, Http404)):
            go(world, persona, report, action, changes=CONTENT)


def test_late_submission_is_flagged(world):
    rnd, _ = services.open_round(actor=world.users["office_admin"], office=world.office, period="2026-10",
                                 due_date=dt.date(2026, 10, 9))
    report = report_of(rnd, world.task_a)
    go(world, "reporter_a", report, "submit", changes=CONTENT)
    assert report.late and "逾期报送" in Event.objects.filter(action="report_submit").last().summary


def png_bytes(colour="red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), colour).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"
    return settings.MEDIA_ROOT


def upload(client, report, name, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(f"/dispatch/reports/{report.pk}/evidence/", {"file": SimpleUploadedFile(name, data)})


def test_check_10_evidence_is_served_only_in_scope(world, rnd, media):
    report = report_of(rnd, world.task_a)
    reporter = world.client("reporter_a")
    assert upload(reporter, report, "现场.png", png_bytes()).status_code == 302
    evidence = Evidence.objects.get()
    assert evidence.kind == "photo" and len(evidence.digest) == 64
    url = f"/dispatch/evidence/{evidence.pk}/"
    got = reporter.get(url)
    assert got.status_code == 200 and got["X-Content-Type-Options"] == "nosniff"
    assert b"".join(got.streaming_content) == png_bytes()
    assert "attachment" in got["Content-Disposition"]
    for persona, expected in [("office_staff", 200), ("lead_env", 200), ("reviewer_a", 200),
                              ("reporter_b", 404), ("lead_housing", 404), ("discipline", 404)]:
        assert world.client(persona).get(url).status_code == expected, persona
        assert world.client(persona).get(f"{url}thumb/").status_code == expected, persona
    assert Client().get(url).status_code == 302  # anonymous → login
    assert Event.objects.filter(action="evidence_downloaded").exists()


def test_bad_evidence_is_refused_and_nothing_stored(world, rnd, media, settings):
    report = report_of(rnd, world.task_a)
    reporter = world.client("reporter_a")
    page = reporter.get(f"/dispatch/reports/{report.pk}/")
    assert page.status_code == 200
    response = upload(reporter, report, "shell.jpg", b'<?php system($_GET["c"]); ?>')
    assert response.status_code == 302
    follow = reporter.get(f"/dispatch/reports/{report.pk}/").content.decode()
    assert "shell.jpg" in follow and ("不符" in follow or "不支持" in follow)
    upload(reporter, report, "empty.png", b"")
    settings.EVIDENCE_MAX_BYTES = 1000
    upload(reporter, report, "big.png", png_bytes())
    assert not Evidence.objects.exists()
    assert not any(p.is_file() for p in (media / "evidence").rglob("*")) if (media / "evidence").exists() else True


def test_round_table_counts_and_links_to_missing(world, rnd):
    report = report_of(rnd, world.task_a)
    go(world, "reporter_a", report, "submit", changes=CONTENT)
    page = world.client("office_admin").get(f"/dispatch/rounds/{rnd.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    row_b = html[html.index("祁阳市", html.index('id="by-unit"')):]
    assert f"unit={world.county_b.pk}&bucket=missing" in row_b
    missing = world.client("office_admin").get(f"/dispatch/reports/?round={rnd.pk}&bucket=missing").content.decode()
    assert "T-02" in missing and "T-01" not in missing
    # A county sees only its own row.
    mine = world.client("reporter_b").get(f"/dispatch/rounds/{rnd.pk}/").content.decode()
    assert "祁阳市" in mine and "零陵区" not in mine[mine.index('id="by-unit"'):]


def test_report_pages_through_the_web(world, rnd):
    report = report_of(rnd, world.task_a)
    reporter = world.client("reporter_a")
    response = reporter.post(f"/dispatch/reports/{report.pk}/", {
        "action": "submit", "version": report.version, "progress_text": "网页报送", "percent": "30"})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == S.AWAITING_REVIEW
    assert world.client("reporter_b").get(f"/dispatch/reports/{report.pk}/").status_code == 404
    stale = reporter.post(f"/dispatch/reports/{report.pk}/", {"action": "save", "version": 1, "progress_text": "x"})
    assert stale.status_code in (200, 302)
    report.refresh_from_db()
    assert report.progress_text == "网页报送"


def test_todo_list_shows_what_each_role_must_do(world, rnd):
    assert "T-01" in world.client("reporter_a").get("/dispatch/").content.decode()
    report = report_of(rnd, world.task_a)
    go(world, "reporter_a", report, "submit", changes=CONTENT)
    assert "T-01" in world.client("reviewer_a").get("/dispatch/").content.decode()
    go(world, "reviewer_a", report, "approve")
    assert "T-01" in world.client("lead_env").get("/dispatch/").content.decode()
    assert "T-01" not in world.client("lead_housing").get("/dispatch/").content.decode()


def test_work_day_dates_in_an_unentered_year_say_so(world):
    rnd, _ = services.open_round(actor=world.users["office_admin"], office=world.office, period="2027-01",
                                 due_date=dt.date(2027, 1, 11))
    report = report_of(rnd, world.task_a)
    warning = "2027 年法定节假日尚未录入"
    assert warning in world.client("reporter_a").get(f"/dispatch/reports/{report.pk}/").content.decode()
    assert warning in world.client("office_admin").get(f"/dispatch/rounds/{rnd.pk}/").content.decode()
    assert warning in world.client("office_admin").get("/dispatch/").content.decode()


def test_timeliness_is_judged_by_the_first_submission(world):
    import datetime

    rnd, _ = services.open_round(actor=world.users["office_admin"], office=world.office, period="2026-09",
                                 due_date=datetime.date.today() + datetime.timedelta(days=1))
    report = report_of(rnd, world.task_a)
    go(world, "reporter_a", report, "submit", changes=CONTENT)
    go(world, "reviewer_a", report, "send_back", reason="补充照片")
    DispatchRound.objects.filter(pk=rnd.pk).update(due_date=datetime.date.today() - datetime.timedelta(days=1))
    go(world, "reporter_a", report, "submit", changes=CONTENT)
    assert not report.late


def test_a_county_sees_only_its_own_reports_on_a_shared_task_timeline(world, rnd):
    shared = create_task(actor=world.users["office_admin"], campaign=world.campaign, data=TaskInput(
        code="T-05", title="两县共担的黑臭水体", problem="p", responsible_units=[world.county_a, world.county_b],
        lead_supervisor=world.dept_env, deadline_kind="long_term", measures=[]))
    rnd2, _ = services.open_round(actor=world.users["office_admin"], office=world.office, period="2026-12",
                                  due_date=round_due("2026-12"), require_unit_review=False)
    mine = ProgressReport.objects.get(round=rnd2, task=shared, unit=world.county_a)
    go(world, "reporter_a", mine, "submit", changes={"progress_text": "零陵进展", "percent": 10})
    go(world, "lead_env", mine, "return", reason="零陵区照片不清晰XYZ")
    theirs = world.client("reporter_b").get(f"/ledger/tasks/{shared.pk}/").content.decode()
    assert "XYZ" not in theirs and "新增整改任务 T-05" in theirs
    own = world.client("reporter_a").get(f"/ledger/tasks/{shared.pk}/").content.decode()
    assert "XYZ" in own
    assert "XYZ" in world.client("office_admin").get(f"/ledger/tasks/{shared.pk}/").content.decode()


def test_a_closed_round_takes_corrections_but_no_first_reports(world, rnd):
    returned = report_of(rnd, world.task_a)
    go(world, "reporter_a", returned, "submit", changes=CONTENT)
    go(world, "reviewer_a", returned, "send_back", reason="补充")
    services.close_round(actor=world.users["office_admin"], rnd=rnd)
    go(world, "reporter_a", returned, "submit", changes=CONTENT)
    assert returned.status == S.AWAITING_REVIEW
    with pytest.raises(ValidationError, match="已结束"):
        go(world, "reporter_b", report_of(rnd, world.task_b), "submit", changes=CONTENT)


def test_check_19_files_per_report_are_capped(world, rnd, media, settings):
    """SECURITY.md check 19: files per report are capped (RECTIFY_EVIDENCE_MAX_FILES); the refused
    file leaves nothing stored and the page says why."""
    settings.EVIDENCE_MAX_REPORT_FILES = 3
    report = report_of(rnd, world.task_a)
    reporter = world.client("reporter_a")
    for colour in ("red", "green", "blue", "white"):
        upload(reporter, report, f"{colour}.png", png_bytes(colour))
    assert Evidence.objects.filter(report=report).count() == 3
    page = reporter.get(f"/dispatch/reports/{report.pk}/").content.decode()
    assert "最多上传 3 个附件" in page
    from rectify.core.sm3 import sm3_hex

    refused = sm3_hex(png_bytes("white"))
    assert not [p for p in media.rglob("*") if refused in p.name]
    assert [p for p in media.rglob("*") if sm3_hex(png_bytes("blue")) in p.name]  # the names are digests


def test_a_round_month_and_due_date_must_be_ones_an_office_could_mean(world):
    """A round "9999-12" was accepted (issue 15, check 21): the month must lie within three years
    back and two months ahead, the due date within its month and the three after it."""
    from django.utils import timezone

    from rectify.orgs.services import issue_api_token

    today = timezone.localdate()
    admin = world.users["office_admin"]
    for period, due in [("9999-12", dt.date(9999, 12, 20)), ("0001-01", dt.date(2001, 1, 5)),
                        (f"{today.year - 4}-01", today), (f"{today:%Y-%m}", dt.date(2000, 1, 1)),
                        (f"{today:%Y-%m}", today + dt.timedelta(days=200)), ("2026-13", today)]:
        with pytest.raises(ValidationError):
            services.open_round(actor=admin, office=world.office, period=period, due_date=due)
    assert not DispatchRound.objects.exists()
    client = world.client("office_admin")
    page = client.post("/dispatch/rounds/open/", {"period": "9999-12", "due_date": "9999-12-20"}, follow=True)
    assert "超出可开启的范围" in page.content.decode() and not DispatchRound.objects.exists()
    api = Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(actor=admin, user=admin, name='t')}")
    response = api.post("/api/v1/rounds", {"period": "9999-12", "due_date": "9999-12-20"}, content_type="application/json")
    assert response.status_code == 422 and not DispatchRound.objects.exists()
    rnd, created = services.open_round(actor=admin, office=world.office, period=f"{today:%Y-%m}",
                                       due_date=today + dt.timedelta(days=10))
    assert created
