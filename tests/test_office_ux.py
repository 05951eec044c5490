"""Small things that add up (issue 14, points 7 and 8): the plan review page, limits and counters,
the import preview's header row, busy buttons, a second submit of an import, reminders for the
lead unit and the office, the demo's dates, the API docs for logged-in users and tokens."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from rectify.core.models import Notification
from rectify.dispatch import services as dispatch
from rectify.dispatch.models import ProgressReport
from rectify.indicators.models import Indicator
from rectify.jobs.models import Job
from rectify.jobs.worker import run_pending
from rectify.orgs.services import issue_api_token
from rectify.supervision import services as supervision
from tests.conftest import round_due
from tests.excel_helpers import generated_rows, office_workbook
from tests.test_plan_import import preview_form

SEED = Path(__file__).parent / "planparse" / "fixtures" / "seed_rectification_plan.txt"


@pytest.fixture(autouse=True)
def dirs(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    settings.JOBS_DIR = tmp_path / "jobs"


def plan_preview(world, data: bytes, name="整改方案.txt"):
    client = world.client("office_admin")
    response = client.post("/plans/", {"campaign": world.campaign.pk, "file": SimpleUploadedFile(name, data)})
    assert response.status_code == 302, response.content.decode()[:2000]
    return client, response["Location"], client.get(response["Location"]).content.decode()


# --- 7. The plan review page ------------------------------------------------------------------------

def test_plan_review_names_mechanisms_in_chinese_and_offers_unit_chips(world):
    _, _, html = plan_preview(world, SEED.read_bytes())
    mechanisms = re.sub(r"<[^>]+>", "", html[html.index('id="mechanisms"'):html.index('id="closeout-procedure"')])
    for code in ("dispatch_rhythm", "escalation_ladder", "report_deadline", "closeout", "practice"):
        assert code not in mechanisms, code
    assert "调度节奏" in mechanisms and "一月一调度一督办" in mechanisms
    assert "督办措施（逐级升级）：预警→通报→督办→挂牌督办→约谈→区域限批" in mechanisms
    assert "销号程序：程序：初审、公示、申请、核查、备案；标准：生态修复、污染消除、群众满意" in mechanisms
    assert "报送时限：整改方案上报后6个月内报送问题整改落实情况" in mechanisms
    # The unit choice is a plain <select multiple> that app.js turns into search and chips.
    assert 'multiple size="6" data-chips="输入单位名称搜索，回车添加"' in html
    assert 'class="title-edit"' in html and 'data-busy="处理中…"' in html


def test_imported_indicators_link_to_their_pages(world):
    client, url, html = plan_preview(world, SEED.read_bytes())
    done = client.post(url, preview_form(html), follow=True).content.decode()
    indicators = list(Indicator.objects.filter(campaign=world.campaign))
    assert len(indicators) == 5
    for indicator in indicators:
        assert f'<a href="/indicators/{indicator.pk}/">{indicator.name}</a>' in done
    # A later preview of the same plan links the targets the campaign already has.
    _, _, again = plan_preview(world, SEED.read_bytes())
    assert f'href="/indicators/{indicators[0].pk}/" class="existing-indicator"' in again


def test_a_second_submit_of_a_plan_import_says_already_imported(world):
    client, url, html = plan_preview(world, SEED.read_bytes())
    data = preview_form(html)
    assert client.post(url, data).status_code == 302
    tasks = world.campaign.tasks.count()
    again = client.post(url, data, follow=True)
    assert "该文件已导入" in again.content.decode()
    assert world.campaign.tasks.count() == tasks


def test_a_gbk_plan_is_read_and_one_that_reads_as_nothing_says_why(world):
    text = SEED.read_text(encoding="utf-8")
    _, _, html = plan_preview(world, text.encode("gb18030"))
    assert "识别出 23 项措施" in html
    _, _, html = plan_preview(world, text.encode("utf-16-le"))  # Notepad's "Unicode" without a BOM
    assert "识别出 23 项措施" in html
    client = world.client("office_admin")
    page = client.post("/plans/", {"campaign": world.campaign.pk,
                                   "file": SimpleUploadedFile("方案.txt", text.encode("big5", errors="replace"))})
    assert page.status_code == 200
    assert "文件不是UTF-8编码" in page.content.decode() and "请另存为UTF-8或上传docx" in page.content.decode()


# --- 8. Limits, counters, the import preview, second submits ------------------------------------

def test_long_text_fields_have_limits_that_the_page_shows(world):
    rnd, _ = dispatch.open_round(actor=world.users["office_admin"], office=world.office, period="2026-11",
                                 due_date=round_due("2026-11"))
    report = ProgressReport.objects.get(round=rnd, task=world.task_a)
    client = world.client("reporter_a")
    html = client.get(f"/dispatch/reports/{report.pk}/").content.decode()
    assert 'name="progress_text" cols="40" rows="5" maxlength="4000"' in html
    assert 'name="difficulties" cols="40" rows="3" maxlength="2000"' in html
    too_long = client.post(f"/dispatch/reports/{report.pk}/", {"action": "save", "version": report.version,
                                                               "progress_text": "进" * 4001})
    assert too_long.status_code == 400
    report.refresh_from_db()
    assert report.progress_text == ""
    page = world.client("office_admin").get(f"/ledger/{world.task_a.pk}/escalate/")
    if page.status_code == 200:
        assert 'maxlength="2000"' in page.content.decode()


def title_blank_header_workbook() -> bytes:
    """A title in row 3 and a blank row 4 above the header in row 5: the header is row 5."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("台账")
    sheet.write("A3", "XX市整改台账")
    for c, header in enumerate(["序号", "任务编号", "问题/任务名称", "责任单位", "牵头督导单位", "整改时限"]):
        sheet.write_string(4, c, header)
    for c, value in enumerate(["1", "K-01", "某河段黑臭", "零陵区", "市生态环境局", "2026-12-31"]):
        sheet.write_string(5, c, value)
    book.close()
    return out.getvalue()


