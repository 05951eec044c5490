"""Monthly dispatch bulletin (月度调度通报) of a closed round: figures, .docx and .xlsx.

:func:`bulletin_data` is the one place the figures are computed, with aggregate queries (a
constant number of them, whatever the number of tasks); the Word bulletin and its Excel table
are two renderings of the same dict, so they cannot disagree.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import xlsxwriter
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from rectify.closeout.models import Objection, ObjectionStatus
from rectify.core.audit import chain_head, record_event
from rectify.core.numbers import allocate_number, issued_number
from rectify.dispatch.models import DispatchRound, ProgressReport, RoundStatus
from rectify.dispatch.selectors import BUCKETS
from rectify.documents import hooks
from rectify.documents.docx_layout import OfficialDocument, cn_date
from rectify.documents.escalation_doc import deadline_text
from rectify.ledger.excel import neutralise
from rectify.ledger.models import CloseoutStage, Task, TaskStatus, TaskUnit, UnitRole
from rectify.ledger.progress import COLOUR_LABELS, STATUS_LABELS
from rectify.orgs.models import Unit, UnitKind, User
from rectify.orgs.scope import in_tree
from rectify.supervision.models import LADDER, Escalation, Rung, StatusSnapshot

REPORT_KEYS = ["total", "on_time", "late", "missing", "accepted", "to_accept"]
STATUS_KEYS = ["on_schedule", "lagging", "overdue", "closed", "long_term", "unscheduled"]
COLOUR_KEYS = ["red", "yellow", "blue"]
KIND_ORDER = {UnitKind.COUNTY: 0, UnitKind.DEPARTMENT: 1}
# Close-out (销号) figures: tasks per open stage now, filings of the round's month, closed in all.
# "co_" keeps them apart from the progress status keys ("closed" there is 已完成).
CLOSEOUT_STAGES = [s.value for s in CloseoutStage if s != CloseoutStage.FILED]
CLOSEOUT_KEYS = [f"co_{s}" for s in CLOSEOUT_STAGES] + ["co_filed_month", "co_closed"]
NO_LEAD = "（未明确牵头督导单位）"

NEXT_STEPS = [
    "一是压实整改责任。各县市区、各责任单位主要负责同志要切实履行第一责任人职责，对滞后、逾期任务逐项研究，"
    "倒排工期、挂图作战，确保按期完成整改。",
    "二是严格按时报送。各责任单位要在每月报送截止日期前如实报送整改进展并上传佐证材料，"
    "对未按时报送、报送不实的，将予以通报。",
    "三是强化督导核查。各牵头督导单位要及时审核所督导任务的进展报送，深入现场核查整改成效，"
    "坚决防止表面整改、敷衍整改、虚假整改。",
    "四是加大督办力度。对连续滞后或逾期的任务，{office}将依次采取通报、督办、挂牌督办、约谈等措施；"
    "情节严重的，移交纪委监委追责问责。",
]


# ---- figures -------------------------------------------------------------------------


def _prefixed(q: Q, prefix: str) -> Q:
    """The same condition seen through a relation (``status`` → ``task__reports__status``)."""
    copy = Q()
    copy.connector, copy.negated = q.connector, q.negated
    copy.children = [_prefixed(c, prefix) if isinstance(c, Q) else (prefix + c[0], c[1]) for c in q.children]
    return copy


def _report_counts(prefix: str = "") -> dict:
    buckets = {"on_time": BUCKETS["on_time"], "late": BUCKETS["late"], "missing": BUCKETS["missing"],
               "accepted": BUCKETS["accepted"], "to_accept": BUCKETS["to_accept"]}
    field = f"{prefix}id"
    return {"total": Count(field)} | {name: Count(field, filter=_prefixed(q, prefix)) for name, q in buckets.items()}


def _status_counts(status_path: str, count_path: str = "pk") -> dict:
    return {"tasks": Count(count_path)} | {
        key: Count(count_path, filter=Q(**{status_path: key})) for key in STATUS_KEYS}


def closeout_labels() -> dict[str, str]:
    return {f"co_{s}": str(CloseoutStage(s).label) for s in CLOSEOUT_STAGES} | {
        "co_filed_month": "本月销号", "co_closed": "累计已销号"}


def _closeout_counts(task: str, start: dt.datetime, end: dt.datetime, *, only=None, key: str = "{}") -> dict:
    """Tasks per open close-out stage, filed in the month, closed; ``task`` is the path to the task
    ("" for Task itself), ``only`` a further condition, ``key`` the names' pattern. Distinct: the
    month's filings join the task's close-outs."""
    pk, prefix = (f"{task}__pk", f"{task}__") if task else ("pk", "")
    filed = Q(**{f"{prefix}closeouts__filed_at__gte": start, f"{prefix}closeouts__filed_at__lt": end})
    conditions = {f"co_{s}": Q(**{f"{prefix}closeout_stage": s}) for s in CLOSEOUT_STAGES} | {
        "co_filed_month": filed, "co_closed": Q(**{f"{prefix}status": TaskStatus.CLOSED})}
    return {key.format(name): Count(pk, filter=(q & only) if only is not None else q, distinct=True)
            for name, q in conditions.items()}


def _natural(code: str) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", code)]


def _month_bounds(period: str) -> tuple[dt.datetime, dt.datetime]:
    year, month = (int(x) for x in period.split("-"))
    start = dt.date(year, month, 1)
    end = dt.date(year + (month == 12), month % 12 + 1, 1)
    tz = timezone.get_current_timezone()
    return (dt.datetime.combine(start, dt.time.min, tzinfo=tz), dt.datetime.combine(end, dt.time.min, tzinfo=tz))


BULLETIN_KIND = "bulletin"  # core.numbers: shares the 通 sequence with circulars (通报)


def bulletin_number(rnd: DispatchRound) -> str:
    """发文字号 issued to this round's bulletin (整改办通〔2026〕N号), or "" before its first generation.

    The number comes from the one register (core.numbers) when :func:`generate_bulletin` first
    runs; bulletins and circulars share the 通 sequence, so neither can repeat the other's number.
    """
    return issued_number(kind=BULLETIN_KIND, object_type=rnd._meta.label_lower, object_id=rnd.pk)


def check_bulletin_access(rnd: DispatchRound, actor: User) -> None:
    """The bulletin is the office's: only an office user whose tree holds the round."""
    if not DispatchRound.objects.actionable_by(actor, "run").filter(pk=rnd.pk).exists():
        raise PermissionDenied("只有本轮调度所属的整改办可以生成月度调度通报。")


