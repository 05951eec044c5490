"""The close-out's documents (销号申请表、整改情况公示、核查意见、备案表), the look-back report, the
bulletin's close-out figures and the plan preview's 销号程序比对.

Every document is generated, read back (python-docx, python-calamine) and checked for what a reader
relies on: which problem, under which number, what each standard's statement says, on which dates.
Personas and helpers from tests/conftest.py and tests/test_closeout.py.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter

import docx
import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from python_calamine import CalamineWorkbook

from rectify.closeout import services
from rectify.closeout.models import Closeout, LookBackCheck, Objection, ObjectionStatus, Standard
from rectify.core.models import Event
from rectify.dispatch.models import DispatchRound
from rectify.dispatch.services import close_round, open_round
from rectify.documents import closeout_docs
from rectify.documents.bulletin import CLOSEOUT_KEYS, bulletin_data, bulletin_docx, bulletin_xlsx
from rectify.documents.docx_layout import cn_date
from rectify.ledger import services as ledger
from rectify.ledger.models import DeadlineKind, Task, TaskStatus, UnitRole
from rectify.orgs.models import Category
from rectify.planparse.procedure import compare_procedure
from rectify.supervision.services import snapshot_round
from tests.test_closeout import (
    ALL_MET,
    assessed,
    checks,
    closed_task,
    make_eligible,
    step,
    through_notice,
    today,
)
from tests.test_plan_import import SEED, upload

pytestmark = pytest.mark.django_db


def all_text(document) -> str:
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def read_docx(data: bytes):
    assert data[:2] == b"PK"
    return docx.Document(io.BytesIO(data))


def fields(document) -> dict[str, str]:
    """Label → value of every two-column form table (申请表、公示、备案表)."""
    out = {}
    for table in document.tables:
        for row in table.rows:
            cells = row.cells
            if len(cells) == 2:
                out[cells[0].text] = cells[1].text
    return out


def rows_of(table) -> list[list[str]]:
    return [[c.text for c in row.cells] for row in table.rows]


def sheet(data: bytes, name: str) -> list[list]:
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name(name).to_python()


def applied(world):
    closeout = assessed(world)
    step(world, "reviewer_a", closeout, "apply")
    closeout.refresh_from_db()
    return closeout


def accepted(world):
    closeout = through_notice(world, assessed(world))
    step(world, "office_admin", closeout, "accept_application", today=closeout.notice_end + dt.timedelta(days=1))
    closeout.refresh_from_db()
    return closeout


def filed(world) -> Closeout:
    task = closed_task(world)
    return Closeout.objects.get(task=task, status="filed")


# ---- the four close-out documents, read back -------------------------------------------------


def test_the_application_form_carries_the_task_and_each_standards_self_assessment(world):
    closeout = applied(world)
    data, filename = closeout_docs.application_form(closeout, actor=world.users["office_admin"])
    document = read_docx(data)
    text, form = all_text(document), fields(document)
    assert "整改问题销号申请表" in [p.text for p in document.paragraphs]
    assert form["任务编号"] == "T-01" and form["问题名称"] == "零陵区城区污水管网建设滞后"
    assert form["整改目标"] == "按期整改到位" and "制定整改方案" in form["整改措施"] and "完成管网建设" in form["整改措施"]
    assert form["主体责任单位"] == "零陵区" and form["牵头督导单位"] == "市生态环境局"
    assert form["整改完成情况"] == "截污管网已全部建成投用。"
    assessment = next(t for t in document.tables if t.rows[0].cells[0].text == "责任单位")
    by_standard = {r[1]: r for r in rows_of(assessment)[1:]}
    for standard, label in Standard.choices:
        assert by_standard[str(label)][0] == "零陵区"
        assert by_standard[str(label)][2] == "达到"
        assert by_standard[str(label)][3] == ALL_MET[standard][1]  # each standard's statement
    assert form["申请人"].startswith("零陵审核员") and form["申请日期"] == cn_date(today())
    assert "拟申请销号" in text
    assert filename == "销号申请表-T-01-第1次.docx"


def _png(name: str):
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(buffer, format="PNG")
    buffer.seek(0)
    buffer.name = name
    return buffer


def test_the_forms_list_the_evidence_of_their_stage_with_its_digest(world):
    closeout = assessed(world)
    services.attach_closeout_file(actor=world.users["reviewer_a"], closeout=closeout, stage="assessment",
                                  standard="pollution", name="排口监测报告.png", fileobj=_png("排口监测报告.png"))
    step(world, "reviewer_a", closeout, "apply")
    step(world, "office_admin", closeout, "publish_notice")
    closeout.refresh_from_db()
    step(world, "office_admin", closeout, "accept_application", today=closeout.notice_end + dt.timedelta(days=1))
    services.attach_closeout_file(actor=world.users["lead_env"], closeout=closeout, stage="check",
                                  standard="ecology", name="现场核查照片.png", fileobj=_png("现场核查照片.png"))
    checks(world, closeout)
    step(world, "lead_env", closeout, "verify_pass", opinion="同意。")
    assessment_file, check_file = closeout.files.get(stage="assessment"), closeout.files.get(stage="check")

    application = read_docx(closeout_docs.application_form_docx(closeout))
    table = next(t for t in application.tables if t.rows[0].cells[0].text == "销号标准")
    assert rows_of(table)[1:] == [["污染消除", "零陵区", "排口监测报告.png", assessment_file.digest, cn_date(today())]]
    verification = read_docx(closeout_docs.verification_opinion_docx(closeout))
    table = next(t for t in verification.tables if [c.text for c in t.rows[0].cells][1:2] == ["文件名"])
    assert rows_of(table)[1:] == [["生态修复", "现场核查照片.png", check_file.digest, cn_date(today())]]
    assert "排口监测报告.png" not in all_text(verification)  # each form lists its own stage's files


def test_the_public_notice_has_its_number_the_fields_of_a_real_notice_and_how_to_object(world, settings):
    settings.RECTIFY_BASE_URL = "https://zg.example.gov.cn/"
    settings.OBJECTION_PHONE = "0746-1234567"
    closeout = through_notice(world, assessed(world))
    Task.objects.filter(pk=closeout.task_id).update(inspection_number="HN-2021-017")
    data, filename = closeout_docs.public_notice(closeout, actor=world.users["office_admin"])
    document = read_docx(data)
    paragraphs, form, text = [p.text for p in document.paragraphs], fields(document), all_text(document)
    assert closeout.notice_number in paragraphs  # 发文字号, under the red line
    assert document.paragraphs[0].text == "测试市整改办"
    assert "关于T-01号问题整改情况的公示" in paragraphs
    assert form["问题编号"] == "HN-2021-017（任务编号 T-01）"
    assert form["问题"].startswith("零陵区城区污水管网建设滞后")
    for label in ("整改目标", "整改措施", "主体责任单位", "牵头督导单位", "配合督导单位", "整改完成情况", "销号意见"):
        assert label in form
    assert form["主体责任单位"] == "零陵区" and form["牵头督导单位"] == "市生态环境局" and form["配合督导单位"] == "—"
    assert "生态修复达到" in form["销号意见"] and "拟申请销号" in form["销号意见"]
    period = f"公示期：{cn_date(closeout.notice_start)}至{cn_date(closeout.notice_end)}（5个工作日，发布当日不计入）。"
    assert period in paragraphs
    assert "https://zg.example.gov.cn/gongkai/" in text and "回执编号" in text and "0746-1234567" in text
    for person in ("零陵审核员", "办公室管理员", "环保局督导员"):  # a public document names no one
        assert person not in text
    assert cn_date(closeout.notice_start) in paragraphs  # 成文日期
    assert filename == f"整改情况公示-T-01-{closeout.notice_number}.docx"


def test_the_notice_without_settings_points_to_the_portal_path_and_no_phone(world, settings):
    settings.RECTIFY_BASE_URL = ""
    settings.OBJECTION_PHONE = ""
    closeout = through_notice(world, assessed(world))
    text = all_text(read_docx(closeout_docs.public_notice_docx(closeout)))
    assert "（/gongkai/）" in text and "拨打电话" not in text


def test_the_notices_work_days_follow_the_official_calendar(world):
    # Published on Friday 13 February 2026: Saturday 14th is worked (调休), 15–23 are the Spring Festival.
    closeout = through_notice(world, assessed(world))
    Closeout.objects.filter(pk=closeout.pk).update(status="applied")
    step(world, "office_admin", closeout, "publish_notice", today=dt.date(2026, 2, 13))
    closeout.refresh_from_db()
    paragraphs = [p.text for p in read_docx(closeout_docs.public_notice_docx(closeout)).paragraphs]
    assert "公示期：2026年2月13日至2026年2月27日（5个工作日，发布当日不计入）。" in paragraphs


def test_the_verification_opinion_lists_each_standards_check(world):
    closeout = accepted(world)
    checks(world, closeout)
    step(world, "lead_env", closeout, "verify_pass", opinion="三项标准均符合，同意销号。")
    document = read_docx(closeout_docs.verification_opinion(closeout, actor=world.users["office_admin"])[0])
    text, form = all_text(document), fields(document)
    assert form["任务编号"] == "T-01" and form["核查单位"] == "市生态环境局"
    assert form["核查人"].startswith("环保局督导员") and form["核查日期"] == cn_date(today())
    table = next(t for t in document.tables if t.rows[0].cells[0].text == "销号标准")
    rows = {r[0]: r for r in rows_of(table)[1:]}
    assert set(rows) == {str(label) for _s, label in Standard.choices}
    for row in rows.values():
        assert row[1:] == ["现场核查，管网运行正常。", "现场核查", cn_date(today()), "王某、李某", "符合"]
    assert "三项标准均符合，同意销号。" in text and "核查结论：通过" in text


def test_a_failed_verification_says_so_with_its_reason(world):
    closeout = accepted(world)
    services.record_check(actor=world.users["lead_env"], closeout=closeout, standard="public",
                          finding="周边群众仍反映异味。", onsite=False, checked_on=today(), checkers="赵某", passed=False)
    step(world, "lead_env", closeout, "verify_fail", reason="群众满意度未达标。")
    closeout.refresh_from_db()
    text = all_text(read_docx(closeout_docs.verification_opinion_docx(closeout)))
    assert "核查结论：不通过" in text and "群众满意度未达标。" in text
    assert "周边群众仍反映异味。" in text and "非现场核查" in text and "不符合" in text


def test_the_filing_form_has_its_number_and_the_paths_dates_and_persons(world):
    closeout = filed(world)
    data, filename = closeout_docs.filing_form(closeout, actor=world.users["office_admin"])
    document = read_docx(data)
    form = fields(document)
    assert form["备案编号"] == closeout.filing_number and form["备案日期"] == cn_date(today())
    assert form["任务编号"] == "T-01" and form["核查意见"] == "同意"
    path = next(t for t in document.tables if t.rows[0].cells[0].text == "环节")
    steps = {r[0]: r for r in rows_of(path)[1:]}
    assert list(steps) == ["发起销号（初审自评）", "初审申请", "整改情况公示", "受理销号申请", "核查", "备案"]
    assert steps["初审申请"][1] == cn_date(today()) and steps["初审申请"][2].startswith("零陵审核员")
    assert steps["整改情况公示"][1] == f"{cn_date(closeout.notice_start)}至{cn_date(closeout.notice_end)}"
    assert closeout.notice_number in steps["整改情况公示"][3] and "未收到异议" in steps["整改情况公示"][3]
    assert steps["核查"][2].startswith("环保局督导员") and steps["核查"][3] == "核查通过"
    assert steps["备案"][2].startswith("办公室管理员") and steps["备案"][3] == closeout.filing_number
    assert filename == f"销号备案表-T-01-{closeout.filing_number}.docx"


def test_each_generation_is_recorded(world):
    closeout = filed(world)
    before = Event.objects.filter(action="document_generated").count()
    for kind, generate in closeout_docs.GENERATORS.items():
        generate(closeout, actor=world.users["leader_a"])
        event = Event.objects.filter(action="document_generated").latest("seq")
        assert event.actor_id == world.users["leader_a"].pk
        assert event.object_type == "ledger.task" and event.object_id == str(closeout.task_id)
        assert event.after["closeout"] == closeout.pk and event.after["document"] == kind
    assert Event.objects.filter(action="document_generated").count() == before + 4


def test_a_document_of_a_step_not_taken_is_refused_not_empty(world):
    closeout = assessed(world)
    for kind in closeout_docs.GENERATORS:
        assert not closeout_docs.availability(kind, closeout)
        with pytest.raises(closeout_docs.NotYetAvailable):
            closeout_docs.GENERATORS[kind](closeout, actor=world.users["office_admin"])
    assert not Event.objects.filter(action="document_generated").exists()


# ---- downloads ---------------------------------------------------------------------------------

DOCS = ["documents:closeout_application", "documents:closeout_notice", "documents:closeout_verification",
        "documents:closeout_filing"]


@pytest.mark.parametrize("persona", ["office_admin", "reporter_a", "lead_env", "leader_a"])
def test_those_who_see_the_close_out_download_its_documents(world, persona):
    closeout = filed(world)
    for name in DOCS:
        response = world.client(persona).get(reverse(name, args=[closeout.pk]))
        assert response.status_code == 200, (name, response.status_code)
        assert response["Content-Disposition"].startswith("attachment;") and "filename*=utf-8''" in \
            response["Content-Disposition"]
        assert response.content[:2] == b"PK"


@pytest.mark.parametrize("persona", ["reporter_b", "lead_housing", "discipline", "auditor"])
def test_anyone_else_gets_404_as_for_a_missing_one(world, persona):
    closeout = filed(world)
    lookback = services.start_lookback(actor=world.users["office_admin"], campaign=world.campaign, title="回头看",
                                       share_percent=100, due_date=today() + dt.timedelta(days=30), seed="s")
    client = world.client(persona)
    for name in DOCS:
        assert client.get(reverse(name, args=[closeout.pk])).status_code == 404
        assert client.get(reverse(name, args=[closeout.pk + 1000])).status_code == 404
    for name in ("documents:lookback_docx", "documents:lookback_xlsx"):
        assert client.get(reverse(name, args=[lookback.pk])).status_code == 404
    assert not Event.objects.filter(action="document_generated").exists()


def test_anonymous_users_go_to_the_login(world):
    closeout = filed(world)
    response = world.client("office_admin").__class__().get(reverse(DOCS[0], args=[closeout.pk]))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_filing_form_before_filing_answers_with_a_reason(world):
    closeout = applied(world)
    client = world.client("office_admin")
    response = client.get(reverse("documents:closeout_filing", args=[closeout.pk]))
    assert response.status_code == 409 and response["Content-Type"].startswith("text/plain")
    assert "尚未备案" in response.content.decode() and "待公示" in response.content.decode()
    # from a page of the site: back to it, with the reason as a message
    back = f"/closeout/{closeout.pk}/"
    response = client.get(reverse("documents:closeout_filing", args=[closeout.pk]), HTTP_REFERER=f"http://testserver{back}")
    assert response.status_code == 302 and response["Location"] == f"http://testserver{back}"
    assert any("备案表须在备案后生成" in str(m) for m in get_messages(response.wsgi_request))
    # a foreign referer is not followed
    response = client.get(reverse("documents:closeout_filing", args=[closeout.pk]), HTTP_REFERER="http://evil.example/")
    assert response.status_code == 409
    # the application form exists from 初审申请 on
    assert client.get(reverse("documents:closeout_application", args=[closeout.pk])).status_code == 200


# ---- look-back report ----------------------------------------------------------------------------


def second_closed_task(world) -> Task:
    """Another 零陵区 task supervised by 市生态环境局, closed through the whole path."""
    task = ledger.create_task(actor=world.users["office_admin"], campaign=world.campaign, data=ledger.TaskInput(
        code="T-05", title="零陵区黑臭水体整治", problem="黑臭水体。", target="消除黑臭", category=Category.WATER,
        responsible_units=[world.county_a], lead_supervisor=world.dept_env, deadline_kind=DeadlineKind.BY_DATE,
        deadline=dt.date(2026, 12, 31), measures=[ledger.MeasureInput(text="清淤")]))
    return closed_task(world, make_eligible(world, task, period="2026-09"))


def test_the_look_back_report_lists_the_draw_and_each_check(world):
    first = closed_task(world)
    second = second_closed_task(world)
    admin = world.users["office_admin"]
    lookback = services.start_lookback(actor=admin, campaign=world.campaign, title="2026年回头看",
                                       share_percent=50, due_date=today() + dt.timedelta(days=30), seed="=SUM(1)")
    pool = sorted([first.pk, second.pk])
    assert lookback.pool_digest == services.pool_digest(pool)
    drawn = services.draw_sample(pool, share_percent=50, seed="=SUM(1)")  # the draw, reproduced
    drawn_task = Task.objects.get(pk=drawn[0])
    services.record_lookback_result(actor=world.users["lead_env"], check=LookBackCheck.objects.get(task=drawn_task),
                                    action="rebound", statement="河道再现黑臭。", new_deadline=today() + dt.timedelta(days=60))

    document = read_docx(closeout_docs.lookback_report_docx(lookback, actor=admin)[0])
    form, text = fields(document), all_text(document)
    assert form["随机种子"] == "=SUM(1)" and form["随机抽取比例（%）"] == "50"
    assert form["抽样范围（已销号任务数）"] == "2" and form["抽样范围摘要（SM3）"] == lookback.pool_digest
    assert "rectify-lookback:=SUM(1)" in text
    assert "其中巩固0项，反弹1项（已重新打开整改1项）" in text
    rebound = next(t for t in document.tables if t.rows[0].cells[0].text == "序号")
    row = rows_of(rebound)[1]
    assert row[1:] == [drawn_task.code, drawn_task.title, "随机抽取", "市生态环境局", cn_date(lookback.due_date),
                       "河道再现黑臭。", cn_date(today() + dt.timedelta(days=60)), "是"]

    data, filename = closeout_docs.lookback_report_xlsx(lookback, actor=admin)
    assert filename == "回头看情况报告-2026年回头看.xlsx"
    summary = {r[0]: r[1] for r in sheet(data, "概况")[2:]}
    assert summary["随机种子"] == "'=SUM(1)"  # formula injection neutralised
    assert summary["抽样范围（已销号任务数）"] == 2 and summary["随机抽取比例（%）"] == 50
    assert summary["抽样范围摘要（SM3）"] == lookback.pool_digest
    assert (summary["抽取总数"], summary["反弹"], summary["巩固"], summary["待复查"]) == (1, 1, 0, 0)
    listing = sheet(data, "复查清单")
    assert listing[1] == ["序号", "任务编号", "问题名称", "选取方式", "复查单位", "复查时限", "复查结论", "复查情况",
                          "重新整改时限", "已重新打开"]
    (line,) = listing[2:]
    assert line[1:5] == [drawn_task.code, drawn_task.title, "随机抽取", "市生态环境局"]
    assert line[5] == lookback.due_date and line[7] == "河道再现黑臭。"
    assert line[6] == "反弹" and line[8] == today() + dt.timedelta(days=60) and line[9] == "是"
    event = Event.objects.filter(action="document_generated").latest("seq")
    assert event.object_id == str(lookback.pk) and event.after["format"] == "xlsx"


def test_the_look_back_report_downloads_for_the_office_and_the_checking_unit(world):
    closed_task(world)
    lookback = services.start_lookback(actor=world.users["office_admin"], campaign=world.campaign, title="回头看",
                                       share_percent=100, due_date=today() + dt.timedelta(days=30), seed="s")
    for persona in ("office_admin", "lead_env"):
        for name in ("documents:lookback_docx", "documents:lookback_xlsx"):
            response = world.client(persona).get(reverse(name, args=[lookback.pk]))
            assert response.status_code == 200 and response.content[:2] == b"PK"


# ---- the bulletin's close-out figures -------------------------------------------------------------


@pytest.fixture
def closeout_round(world):
    """This month's round, closed, with close-outs in several stages:
    T-05 filed this month; T-01 in notice with two objections (one dismissed); T-02 awaiting 核查;
    T-06 (no lead unit) awaiting its notice."""
    admin = world.users["office_admin"]
    period = f"{timezone.localdate():%Y-%m}"
    t6 = ledger.create_task(actor=admin, campaign=world.campaign, data=ledger.TaskInput(
        code="T-06", title="祁阳市矿山复绿", problem="矿山未复绿。", category=Category.MINES,
        responsible_units=[world.county_b], deadline_kind=DeadlineKind.LONG_TERM,
        measures=[ledger.MeasureInput(text="复绿")]))
    t5 = ledger.create_task(actor=admin, campaign=world.campaign, data=ledger.TaskInput(
        code="T-05", title="零陵区黑臭水体整治", problem="黑臭水体。", target="消除黑臭", category=Category.WATER,
        responsible_units=[world.county_a], lead_supervisor=world.dept_env, deadline_kind=DeadlineKind.BY_DATE,
        deadline=dt.date(2026, 12, 31), measures=[ledger.MeasureInput(text="清淤")]))
    closed_task(world, make_eligible(world, t5, period=period))
    closeout = through_notice(world, assessed(world, make_eligible(world, world.task_a, period=period)))
    services.file_objection(closeout=closeout, content="管网末端仍有污水直排入河。", name="张三丰", phone="13812345678")
    dismissed = services.file_objection(closeout=closeout, content="希望加强后期管护。")
    services.answer_objection(actor=admin, objection=dismissed, action="dismiss", answer="已纳入长效机制。")
    # Stages the other counties' reviewers would reach, set directly: the figures only read them.
    Task.objects.filter(pk=world.task_b.pk).update(status=TaskStatus.CLOSING, closeout_stage="accepted")
    Task.objects.filter(pk=t6.pk).update(status=TaskStatus.CLOSING, closeout_stage="applied")
    rnd = DispatchRound.objects.get(office=world.office, period=period)
    close_round(actor=admin, rnd=rnd)
    snapshot_round(rnd=rnd)
    rnd.refresh_from_db()
    return world, rnd


def expected_figures(world, rnd) -> tuple[dict, dict, dict]:
    """The same figures, counted a second way: task by task in Python."""
    def month(value) -> bool:
        return value is not None and f"{timezone.localtime(value):%Y-%m}" == rnd.period

    filed_in_month = {c.task_id for c in Closeout.objects.all() if month(c.filed_at)}
    totals, per_unit, per_lead = Counter(), {}, {}
    for task in Task.objects.prefetch_related("task_units__unit"):
        keys = []
        if task.closeout_stage and task.closeout_stage != "filed":
            keys.append(f"co_{task.closeout_stage}")
        if task.pk in filed_in_month:
            keys.append("co_filed_month")
        if task.status == TaskStatus.CLOSED:
            keys.append("co_closed")
        totals.update(keys)
        leads = [tu.unit.name for tu in task.task_units.all() if tu.role == UnitRole.LEAD_SUPERVISOR] or [
            "（未明确牵头督导单位）"]
        for tu in task.task_units.all():
            if tu.role == UnitRole.RESPONSIBLE:
                per_unit.setdefault(tu.unit.name, Counter()).update(keys)
        for name in leads:
            per_lead.setdefault(name, Counter()).update(keys)
    return totals, per_unit, per_lead


def test_the_bulletins_close_out_figures_equal_a_count_task_by_task(closeout_round):
    world, rnd = closeout_round
    data = bulletin_data(rnd, world.users["office_admin"])
    totals, per_unit, per_lead = expected_figures(world, rnd)
    assert data["closeout_totals"] == {k: totals[k] for k in CLOSEOUT_KEYS}
    assert (totals["co_in_notice"], totals["co_accepted"], totals["co_applied"], totals["co_filed_month"],
            totals["co_closed"]) == (1, 1, 1, 1, 1)  # the fixture is what it says
    for table, expected in (("by_unit", per_unit), ("by_lead", per_lead)):
        got = {r["name"]: {k: r[k] for k in CLOSEOUT_KEYS} for r in data[table] if any(r[k] for k in CLOSEOUT_KEYS)}
        want = {name: {k: c[k] for k in CLOSEOUT_KEYS} for name, c in expected.items() if any(c.values())}
        assert got == want, table
    objections = {o.closeout.task.code: o for o in Objection.objects.select_related("closeout__task")}
    assert [(o["code"], o["objections"], o[ObjectionStatus.OPEN], o[ObjectionStatus.DISMISSED],
             o[ObjectionStatus.UPHELD]) for o in data["objections"]] == [("T-01", 2, 1, 1, 0)]
    assert data["objections"][0]["notice_number"] == objections["T-01"].closeout.notice_number


def test_the_bulletins_close_out_figures_in_word_and_excel_name_no_objector(closeout_round):
    world, rnd = closeout_round
    admin = world.users["office_admin"]
    document = read_docx(bulletin_docx(rnd, admin))
    paragraphs, text = [p.text for p in document.paragraphs], all_text(document)
    assert "附件：销号工作情况" in paragraphs and "附件" in paragraphs and "销号工作情况" in paragraphs
    assert ("正在办理销号的任务3项（初审自评0项、待公示1项、公示中1项、待核查1项、待备案0项），"
            "本月备案销号1项，累计已销号1项；本月有1项任务的销号公示收到群众异议2件") in text
    assert paragraphs[-1].startswith("审计链头：")  # still the last line
    units = next(t for t in document.tables if t.rows[0].cells[1].text == "责任单位" and "公示中" in
                 [c.text for c in t.rows[0].cells])
    rows = {r[1]: r for r in rows_of(units)[1:]}
    assert rows["零陵区"][2:] == ["0", "0", "1", "0", "0", "1", "1"]
    assert rows["祁阳市"][2:] == ["0", "1", "0", "1", "0", "0", "0"]
    leads = next(t for t in document.tables if t.rows[0].cells[1].text == "牵头督导单位" and "公示中" in
                 [c.text for c in t.rows[0].cells])
    assert {r[1]: r[2:] for r in rows_of(leads)[1:]}["（未明确牵头督导单位）"] == ["0", "1", "0", "0", "0", "0", "0"]
    objections = next(t for t in document.tables
                      if [c.text.replace("\n", "") for c in t.rows[0].cells][4:5] == ["异议件数"])
    (row,) = rows_of(objections)[1:]
    assert row[1] == "T-01" and row[4:] == ["2", "1", "0", "1"]

    data = bulletin_xlsx(rnd, admin)
    summary = {r[0]: r[1] for r in sheet(data, "总体情况")[2:]}
    assert (summary["销号：公示中"], summary["销号：本月销号"], summary["本月销号公示收到异议（件）"]) == (1, 1, 2)
    counties = sheet(data, "按县市区")
    header, zl = counties[1], next(r for r in counties if "零陵区" in r)
    assert zl[header.index("销号：公示中")] == 1 and zl[header.index("销号：累计已销号")] == 1
    listing = sheet(data, "销号公示异议")
    assert listing[2][1:] == ["T-01", "零陵区城区污水管网建设滞后", listing[2][3], 2, 1, 0, 1]
    for secret in ("张三丰", "13812345678", "管网末端仍有污水直排入河"):
        assert secret not in text and all(secret not in str(cell) for name in CalamineWorkbook.from_filelike(
            io.BytesIO(data)).sheet_names for row in sheet(data, name) for cell in row)


def test_a_bulletin_without_close_outs_says_so_and_has_no_annex(world):
    admin = world.users["office_admin"]
    rnd, _ = open_round(actor=admin, office=world.office, period=f"{timezone.localdate():%Y-%m}",
                        due_date=timezone.localdate())
    close_round(actor=admin, rnd=rnd)
    rnd.refresh_from_db()
    paragraphs = [p.text for p in read_docx(bulletin_docx(rnd, admin)).paragraphs]
    assert "截至通报生成时，尚无办理销号的任务。" in paragraphs and "附件" not in paragraphs


# ---- the plan preview's 销号程序比对 -------------------------------------------------------------


def test_the_seed_plans_procedure_matches_the_default_policy(world):
    client = world.client("office_admin")
    html = client.get(upload(client, world, SEED.read_bytes(), "整改方案.txt")["Location"]).content.decode()
    panel = html[html.index('id="closeout-procedure"'):]
    panel = panel[:panel.index("</section>")]
    assert "销号程序比对" in panel and f'href="/closeout/policy/{world.campaign.pk}/"' in panel
    assert "一致 9 项，不一致 0 项，方案未提及 2 项" in panel
    for item in ("初审", "公示", "申请", "核查", "备案", "生态修复", "污染消除", "群众满意"):
        assert f"<td data-label=\"项目\">{item}</td>" in panel
    assert panel.count('class="procedure-match"') == 9 and panel.count('class="procedure-unstated"') == 2


def test_a_configured_policy_is_compared_with_what_the_plan_states(world):
    services.set_policy(actor=world.users["office_admin"], campaign=world.campaign, notice_workdays=7,
                        onsite_required=True, verifier="office")
    plan = ("一、总体要求\n（一）规范销号。问题整改完成后按照“初审、公示、核查、销号”的程序办理，"
            "由牵头督导单位组织现场核查后验收销号，整改情况公示期为七个工作日。\n（二）强化宣传。做好宣传报道。\n")
    client = world.client("office_admin")
    html = client.get(upload(client, world, plan.encode())["Location"]).content.decode()
    assert "一致 5 项，不一致 4 项，方案未提及 3 项" in html
    result = compare_procedure(
        {"mechanisms": [{"kind": "closeout", "steps": ["初审", "公示", "核查", "销号"], "standards": [],
                         "source": "按照“初审、公示、核查、销号”的程序"}],
         "sections": [{"text": "整改情况公示期为七个工作日，由牵头督导单位组织现场核查后验收销号。", "children": []}]},
        notice_workdays=7, onsite_required=True, verifier="office")
    status = {(r["group"], r["item"]): r["status"] for r in result["rows"]}
    assert status[("销号程序", "申请")] == status[("销号程序", "备案")] == "不一致"
    assert status[("销号程序", "方案另列")] == "不一致"
    assert status[("销号标准", "生态修复")] == "方案未提及"
    assert status[("公示期", "公示期")] == "一致" and status[("核查", "现场核查")] == "一致"
    assert status[("核查", "核查单位")] == "不一致"  # the plan names the lead unit, the campaign the office
