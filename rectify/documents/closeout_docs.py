"""The close-out's documents (销号申请表、整改情况公示、核查意见、备案表) and the look-back report
(回头看情况报告, .docx and .xlsx), generated from the record in the GB/T 9704 layout.

Each public generator takes the object and the ``actor``, returns ``(bytes, filename)`` and records a
``document_generated`` event; the caller has reached the object through its ``visible_to`` scope.
A document whose step has not been taken yet (the filing form before 备案) raises
:class:`NotYetAvailable` instead of producing an empty form: :func:`availability` says so beforehand.

The notice (整改情况公示) is a public document: it names units, never persons. The other forms are
internal and name the persons who took each step, as the record does.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterable

import xlsxwriter
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from rectify.closeout.models import (
    AssessmentItem,
    CheckResult,
    Closeout,
    CloseoutFile,
    CloseoutStatus,
    FileStage,
    LookBack,
    LookBackCheck,
    ObjectionStatus,
    Pick,
    SelfAssessment,
    Standard,
    Verdict,
)
from rectify.core.audit import record_event
from rectify.core.workdays import workdays_between
from rectify.documents.docx_layout import OfficialDocument, cn_date
from rectify.documents.escalation_doc import deadline_text, issuing_office, masthead_name
from rectify.ledger.excel import neutralise
from rectify.ledger.models import Task, UnitRole
from rectify.orgs.models import Category, User

C = CloseoutStatus
STEPS = "“初审、公示、申请、核查、备案”"
STANDARDS = "“生态修复、污染消除、群众满意”"
PORTAL_PATH = "/gongkai/"

# kind -> (document title, the close-out field that exists once its step is taken, the step's name)
DOCUMENTS = {
    "application": ("销号申请表", "applied_at", "初审申请"),
    "notice": ("整改情况公示", "notice_start", "发布整改情况公示"),
    "verification": ("核查意见", "verified_at", "核查"),
    "filing": ("销号备案表", "filed_at", "备案"),
}


class NotYetAvailable(ValidationError):
    """The close-out has not reached the step that makes this document."""


# ---- shared pieces ----------------------------------------------------------------------


def _load(closeout: Closeout) -> Closeout:
    """The close-out with everything its documents read, in a fixed number of queries."""
    people = ["started_by", "applied_by", "published_by", "accepted_by", "verified_by", "filed_by", "returned_by"]
    return (Closeout.objects
            .select_related("task", "task__campaign", "task__campaign__office",
                            *people, *(f"{p}__unit" for p in people))
            .prefetch_related(
                "task__task_units__unit", "task__measures__owner_unit", "checks",
                Prefetch("assessments", SelfAssessment.objects.select_related("unit", "assessor")
                         .prefetch_related(Prefetch("items", AssessmentItem.objects.order_by("id")))),
                "objections", Prefetch("files", CloseoutFile.objects.select_related("unit")))
            .get(pk=closeout.pk))


def availability(kind: str, closeout: Closeout) -> bool:
    """Whether the close-out has reached the step that makes document ``kind``."""
    return getattr(closeout, DOCUMENTS[kind][1]) is not None


def _require(kind: str, closeout: Closeout) -> None:
    if not availability(kind, closeout):
        title, _field, step = DOCUMENTS[kind]
        raise NotYetAvailable(f"{closeout.task.code}的销号申请尚未{step}（当前：{closeout.get_status_display()}），"
                              f"{title}须在{step}后生成。")


def _units(task: Task) -> dict[str, list[str]]:
    names: dict[str, list[str]] = {role: [] for role in UnitRole.values}
    for tu in sorted(task.task_units.all(), key=lambda tu: (tu.ordinal, tu.pk)):
        names[tu.role].append(tu.unit.name)
    return names


def _joined(names: list[str]) -> str:
    return "、".join(names) or "—"


def _measures(task: Task) -> str:
    lines = []
    for m in sorted(task.measures.all(), key=lambda m: (m.ordinal, m.pk)):
        notes = []
        if m.owner_unit_id:
            notes.append(f"责任单位：{m.owner_unit.name}")
        if m.due_date:
            notes.append(f"时限：{cn_date(m.due_date)}")
        notes.append(f"已于{cn_date(m.done_at)}完成" if m.done and m.done_at else ("已完成" if m.done else "未完成"))
        lines.append(f"{m.ordinal}．{m.text.strip()}（{'；'.join(notes)}）")
    return "\n".join(lines)


def _person(user: User | None) -> str:
    if user is None:
        return "—"
    name = user.display_name or user.username
    return f"{name}（{user.unit.name}）" if user.unit is not None else name


def _day(value: dt.datetime | dt.date | None) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date()
    return value


def _date_text(value) -> str:
    day = _day(value)
    return cn_date(day) if day else "—"


def _problem_number(task: Task) -> str:
    return f"{task.inspection_number}（任务编号 {task.code}）" if task.inspection_number else task.code


def _safe_filename(name: str) -> str:
    return "".join("-" if ch in '/\\:*?"<>|' else ch for ch in name)


def _assessment_verdicts(closeout: Closeout) -> dict[str, list[tuple[str, str]]]:
    """standard -> [(unit name, verdict label)] over every responsible unit's self-assessment."""
    out: dict[str, list[tuple[str, str]]] = {s: [] for s in Standard.values}
    for assessment in closeout.assessments.all():
        for item in assessment.items.all():
            out[item.standard].append((assessment.unit.name, str(Verdict(item.verdict).label)))
    return out