def bulletin_data(rnd: DispatchRound, actor: User, head: tuple[int, str] | None = None) -> dict:
    """All figures of the bulletin for a closed round, office-wide (not scoped to one unit).

    Task statuses are those kept in the round's snapshots (as they stood at its end); a round
    without snapshots falls back to the tasks' current derived status, and says so.
    """
    check_bulletin_access(rnd, actor)
    if rnd.status != RoundStatus.CLOSED:
        raise ValidationError("本轮调度尚未结束，月度调度通报须在结束本轮调度后生成。")
    reports = ProgressReport.objects.filter(round=rnd)
    round_tasks = reports.values("task_id")
    snapshots = StatusSnapshot.objects.filter(round=rnd)
    from_snapshot = snapshots.exists()

    # Per-unit task figures: join task units to the snapshot (or to the task's own status).
    def task_units(role: str):
        if from_snapshot:
            return TaskUnit.objects.filter(role=role, task__snapshots__round=rnd), "task__snapshots__status"
        return TaskUnit.objects.filter(role=role, task__in=round_tasks), "task__progress_status"

    # ---- totals
    report_totals = reports.aggregate(**_report_counts())
    if from_snapshot:
        task_totals = snapshots.aggregate(**_status_counts("status"), **{
            c: Count("pk", filter=Q(colour=c)) for c in COLOUR_KEYS})
    else:
        task_totals = Task.objects.filter(pk__in=round_tasks).aggregate(**_status_counts("progress_status"), **{
            c: Count("pk", filter=Q(warning_colour=c)) for c in COLOUR_KEYS})

    # ---- by responsible unit (县市区 and departments) and by lead unit
    by_unit: dict[int, dict] = {}
    by_lead: dict[int | None, dict] = {}

    def row(table: dict, key) -> dict:
        return table.setdefault(key, {"unit_id": key, **dict.fromkeys(REPORT_KEYS, 0),
                                      **dict.fromkeys(["tasks", *STATUS_KEYS, *CLOSEOUT_KEYS], 0)})

    for r in reports.values("unit_id").annotate(**_report_counts()).order_by():
        row(by_unit, r["unit_id"]).update({k: r[k] for k in REPORT_KEYS})
    qs, path = task_units(UnitRole.RESPONSIBLE)
    for r in qs.values("unit_id").annotate(**_status_counts(path)).order_by():
        row(by_unit, r["unit_id"]).update({k: r[k] for k in ["tasks", *STATUS_KEYS]})

    leads = TaskUnit.objects.filter(role=UnitRole.LEAD_SUPERVISOR, task__reports__round=rnd)
    for r in leads.values("unit_id").annotate(**_report_counts("task__reports__")).order_by():
        row(by_lead, r["unit_id"]).update({k: r[k] for k in REPORT_KEYS})
    qs, path = task_units(UnitRole.LEAD_SUPERVISOR)
    for r in qs.values("unit_id").annotate(**_status_counts(path)).order_by():
        row(by_lead, r["unit_id"]).update({k: r[k] for k in ["tasks", *STATUS_KEYS]})
    # Tasks nobody supervises still count: one row, so the lead table adds up.
    has_lead = Q(task__task_units__role=UnitRole.LEAD_SUPERVISOR)
    orphan_reports = reports.exclude(has_lead).aggregate(**_report_counts())
    if orphan_reports["total"]:
        row(by_lead, None).update(orphan_reports)
        if from_snapshot:
            orphan_tasks = snapshots.exclude(has_lead).aggregate(**_status_counts("status"))
        else:
            orphan_tasks = Task.objects.filter(pk__in=round_tasks).exclude(
                task_units__role=UnitRole.LEAD_SUPERVISOR).aggregate(**_status_counts("progress_status"))
        row(by_lead, None).update(orphan_tasks)

    # ---- close-out (销号): the office's tasks as they stand at generation, filings of the month
    start, end = _month_bounds(rnd.period)
    # Tasks nobody supervises count in the lead table's own row, as above (same query as the totals).
    no_lead = ~Exists(TaskUnit.objects.filter(task=OuterRef("pk"), role=UnitRole.LEAD_SUPERVISOR))
    figures = Task.objects.filter(in_tree("campaign__office", rnd.office)).aggregate(
        **_closeout_counts("", start, end), **_closeout_counts("", start, end, only=no_lead, key="orphan_{}"))
    closeout_totals = {k: figures[k] for k in CLOSEOUT_KEYS}
    orphan_closeouts = {k: figures[f"orphan_{k}"] for k in CLOSEOUT_KEYS}
    for r in (TaskUnit.objects.filter(in_tree("task__campaign__office", rnd.office),
                                      role__in=[UnitRole.RESPONSIBLE, UnitRole.LEAD_SUPERVISOR])
              .values("unit_id", "role").annotate(**_closeout_counts("task", start, end)).order_by()):
        if any(r[k] for k in CLOSEOUT_KEYS):
            table = by_unit if r["role"] == UnitRole.RESPONSIBLE else by_lead
            row(table, r["unit_id"]).update({k: r[k] for k in CLOSEOUT_KEYS})
    if any(orphan_closeouts.values()):
        row(by_lead, None).update(orphan_closeouts)

    # ---- tasks whose close-out notice drew objections this month (counts only: no objector data)
    objections = []
    for o in (Objection.objects.filter(in_tree("closeout__task__campaign__office", rnd.office),
                                       submitted_at__gte=start, submitted_at__lt=end)
              .values("closeout_id", "closeout__notice_number", "closeout__task__code", "closeout__task__title")
              .annotate(n=Count("pk"), **{s: Count("pk", filter=Q(status=s)) for s in ObjectionStatus.values})
              .order_by()):
        objections.append({"closeout_id": o["closeout_id"], "code": o["closeout__task__code"],
                           "title": o["closeout__task__title"], "notice_number": o["closeout__notice_number"],
                           "objections": o["n"], **{s: o[s] for s in ObjectionStatus.values}})
    objections.sort(key=lambda o: (_natural(o["code"]), o["closeout_id"]))

    units = {u.pk: u for u in Unit.objects.filter(pk__in=[k for k in [*by_unit, *by_lead] if k is not None])}
    for table in (by_unit, by_lead):
        for key, r in table.items():
            unit = units.get(key)
            r["name"] = unit.name if unit else NO_LEAD
            r["kind"] = unit.kind if unit else ""
            r["sort"] = (KIND_ORDER.get(r["kind"], 2), unit.sort_order if unit else 10**9, key or 0)
    by_unit_rows = sorted(by_unit.values(), key=lambda r: r["sort"])
    by_lead_rows = sorted(by_lead.values(), key=lambda r: r["sort"][1:])

    # ---- named lists of lagging and overdue tasks
    listed_statuses = ["lagging", "overdue"]
    if from_snapshot:
        listed = snapshots.filter(status__in=listed_statuses)
        listed_rows = list(listed.values("task_id", "status", "colour", "expected_percent", "actual_percent",
                                         "task__code", "task__title", "task__deadline", "task__deadline_kind"))
        listed_ids = listed.values("task_id")
    else:
        listed = Task.objects.filter(pk__in=round_tasks, progress_status__in=listed_statuses)
        listed_rows = [{"task_id": t["pk"], "status": t["progress_status"], "colour": t["warning_colour"],
                        "expected_percent": t["expected_percent"], "actual_percent": t["actual_percent"],
                        "task__code": t["code"], "task__title": t["title"], "task__deadline": t["deadline"],
                        "task__deadline_kind": t["deadline_kind"]}
                       for t in listed.values("pk", "progress_status", "warning_colour", "expected_percent",
                                              "actual_percent", "code", "title", "deadline", "deadline_kind")]
        listed_ids = listed.values("pk")
    names: dict[tuple[int, str], list[str]] = {}
    for task_id, role, name in (TaskUnit.objects.filter(task__in=listed_ids, role__in=[
            UnitRole.RESPONSIBLE, UnitRole.LEAD_SUPERVISOR]).order_by("task_id", "role", "ordinal", "id")
            .values_list("task_id", "role", "unit__name")):
        names.setdefault((task_id, role), []).append(name)
    lists: dict[str, list[dict]] = {"lagging": [], "overdue": []}
    for r in listed_rows:
        lists[r["status"]].append({
            "task_id": r["task_id"], "code": r["task__code"], "title": r["task__title"],
            "responsible": "、".join(names.get((r["task_id"], UnitRole.RESPONSIBLE), [])),
            "lead": "、".join(names.get((r["task_id"], UnitRole.LEAD_SUPERVISOR), [])),
            "deadline": r["task__deadline"], "deadline_text": deadline_text(r["task__deadline_kind"],
                                                                            r["task__deadline"]),
            "expected": r["expected_percent"], "actual": r["actual_percent"],
            "colour": COLOUR_LABELS.get(r["colour"] or "", ""),
        })
    for rows in lists.values():
        rows.sort(key=lambda r: _natural(r["code"]))

    # ---- escalations issued in the round's month on the office's tasks
    escalations = []
    for e in (Escalation.objects.filter(in_tree("task__campaign__office", rnd.office),
                                        issued_at__gte=start, issued_at__lt=end)
              .select_related("task", "target_unit").order_by("issued_at", "id")):
        escalations.append({
            "id": e.pk, "doc_number": e.doc_number, "rung": e.rung, "rung_label": e.get_rung_display(),
            "code": e.task.code, "title": e.task.title, "target": e.target_unit.name,
            "issued_on": timezone.localtime(e.issued_at).date(), "reply_due": e.reply_due,
            "status_label": e.get_status_display(), "trigger_label": e.get_trigger_display(),
        })
    rung_counts = {str(Rung(r).label): sum(1 for e in escalations if e["rung"] == r) for r in LADDER}

    return {
        "round": rnd, "office": rnd.office, "doc_number": bulletin_number(rnd),
        "issuer": getattr(settings, "OFFICE_DOC_NAME", "") or rnd.office.name,
        "status_source": "snapshot" if from_snapshot else "current",
        "report_totals": report_totals, "task_totals": task_totals,
        "by_unit": by_unit_rows, "by_lead": by_lead_rows,
        "lagging": lists["lagging"], "overdue": lists["overdue"],
        "escalations": escalations, "rung_counts": rung_counts,
        "closeout_totals": closeout_totals, "objections": objections,
        # higher apps' sections (documents.bulletin_sections): help requests; accountability as counts only
        "sections": sorted((section for section in hooks.bulletin_sections(
            rnd=rnd, start=timezone.localtime(start).date(),
            end=timezone.localtime(end).date() - dt.timedelta(days=1)) if section), key=lambda x: x.order),
        "generated_on": timezone.localdate(), "chain_head": head or chain_head(),
    }