def upload_ledger(client, world, data: bytes, name="台账.xlsx"):
    upload = io.BytesIO(data)
    upload.name = name
    return client.post("/ledger/import/", {"campaign": world.campaign.pk, "file": upload})


def test_the_import_preview_names_the_real_header_row(world):
    client = world.client("office_admin")
    upload_ledger(client, world, title_blank_header_workbook())
    page = client.get("/ledger/import/preview/").content.decode()
    assert "表头在第 5 行" in page, page[:3000]
    upload_ledger(client, world, office_workbook(generated_rows(2, units=["零陵区"])))
    page = client.get("/ledger/import/preview/").content.decode()
    assert "表头在第 2–3 行（两行表头），数据从第 4 行起" in page
    assert 'data-busy="处理中…"' in page


def test_a_second_submit_of_the_same_import_says_already_imported(world):
    client = world.client("office_admin")
    upload_ledger(client, world, office_workbook(generated_rows(3, units=["零陵区"])))
    client.get("/ledger/import/preview/")
    first = client.post("/ledger/import/confirm/")
    assert first.status_code == 302 and "/jobs/" in first["Location"]
    again = client.post("/ledger/import/confirm/", follow=True)
    html = again.content.decode()
    assert "该文件已导入" in html and "编辑" not in html.split('class="messages"')[1][:300]
    assert Job.objects.count() == 1


def test_two_jobs_of_one_import_write_once_and_the_second_says_already_imported(world):
    """Two confirms that raced past the page (double click): the second job finds the first one's
    import in the record and says so, instead of "changed since the preview"."""
    from rectify.jobs.services import start_job
    from rectify.ledger import excel
    from rectify.ledger.jobs import IMPORT

    data = office_workbook(generated_rows(3, units=["零陵区"]))
    admin = world.users["office_admin"]
    plan = excel.parse_workbook(data, campaign=world.campaign, actor=admin, filename="台账.xlsx").fingerprint()
    for _ in range(2):
        start_job(actor=admin, kind=IMPORT, title="导入台账", input_bytes=data, input_suffix=".xlsx",
                  params={"campaign": world.campaign.pk, "filename": "台账.xlsx", "plan": plan})
    run_pending()
    first, second = Job.objects.order_by("pk")
    assert first.status == "succeeded", first.error
    assert second.status == "failed" and "该文件已导入" in second.error, second.error