def closeout_opinion(closeout: Closeout) -> str:
    """销号意见 of the notice: what the responsible units' 初审 found against the three standards."""
    verdicts = _assessment_verdicts(closeout)
    units = [a.unit.name for a in closeout.assessments.all()]
    parts = []
    for standard in Standard.values:
        found = verdicts[standard]
        labels = {v for _u, v in found}
        if len(labels) == 1:
            parts.append(f"{str(Standard(standard).label)}{labels.pop()}")
        elif found:
            parts.append(f"{str(Standard(standard).label)}" + "、".join(f"{u}{v}" for u, v in found))
    return (f"经{_joined(units)}初审自评，" + "，".join(parts)
            + f"，对照{STANDARDS}的销号标准，已达到销号条件，拟申请销号。")


def _evidence(doc: OfficialDocument, closeout: Closeout, stage: str, *, with_unit: bool) -> None:
    """佐证材料目录: each file of the stage by standard, with its SM3 digest (the store's name of it),
    so that the paper copy identifies the files behind it."""
    files = sorted((f for f in closeout.files.all() if f.stage == stage),
                   key=lambda f: (Standard.values.index(f.standard), f.uploaded_at, f.pk))
    if not files:
        doc.paragraph("未上传佐证材料。")
        return
    headers = ["销号标准", *(["单位"] if with_unit else []), "文件名", "SM3摘要", "上传日期"]
    widths = [18, *([22] if with_unit else []), 40, 56, 20]
    doc.table(headers, [[str(Standard(f.standard).label), *([f.unit.name if f.unit else "—"] if with_unit else []),
                         f.original_name, f.digest, _date_text(f.uploaded_at)] for f in files], widths)


def _record(actor: User, closeout: Closeout, kind: str, number: str, data: bytes) -> None:
    title = DOCUMENTS[kind][0]
    with transaction.atomic():
        record_event(actor=actor, action="document_generated", object_type="ledger.task",
                     object_id=closeout.task_id, object_label=str(closeout.task)[:300],
                     summary=f"生成{title}" + (f"（{number}）" if number else "") + "Word 文书",
                     after={"closeout": closeout.pk, "document": kind, "format": "docx", "bytes": len(data)})


def _issuer(task: Task):
    return issuing_office(None, task.campaign.office)


# ---- 销号申请表 ----------------------------------------------------------------------------