# ---- Word ----------------------------------------------------------------------------


def _rate(part: int, whole: int) -> str:
    return f"{part * 100 / whole:.1f}%" if whole else "—"


def _pct(value) -> str:
    return "—" if value is None else f"{value}%"


def _chain_line(head: tuple[int, str]) -> str:
    return f"审计链头：{head[0]}:{head[1]}"


ANNEX_TITLE = "销号工作情况"


def _in_round(rows: list[dict]) -> list[dict]:
    """Units of the round's tables (a unit there only for its close-out figures is in the annex)."""
    return [r for r in rows if r["total"] or r["tasks"]]


def _has_closeout_annex(data: dict) -> bool:
    return any(data["closeout_totals"].values()) or bool(data["objections"])


def _closeout_sentence(data: dict) -> str:
    ct, labels = data["closeout_totals"], closeout_labels()
    under_way = sum(ct[f"co_{s}"] for s in CLOSEOUT_STAGES)
    if not _has_closeout_annex(data):
        return "截至通报生成时，尚无办理销号的任务。"
    stages = "、".join(f"{labels[f'co_{s}']}{ct[f'co_{s}']}项" for s in CLOSEOUT_STAGES)
    text = (f"截至通报生成时，正在办理销号的任务{under_way}项（{stages}），本月备案销号{ct['co_filed_month']}项，"
            f"累计已销号{ct['co_closed']}项")
    objections = data["objections"]
    if objections:
        text += (f"；本月有{len(objections)}项任务的销号公示收到群众异议"
                 f"{sum(o['objections'] for o in objections)}件")
    return text + "。各单位销号情况" + ("和收到异议的任务名单" if objections else "") + "见附件。"


