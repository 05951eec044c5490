"""The case's official documents in GB/T 9704 layout (rectify.documents.docx_layout):

- 追责建议报告: the lead unit's report to the office, generated and frozen when it is submitted;
- 问题线索移交函: the office's referral letter to the discipline commission, with the referral number.

Both are marked 内部 注意保密 and name persons concerned in full: they go only to the office and the
commission, through the case's own scope.
"""

from __future__ import annotations

from django.utils import timezone

from rectify.accountability.models import AccountabilityCase, CaseFile, CaseKind, FileKind, NoteKind
from rectify.documents.docx_layout import BODY_PT, HEITI, OfficialDocument, cn_date, set_run_font
from rectify.documents.escalation_doc import deadline_text, masthead_name
from rectify.ledger.models import UnitRole

CLASSIFICATION = "内部  注意保密"


def _classified(doc: OfficialDocument) -> None:
    """密级 in the top left corner, 3号黑体 (GB/T 9704-2012 §7.2.2), before the masthead."""
    p = doc.doc.add_paragraph(style="Normal")
    set_run_font(p.add_run(CLASSIFICATION), HEITI, BODY_PT)


def _paragraphs(doc: OfficialDocument, text: str) -> None:
    for line in (text or "").splitlines():
        if line.strip():
            doc.paragraph(line.strip())


def _units_phrase(case: AccountabilityCase) -> str:
    names = [link.unit.name for link in case.unit_links.select_related("unit")]
    if not names:
        return ""
    return "、".join(names[:3]) + ("等单位" if len(names) > 3 else "")


def report_title(case: AccountabilityCase) -> str:
    return f"关于{_units_phrase(case)}{CaseKind(case.kind).label}问题的追责问责建议报告"


def report_filename(case: AccountabilityCase) -> str:
    return _safe(f"追责建议报告-{case.number}.docx")


def referral_filename(case: AccountabilityCase) -> str:
    return _safe(f"问题线索移交函-{case.number}-{case.referral_number}.docx")


def _safe(name: str) -> str:
    return "".join("-" if ch in '/\\:*?"<>|' else ch for ch in name)


def _task_rows(case: AccountabilityCase) -> list[list]:
    rows = []
    links = case.task_links.select_related("task").prefetch_related("task__task_units__unit")
    for n, link in enumerate(links, 1):
        task = link.task
        responsible = "、".join(tu.unit.name for tu in task.task_units.all() if tu.role == UnitRole.RESPONSIBLE)
        state = task.get_status_display() + (f"（{task.progress_label}）" if task.progress_label else "")
        rows.append([n, task.code, task.title, responsible, deadline_text(task.deadline_kind, task.deadline), state])
    return rows


def _person_rows(case: AccountabilityCase) -> list[list]:
    return [[n, p.name, p.unit.name, p.post or "—"]
            for n, p in enumerate(case.persons.select_related("unit"), 1)]