def application_form_docx(closeout: Closeout) -> bytes:
    closeout = _load(closeout)
    _require("application", closeout)
    task = closeout.task
    units = _units(task)
    title = "整改问题销号申请表"
    doc = OfficialDocument(title_for_properties=f"{title}（{task.code}）", author=_joined(units[UnitRole.RESPONSIBLE]))
    doc.title(title)
    if closeout.attempt > 1:
        doc.centred(f"（第{closeout.attempt}次申请）")
    pairs = [
        ("整改批次", task.campaign.name), ("任务编号", task.code), ("督察问题编号", task.inspection_number),
        ("问题名称", task.title), ("问题描述", task.problem), ("整改目标", task.target),
        ("整改措施", _measures(task)), ("整改时限", deadline_text(task.deadline_kind, task.deadline)),
        ("主体责任单位", _joined(units[UnitRole.RESPONSIBLE])),
        ("牵头督导单位", _joined(units[UnitRole.LEAD_SUPERVISOR])),
        ("配合督导单位", _joined(units[UnitRole.CO_SUPERVISOR])),
    ]
    if units[UnitRole.ACCEPTANCE]:
        pairs.append(("牵头验收单位", _joined(units[UnitRole.ACCEPTANCE])))
    pairs.append(("整改完成情况", closeout.completion_summary))
    doc.field_table(pairs)

    doc.heading("一、初审自评情况")
    doc.paragraph(f"各主体责任单位对照{STANDARDS}的销号标准逐项自评如下。")
    rows = []
    for assessment in closeout.assessments.all():
        for item in sorted(assessment.items.all(), key=lambda i: Standard.values.index(i.standard)):
            rows.append([assessment.unit.name, str(Standard(item.standard).label), str(Verdict(item.verdict).label),
                         item.statement, f"{_person(assessment.assessor)}\n{_date_text(assessment.assessed_at)}"])
    doc.table(["责任单位", "销号标准", "自评\n结论", "说明", "自评人\n及日期"], rows, [24, 20, 14, 64, 34])

    doc.heading("二、佐证材料")
    _evidence(doc, closeout, FileStage.ASSESSMENT, with_unit=True)

    doc.heading("三、申请意见")
    doc.paragraph(closeout_opinion(closeout))
    doc.field_table([("申请人", _person(closeout.applied_by)), ("申请日期", _date_text(closeout.applied_at))])
    return doc.to_bytes()


def application_form(closeout: Closeout, *, actor: User) -> tuple[bytes, str]:
    """销号申请表: the task, its units and measures, each responsible unit's self-assessment per
    standard, the applicant and the date."""
    data = application_form_docx(closeout)
    _record(actor, closeout, "application", f"第{closeout.attempt}次申请", data)
    return data, _safe_filename(f"销号申请表-{closeout.task.code}-第{closeout.attempt}次.docx")


# ---- 整改情况公示 --------------------------------------------------------------------------


def notice_period(closeout: Closeout) -> tuple[dt.date, dt.date]:
    if closeout.notice_start is None or closeout.notice_end is None:
        raise NotYetAvailable(f"{closeout.task.code}的销号申请尚未发布整改情况公示。")
    return closeout.notice_start, closeout.notice_end


def notice_workdays(closeout: Closeout) -> int:
    """Work days of the notice period by the official calendar: after the day it was published
    (that day does not count, as ``add_workdays`` counts) through its last day."""
    return workdays_between(*notice_period(closeout))


def portal_address() -> str:
    base = (getattr(settings, "RECTIFY_BASE_URL", "") or "").rstrip("/")
    return f"{base}{PORTAL_PATH}"


def public_notice_docx(closeout: Closeout) -> bytes:
    closeout = _load(closeout)
    _require("notice", closeout)
    task = closeout.task
    office = task.campaign.office
    units = _units(task)
    issuer = _issuer(task)
    title = f"关于{task.code}号问题整改情况的公示"
    doc = OfficialDocument(title_for_properties=title, author=issuer.name)
    doc.masthead(masthead_name(None, office))
    doc.doc_number(closeout.notice_number)
    doc.title(title)
    doc.paragraph(f"根据{task.campaign.name}整改销号工作要求，按照{STEPS}的销号程序，现将下列问题的整改情况"
                  "予以公示，接受社会监督。")
    doc.field_table([
        ("问题编号", _problem_number(task)),
        ("问题", task.title + (f"\n{task.problem.strip()}" if task.problem.strip() else "")),
        ("整改目标", task.target), ("整改措施", _measures(task)),
        ("主体责任单位", _joined(units[UnitRole.RESPONSIBLE])),
        ("牵头督导单位", _joined(units[UnitRole.LEAD_SUPERVISOR])),
        ("配合督导单位", _joined(units[UnitRole.CO_SUPERVISOR])),
        ("整改完成情况", closeout.completion_summary), ("销号意见", closeout_opinion(closeout)),
    ])
    start, end = notice_period(closeout)
    doc.paragraph(f"公示期：{cn_date(start)}至{cn_date(end)}（{notice_workdays(closeout)}个工作日，发布当日不计入）。")
    phone = (getattr(settings, "OBJECTION_PHONE", "") or "").strip()
    doc.paragraph(f"公示期间，如对上述问题的整改情况有异议，可登录督察整改信息公开平台（{portal_address()}），"
                  f"在本公示下在线提出异议，写明具体事由；提交后凭回执编号在该平台查询办理情况和答复"
                  + (f"。也可拨打电话{phone}反映" if phone else "") + "。")
    doc.paragraph("反映人的姓名和联系方式将依法予以保密。")
    doc.signature(issuer.name, start)
    return doc.to_bytes()