def _closeout_annex(doc: OfficialDocument, data: dict) -> None:
    labels = closeout_labels()
    short = {"初审自评": "初审\n自评", "本月销号": "本月\n销号", "累计已销号": "累计\n已销号"}
    headers = ["序号", "{unit}", *(short.get(labels[k], labels[k]) for k in CLOSEOUT_KEYS)]
    widths = [10, 40, 15, 15, 15, 15, 15, 15, 16]
    doc.annex(ANNEX_TITLE)
    for heading, key, unit in (("一、各责任单位销号情况", "by_unit", "责任单位"),
                               ("二、各牵头督导单位销号情况", "by_lead", "牵头督导单位")):
        doc.heading(heading)
        rows = [r for r in data[key] if any(r[k] for k in CLOSEOUT_KEYS)]
        if rows:
            doc.table([h.format(unit=unit) for h in headers],
                      [[i, r["name"], *(r[k] for k in CLOSEOUT_KEYS)] for i, r in enumerate(rows, 1)],
                      widths, numeric_from=2)
        else:
            doc.paragraph("无。")
    doc.heading("三、销号公示收到异议的任务")
    if data["objections"]:
        doc.paragraph("本月销号公示期间收到群众异议的任务如下（异议人信息依法保密，不予列出）。")
        doc.table(["序号", "任务\n编号", "问题/任务名称", "公示文号", "异议\n件数", "待答复", "异议\n成立", "异议\n不成立"],
                  [[i, o["code"], o["title"], o["notice_number"], o["objections"], o[ObjectionStatus.OPEN],
                    o[ObjectionStatus.UPHELD], o[ObjectionStatus.DISMISSED]]
                   for i, o in enumerate(data["objections"], 1)],
                  [10, 17, 45, 30, 13, 13, 14, 14], numeric_from=4)
    else:
        doc.paragraph("本月销号公示未收到异议。")