# --- 8. Reminders ------------------------------------------------------------------------------------

def test_the_lead_unit_is_reminded_that_a_report_awaits_its_decision(world):
    rnd, _ = dispatch.open_round(actor=world.users["office_admin"], office=world.office, period="2026-11",
                                 due_date=round_due("2026-11"))
    report = ProgressReport.objects.get(round=rnd, task=world.task_a)
    report = dispatch.transition(actor=world.users["reporter_a"], report=report, action="submit",
                                 changes={"progress_text": "完成截污管网 3 公里。", "percent": 40})
    lead = world.users["lead_env"]
    assert not Notification.objects.filter(user=lead).exists()  # still with the county's reviewer
    dispatch.transition(actor=world.users["reviewer_a"], report=report, action="approve")
    notice = Notification.objects.get(user=lead)
    assert notice.kind == "report_to_decide" and "T-01" in notice.title and "零陵区" in notice.title
    assert notice.url == f"/dispatch/reports/{report.pk}/"
    assert not Notification.objects.filter(user=world.users["lead_housing"]).exists()


def test_the_office_is_told_that_an_escalation_was_answered(world):
    admin = world.users["office_admin"]
    esc = supervision.issue_escalation(actor=admin, task=world.task_a, rung="circular", reason="进度滞后，予以通报。",
                                       target_unit=world.county_a, reply_due=dt.date(2099, 1, 10))
    assert not Notification.objects.filter(user=admin).exists()
    supervision.reply_escalation(actor=world.users["reporter_a"], escalation=esc, text="已制定倒排工期计划。")
    notice = Notification.objects.get(user=admin)
    assert notice.kind == "escalation_answered" and "零陵区已回复" in notice.title and "T-01" in notice.title
    assert Notification.objects.filter(user=world.users["office_staff"], kind="escalation_answered").exists()
    assert not Notification.objects.filter(user=world.users["reporter_b"]).exists()


# --- 8. The API's docs -------------------------------------------------------------------------------

def test_the_api_docs_are_linked_and_the_schema_is_readable_with_a_token(world):
    page = world.client("reporter_a").get("/ledger/").content.decode()
    assert '<a href="/api/v1/docs" id="api-docs-link">接口文档（API）</a>' in page
    user = world.users["office_staff"]
    key = issue_api_token(actor=world.users["office_admin"], user=user, name="代码生成")
    schema = Client(HTTP_AUTHORIZATION=f"Bearer {key}").get("/api/v1/openapi.json")
    assert schema.status_code == 200 and "/api/v1/tasks" in schema.json()["paths"]
    assert Client(HTTP_AUTHORIZATION="Bearer rk_wrong").get("/api/v1/openapi.json").status_code == 401
    anonymous = Client().get("/api/v1/openapi.json")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")


# --- 8. The demo's history -----------------------------------------------------------------------------

def test_the_demo_history_happens_on_work_days_in_office_hours(db):
    from django.utils import timezone

    from rectify.core.workdays import is_workday
    from rectify.demo import build_demo
    from rectify.dispatch.models import DispatchRound

    build_demo()
    rnd = DispatchRound.objects.get()
    opened = timezone.localtime(rnd.opened_at)
    assert is_workday(opened.date()) and dt.time(8, 30) <= opened.time() <= dt.time(10, 0), opened
    assert opened.strftime("%Y-%m") == rnd.period
    assert is_workday(rnd.due_date) and rnd.due_date > opened.date()
    assert is_workday(timezone.localtime(rnd.closed_at).date()) and timezone.localtime(rnd.closed_at).date() > rnd.due_date
    sent = list(rnd.reports.filter(submitted_at__isnull=False))
    assert sent
    for report in sent:
        at = timezone.localtime(report.submitted_at)
        assert is_workday(at.date()) and opened < at and at.date() <= rnd.due_date, at
        assert dt.time(8, 30) <= at.time() <= dt.time(12, 0) or dt.time(14, 30) <= at.time() <= dt.time(18, 0), at
        assert not report.late
        if report.decided_at:
            decided = timezone.localtime(report.decided_at)
            assert is_workday(decided.date()) and decided > at and dt.time(9) <= decided.time() <= dt.time(17, 30)