def public_notice(closeout: Closeout, *, actor: User) -> tuple[bytes, str]:
    """整改情况公示: the notice number, the problem and its number, target, measures, units,
    completion, 销号意见, the notice period with its work days, and how to object."""
    data = public_notice_docx(closeout)
    _record(actor, closeout, "notice", closeout.notice_number, data)
    return data, _safe_filename(f"整改情况公示-{closeout.task.code}-{closeout.notice_number}.docx")


# ---- 核查意见 ------------------------------------------------------------------------------


def verification_passed(closeout: Closeout) -> bool:
    """核查通过: the close-out reached 待备案 (and may have been filed or returned since)."""
    return closeout.status in (C.VERIFIED, C.FILED) or closeout.returned_from == C.VERIFIED


def verification_opinion_docx(closeout: Closeout) -> bytes:
    closeout = _load(closeout)
    _require("verification", closeout)
    task = closeout.task
    units = _units(task)
    verifier = closeout.verified_by
    verifier_unit = verifier.unit.name if verifier is not None and verifier.unit is not None else ""
    title = "整改问题销号核查意见"
    doc = OfficialDocument(title_for_properties=f"{title}（{task.code}）", author=verifier_unit)
    doc.title(title)
    passed = verification_passed(closeout)
    doc.field_table([
        ("任务编号", task.code), ("督察问题编号", task.inspection_number), ("问题名称", task.title),
        ("主体责任单位", _joined(units[UnitRole.RESPONSIBLE])),
        ("牵头督导单位", _joined(units[UnitRole.LEAD_SUPERVISOR])),
        ("核查单位", verifier_unit or "—"), ("核查人", _person(closeout.verified_by)),
        ("核查日期", _date_text(closeout.verified_at)),
    ])
    doc.heading("一、核查情况")
    doc.paragraph(f"对照{STANDARDS}的销号标准逐项核查，情况如下。")
    checks = sorted(closeout.checks.all(), key=lambda c: Standard.values.index(c.standard))
    if checks:
        doc.table(["销号标准", "核查情况", "核查\n方式", "核查日期", "核查人员", "结论"],
                  [[str(Standard(c.standard).label), c.finding, "现场核查" if c.onsite else "非现场核查",
                    cn_date(c.checked_on), c.checkers, "符合" if c.passed else "不符合"] for c in checks],
                  [20, 58, 16, 22, 24, 16])
    else:
        doc.paragraph("未填写逐项核查记录。")
    doc.heading("二、核查佐证材料")
    _evidence(doc, closeout, FileStage.CHECK, with_unit=False)
    doc.heading("三、核查意见")
    doc.paragraph(closeout.verification_opinion or "—")
    if passed:
        doc.paragraph("核查结论：通过。该问题整改达到销号标准，同意销号，报整改办备案。")
    else:
        doc.paragraph("核查结论：不通过，退回整改。"
                      + (f"原因：{closeout.return_reason.strip()}" if closeout.return_reason.strip() else ""))
    doc.signature(verifier_unit or _issuer(task).name, _day(closeout.verified_at) or timezone.localdate())
    return doc.to_bytes()


def verification_opinion(closeout: Closeout, *, actor: User) -> tuple[bytes, str]:
    """核查意见: each standard's check record (finding, on site or not, date, checkers, pass/fail),
    the overall opinion, the verdict and the verifier."""
    data = verification_opinion_docx(closeout)
    _record(actor, closeout, "verification", "", data)
    return data, _safe_filename(f"核查意见-{closeout.task.code}-第{closeout.attempt}次.docx")


# ---- 备案表 --------------------------------------------------------------------------------