def _render_docx(data: dict) -> bytes:
    rnd: DispatchRound = data["round"]
    rt, tt = data["report_totals"], data["task_totals"]
    title = f"关于{rnd.title}情况的通报"
    doc = OfficialDocument(title_for_properties=title, author=data["issuer"])
    doc.masthead(data["issuer"])
    doc.doc_number(data["doc_number"])
    doc.title(title)
    doc.addressee("各县市区，市直有关单位")
    doc.paragraph(f"根据“一月一调度一督办”工作机制，{rnd.office.name}于"
                  f"{cn_date(timezone.localtime(rnd.opened_at).date())}开启{rnd.title}，"
                  f"报送截止日期为{cn_date(rnd.due_date)}。现将有关情况通报如下：")

    doc.heading("一、总体情况")
    source = "本轮调度结束时" if data["status_source"] == "snapshot" else "通报生成时"
    reported = rt["on_time"] + rt["late"]
    doc.paragraph(
        f"本轮调度共涉及整改任务{tt['tasks']}项、应报送{rt['total']}项。其中按时报送{rt['on_time']}项，"
        f"逾期报送{rt['late']}项，未报送{rt['missing']}项，报送率{_rate(reported, rt['total'])}，"
        f"按时报送率{_rate(rt['on_time'], rt['total'])}；牵头督导单位已审核采纳{rt['accepted']}项。"
        f"从{source}的任务进度看，序时推进{tt['on_schedule']}项，滞后{tt['lagging']}项，逾期{tt['overdue']}项，"
        f"已完成{tt['closed']}项，长期坚持{tt['long_term']}项；红色预警{tt['red']}项，黄色预警{tt['yellow']}项，"
        f"蓝色预警{tt['blue']}项。本月共发出督办措施{len(data['escalations'])}件。")
    doc.paragraph(_closeout_sentence(data))

    doc.heading("二、各县市区报送情况")
    missing = [f"{r['name']}（{r['missing']}项）" for r in data["by_unit"] if r["missing"]]
    doc.paragraph("各责任单位报送及所负责任务推进情况见下表。"
                  + (f"未按要求完成报送的有：{'、'.join(missing)}，予以通报。" if missing else "各责任单位均已完成报送。"))
    doc.table(["序号", "责任单位", "应报", "按时\n报送", "逾期\n报送", "未报送", "序时\n推进", "滞后", "逾期", "已完成"],
              [[i, r["name"], r["total"], r["on_time"], r["late"], r["missing"], r["on_schedule"], r["lagging"],
                r["overdue"], r["closed"]] for i, r in enumerate(_in_round(data["by_unit"]), 1)],
              [10, 38, 13.5, 13.5, 13.5, 13.5, 13.5, 13.5, 13.5, 13.5], numeric_from=2)

    doc.heading("三、牵头督导单位督导情况")
    pending = [f"{r['name']}（{r['to_accept']}项）" for r in data["by_lead"] if r["to_accept"] and r["unit_id"]]
    doc.paragraph("各牵头督导单位审核采纳进展报送及所督导任务推进情况见下表。"
                  + (f"尚有报送未审核的有：{'、'.join(pending)}，请及时审核。" if pending else ""))
    doc.table(["序号", "牵头督导单位", "应报", "已采纳", "待审核", "未报送", "序时\n推进", "滞后", "逾期", "已完成"],
              [[i, r["name"], r["total"], r["accepted"], r["to_accept"], r["missing"], r["on_schedule"],
                r["lagging"], r["overdue"], r["closed"]] for i, r in enumerate(_in_round(data["by_lead"]), 1)],
              [10, 38, 13.5, 13.5, 13.5, 13.5, 13.5, 13.5, 13.5, 13.5], numeric_from=2)

    doc.heading("四、滞后和逾期任务")
    doc.paragraph(f"截至{source}，共有滞后任务{len(data['lagging'])}项、逾期任务{len(data['overdue'])}项，名单如下。")
    headers = ["序号", "任务\n编号", "问题/任务名称", "责任单位", "牵头督导\n单位", "整改时限", "序时\n进度", "实际\n进度"]
    widths = [10, 17, 40, 22, 22, 19, 13, 13]
    for label, key in (("（一）滞后任务", "lagging"), ("（二）逾期任务", "overdue")):
        doc.heading(label, level=2)
        if data[key]:
            doc.table(headers, [[i, t["code"], t["title"], t["responsible"], t["lead"], t["deadline_text"],
                                 _pct(t["expected"]), _pct(t["actual"])] for i, t in enumerate(data[key], 1)],
                      widths, numeric_from=6)
        else:
            doc.paragraph("无。")

    doc.heading("五、本月督办情况")
    if data["escalations"]:
        parts = "、".join(f"{label}{n}件" for label, n in data["rung_counts"].items() if n)
        doc.paragraph(f"本月共发出督办措施{len(data['escalations'])}件，其中{parts}。具体如下。")
        doc.table(["序号", "发文字号", "督办\n措施", "任务\n编号", "督办对象", "发出日期", "回复期限", "状态"],
                  [[i, e["doc_number"], e["rung_label"], e["code"], e["target"], cn_date(e["issued_on"]),
                    cn_date(e["reply_due"]) if e["reply_due"] else "—", e["status_label"]]
                   for i, e in enumerate(data["escalations"], 1)],
                  [10, 32, 16, 16, 22, 21, 21, 18], numeric_from=5)
    else:
        doc.paragraph("本月未发出督办措施。")

    numerals = "六七八九十"
    for n, section in enumerate(data["sections"]):
        doc.heading(f"{numerals[n]}、{section.title}")
        for text in section.paragraphs:
            doc.paragraph(text)
        if section.headers and section.rows:
            doc.table(section.headers, section.rows, section.widths_mm or None, numeric_from=None)
    doc.heading(f"{numerals[len(data['sections'])]}、下步工作要求")
    for text in NEXT_STEPS:
        doc.paragraph(text.format(office=rnd.office.short_name or rnd.office.name))

    annex = _has_closeout_annex(data)
    if annex:
        doc.attachment_note([ANNEX_TITLE])
    doc.signature(data["issuer"], data["generated_on"])
    if annex:
        _closeout_annex(doc, data)
    doc.note(_chain_line(data["chain_head"]) + "（本通报生成时平台审计记录的事件数与最新哈希，可用于核验记录未被改写）")
    return doc.to_bytes()


