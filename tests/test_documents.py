"""Official documents: escalation notices (督办通知书 …) and the monthly bulletin (月度调度通报).

Documents are generated, then read back with python-docx / python-calamine, and checked for
what a reader of the paper copy relies on: who, what, by when, under which number.
"""

from __future__ import annotations

import datetime as dt
import io
from urllib.parse import quote

import docx
import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from docx.oxml.ns import qn
from python_calamine import CalamineWorkbook

from rectify.core.audit import chain_head
from rectify.core.models import Event
from rectify.dispatch.models import ProgressReport
from rectify.dispatch.services import close_round, open_round, transition
from rectify.documents.bulletin import bulletin_data, bulletin_docx, bulletin_xlsx, generate_bulletin
from rectify.documents.docx_layout import cn_date
from rectify.documents.escalation_doc import escalation_docx
from rectify.ledger import services as ledger
from rectify.ledger.models import DeadlineKind, Task
from rectify.orgs.models import Category, Role, UnitKind
from rectify.orgs.services import create_unit, create_user
from rectify.supervision.models import LADDER, Escalation, Rung, Trigger
from rectify.supervision.services import auto_warning, issue_escalation, refresh_statuses, snapshot_round
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def all_text(document) -> str:
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def read_docx(data: bytes):
    assert data[:2] == b"PK"
    return docx.Document(io.BytesIO(data))


def table_rows(table) -> list[list[str]]:
    return [[c.text for c in row.cells] for row in table.rows]


def sheet(data: bytes, name: str) -> list[list]:
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name(name).to_python()


# ---- escalation notices ----------------------------------------------------------------


@pytest.fixture
def reply_due() -> dt.date:
    return timezone.localdate() + dt.timedelta(days=12)


def issue(world, rung: str, reply_due, **kw) -> Escalation:
    if rung == Rung.WARNING:  # warnings are raised by tick, never issued by hand
        esc = auto_warning(task=world.task_a, trigger=Trigger.LAGGING_TWICE, key=f"test:{Escalation.objects.count()}",
                           reason="连续两轮调度进度滞后，管网建设未按序时推进", target_unit=world.county_a)
        Escalation.objects.filter(pk=esc.pk).update(reply_due=reply_due)
        esc.refresh_from_db()
        return esc
    return issue_escalation(actor=world.users["office_admin"], task=world.task_a, rung=rung,
                            reason="连续两轮调度进度滞后，管网建设未按序时推进", target_unit=world.county_a,
                            reply_due=reply_due,
                            skip_reason="" if rung == Rung.WARNING else "群众反映强烈，须从严督办", **kw)


@pytest.mark.parametrize("rung", LADDER)
def test_each_rung_has_its_official_document(world, reply_due, rung):
    esc = issue(world, rung, reply_due)
    document = read_docx(escalation_docx(esc))
    text = all_text(document)
    title = {
        Rung.WARNING: "关于零陵区T-01号问题整改进度的预警提醒函",
        Rung.CIRCULAR: "关于零陵区T-01号问题整改情况的通报",
        Rung.SUPERVISION: "关于督办零陵区T-01号问题整改的通知",
        Rung.LISTED: "关于对零陵区T-01号问题实行挂牌督办的通知",
        Rung.INTERVIEW: "关于就零陵区T-01号问题整改开展约谈的通知",
        Rung.SUSPENSION: "关于对零陵区实行区域限批的决定",
    }[rung]
    assert title.count("整改") <= 1  # issue 14 point 6: no doubled 整改

    assert esc.doc_number and esc.doc_number in text
    assert title in [p.text for p in document.paragraphs]
    assert "零陵区：" in [p.text for p in document.paragraphs]  # 主送机关 with a full-width colon
    assert "T-01" in text and "零陵区城区污水管网建设滞后" in text
    assert f"请于{reply_due.year}年{reply_due.month}月{reply_due.day}日前将整改落实情况书面回复" in text
    assert cn_date(timezone.localdate()) in [p.text for p in document.paragraphs]  # 成文日期, no leading zeros
    assert "连续两轮调度进度滞后" in text
    if LADDER.index(rung) >= LADDER.index(Rung.SUPERVISION):  # climbed over 通报 at least
        assert esc.skip_reason
    if esc.skip_reason:
        assert "群众反映强烈" in text and "越级" in text  # the skipped rungs' reason is on paper
    if rung == Rung.SUPERVISION:
        assert "未经通报" in text

    section = document.sections[0]
    assert abs(section.top_margin.mm - 37) < 0.1 and abs(section.bottom_margin.mm - 35) < 0.1
    assert abs(section.left_margin.mm - 28) < 0.1 and abs(section.right_margin.mm - 26) < 0.1
    assert abs(section.page_width.mm - 210) < 0.1 and abs(section.page_height.mm - 297) < 0.1

    masthead = document.paragraphs[0].runs[0]
    assert masthead.text == "测试市整改办"
    assert str(masthead.font.color.rgb) == "FF0000"
    assert masthead._r.rPr.rFonts.get(qn("w:eastAsia")) == "方正小标宋简体"

    footer_xml = section.footer._element.xml
    assert "PAGE" in footer_xml and "— " in footer_xml  # "— 1 —"