def filing_form_docx(closeout: Closeout) -> bytes:
    closeout = _load(closeout)
    _require("filing", closeout)
    task = closeout.task
    units = _units(task)
    issuer = _issuer(task)
    title = "整改问题销号备案表"
    doc = OfficialDocument(title_for_properties=f"{title}（{task.code}）", author=issuer.name)
    doc.title(title)
    doc.field_table([
        ("备案编号", closeout.filing_number), ("备案日期", _date_text(closeout.filed_at)),
        ("整改批次", task.campaign.name), ("任务编号", task.code), ("督察问题编号", task.inspection_number),
        ("问题名称", task.title), ("主体责任单位", _joined(units[UnitRole.RESPONSIBLE])),
        ("牵头督导单位", _joined(units[UnitRole.LEAD_SUPERVISOR])),
        ("配合督导单位", _joined(units[UnitRole.CO_SUPERVISOR])),
        ("整改完成情况", closeout.completion_summary), ("核查意见", closeout.verification_opinion),
    ])
    objections = list(closeout.objections.all())
    counts = {s: sum(1 for o in objections if o.status == s) for s in ObjectionStatus.values}
    objection_note = (f"收到异议{len(objections)}件（异议成立{counts[ObjectionStatus.UPHELD]}件、"
                      f"异议不成立{counts[ObjectionStatus.DISMISSED]}件、待答复{counts[ObjectionStatus.OPEN]}件）"
                      if objections else "未收到异议")
    notice_dates = (f"{cn_date(closeout.notice_start)}至{cn_date(closeout.notice_end)}"
                    if closeout.notice_start and closeout.notice_end else "—")
    doc.heading("一、办理过程")
    doc.table(["环节", "日期", "经办人", "说明"], [
        ["发起销号（初审自评）", _date_text(closeout.started_at), _person(closeout.started_by),
         f"第{closeout.attempt}次申请"],
        ["初审申请", _date_text(closeout.applied_at), _person(closeout.applied_by), "各主体责任单位初审自评完成"],
        ["整改情况公示", notice_dates, _person(closeout.published_by),
         f"{closeout.notice_number}，公示{notice_workdays(closeout) if closeout.notice_end else '—'}个工作日，"
         f"{objection_note}"],
        ["受理销号申请", _date_text(closeout.accepted_at), _person(closeout.accepted_by), "公示期满，异议均已答复"],
        ["核查", _date_text(closeout.verified_at), _person(closeout.verified_by),
         "核查通过" if verification_passed(closeout) else "核查不通过"],
        ["备案", _date_text(closeout.filed_at), _person(closeout.filed_by), closeout.filing_number],
    ], [30, 36, 42, 48])
    doc.heading("二、备案意见")
    doc.paragraph(f"该问题已按照{STEPS}的程序办结，经核查达到{STANDARDS}的销号标准，予以备案销号。")
    doc.signature(issuer.name, _day(closeout.filed_at) or timezone.localdate())
    return doc.to_bytes()


def filing_form(closeout: Closeout, *, actor: User) -> tuple[bytes, str]:
    """备案表: the filing number and date, and the path's dates and persons from 发起 to 备案."""
    data = filing_form_docx(closeout)
    _record(actor, closeout, "filing", closeout.filing_number, data)
    return data, _safe_filename(f"销号备案表-{closeout.task.code}-{closeout.filing_number}.docx")


GENERATORS = {
    "application": application_form,
    "notice": public_notice,
    "verification": verification_opinion,
    "filing": filing_form,
}


# ---- 回头看情况报告 -------------------------------------------------------------------------


def _natural(code: str) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", code)]


def lookback_data(lookback: LookBack, actor: User) -> dict:
    """The report's header and rows: the checks ``actor`` may see (all of them for the office)."""
    lookback = LookBack.objects.select_related("campaign", "campaign__office", "created_by").get(pk=lookback.pk)
    checks = list(LookBackCheck.objects.visible_to(actor).filter(lookback=lookback)
                  .select_related("task", "assigned_unit", "checked_by"))
    checks.sort(key=lambda c: _natural(c.task.code))
    total = lookback.checks.count()
    rule = lookback.rule or {}
    categories = [str(Category(c).label) if c in Category.values else c for c in rule.get("categories") or []]
    rule_parts = []
    if categories:
        rule_parts.append("问题类别：" + "、".join(categories))
    if rule.get("closed_from") or rule.get("closed_to"):
        rule_parts.append(f"销号时间：{rule.get('closed_from') or '不限'}至{rule.get('closed_to') or '不限'}")
    return {
        "lookback": lookback, "campaign": lookback.campaign, "checks": checks, "total": total,
        "partial": len(checks) < total,
        "picked": {p: sum(1 for c in checks if c.picked_by == p) for p in Pick.values},
        "results": {r: sum(1 for c in checks if c.result == r) for r in CheckResult.values},
        "reopened": sum(1 for c in checks if c.reopened),
        "rule_text": "；".join(rule_parts) or "无",
        "manual": len(rule.get("manual") or []),
        "generated_on": timezone.localdate(),
    }


