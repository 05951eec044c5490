"""Accountability cases (追责问责): opened by the office's case handler or a lead unit, or proposed by the
software (a look-back rebound, 挂牌督办 or 约谈, a failed 核查); investigated by the lead unit; reviewed,
referred to the discipline commission with a referral number; accepted, decided and closed there.

Personas (tests/conftest.py): office_staff is the designated case handler, office_admin designates but
is not one; 市生态环境局 (lead_env) leads T-01 of 零陵区 (reporter_a, reviewer_a) and investigates; 市纪委监委
(discipline) receives the referral.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from docx import Document

from rectify.accountability import services
from rectify.accountability.models import (
    AccountabilityCase,
    CaseFile,
    CaseKind,
    CaseSource,
    CaseStatus,
    FileKind,
    PersonConcerned,
)
from rectify.core.audit import verify_chain
from rectify.core.models import Event, Notification
from rectify.ledger.selectors import task_timeline
from rectify.supervision import services as supervision
from rectify.supervision.models import Rung
from tests.accountability_helpers import (
    LATER,
    conclude,
    designate,
    fresh,
    investigate,
    open_case,
    refer,
    step,
)

S = CaseStatus


def docx_text(data: bytes) -> str:
    """Paragraphs and table cells of a .docx."""
    document = Document(io.BytesIO(data))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


@pytest.fixture
def handled(world):
    designate(world)
    return world


def test_the_whole_path_from_opening_to_the_commissions_outcome(handled, django_capture_on_commit_callbacks):
    world = handled
    with django_capture_on_commit_callbacks(execute=True):
        case = open_case(world)
    assert case.status == S.OPENED and case.number.startswith("ZZ-") and case.lead_unit == world.dept_env
    assert set(case.units.all()) == {world.county_a}  # the task's responsible unit by default
    assert Notification.objects.filter(user=world.users["lead_env"], url=f"/accountability/cases/{case.pk}/").exists()

    with django_capture_on_commit_callbacks(execute=True):
        case = investigate(world, case)
    assert case.status == S.REPORTED and case.report_submitted_at
    report = CaseFile.objects.get(case=case, file_kind=FileKind.REPORT)
    from rectify.evidence.store import EvidenceStore

    text = "\n".join(p.text for p in Document(EvidenceStore().open(report.digest, report.extension)).paragraphs)
    assert "追责问责建议报告" in text and "内部" in text and "管网未接通" in text
    assert Notification.objects.filter(user=world.users["office_staff"], title__contains="待审核").exists()

    with django_capture_on_commit_callbacks(execute=True):
        case = refer(world, case)
    assert case.status == S.REFERRED and case.referral_number.startswith("整改办移〔")
    assert Notification.objects.filter(user=world.users["discipline"], title__contains=case.referral_number).exists()

    case = conclude(world, case)
    assert case.status == S.CLOSED and case.outcome == "criticism" and case.closed_at
    assert PersonConcerned.objects.get(case=case).outcome == "criticism"
    actions = list(Event.objects.filter(object_type="accountability.accountabilitycase", object_id=str(case.pk))
                   .order_by("seq").values_list("action", flat=True))
    assert actions[0] == "case_opened" and actions[-1] == "case_closed"
    assert {"case_report_submitted", "case_referred", "case_accepted", "case_outcome_recorded"} <= set(actions)
    assert verify_chain().ok


def test_the_lead_unit_sees_the_case_only_while_it_investigates(handled):
    world = handled
    case = open_case(world)
    visible = lambda: AccountabilityCase.objects.visible_to(fresh(world, "lead_env")).filter(pk=case.pk).exists()  # noqa: E731
    assert visible()
    case = investigate(world, case)
    assert not visible()  # submitted: the office reviews
    case = step(world, "office_staff", case, "return_report", reason="证据不足，请补充现场照片。")
    assert case.status == S.INVESTIGATING and visible() and case.returned_reason.startswith("证据不足")
    case = step(world, "lead_env", case, "submit_report")
    assert not visible()
    assert CaseFile.objects.filter(case=case, file_kind=FileKind.REPORT).count() == 2  # each submission kept


def test_the_commission_sees_a_case_once_referred_and_may_return_it(handled):
    world = handled
    case = investigate(world, open_case(world))
    commission = fresh(world, "discipline")
    assert not AccountabilityCase.objects.visible_to(commission).exists()
    case = refer(world, case)
    first = case.referral_number
    assert AccountabilityCase.objects.visible_to(commission).filter(pk=case.pk).exists()
    case = step(world, "discipline", case, "return_referral", reason="请补充涉及人员的职务信息。")
    assert case.status == S.REVIEWED
    case = step(world, "office_staff", case, "refer", commission=world.discipline)
    assert case.referral_number == first  # the case keeps its referral number (one per case in the register)
    assert Event.objects.filter(action="document_number_issued", object_id=str(case.pk)).count() == 1


def test_outcome_no_accountability_needs_a_reason_and_each_person_an_outcome(handled):
    world = handled
    case = refer(world, investigate(world, open_case(world)))
    case = step(world, "discipline", case, "accept", handling_due=LATER)
    person = case.persons.get()
    with pytest.raises(ValidationError, match="理由"):
        step(world, "discipline", case, "record_outcome", outcome="none", detail="经查不予追责。",
             person_outcomes={person.pk: ("none", "")})
    with pytest.raises(ValidationError, match="每名涉及人员"):
        step(world, "discipline", case, "record_outcome", outcome="none", detail="经查不予追责。", reason="已尽责。")
    case = step(world, "discipline", case, "record_outcome", outcome="none", detail="经查不予追责。", reason="已尽责。",
                person_outcomes={person.pk: ("none", "")})
    assert case.status == S.DECIDED and case.outcome_reason == "已尽责。"


def test_refusals_need_a_reason_and_end_the_case(handled):
    world = handled
    case = step(world, "office_staff", open_case(world), "decline", reason="线索不实。")
    assert case.status == S.DECLINED and case.refusal_reason == "线索不实。"
    other = investigate(world, open_case(world, title="另一案"))
    with pytest.raises(ValidationError):
        step(world, "office_staff", other, "not_refer", reason="")
    other = step(world, "office_staff", other, "not_refer", reason="调查未发现失职失责。")
    assert other.status == S.NOT_REFERRED


# --- who opens cases -------------------------------------------------------------------------


def test_a_lead_unit_opens_a_case_on_its_own_task_only(handled):
    world = handled
    lead = fresh(world, "lead_env")
    case = services.open_case(actor=lead, task_ids=[world.task_a.pk], kind=CaseKind.FALSE_REPORT, title="谎报进度",
                              facts="报称完成 80%，实际未开工。", investigation_due=LATER)
    assert case.source == CaseSource.LEAD_UNIT and case.lead_unit == world.dept_env and case.status == S.OPENED
    with pytest.raises((PermissionDenied, ValidationError)):  # T-02 is 住建局's
        services.open_case(actor=lead, task_ids=[world.task_b.pk], kind=CaseKind.OTHER, title="越权",
                           facts="不是本单位督导的任务。", investigation_due=LATER)


@pytest.mark.parametrize("persona", ["office_admin", "reporter_a", "reviewer_a", "leader_a", "discipline", "auditor"])
def test_others_cannot_open_cases(handled, persona):
    with pytest.raises((PermissionDenied, ValidationError)):
        services.open_case(actor=fresh(handled, persona), task_ids=[handled.task_a.pk], kind=CaseKind.OTHER,
                           title="无权", facts="无权立案。", lead_unit=handled.dept_env, investigation_due=LATER)


def test_the_unit_concerned_cannot_investigate_its_own_case(handled):
    world = handled
    with pytest.raises(ValidationError, match="牵头调查单位不能是被调查的单位"):
        services.open_case(actor=fresh(world, "office_staff"), task_ids=[world.task_a.pk], kind=CaseKind.OTHER,
                           title="自查", facts="事实。", lead_unit=world.dept_env, investigation_due=LATER,
                           unit_ids=[world.dept_env.pk])
    case = open_case(world)
    case = step(world, "lead_env", case, "start")
    with pytest.raises(ValidationError):  # a person of the lead unit itself would make it concerned
        services.add_person(actor=fresh(world, "lead_env"), case=case, name="李四", post="科长", unit=world.dept_env)


def test_office_admins_designate_handlers_but_not_themselves(world):
    admin = world.users["office_admin"]
    with pytest.raises(PermissionDenied):
        services.grant_case_handler(actor=admin, user=admin)
    with pytest.raises(PermissionDenied):
        services.grant_case_handler(actor=world.users["office_staff"], user=world.users["office_staff"])
    with pytest.raises(ValidationError):
        services.grant_case_handler(actor=admin, user=world.users["lead_env"])
    designate(world)
    case = open_case(world)
    assert not AccountabilityCase.objects.visible_to(fresh(world, "office_admin")).exists()
    services.revoke_case_handler(actor=admin, user=world.users["office_staff"])
    assert not AccountabilityCase.objects.visible_to(fresh(world, "office_staff")).filter(pk=case.pk).exists()
    actions = set(Event.objects.filter(object_type="orgs.user").values_list("action", flat=True))
    assert {"case_handler_granted", "case_handler_revoked"} <= actions


# --- proposals by the software ---------------------------------------------------------------


def test_listed_supervision_and_interview_propose_one_case_per_task(handled):
    world = handled
    admin = world.users["office_admin"]
    for rung in (Rung.CIRCULAR, Rung.SUPERVISION):
        supervision.issue_escalation(actor=admin, task=world.task_a, rung=rung, reason="滞后", target_unit=world.county_a,
                                     reply_due=LATER)
    assert not AccountabilityCase.objects.exists()  # 通报 and 督办 propose nothing
    supervision.issue_escalation(actor=admin, task=world.task_a, rung=Rung.LISTED, reason="连续滞后",
                                 target_unit=world.county_a, reply_due=LATER)
    case = AccountabilityCase.objects.get()
    assert case.status == S.PROPOSED and case.source == CaseSource.LISTED and case.lead_unit == world.dept_env
    supervision.issue_escalation(actor=admin, task=world.task_a, rung=Rung.INTERVIEW, reason="仍滞后",
                                 target_unit=world.county_a, reply_due=LATER)
    assert AccountabilityCase.objects.count() == 1
    assert list(case.leads.values_list("source", flat=True)) == ["listed", "interview"]
    case = step(world, "office_staff", case, "open", lead_unit=world.dept_env, investigation_due=LATER)
    assert case.status == S.OPENED and case.opened_at


def test_a_lookback_rebound_proposes_a_case_and_the_closeout_records_it(handled):
    from rectify.closeout import services as closeout
    from tests.test_closeout import closed_task

    world = handled
    task = closed_task(world)
    lookback = closeout.start_lookback(actor=world.users["office_admin"], campaign=world.campaign, title="回头看",
                                       share_percent=100, due_date=LATER)
    check = lookback.checks.get(task=task)
    closeout.record_lookback_result(actor=world.users["lead_env"], check=check, action="rebound",
                                    statement="管网再次破损，污水直排。", new_deadline=LATER)
    case = AccountabilityCase.objects.get()
    assert case.source == CaseSource.REBOUND and case.kind == CaseKind.SUPERFICIAL and "污水直排" in case.facts
    event = Event.objects.get(action="accountability_proposed")
    assert "已转追责问责" in event.summary
    # the county reads its task's timeline without learning that accountability was proposed
    for persona, sees in (("reporter_a", False), ("lead_env", False), ("office_admin", False),
                          ("office_staff", True)):
        seen = task_timeline(task, fresh(world, persona)).filter(action="accountability_proposed").exists()
        assert seen == sees, persona


def test_a_failed_verification_proposes_a_case(handled):
    from rectify.closeout.models import Closeout
    from tests.test_closeout import assessed

    world = handled
    closeout = assessed(world)
    Closeout.objects.filter(pk=closeout.pk).update(status="accepted")
    from rectify.closeout import services as closeout_services

    closeout_services.transition(actor=world.users["lead_env"], closeout=closeout, action="verify_fail",
                                 reason="现场管网未接通，与报称不符。")
    case = AccountabilityCase.objects.get()
    assert case.source == CaseSource.VERIFY_FAILED and case.kind == CaseKind.FALSE_REPORT
    assert "与报称不符" in case.facts


def test_the_same_trigger_is_recorded_once(handled):
    world = handled
    first = services.propose_case(source=CaseSource.LISTED, task=world.task_a, kind=CaseKind.NEGLIGENCE,
                                  summary="挂牌督办", key="escalation:999")
    again = services.propose_case(source=CaseSource.LISTED, task=world.task_a, kind=CaseKind.NEGLIGENCE,
                                  summary="挂牌督办", key="escalation:999")
    assert first == again and first.leads.count() == 1


# --- personal data -----------------------------------------------------------------------------


def test_persons_concerned_are_encrypted_at_rest_and_absent_from_the_record(handled):
    world = handled
    case = investigate(world, open_case(world), person=("欧阳明月", "副局长"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, post FROM accountability_personconcerned")
        raw = " ".join(str(v) for row in cursor.fetchall() for v in row)
    assert "欧阳明月" not in raw and "副局长" not in raw and raw.startswith("sm4gcm:")
    assert PersonConcerned.objects.get(case=case).name == "欧阳明月"
    events = " ".join(Event.objects.values_list("summary", flat=True)) + " ".join(
        str(a) for a in Event.objects.values_list("after", flat=True))
    assert "欧阳明月" not in events


def test_persons_are_masked_in_lists_and_in_full_on_the_case_page(handled):
    world = handled
    case = investigate(world, open_case(world), person=("欧阳明月", "副局长"))
    client = world.client("office_staff")
    listing = client.get("/accountability/?tab=all").content.decode()
    assert "欧***" in listing and "欧阳明月" not in listing
    assert "欧阳明月" in client.get(f"/accountability/cases/{case.pk}/").content.decode()


# --- pages -------------------------------------------------------------------------------------


def test_the_commission_lands_on_its_workspace(handled):
    world = handled
    case = refer(world, investigate(world, open_case(world)))
    client = world.client("discipline")
    assert client.get("/")["Location"] == "/accountability/"
    page = client.get("/accountability/").content.decode()
    assert "待受理的移交（1）" in page and case.referral_number in page
    step(world, "discipline", case, "accept", handling_due=dt.date.today() + dt.timedelta(days=5))
    page = client.get("/accountability/").content.decode()
    assert "办理中的案件（1）" in page and case.number in page
    detail = client.get(f"/accountability/cases/{case.pk}/").content.decode()
    assert world.task_a.code in detail and "处理记录" in detail  # the linked task's timeline, read-only
    assert client.get(f"/ledger/tasks/{world.task_a.pk}/").status_code == 404  # still no ledger


def test_report_and_referral_letter_download_as_gbt9704_docx(handled):
    world = handled
    case = refer(world, investigate(world, open_case(world)))
    client = world.client("discipline")
    letter = client.get(f"/accountability/cases/{case.pk}/referral.docx")
    assert letter.status_code == 200 and letter["Content-Type"].endswith("wordprocessingml.document")
    text = docx_text(letter.content)
    assert case.referral_number in text and "移交" in text and "张三丰" in text
    report = CaseFile.objects.get(case=case, file_kind=FileKind.REPORT)
    got = client.get(f"/accountability/files/{report.pk}/")
    assert got.status_code == 200 and Document(io.BytesIO(b"".join(got.streaming_content))).paragraphs


def test_the_task_page_offers_opening_a_case_to_the_lead_unit_and_handler_only(handled):
    world = handled
    url = f"/ledger/tasks/{world.task_a.pk}/"
    for persona, offered in (("office_staff", True), ("lead_env", True), ("office_admin", False),
                             ("reporter_a", False), ("reviewer_a", False), ("leader_a", False)):
        page = world.client(persona).get(url).content.decode()
        assert ("追责问责立案" in page) == offered, persona


def test_the_whole_path_through_the_pages(handled):
    world = handled
    staff, lead, jw = world.client("office_staff"), world.client("lead_env"), world.client("discipline")
    response = staff.post("/accountability/cases/new/", {
        "task_codes": world.task_a.code, "kind": "superficial", "title": "页面立案", "facts": "页面填写的问题线索。",
        "lead_unit": world.dept_env.pk, "investigation_due": LATER.isoformat()})
    assert response.status_code == 302, response.content.decode()[:2000]
    case = AccountabilityCase.objects.get(title="页面立案")

    def post_step(client, action, **data):
        case.refresh_from_db()
        return client.post(f"/accountability/cases/{case.pk}/step/", {"action": action, "version": case.version,
                                                                          **data})

    post_step(lead, "start")
    lead.post(f"/accountability/cases/{case.pk}/persons/", {"name": "王五", "post": "股长", "unit": world.county_a.pk})
    lead.post(f"/accountability/cases/{case.pk}/notes/", {"text": "调取了 3 个月的报送记录。"})
    case.refresh_from_db()
    lead.post(f"/accountability/cases/{case.pk}/findings/", {"version": case.version, "findings": "报送不实。",
                                                              "recommendation": "建议诫勉谈话。"})
    assert post_step(lead, "submit_report")["Location"] == "/accountability/"  # its view of the case ends
    post_step(staff, "approve_report", opinion="同意。")
    post_step(staff, "refer", commission=world.discipline.pk)
    post_step(jw, "accept", handling_due=LATER.isoformat(), commission_ref="纪受1号")
    person = case.persons.get()
    post_step(jw, "record_outcome", outcome="admonishment", detail="诫勉谈话。",
              **{f"person_{person.pk}_outcome": "admonishment"})
    post_step(jw, "close")
    case.refresh_from_db()
    assert case.status == S.CLOSED and case.outcome == "admonishment"


def test_a_stale_step_is_refused(handled):
    world = handled
    case = open_case(world)
    old = case.version
    step(world, "lead_env", case, "start")
    with pytest.raises(services.StaleCaseError):
        services.transition(actor=fresh(world, "office_staff"), case=case, action="decline", expected_version=old,
                            reason="理由")


def test_a_case_out_of_scope_is_404(handled):
    world = handled
    case = open_case(world)
    with pytest.raises(Http404):
        services.transition(actor=fresh(world, "reporter_a"), case=case, action="decline", reason="x")


def test_tick_reminds_the_lead_unit_and_the_commission_of_their_deadlines(handled):
    from rectify.tick import send_reminders

    world = handled
    soon = dt.date.today() + dt.timedelta(days=1)
    case = services.open_case(actor=fresh(world, "office_staff"), task_ids=[world.task_a.pk], kind=CaseKind.OTHER,
                              title="时限将至", facts="线索。", lead_unit=world.dept_env, investigation_due=soon)
    assert send_reminders(dt.date.today()) >= 1
    reminder = Notification.objects.get(user=world.users["lead_env"], kind="case_due")
    assert case.number not in reminder.title  # the lead unit's inbox never names a case
    send_reminders(dt.date.today())  # tick may run any number of times
    assert Notification.objects.filter(kind="case_due").count() == 1


def test_the_bulletin_counts_cases_and_lists_open_help_requests_but_names_no_case(handled, settings, tmp_path):
    from python_calamine import CalamineWorkbook

    from rectify.assessment import services as assessment
    from rectify.dispatch import services as dispatch
    from rectify.dispatch.models import ProgressReport
    from rectify.documents.bulletin import generate_bulletin

    settings.MEDIA_ROOT = tmp_path / "media"
    world = handled
    admin = world.users["office_admin"]
    today = dt.date.today()
    rnd, _ = dispatch.open_round(actor=admin, office=world.office, period=f"{today:%Y-%m}", due_date=today)
    report = ProgressReport.objects.get(round=rnd, task=world.task_a)
    dispatch.transition(actor=world.users["reporter_a"], report=report, action="save",
                        changes={"progress_text": "推进中。", "percent": 20, "difficulties": "缺少资金。"})
    assessment.request_help(actor=world.users["reporter_a"], report=report, needs="请协调专项资金帮扶。")
    case = refer(world, investigate(world, open_case(world), person=("上官密名", "密职")))
    open_case(world, title="第二案")
    rnd = dispatch.close_round(actor=admin, rnd=rnd)
    data, _name = generate_bulletin(actor=admin, rnd=rnd, fmt="docx")
    text = docx_text(data)
    assert "追责问责情况" in text and "移交纪委监委 1 件" in text and "目前在办 2 件" in text
    assert "帮扶情况" in text and "请协调专项资金帮扶" in text
    for secret in (case.number, case.title, "上官密名", "密职", case.referral_number, "第二案"):
        assert secret not in text, secret
    workbook, _name = generate_bulletin(actor=admin, rnd=rnd, fmt="xlsx")
    book = CalamineWorkbook.from_filelike(io.BytesIO(workbook))
    cells = " ".join(str(v) for name in book.sheet_names for row in book.get_sheet_by_name(name).to_python()
                     for v in row)
    assert "帮扶申请" in book.sheet_names and "请协调专项资金帮扶" in cells
    assert case.number not in cells and "上官密名" not in cells


def test_the_handler_corrects_a_case_before_the_investigation(handled):
    world = handled
    case = open_case(world)
    client = world.client("office_staff")
    assert client.get(f"/accountability/cases/{case.pk}/edit/").status_code == 200
    response = client.post(f"/accountability/cases/{case.pk}/edit/", {
        "task_codes": f"{world.task_a.code}, {world.task_b.code}", "kind": "perfunctory", "title": "两县管网敷衍整改",
        "facts": "补充线索。", "lead_unit": world.dept_env.pk, "investigation_due": LATER.isoformat(),
        "units": [world.county_a.pk, world.county_b.pk], "version": case.version})
    assert response.status_code == 302, response.content.decode()[:3000]
    case.refresh_from_db()
    assert case.kind == "perfunctory" and set(case.tasks.all()) == {world.task_a, world.task_b}
    assert set(case.units.all()) == {world.county_a, world.county_b}
    assert Event.objects.filter(action="case_updated", object_id=str(case.pk)).exists()
    with pytest.raises(ValidationError, match="牵头调查单位和调查时限"):
        services.update_case(actor=fresh(world, "office_staff"), case=case, expected_version=case.version,
                             kind="other", title="x", facts="y", task_ids=[world.task_a.pk],
                             unit_ids=[world.county_a.pk], lead_unit=None, investigation_due=LATER)
    case = step(world, "lead_env", case, "start")
    assert client.get(f"/accountability/cases/{case.pk}/edit/").status_code == 404  # under investigation