def test_red_line_under_the_document_number(world, reply_due):
    esc = issue(world, Rung.SUPERVISION, reply_due)
    document = read_docx(escalation_docx(esc))
    number = next(p for p in document.paragraphs if p.text == esc.doc_number)
    bottom = number._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom"))
    assert bottom.get(qn("w:color")) == "FF0000"


def test_fonts_fall_back_to_windows_families(world, reply_due):
    esc = issue(world, Rung.WARNING, reply_due)
    data = escalation_docx(esc)
    import zipfile

    fonts = zipfile.ZipFile(io.BytesIO(data)).read("word/fontTable.xml").decode()
    assert 'w:name="仿宋_GB2312"' in fonts and 'w:val="仿宋"' in fonts
    assert 'w:name="方正小标宋简体"' in fonts and 'w:val="宋体"' in fonts


def test_warning_without_reply_date_asks_for_next_report(world):
    esc = issue(world, Rung.WARNING, None)
    text = all_text(read_docx(escalation_docx(esc)))
    assert "下一轮调度" in text and "请于" not in text


def test_masthead_name_from_settings(world, reply_due, settings):
    settings.OFFICE_DOC_NAME = "测试市生态环境保护督察整改工作领导小组办公室"
    esc = issue(world, Rung.WARNING, reply_due)
    document = read_docx(escalation_docx(esc))
    assert document.paragraphs[0].text == settings.OFFICE_DOC_NAME


def test_escalation_download_for_those_who_see_it(world, reply_due):
    esc = issue(world, Rung.SUPERVISION, reply_due)
    url = reverse("documents:escalation_docx", args=[esc.pk])
    response = world.client("office_admin").get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.wordprocessingml")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=utf-8''" + quote("督办通知书") in disposition  # RFC 5987
    assert esc.doc_number in all_text(read_docx(response.content))
    event = Event.objects.filter(action="document_generated").latest("seq")
    assert event.actor_id == world.users["office_admin"].pk and esc.doc_number in event.summary

    assert world.client("reporter_a").get(url).status_code == 200  # the target unit
    assert world.client("lead_env").get(url).status_code == 200  # the task's lead unit


@pytest.mark.parametrize("persona", ["reporter_b", "lead_housing", "discipline", "auditor"])
def test_escalation_download_outside_scope_is_404(world, reply_due, persona):
    esc = issue(world, Rung.SUPERVISION, reply_due)
    before = Event.objects.filter(action="document_generated").count()
    response = world.client(persona).get(reverse("documents:escalation_docx", args=[esc.pk]))
    assert response.status_code == 404
    assert Event.objects.filter(action="document_generated").count() == before


def test_escalation_download_needs_login(world, reply_due):
    from django.test import Client

    esc = issue(world, Rung.WARNING, reply_due)
    response = Client().get(reverse("documents:escalation_docx", args=[esc.pk]))
    assert response.status_code == 302


# ---- monthly bulletin ----------------------------------------------------------------