def _reproduce_text(lookback: LookBack) -> str:
    return (f"随机抽取可复现：抽样范围为发起时本批次全部已销号任务的内部编号（共{lookback.pool_size}项，升序，"
            "以英文逗号连接后的SM3摘要即“抽样范围摘要”）；抽取数为抽样范围乘以随机抽取比例后向上取整；"
            f"以字符串“rectify-lookback:{lookback.seed}”初始化Python的random.Random，对升序编号列表调用"
            "sample(编号列表, 抽取数)，所得编号即随机抽取的任务。")


def _lookback_header(data: dict) -> list[tuple[str, object]]:
    lb: LookBack = data["lookback"]
    return [
        ("整改批次", data["campaign"].name), ("回头看名称", lb.title), ("组织单位", data["campaign"].office.name),
        ("发起时间", _day(lb.created_at)), ("完成时限", lb.due_date),
        ("抽样范围（已销号任务数）", lb.pool_size), ("随机抽取比例（%）", lb.share_percent),
        ("随机种子", lb.seed), ("抽样范围摘要（SM3）", lb.pool_digest),
        ("按规则选取条件", data["rule_text"]), ("人工指定", f"{data['manual']}项"),
    ]


def _check_row(c: LookBackCheck) -> list:
    return [c.task.code, c.task.title, c.get_picked_by_display(), c.assigned_unit.name, c.due_date,
            c.get_result_display(), c.statement, c.new_deadline, c.reopened]


CHECK_HEADERS = ["任务编号", "问题名称", "选取方式", "复查单位", "复查时限", "复查结论", "复查情况", "重新整改时限",
                 "已重新打开"]


def _summary_text(data: dict) -> str:
    picked, results = data["picked"], data["results"]
    return (f"本次回头看共抽取已销号任务{len(data['checks'])}项，其中随机抽取{picked[Pick.RANDOM]}项、"
            f"按规则选取{picked[Pick.RULE]}项、人工指定{picked[Pick.MANUAL]}项。"
            f"已复查{results[CheckResult.HOLDING] + results[CheckResult.REBOUND]}项，其中巩固{results[CheckResult.HOLDING]}项，"
            f"反弹{results[CheckResult.REBOUND]}项（已重新打开整改{data['reopened']}项）；待复查{results[CheckResult.PENDING]}项。")


def lookback_report_docx_bytes(lookback: LookBack, actor: User) -> bytes:
    data = lookback_data(lookback, actor)
    lb: LookBack = data["lookback"]
    issuer = _issuer_of_campaign(data["campaign"])
    title = f"{lb.title}情况报告"
    doc = OfficialDocument(title_for_properties=title, author=issuer.name)
    doc.title(title)
    doc.field_table([(k, _text(v)) for k, v in _lookback_header(data)], (52, 104))
    doc.note(_reproduce_text(lb))
    doc.heading("一、总体情况")
    doc.paragraph(_summary_text(data))
    if data["partial"]:
        doc.paragraph(f"本报告仅列出您有权查看的{len(data['checks'])}项（本次回头看共{data['total']}项）。")
    for heading, result in (("二、反弹问题", CheckResult.REBOUND), ("三、巩固问题", CheckResult.HOLDING),
                            ("四、待复查问题", CheckResult.PENDING)):
        doc.heading(heading)
        rows = [c for c in data["checks"] if c.result == result]
        if not rows:
            doc.paragraph("无。")
            continue
        doc.table(["序号", "任务\n编号", "问题名称", "选取\n方式", "复查单位", "复查\n时限", "复查情况", "重新整改\n时限",
                   "已重新\n打开"],
                  [[i, c.task.code, c.task.title, c.get_picked_by_display(), c.assigned_unit.name,
                    cn_date(c.due_date), c.statement or "—", cn_date(c.new_deadline) if c.new_deadline else "—",
                    "是" if c.reopened else "否"] for i, c in enumerate(rows, 1)],
                  [9, 15, 28, 14, 19, 19, 30, 19, 12])
    doc.signature(issuer.name, data["generated_on"])
    return doc.to_bytes()


