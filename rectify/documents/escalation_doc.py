"""The official document of one escalation rung (督办通知书 and the like), as .docx."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from rectify.core.audit import record_event
from rectify.documents.docx_layout import OfficialDocument, cn_date
from rectify.ledger.models import DeadlineKind, Task, UnitRole
from rectify.orgs.models import Unit, UnitKind, User
from rectify.supervision.models import DOCUMENT_TITLES, LADDER, Escalation, Rung, Trigger

# What the target unit is on the task, to say "由你单位负责整改的" or "由你单位牵头督导的".
ROLE_PHRASES = {
    UnitRole.RESPONSIBLE: "由你单位负责整改",
    UnitRole.LEAD_SUPERVISOR: "由你单位牵头督导",
    UnitRole.CO_SUPERVISOR: "由你单位配合督导",
    UnitRole.ACCEPTANCE: "由你单位牵头验收",
}

# The decision each rung states, and the closing formula of its kind of document.
RUNG_DECISIONS = {
    Rung.WARNING: ("现予以预警提醒。请你单位对照整改时限和序时进度，查找滞后原因，倒排工期、挂图作战，"
                   "确保按期完成整改任务。", "特此函告。"),
    Rung.CIRCULAR: ("现予以通报。请你单位认真查摆整改滞后的原因，举一反三，切实加快整改进度。", "特此通报。"),
    Rung.SUPERVISION: ("现予以督办。请你单位主要负责同志亲自研究部署，细化整改措施，明确责任人和完成时限，"
                       "确保整改到位。", "特此通知。"),
    Rung.LISTED: ("现决定予以挂牌督办。挂牌督办期间，请你单位每周报送整改进展，整改完成并经核查销号后方可摘牌。",
                  "特此通知。"),
    Rung.INTERVIEW: ("现决定约谈你单位主要负责同志。请按要求准时参加约谈，就整改滞后的原因和下步措施作出说明。",
                     "特此通知。"),
    Rung.SUSPENSION: ("现决定对你单位所辖区域实施区域限批，限批期间暂停审批该区域新增相关建设项目环境影响评价文件，"
                      "整改到位并经核查后解除限批。", "特此决定。"),
}


def issuing_office(unit: Unit | None, fallback: Unit) -> Unit:
    """The office whose name heads the document: the nearest office at or above the issuing unit.

    Nearest, not topmost: in a province-wide tree a city office's notice carries the city's name.
    """
    unit = unit or fallback
    ids = [int(x) for x in unit.path.split(".") if x]
    offices = {u.pk: u for u in Unit.objects.filter(pk__in=ids, kind=UnitKind.OFFICE)}
    for pk in reversed(ids):
        if pk in offices:
            return offices[pk]
    return fallback


def masthead_name(unit: Unit | None, fallback: Unit) -> str:
    return getattr(settings, "OFFICE_DOC_NAME", "") or issuing_office(unit, fallback).name


def deadline_text(kind: str, deadline: dt.date | None) -> str:
    if kind == DeadlineKind.LONG_TERM:
        return "长期坚持" + (f"（{cn_date(deadline)}前见效）" if deadline else "")
    if kind == DeadlineKind.IMMEDIATE and not deadline:
        return "立行立改"
    return cn_date(deadline) if deadline else "未设定"


def _sentence(text: str) -> str:
    text = text.strip().rstrip("。；;.，,")
    return f"{text}。" if text else ""


# Titles as an office writes them: "关于零陵区ZY2-05号问题整改情况的通报" — the unit, the problem's
# number with 号, what the document does; 整改 said once.
TITLE_FORMS = {
    Rung.WARNING: "关于{unit}{code}号问题整改进度的预警提醒函",
    Rung.CIRCULAR: "关于{unit}{code}号问题整改情况的通报",
    Rung.SUPERVISION: "关于督办{unit}{code}号问题整改的通知",
    Rung.LISTED: "关于对{unit}{code}号问题实行挂牌督办的通知",
    Rung.INTERVIEW: "关于就{unit}{code}号问题整改开展约谈的通知",
    Rung.SUSPENSION: "关于对{unit}实行区域限批的决定",
}


def escalation_title(esc: Escalation) -> str:
    code = esc.task.code.removesuffix("号")
    return TITLE_FORMS[Rung(esc.rung)].format(unit=esc.target_unit.name, code=code)


def _skipped_rungs(esc: Escalation) -> list[str]:
    """The rungs this escalation jumped over, counted from those issued before it."""
    earlier = set(Escalation.objects.filter(task_id=esc.task_id, pk__lt=esc.pk).values_list("rung", flat=True))
    # Same rule as supervision.services.issue_escalation: 预警 is automatic, the manual ladder
    # starts at 通报 whether or not a warning came first.
    highest = max(max((LADDER.index(r) for r in earlier), default=-1), 0)
    return [str(Rung(r).label) for r in LADDER[highest + 1:LADDER.index(esc.rung)]]


def escalation_docx(escalation: Escalation) -> bytes:
    """督办措施文书 in GB/T 9704 layout: 版头, 发文字号, 标题, 主送机关, 正文, 落款, 成文日期."""
    esc = (Escalation.objects.select_related("task", "task__campaign", "task__campaign__office", "target_unit",
                                             "issuing_unit").get(pk=escalation.pk))
    task: Task = esc.task
    office = task.campaign.office
    issuer = esc.issuing_unit or issuing_office(None, office)
    issued_on = timezone.localtime(esc.issued_at).date()
    units = list(task.task_units.select_related("unit").order_by("role", "ordinal", "id"))
    roles = [tu.role for tu in units if tu.unit_id == esc.target_unit_id]
    leads = [tu.unit.name for tu in units if tu.role == UnitRole.LEAD_SUPERVISOR]
    rung_label = str(Rung(esc.rung).label)

    doc = OfficialDocument(title_for_properties=escalation_title(esc), author=issuer.name)
    doc.masthead(masthead_name(esc.issuing_unit, office))
    doc.doc_number(esc.doc_number)
    doc.title(escalation_title(esc))
    doc.addressee(esc.target_unit.name)

    role_phrase = ROLE_PHRASES.get(roles[0] if roles else UnitRole.RESPONSIBLE, ROLE_PHRASES[UnitRole.RESPONSIBLE])
    doc.paragraph(f"{task.campaign.name}中，{role_phrase}的问题（任务编号：{task.code}）“{task.title}”，"
                  f"整改时限为{deadline_text(task.deadline_kind, task.deadline)}"
                  + (f"，牵头督导单位为{'、'.join(leads)}" if leads else "") + "。")

    doc.heading("一、问题情况")
    doc.paragraph(_sentence(task.problem or task.title))
    if task.target:
        doc.paragraph("整改目标：" + _sentence(task.target))

    # Only what the record held when it was issued: a later download must read the same.
    doc.heading("二、督办事由")
    doc.paragraph(_sentence(esc.reason))
    if esc.trigger != Trigger.MANUAL:
        doc.paragraph(f"本次{rung_label}由系统按规则自动发出，触发原因：{Trigger(esc.trigger).label}。")
    if esc.skip_reason:
        skipped = _skipped_rungs(esc)
        doc.paragraph(f"本次越级采取{rung_label}措施" + (f"（未经{'、'.join(skipped)}）" if skipped else "")
                      + f"，理由：{_sentence(esc.skip_reason)}")

    decision, closing = RUNG_DECISIONS[Rung(esc.rung)]
    doc.heading("三、工作要求")
    doc.paragraph(decision)
    if esc.reply_due:
        doc.paragraph(f"请于{cn_date(esc.reply_due)}前将整改落实情况书面回复{issuer.name}，"
                      "并通过督察整改调度平台上传佐证材料。")
    else:
        doc.paragraph("请抓紧推进整改，并在下一轮调度中如实报送整改进展。")
    doc.paragraph(closing)

    doc.signature(issuer.name, issued_on)
    return doc.to_bytes()


def escalation_filename(esc: Escalation) -> str:
    name = f"{DOCUMENT_TITLES[esc.rung]}-{esc.task.code}-{esc.doc_number}.docx"
    return "".join("-" if ch in '/\\:*?"<>|' else ch for ch in name)


def generate_escalation_docx(*, actor: User, escalation: Escalation) -> tuple[bytes, str]:
    """Build the notice and record that it was generated (the caller has checked visibility)."""
    data = escalation_docx(escalation)
    with transaction.atomic():
        record_event(actor=actor, action="document_generated", object_type="ledger.task",
                     object_id=escalation.task_id, object_label=str(escalation.task)[:300],
                     summary=f"生成{DOCUMENT_TITLES[escalation.rung]}（{escalation.doc_number}）Word 文书",
                     after={"escalation": escalation.pk, "format": "docx", "bytes": len(data)})
    return data, escalation_filename(escalation)