@pytest.fixture
def bulletin_world(world):
    """A round of three tasks: T-01 (零陵区) reported on time and accepted at 100%; T-02 (祁阳市)
    not reported; T-03 (市住建局, overdue) reported after the due date and still awaiting review."""
    admin = world.users["office_admin"]
    today = timezone.localdate()
    task_c = ledger.create_task(actor=admin, campaign=world.campaign, data=ledger.TaskInput(
        code="T-03", title="=HYPERLINK(\"http://x\")城区黑臭水体整治", problem="黑臭水体反弹。", target="消除黑臭",
        category=Category.WATER, responsible_units=[world.dept_housing], lead_supervisor=world.dept_env,
        deadline_kind=DeadlineKind.BY_DATE, deadline=dt.date(2026, 12, 31),
        measures=[ledger.MeasureInput(text="截污纳管")]))
    Task.objects.filter(pk=task_c.pk).update(deadline=today - dt.timedelta(days=30))  # now overdue
    housing_reporter = create_user(actor=None, username="rep_h", password=PASSWORD, role=Role.REPORTER,
                                   unit=world.dept_housing, display_name="住建填报员", must_change_password=False)

    rnd, created = open_round(actor=admin, office=world.office, period=f"{today:%Y-%m}", due_date=today,
                              require_unit_review=True)
    assert created
    report_a = ProgressReport.objects.get(round=rnd, task=world.task_a)
    report_a = transition(actor=world.users["reporter_a"], report=report_a, action="save",
                          changes={"progress_text": "管网建设已全部完成", "percent": 100})
    report_a = transition(actor=world.users["reporter_a"], report=report_a, action="submit")
    report_a = transition(actor=world.users["reviewer_a"], report=report_a, action="approve")
    report_a = transition(actor=world.users["lead_env"], report=report_a, action="accept")
    assert report_a.status == "accepted" and not report_a.late

    # The due date passes; then the housing bureau reports, late.
    rnd.__class__.objects.filter(pk=rnd.pk).update(due_date=today - dt.timedelta(days=1))
    rnd.refresh_from_db()
    report_c = ProgressReport.objects.get(round=rnd, task=task_c)
    report_c = transition(actor=housing_reporter, report=report_c, action="submit",
                          changes={"progress_text": "正在截污纳管", "percent": 60})
    assert report_c.late

    esc = issue_escalation(actor=admin, task=world.task_b, rung=Rung.SUPERVISION, reason="本月未报送进展",
                           target_unit=world.county_b, reply_due=today + dt.timedelta(days=10),
                           skip_reason="逾期未报送且进度严重滞后")
    old = auto_warning(task=world.task_a, trigger=Trigger.DEADLINE_NEAR, key="test:last-month", reason="上月预警",
                       target_unit=world.county_a)
    Escalation.objects.filter(pk=old.pk).update(issued_at=timezone.now() - dt.timedelta(days=62))

    close_round(actor=admin, rnd=rnd)
    refresh_statuses()
    snapshot_round(rnd=rnd)
    rnd.refresh_from_db()
    return world, rnd, task_c, esc, old


def row_of(rows: list[list], name: str) -> list:
    return next(r for r in rows if name in r)


def test_bulletin_figures(bulletin_world):
    world, rnd, task_c, esc, old = bulletin_world
    data = bulletin_data(rnd, world.users["office_admin"])
    assert data["status_source"] == "snapshot"
    assert data["report_totals"] == {"total": 3, "on_time": 1, "late": 1, "missing": 1, "accepted": 1,
                                     "to_accept": 0}
    assert data["task_totals"]["tasks"] == 3
    assert (data["task_totals"]["on_schedule"], data["task_totals"]["lagging"], data["task_totals"]["overdue"]) \
        == (1, 1, 1)
    units = {r["name"]: r for r in data["by_unit"]}
    assert units["零陵区"]["on_time"] == 1 and units["零陵区"]["on_schedule"] == 1
    assert units["祁阳市"]["missing"] == 1 and units["祁阳市"]["lagging"] == 1
    assert units["市住房和城乡建设局"]["late"] == 1 and units["市住房和城乡建设局"]["overdue"] == 1
    assert [r["name"] for r in data["by_unit"]][:2] == ["零陵区", "祁阳市"]  # counties first
    leads = {r["name"]: r for r in data["by_lead"]}
    assert leads["市生态环境局"]["total"] == 2 and leads["市生态环境局"]["accepted"] == 1
    assert leads["市住房和城乡建设局"]["missing"] == 1
    assert [t["code"] for t in data["lagging"]] == ["T-02"]
    assert [t["code"] for t in data["overdue"]] == ["T-03"]
    overdue = data["overdue"][0]
    assert overdue["responsible"] == "市住房和城乡建设局" and overdue["lead"] == "市生态环境局"
    assert [e["id"] for e in data["escalations"]] == [esc.pk]  # last month's warning is not this month's
    assert data["doc_number"] == ""  # numbered when first generated (generate_bulletin), not when counted