def report_docx(case: AccountabilityCase, *, submitted_by=None) -> bytes:
    """追责建议报告 from the lead unit (牵头调查单位) to the office."""
    lead = case.lead_unit
    today = timezone.localdate()
    doc = OfficialDocument(title_for_properties=report_title(case), author=lead.name if lead else "")
    _classified(doc)
    doc.masthead(lead.name if lead else case.office.name)
    doc.doc_number(f"案件编号 {case.number}")
    doc.title(report_title(case))
    doc.addressee(case.office.name)
    opened = cn_date(timezone.localtime(case.opened_at).date()) if case.opened_at else "立案后"
    doc.paragraph(f"{opened}，{case.office.short_name or case.office.name}对“{case.title}”立案（案件编号 {case.number}，"
                  f"问题类型：{CaseKind(case.kind).label}），由我单位牵头调查。现将调查情况和追责问责建议报告如下。")

    doc.heading("一、问题线索")
    _paragraphs(doc, case.facts)
    for lead_row in case.leads.all():
        if lead_row.summary.strip() and lead_row.summary.strip() != case.facts.strip():
            doc.paragraph(f"（{lead_row.get_source_display()}）{lead_row.summary.strip()}")

    doc.heading("二、关联整改任务")
    doc.paragraph("本案关联的整改任务如下。追责问责不代替整改，上述任务仍按原整改时限和调度安排继续整改。")
    doc.table(["序号", "任务\n编号", "问题/任务名称", "责任单位", "整改时限", "当前状态"],
              _task_rows(case), [10, 18, 52, 28, 24, 24], numeric_from=None)

    doc.heading("三、调查经过")
    notes = [n for n in case.notes.all() if n.kind == NoteKind.INVESTIGATION]
    if notes:
        for note in notes:
            doc.paragraph(f"{cn_date(timezone.localtime(note.created_at).date())}，{note.text.strip()}")
    else:
        doc.paragraph("（无调查记录。）")
    evidence = [f for f in case.files.all() if f.file_kind == FileKind.EVIDENCE]

    doc.heading("四、调查认定的事实")
    _paragraphs(doc, case.findings)

    doc.heading("五、涉及人员")
    persons = _person_rows(case)
    if persons:
        doc.table(["序号", "姓名", "所在单位", "职务"], persons, [12, 30, 60, 54], numeric_from=None)
    else:
        doc.paragraph("本案未认定具体责任人员。")

    doc.heading("六、追责问责建议")
    _paragraphs(doc, case.recommendation)
    doc.paragraph("以上报告，请审核。")

    if evidence:
        doc.heading("附件：调查证据清单", level=2)
        for n, f in enumerate(evidence, 1):
            doc.paragraph(f"{n}. {f.original_name}（SM3 {f.digest[:16]}…）")

    doc.signature(lead.name if lead else case.office.name, today)
    who = getattr(submitted_by, "display_name", "") or getattr(submitted_by, "username", "")
    doc.note(f"本报告由督察整改调度平台在提交审核时生成并按 SM3 摘要留存{('，提交人：' + who) if who else ''}。")
    return doc.to_bytes()


def referral_docx(case: AccountabilityCase) -> bytes:
    """问题线索移交函 from the office to the discipline commission."""
    issuer = masthead_name(case.office, case.office)
    title = f"关于移交“{case.title}”问题线索的函"
    referred_on = timezone.localtime(case.referred_at).date() if case.referred_at else timezone.localdate()
    doc = OfficialDocument(title_for_properties=title, author=issuer)
    _classified(doc)
    doc.masthead(issuer)
    doc.doc_number(case.referral_number)
    doc.title(title)
    doc.addressee(case.commission.name if case.commission else "市纪委监委")
    lead = case.lead_unit.name if case.lead_unit else "牵头督导单位"
    doc.paragraph(f"{lead}对“{case.title}”（案件编号 {case.number}）开展调查并形成追责问责建议报告，经我办审核"
                  + (f"（审核意见：{case.review_opinion.strip().rstrip('。')}）" if case.review_opinion.strip() else "")
                  + "。按照“移交纪委监委，案件查处由纪委监委牵头”的要求，现将该问题线索移交你委，请依规依纪依法处理，"
                    "并将处理结果反馈我办。")
    doc.heading("一、基本情况")
    doc.paragraph(f"问题类型：{CaseKind(case.kind).label}。涉及单位：{_units_phrase(case) or '—'}。")
    _paragraphs(doc, case.findings)
    doc.heading("二、涉及人员")
    persons = _person_rows(case)
    if persons:
        doc.table(["序号", "姓名", "所在单位", "职务"], persons, [12, 30, 60, 54], numeric_from=None)
    else:
        doc.paragraph("未认定具体责任人员。")
    doc.heading("三、追责问责建议")
    _paragraphs(doc, case.recommendation)
    if case.referral_note.strip():
        doc.heading("四、其他说明")
        _paragraphs(doc, case.referral_note)
    report: CaseFile | None = case.files.filter(file_kind=FileKind.REPORT).order_by("-pk").first()
    if report is not None:
        doc.paragraph(f"附件：{report.original_name}（SM3 {report.digest}）")
    doc.signature(issuer, referred_on)
    doc.note("追责问责不代替整改：涉及的整改任务仍按原计划整改、调度和销号。")
    return doc.to_bytes()
