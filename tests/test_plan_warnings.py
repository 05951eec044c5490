"""Warnings that match the plan (issue 14, point 1; point 8's task location and shared tasks).

Each test goes through the public surface (the task form over HTTP, the Excel import, the
services, `rectify tick`) and failed before the change it is named after.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from rectify import tick as tick_module
from rectify.dispatch import services as dispatch
from rectify.dispatch.models import Evidence, ProgressReport
from rectify.ledger import excel
from rectify.ledger import services as ledger
from rectify.ledger.models import DeadlineKind, Task, TaskStatus
from rectify.orgs.models import Category
from rectify.supervision.models import Escalation, Rung, Trigger
from tests.excel_helpers import office_workbook

DAY = dt.date(2026, 11, 2)  # Monday


@pytest.fixture(autouse=True)
def files(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.UPLOAD_DIR = tmp_path / "uploads"
    settings.JOBS_DIR = tmp_path / "jobs"


def form_post(world, **fields) -> dict:
    data = {"campaign": world.campaign.pk, "code": "N-01", "title": "潇水河沿岸非法采砂整治", "category": Category.WATER,
            "problem": "潇水河零陵段沿岸存在非法采砂点。", "primary_unit": world.county_a.pk,
            "lead_supervisor": world.dept_env.pk, "deadline_kind": DeadlineKind.BY_DATE, "deadline": "2027-12-31",
            "m-TOTAL_FORMS": "1", "m-INITIAL_FORMS": "0", "m-0-text": "取缔全部非法采砂点"}
    data.update(fields)
    return data


def accept(world, report: ProgressReport, percent: int, *, writer: str, lead: str, judged_unable: bool = False):
    report = dispatch.transition(actor=world.users[writer], report=report, action="submit", changes={
        "progress_text": "按计划推进。", "percent": percent, "next_steps": "继续推进。", "public_summary": "推进中。"})
    return dispatch.transition(actor=world.users[lead], report=report, action="accept", judged_unable=judged_unable)


# --- 1. every overdue task, and every task judged unable, raises 预警 once ----------------------


def test_tick_warns_every_overdue_and_judged_unable_task_once(world):
    Task.objects.filter(pk=world.task_a.pk).update(deadline=DAY - dt.timedelta(days=334))
    rnd, _ = dispatch.open_round(actor=world.users["office_admin"], office=world.office, period="2026-10",
                                 due_date=DAY + dt.timedelta(days=20), require_unit_review=False)
    accept(world, rnd.reports.get(task=world.task_b), 30, writer="reporter_b", lead="lead_housing",
           judged_unable=True)

    tick_module.tick(today=DAY)
    warnings = Escalation.objects.filter(rung=Rung.WARNING)
    overdue = warnings.get(trigger=Trigger.OVERDUE)
    assert overdue.task_id == world.task_a.pk and overdue.target_unit == world.county_a
    assert "334 天" in overdue.reason and overdue.doc_number
    unable = warnings.get(trigger=Trigger.UNABLE)
    assert unable.task_id == world.task_b.pk and unable.target_unit == world.county_b

    before = warnings.count()
    assert tick_module.tick(today=DAY)["warnings"] == 0
    assert tick_module.tick(today=DAY + dt.timedelta(days=1))["warnings"] == 0
    assert Escalation.objects.filter(rung=Rung.WARNING).count() == before  # once per key

    board = world.client("office_admin").get("/supervision/?status=open")
    assert "超过整改时限未完成" in board.content.decode() or overdue.doc_number in board.content.decode()


# --- 2. the schedule starts at the task's own start date ---------------------------------------


def test_a_new_task_with_a_2027_deadline_is_not_lagging_when_saved(world):
    response = world.client("office_admin").post("/ledger/tasks/new/", form_post(world))
    assert response.status_code == 302, response.content.decode()[:2000]
    task = Task.objects.get(code="N-01")
    assert task.status == TaskStatus.ACTIVE
    assert task.start_date == timezone.localdate()  # the day it left draft, not the campaign's 2021 date
    assert task.progress_status == "on_schedule" and task.warning_colour == ""


def test_a_start_date_given_in_the_form_and_in_excel_is_kept(world):
    client = world.client("office_admin")
    client.post("/ledger/tasks/new/", form_post(world, start_date="2026-03-01"))
    assert Task.objects.get(code="N-01").start_date == dt.date(2026, 3, 1)

    rows = [{"序号": i, "任务编号": f"X-{i:04d}", "问题/任务名称": f"导入任务{i}", "问题描述": "问题。",
             "整改措施": "1.制定方案", "责任单位": "零陵区", "牵头督导单位": "市生态环境局", "整改时限": "2027年12月31日",
             **({"开始日期": "2026年10月8日"} if i == 1 else {})} for i in range(1, 4)]
    preview = excel.parse_workbook(office_workbook(rows, extra=["开始日期"]), campaign=world.campaign,
                                   actor=world.users["office_admin"])
    assert preview.ok, [r.errors for r in preview.rows]
    assert excel.commit_import(preview, actor=world.users["office_admin"]).ok
    imported = {t.code: t for t in Task.objects.filter(code__startswith="X-")}
    assert imported["X-0001"].start_date == dt.date(2026, 10, 8)
    assert imported["X-0002"].start_date == timezone.localdate()
    # imported tasks show their status at once, and none is lagging against a 2021 line: those
    # starting today are on schedule, the one started in October is behind but not yet asked to report
    assert [imported[c].progress_status for c in ("X-0001", "X-0002", "X-0003")] == [
        "not_reported", "on_schedule", "on_schedule"]
    assert not any(t.warning_colour for t in imported.values())


def _export(world) -> bytes:
    import io

    out = io.BytesIO()
    excel.export_ledger(user=world.users["office_admin"], filters=None, target=out)
    return out.getvalue()


def test_the_export_writes_start_date_and_location_columns(world):
    from tests.excel_helpers import read_sheet

    data = ledger.task_input_from(world.task_a)
    data.location_name, data.latitude, data.longitude = "零陵区南津中路", 26.221, 111.613
    ledger.update_task(actor=world.users["office_admin"], task=world.task_a, expected_version=1, data=data)
    sheet = read_sheet(_export(world))
    header = sheet[0]
    row = next(r for r in sheet if "T-01" in r)
    assert row[header.index("开始日期")] == "2021年7月16日"
    assert row[header.index("位置")] == "零陵区南津中路"
    assert float(row[header.index("纬度")]) == pytest.approx(26.221)
    assert float(row[header.index("经度")]) == pytest.approx(111.613)


# --- 3. 未报送 rather than 滞后 until the first round is due --------------------------------------


def test_no_accepted_report_is_not_reported_until_the_first_round_is_due(world):
    # T-01 runs from 2021 to the end of 2026 with nothing done: far behind the line.
    task = Task.objects.get(pk=world.task_a.pk)
    assert task.progress_status == "not_reported" and task.warning_colour == ""
    assert any("首轮调度报送尚未到期" in r for r in task.status_reasons)

    dispatch.open_round(actor=world.users["office_admin"], office=world.office, period="2026-10",
                        due_date=dt.date(2026, 10, 14))
    tick_module.tick(today=dt.date(2026, 10, 14))  # the due day itself: still 未报送
    assert Task.objects.get(pk=task.pk).progress_status == "not_reported"
    tick_module.tick(today=dt.date(2026, 10, 15))  # the round is past due and nothing was accepted
    task.refresh_from_db()
    assert task.progress_status == "lagging" and task.warning_colour == "yellow"


# --- 4. a new task shows its derived status at once -------------------------------------------


def test_the_task_page_shows_the_status_right_after_saving(world):
    client = world.client("office_admin")
    response = client.post("/ledger/tasks/new/", form_post(world), follow=True)
    page = response.content.decode()
    assert 'id="progress-status"' in page and "序时推进" in page

    task = Task.objects.get(code="N-01")
    data = ledger.task_input_from(task)
    data.deadline = dt.date(2020, 1, 1)
    data.start_date = dt.date(2019, 1, 1)
    ledger.update_task(actor=world.users["office_admin"], task=task, expected_version=task.version, data=data)
    task.refresh_from_db()
    assert task.progress_status == "overdue" and task.warning_colour == "red"  # an edit recomputes too


# --- 5. a task location makes the far-from-task photo warning fire ------------------------------


def test_a_far_photo_on_a_task_with_a_location_is_flagged(world, settings):
    from tests.test_evidence_files import gps_exif, jpeg_bytes

    settings.TIME_ZONE = "Asia/Shanghai"
    client = world.client("office_admin")
    task = world.task_a
    edit = client.get(f"/ledger/tasks/{task.pk}/edit/")
    assert 'name="latitude"' in edit.content.decode() and 'name="location_name"' in edit.content.decode()
    data = ledger.task_input_from(task)
    post = form_post(world, code=task.code, title=task.title, problem=task.problem, version=task.version,
                     deadline="2026-12-31", start_date="2021-07-16", location_name="零陵区城区管网片区",
                     latitude="26.2210", longitude="111.6130")
    post["m-0-text"] = data.measures[0].text
    response = client.post(f"/ledger/tasks/{task.pk}/edit/", post)
    assert response.status_code == 302, response.content.decode()[:3000]
    task.refresh_from_db()
    assert (task.location_name, task.latitude, task.longitude) == ("零陵区城区管网片区", 26.221, 111.613)
    assert "26.22100" in client.get(f"/ledger/tasks/{task.pk}/").content.decode()

    rnd, _ = dispatch.open_round(actor=world.users["office_admin"], office=world.office, period="2026-11",
                                 due_date=DAY + dt.timedelta(days=20))
    report = rnd.reports.get(task=task)
    photo = jpeg_bytes(exif=gps_exif(26.5800, 111.8600, taken="2026:10:20 10:00:00"))  # ~46 km away
    reporter = world.client("reporter_a")
    assert reporter.post(f"/dispatch/reports/{report.pk}/evidence/",
                         {"file": SimpleUploadedFile("现场.jpg", photo)}).status_code == 302
    evidence = Evidence.objects.get(report=report)
    assert any(w.startswith("拍摄地点距任务位置约") for w in evidence.warnings), evidence.warnings


def test_bad_coordinates_are_refused_in_chinese(world):
    client = world.client("office_admin")
    response = client.post("/ledger/tasks/new/", form_post(world, latitude="26.2"))
    assert response.status_code == 200 and "纬度和经度须同时填写" in response.content.decode()
    response = client.post("/ledger/tasks/new/", form_post(world, latitude="126.2", longitude="111"))
    assert response.status_code == 200 and not Task.objects.filter(code="N-01").exists()


# --- 6. the percent of a task shared by several counties comes from all of them -----------------


def test_a_shared_task_takes_the_mean_of_each_units_latest_accepted_percent(world):
    admin = world.users["office_admin"]
    task = ledger.create_task(actor=admin, campaign=world.campaign, data=ledger.TaskInput(
        code="S-01", title="湘江流域两县市共治", problem="问题。", category=Category.WATER,
        responsible_units=[world.county_a, world.county_b], lead_supervisor=world.dept_env,
        deadline_kind=DeadlineKind.BY_DATE, deadline=dt.date(2027, 12, 31), start_date=dt.date(2026, 1, 1),
        measures=[ledger.MeasureInput(text="联合整治")]))
    rnd, _ = dispatch.open_round(actor=admin, office=world.office, period="2026-10", due_date=DAY,
                                 require_unit_review=False)
    accept(world, rnd.reports.get(task=task, unit=world.county_a), 100, writer="reporter_a", lead="lead_env")
    task.refresh_from_db()
    assert task.actual_percent == 50  # 祁阳市 has no accepted report yet: counts 0, the task is not done
    accept(world, rnd.reports.get(task=task, unit=world.county_b), 20, writer="reporter_b", lead="lead_env")
    task.refresh_from_db()
    assert task.actual_percent == 60  # (100 + 20) / 2, not the last report's 20
    assert any("2 个责任单位" in r for r in task.status_reasons)