def test_bulletin_number_comes_from_the_register(bulletin_world):
    """The bulletin's 发文字号 is issued once, at its first generation, from the 通 sequence it shares
    with circulars (通报): a circular issued before it this year takes 1号, the bulletin 2号."""
    world, rnd, *_ = bulletin_world
    admin = world.users["office_admin"]
    year = timezone.localdate().year
    circular = issue_escalation(actor=admin, task=world.task_a, rung=Rung.CIRCULAR, reason="进度滞后",
                                target_unit=world.county_a, reply_due=timezone.localdate() + dt.timedelta(days=10))
    assert circular.doc_number == f"整改办通〔{year}〕1号"
    generate_bulletin(actor=admin, rnd=rnd, fmt="docx")
    assert bulletin_data(rnd, admin)["doc_number"] == f"整改办通〔{year}〕2号"
    generate_bulletin(actor=admin, rnd=rnd, fmt="xlsx")  # again, other format: same number
    assert bulletin_data(rnd, admin)["doc_number"] == f"整改办通〔{year}〕2号"
    assert Event.objects.filter(action="document_number_issued", object_type="dispatch.dispatchround",
                                object_id=str(rnd.pk)).count() == 1


def test_bulletin_docx(bulletin_world):
    world, rnd, task_c, esc, old = bulletin_world
    generate_bulletin(actor=world.users["office_admin"], rnd=rnd, fmt="xlsx")  # issues the number
    document = read_docx(bulletin_docx(rnd, world.users["office_admin"]))
    text = all_text(document)
    paragraphs = [p.text for p in document.paragraphs]
    assert f"关于{rnd.title}情况的通报" in paragraphs
    assert f"整改办通〔{rnd.period[:4]}〕1号" in paragraphs
    for heading in ["一、总体情况", "二、各县市区报送情况", "三、牵头督导单位督导情况", "四、滞后和逾期任务",
                    "五、本月督办情况", "六、下步工作要求"]:
        assert heading in paragraphs
    assert "按时报送1项，逾期报送1项，未报送1项" in text

    counties = table_rows(document.tables[0])
    assert [h.replace("\n", "") for h in counties[0][:6]] == ["序号", "责任单位", "应报", "按时报送", "逾期报送", "未报送"]
    assert row_of(counties, "零陵区")[3] == "1"  # on time
    assert row_of(counties, "祁阳市")[5] == "1"  # missing
    assert row_of(counties, "市住房和城乡建设局")[4] == "1"  # late
    assert row_of(counties, "市住房和城乡建设局")[8] == "1"  # overdue task
    leads = table_rows(document.tables[1])
    assert row_of(leads, "市生态环境局")[2:4] == ["2", "1"]

    lagging, overdue, escalations = (table_rows(t) for t in document.tables[2:5])
    assert [r[1] for r in lagging[1:]] == ["T-02"]
    assert [r[1] for r in overdue[1:]] == ["T-03"]
    assert row_of(overdue, "T-03")[3:5] == ["市住房和城乡建设局", "市生态环境局"]
    assert [r[1] for r in escalations[1:]] == [esc.doc_number]
    assert old.doc_number not in text

    n, digest = chain_head()
    assert f"审计链头：{n}:{digest}" in paragraphs[-1]
    assert str(document.paragraphs[0].runs[0].font.color.rgb) == "FF0000"
    assert abs(document.sections[0].top_margin.mm - 37) < 0.1