def _issuer_of_campaign(campaign):
    return issuing_office(None, campaign.office)


def _text(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, dt.date):
        return cn_date(value)
    return str(value)


def lookback_report_xlsx_bytes(lookback: LookBack, actor: User) -> bytes:
    data = lookback_data(lookback, actor)
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_formulas": False,
                                     "strings_to_urls": False, "strings_to_numbers": False})
    head = book.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1, "align": "center",
                            "valign": "vcenter", "text_wrap": True})
    cell = book.add_format({"border": 1, "valign": "top", "text_wrap": True})
    num = book.add_format({"border": 1, "valign": "top"})
    date = book.add_format({"border": 1, "valign": "top", "num_format": "yyyy-mm-dd"})
    title_fmt = book.add_format({"bold": True, "font_size": 14})

    def write(sheet, r: int, c: int, value) -> None:
        if value is None or value == "":
            sheet.write_blank(r, c, None, cell)
        elif isinstance(value, bool):
            sheet.write_string(r, c, "是" if value else "否", cell)
        elif isinstance(value, (int, float)):
            sheet.write_number(r, c, value, num)
        elif isinstance(value, dt.date):
            sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time.min), date)
        else:
            sheet.write_string(r, c, neutralise(str(value)), cell)

    def table(name: str, headers: list[str], widths: list[int], rows: Iterable) -> None:
        sheet = book.add_worksheet(name)
        for c, w in enumerate(widths):
            sheet.set_column(c, c, w)
        sheet.write_string(0, 0, neutralise(f"{data['lookback'].title}·{name}"), title_fmt)
        for c, h in enumerate(headers):
            sheet.write_string(1, c, h, head)
        sheet.freeze_panes(2, 0)
        n = 0
        for n, values in enumerate(rows, 1):
            for c, value in enumerate(values):
                write(sheet, n + 1, c, value)
        if n:
            sheet.autofilter(1, 0, n + 1, len(headers) - 1)

    picked, results = data["picked"], data["results"]
    summary = [
        *_lookback_header(data),
        ("抽取总数", len(data["checks"])), ("其中：随机抽取", picked[Pick.RANDOM]),
        ("其中：按规则选取", picked[Pick.RULE]), ("其中：人工指定", picked[Pick.MANUAL]),
        ("巩固", results[CheckResult.HOLDING]), ("反弹", results[CheckResult.REBOUND]),
        ("已重新打开整改", data["reopened"]), ("待复查", results[CheckResult.PENDING]),
        ("复现方法", _reproduce_text(data["lookback"])), ("生成日期", data["generated_on"]),
    ]
    if data["partial"]:
        summary.append(("说明", f"仅列出您有权查看的{len(data['checks'])}项（共{data['total']}项）"))
    table("概况", ["项目", "内容"], [26, 80], summary)
    table("复查清单", ["序号", *CHECK_HEADERS], [6, 14, 40, 12, 22, 12, 10, 50, 14, 10],
          ([i, *_check_row(c)] for i, c in enumerate(data["checks"], 1)))
    book.close()
    return out.getvalue()


def _record_lookback(actor: User, lookback: LookBack, fmt: str, data: bytes) -> None:
    with transaction.atomic():
        record_event(actor=actor, action="document_generated", obj=lookback,
                     summary=f"生成回头看情况报告「{lookback.title}」（{fmt}）",
                     after={"lookback": lookback.pk, "document": "lookback_report", "format": fmt,
                            "bytes": len(data)})


def lookback_report_docx(lookback: LookBack, *, actor: User) -> tuple[bytes, str]:
    """回头看情况报告 (.docx): the draw (seed, share, pool size and digest) and the rebounded, held and
    pending checks."""
    data = lookback_report_docx_bytes(lookback, actor)
    _record_lookback(actor, lookback, "docx", data)
    return data, _safe_filename(f"回头看情况报告-{lookback.title}.docx")


def lookback_report_xlsx(lookback: LookBack, *, actor: User) -> tuple[bytes, str]:
    """回头看情况报告 (.xlsx): 概况 (the draw and the counts) and 复查清单 (one row per check)."""
    data = lookback_report_xlsx_bytes(lookback, actor)
    _record_lookback(actor, lookback, "xlsx", data)
    return data, _safe_filename(f"回头看情况报告-{lookback.title}.xlsx")