def bulletin_docx(rnd: DispatchRound, actor: User, head: tuple[int, str] | None = None) -> bytes:
    return _render_docx(bulletin_data(rnd, actor, head))


# ---- Excel ---------------------------------------------------------------------------


def _render_xlsx(data: dict) -> bytes:
    rnd: DispatchRound = data["round"]
    out = io.BytesIO()
    # constant_memory streams rows to disk; no string is ever read as a formula or a URL.
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

    def table(name: str, headers: list[str], widths: list[int], rows) -> None:
        sheet = book.add_worksheet(name)
        for c, w in enumerate(widths):
            sheet.set_column(c, c, w)
        sheet.write_string(0, 0, neutralise(f"{rnd.title}·{name}"), title_fmt)
        for c, h in enumerate(headers):
            sheet.write_string(1, c, h, head)
        sheet.freeze_panes(2, 0)
        n = 0
        for n, values in enumerate(rows, 1):
            for c, value in enumerate(values):
                write(sheet, n + 1, c, value)
        if n:
            sheet.autofilter(1, 0, n + 1, len(headers) - 1)

    rt, tt = data["report_totals"], data["task_totals"]
    head_n, head_hash = data["chain_head"]
    summary = [
        ("发文字号", data["doc_number"]), ("调度轮次", rnd.title), ("调度月份", rnd.period),
        ("整改办", rnd.office.name), ("报送截止日期", rnd.due_date),
        ("应报送", rt["total"]), ("按时报送", rt["on_time"]), ("逾期报送", rt["late"]), ("未报送", rt["missing"]),
        ("已采纳", rt["accepted"]), ("待牵头单位审核", rt["to_accept"]),
        ("报送率", _rate(rt["on_time"] + rt["late"], rt["total"])), ("按时报送率", _rate(rt["on_time"], rt["total"])),
        ("任务总数", tt["tasks"]),
        *((STATUS_LABELS[k], tt[k]) for k in STATUS_KEYS),
        *((COLOUR_LABELS[k], tt[k]) for k in COLOUR_KEYS),
        ("本月督办措施", len(data["escalations"])),
        *((f"其中：{label}", n) for label, n in data["rung_counts"].items()),
        *((f"销号：{label}", data["closeout_totals"][k]) for k, label in closeout_labels().items()),
        ("本月销号公示收到异议的任务", len(data["objections"])),
        ("本月销号公示收到异议（件）", sum(o["objections"] for o in data["objections"])),
        ("进度状态口径", "本轮调度结束时的快照" if data["status_source"] == "snapshot" else "生成时的当前状态（本轮无快照）"),
        ("生成日期", data["generated_on"]), ("审计链头", f"{head_n}:{head_hash}"),
    ]
    table("总体情况", ["项目", "数值"], [22, 60], summary)
    closeout_headers = [f"销号：{label}" for label in closeout_labels().values()]
    unit_headers = ["序号", "责任单位", "应报", "按时报送", "逾期报送", "未报送", "已采纳", "任务数",
                    *(STATUS_LABELS[k] for k in STATUS_KEYS), *closeout_headers]
    table("按县市区", unit_headers, [6, 26, *[10] * 12, *[12] * len(CLOSEOUT_KEYS)],
          ([i, r["name"], r["total"], r["on_time"], r["late"], r["missing"], r["accepted"], r["tasks"],
            *(r[k] for k in STATUS_KEYS), *(r[k] for k in CLOSEOUT_KEYS)] for i, r in enumerate(data["by_unit"], 1)))
    lead_headers = ["序号", "牵头督导单位", "应报", "已采纳", "待审核", "按时报送", "逾期报送", "未报送", "任务数",
                    *(STATUS_LABELS[k] for k in STATUS_KEYS), *closeout_headers]
    table("按牵头单位", lead_headers, [6, 26, *[10] * 13, *[12] * len(CLOSEOUT_KEYS)],
          ([i, r["name"], r["total"], r["accepted"], r["to_accept"], r["on_time"], r["late"], r["missing"], r["tasks"],
            *(r[k] for k in STATUS_KEYS), *(r[k] for k in CLOSEOUT_KEYS)] for i, r in enumerate(data["by_lead"], 1)))
    task_headers = ["序号", "任务编号", "问题/任务名称", "责任单位", "牵头督导单位", "整改时限", "序时进度（%）",
                    "实际进度（%）", "预警颜色"]
    for name, key in (("滞后任务", "lagging"), ("逾期任务", "overdue")):
        table(name, task_headers, [6, 14, 50, 24, 24, 16, 12, 12, 10],
              ([i, t["code"], t["title"], t["responsible"], t["lead"], t["deadline_text"], t["expected"],
                t["actual"], t["colour"]] for i, t in enumerate(data[key], 1)))
    table("督办情况", ["序号", "发文字号", "督办措施", "任务编号", "问题/任务名称", "督办对象", "触发原因", "发出日期",
                      "回复期限", "状态"], [6, 22, 10, 14, 40, 20, 16, 12, 12, 10],
          ([i, e["doc_number"], e["rung_label"], e["code"], e["title"], e["target"], e["trigger_label"],
            e["issued_on"], e["reply_due"], e["status_label"]] for i, e in enumerate(data["escalations"], 1)))
    for section in data["sections"]:
        if section.sheet and section.headers:
            table(section.sheet, section.headers, [8, *[20] * (len(section.headers) - 1)], section.rows)
    table("销号公示异议", ["序号", "任务编号", "问题/任务名称", "公示文号", "异议件数", "待答复", "异议成立", "异议不成立"],
          [6, 14, 50, 24, 10, 10, 10, 10],
          ([i, o["code"], o["title"], o["notice_number"], o["objections"], o[ObjectionStatus.OPEN],
            o[ObjectionStatus.UPHELD], o[ObjectionStatus.DISMISSED]] for i, o in enumerate(data["objections"], 1)))
    book.close()
    return out.getvalue()