def test_bulletin_xlsx(bulletin_world):
    world, rnd, task_c, esc, old = bulletin_world
    data = bulletin_xlsx(rnd, world.users["office_admin"])
    names = CalamineWorkbook.from_filelike(io.BytesIO(data)).sheet_names
    assert names == ["总体情况", "按县市区", "按牵头单位", "滞后任务", "逾期任务", "督办情况", "销号公示异议"]

    summary = {r[0]: r[1] for r in sheet(data, "总体情况")[2:]}
    assert (summary["应报送"], summary["按时报送"], summary["逾期报送"], summary["未报送"]) == (3, 1, 1, 1)
    assert summary["审计链头"] == "{}:{}".format(*chain_head())

    counties = sheet(data, "按县市区")
    header = counties[1]
    zl, qy = row_of(counties, "零陵区"), row_of(counties, "祁阳市")
    assert zl[header.index("按时报送")] == 1 and qy[header.index("未报送")] == 1
    assert qy[header.index("滞后")] == 1
    leads = sheet(data, "按牵头单位")
    assert row_of(leads, "市生态环境局")[leads[1].index("已采纳")] == 1

    assert [r[1] for r in sheet(data, "滞后任务")[2:]] == ["T-02"]
    overdue = sheet(data, "逾期任务")
    assert [r[1] for r in overdue[2:]] == ["T-03"]
    assert row_of(overdue, "T-03")[2].startswith("'=HYPERLINK")  # formula injection neutralised
    assert [r[1] for r in sheet(data, "督办情况")[2:]] == [esc.doc_number]


def test_bulletin_falls_back_to_current_status_without_snapshots(bulletin_world):
    world, rnd, *_ = bulletin_world
    rnd.snapshots.all().delete()
    data = bulletin_data(rnd, world.users["office_admin"])
    assert data["status_source"] == "current"
    assert [t["code"] for t in data["lagging"]] == ["T-02"] and [t["code"] for t in data["overdue"]] == ["T-03"]
    assert {r["name"]: r["overdue"] for r in data["by_unit"]}["市住房和城乡建设局"] == 1


def test_bulletin_queries_do_not_grow_with_tasks(bulletin_world, django_assert_max_num_queries):
    world, rnd, *_ = bulletin_world
    with django_assert_max_num_queries(22):  # 16 dispatch and supervision, 3 close-out, 3 help requests and case counts
        bulletin_data(rnd, world.users["office_admin"])


@pytest.mark.parametrize("persona", ["reporter_b", "lead_env", "reviewer_a", "leader_a"])
def test_bulletin_is_the_office_s(bulletin_world, persona):
    world, rnd, *_ = bulletin_world
    with pytest.raises(PermissionDenied):
        bulletin_data(rnd, world.users[persona])
    for name in ("documents:bulletin_docx", "documents:bulletin_xlsx"):
        response = world.client(persona).get(reverse(name, args=[rnd.pk]))
        assert response.status_code in (403, 404)


def test_bulletin_of_another_office_is_404(bulletin_world):
    world, rnd, *_ = bulletin_world
    other = create_unit(actor=None, name="另一市整改办", kind=UnitKind.OFFICE)
    create_user(actor=None, username="other_admin", password=PASSWORD, role=Role.OFFICE_ADMIN, unit=other,
                must_change_password=False)
    from django.test import Client

    client = Client()
    client.force_login(other.users.get())
    assert client.get(reverse("documents:bulletin_docx", args=[rnd.pk])).status_code == 404


def test_bulletin_download(bulletin_world):
    world, rnd, *_ = bulletin_world
    client = world.client("office_admin")
    for name, fmt in (("documents:bulletin_docx", "docx"), ("documents:bulletin_xlsx", "xlsx")):
        response = client.get(reverse(name, args=[rnd.pk]))
        assert response.status_code == 200
        assert "filename*=utf-8''" + quote(f"{rnd.title}") in response["Content-Disposition"]
        assert response.content[:2] == b"PK"
        event = Event.objects.filter(action="document_generated").latest("seq")
        assert event.object_id == str(rnd.pk) and fmt in event.summary


def test_open_round_has_no_bulletin_yet(world):
    today = timezone.localdate()
    rnd, _ = open_round(actor=world.users["office_admin"], office=world.office, period=f"{today:%Y-%m}",
                        due_date=today)
    response = world.client("office_admin").get(reverse("documents:bulletin_docx", args=[rnd.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("dispatch:round_detail", args=[rnd.pk])
    assert any("尚未结束" in str(m) for m in get_messages(response.wsgi_request))
    with pytest.raises(ValidationError):
        bulletin_data(rnd, world.users["office_admin"])
    assert not Event.objects.filter(action="document_generated").exists()