def bulletin_xlsx(rnd: DispatchRound, actor: User, head: tuple[int, str] | None = None) -> bytes:
    return _render_xlsx(bulletin_data(rnd, actor, head))


# ---- generation with its audit event ------------------------------------------------------


def generate_bulletin(*, actor: User, rnd: DispatchRound, fmt: str) -> tuple[bytes, str]:
    """Build the bulletin (``fmt`` "docx" or "xlsx") and record that it was generated.

    The first generation of a round's bulletin takes its 发文字号 from the register (an event of its
    own, in the year it is issued); later ones, in either format, carry the same number.
    """
    builders = {"docx": (bulletin_docx, "月度调度通报"), "xlsx": (bulletin_xlsx, "月度调度通报附表")}
    builder, label = builders[fmt]
    check_bulletin_access(rnd, actor)
    if rnd.status != RoundStatus.CLOSED:
        raise ValidationError("本轮调度尚未结束，月度调度通报须在结束本轮调度后生成。")
    number = allocate_number(kind=BULLETIN_KIND, year=timezone.localdate().year,
                             object_type=rnd._meta.label_lower, object_id=rnd.pk, actor=actor)
    head = chain_head()  # printed in the bulletin and kept in its event: the portal lists it (链头公布)
    data = builder(rnd, actor, head)
    with transaction.atomic():
        record_event(actor=actor, action="document_generated", obj=rnd, unit=rnd.office,
                     summary=f"生成{rnd.title}{label}（{fmt}，{number}）",
                     after={"round": rnd.pk, "period": rnd.period, "format": fmt, "bytes": len(data),
                            "doc_number": number, "chain_head": f"{head[0]}:{head[1]}"})
    return data, f"{rnd.title}{label}.{fmt}"
