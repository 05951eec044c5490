"""The figures of the rectification report (整改落实情况报告), computed once from the record.

:func:`report_data` is the one place they are computed; the .docx, the PDF and the ledger workbook
beside them are renderings of the same data, so they cannot disagree. Statuses are the derived ones
the ledger stores (``status``, ``progress_status``, ``closeout_stage``, ``status_reasons``: written
by supervision and close-out, never typed); the chosen date names the report and fixes the audit
chain head it cites (the last event recorded by the end of that day). Task groups are the ledger's
问题类别 — the sections of the plan as the ledger records them.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count
from django.utils import timezone

from rectify.accountability.figures import office_counts
from rectify.core.models import Event
from rectify.documents.escalation_doc import deadline_text
from rectify.indicators.models import Indicator
from rectify.ledger.models import Campaign, Task, TaskStatus, TaskUnit, UnitRole
from rectify.ledger.progress import STATUS_LABELS
from rectify.orgs.models import UnitKind
from rectify.supervision.models import Escalation, Rung

PROGRESS_KEYS = ["on_schedule", "lagging", "overdue", "closed", "long_term", "unscheduled", "not_reported"]
STATUS_KEYS = [TaskStatus.ACTIVE.value, TaskStatus.CLOSING.value, TaskStatus.CLOSED.value, TaskStatus.DRAFT.value]
# the report's sections, in order: key → heading (the office writes a summary for each)
SECTIONS = [
    ("overall", "一、总体情况"),
    ("groups", "二、各任务组整改进展"),
    ("counties", "三、各县市区整改进展"),
    ("status", "四、已销号、销号中、滞后和逾期任务"),
    ("escalations", "五、督办和追责问责情况"),
    ("indicators", "六、目标指标完成情况"),
    ("tasks", "七、整改任务清单"),
]


@dataclass
class TaskRow:
    pk: int
    code: str
    title: str
    category: str
    responsible: str
    counties: list[str]
    deadline: str
    status: str  # TaskStatus value
    status_label: str
    progress: str  # ProgressStatus value
    progress_label: str
    closeout_stage: str
    reasons: str


@dataclass
class ReportData:
    campaign: Campaign
    as_of: dt.date
    generated_at: dt.datetime
    issuer: str
    totals: dict[str, int]
    by_group: list[dict[str, Any]]
    by_county: list[dict[str, Any]]
    lists: dict[str, list[TaskRow]]
    escalations: dict[str, int]
    accountability: dict[str, int]
    indicators: list[dict[str, str]]
    tasks: list[TaskRow]
    chain_head: tuple[int, str]
    intro: str = ""
    summaries: dict[str, str] = field(default_factory=dict)
    received_date: dt.date | None = None
    due_date: dt.date | None = None


def _empty() -> dict[str, int]:
    """Task counts: ``tasks``, one per task status (``active`` …) and one per progress status, prefixed
    ``p_`` (``p_lagging`` …; ``closed`` is both a task status and a progress status)."""
    return {"tasks": 0, **{k: 0 for k in STATUS_KEYS}, **{f"p_{k}": 0 for k in PROGRESS_KEYS}}


def _count(bucket: dict[str, int], row: TaskRow) -> None:
    bucket["tasks"] += 1
    bucket[row.status] = bucket.get(row.status, 0) + 1
    if row.progress in PROGRESS_KEYS:
        bucket[f"p_{row.progress}"] += 1


def chain_head_at(day: dt.date) -> tuple[int, str]:
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=timezone.get_current_timezone())
    return Event.objects.filter(created_at__lt=end).order_by("-seq").values_list("seq", "hash").first() or (0, "")


def task_rows(tasks, progress=None) -> list[TaskRow]:
    """The rows of ``tasks`` (a queryset), with responsible units in one extra query per 2,000 tasks."""
    rows: list[TaskRow] = []
    batch: list[Task] = []

    def flush() -> None:
        units: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for tu in (TaskUnit.objects.filter(task__in=[t.pk for t in batch], role=UnitRole.RESPONSIBLE)
                   .select_related("unit").order_by("ordinal", "id")):
            units[tu.task_id].append((tu.unit.name, tu.unit.kind))
        for t in batch:
            mine = units.get(t.pk, [])
            rows.append(TaskRow(
                pk=t.pk, code=t.code, title=t.title, category=t.get_category_display(),
                responsible="、".join(name for name, _ in mine),
                counties=[name for name, kind in mine if kind == UnitKind.COUNTY],
                deadline=deadline_text(t.deadline_kind, t.deadline), status=t.status, status_label=t.get_status_display(),
                progress=t.progress_status or "unscheduled",
                progress_label=STATUS_LABELS.get(t.progress_status or "unscheduled", t.progress_status),
                closeout_stage=t.get_closeout_stage_display() if t.closeout_stage else "",
                reasons="；".join(str(r) for r in (t.status_reasons or []))))
        batch.clear()
        if progress is not None:
            progress(len(rows))

    for task in tasks.order_by("code", "id").iterator(chunk_size=2000):
        batch.append(task)
        if len(batch) >= 2000:
            flush()
    if batch:
        flush()
    return rows


def report_data(campaign: Campaign, as_of: dt.date, *, intro: str = "", summaries: dict | None = None,
                received_date: dt.date | None = None, due_date: dt.date | None = None,
                progress=None) -> ReportData:
    rows = task_rows(Task.objects.filter(campaign=campaign), progress)
    totals = _empty()
    groups: dict[str, dict[str, int]] = {}
    counties: dict[str, dict[str, int]] = {}
    lists: dict[str, list[TaskRow]] = {"closed": [], "closing": [], "lagging": [], "overdue": []}
    for row in rows:
        _count(totals, row)
        _count(groups.setdefault(row.category, _empty()), row)
        for county in row.counties:
            _count(counties.setdefault(county, _empty()), row)
        if row.status == TaskStatus.CLOSED:
            lists["closed"].append(row)
        elif row.status == TaskStatus.CLOSING:
            lists["closing"].append(row)
        if row.status != TaskStatus.CLOSED and row.progress in ("lagging", "overdue"):
            lists[row.progress].append(row)
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time.min, tzinfo=timezone.get_current_timezone())
    rung_counts = dict(Escalation.objects.filter(task__campaign=campaign, issued_at__lt=end)
                       .values_list("rung").annotate(n=Count("pk")).order_by())
    escalations = {str(label): rung_counts.get(value, 0) for value, label in Rung.choices}
    start = received_date or campaign.feedback_date or dt.date(2000, 1, 1)
    accountability = office_counts(campaign.office, start, as_of)
    indicators = [{"name": i.name, "target": f"{i.get_comparator_display()} {i.value.normalize()}{i.unit}",
                   "year": str(i.year or ""), "attainment": "暂无监测数据"}
                  for i in Indicator.objects.filter(office=campaign.office).order_by("year", "id")]
    return ReportData(
        campaign=campaign, as_of=as_of, generated_at=timezone.now(), issuer=campaign.office.name, totals=totals,
        by_group=[{"name": k, **v} for k, v in sorted(groups.items(), key=lambda kv: (-kv[1]["tasks"], kv[0]))],
        by_county=[{"name": k, **v} for k, v in sorted(counties.items())],
        lists=lists, escalations=escalations, accountability=accountability, indicators=indicators, tasks=rows,
        chain_head=chain_head_at(as_of), intro=intro, summaries=dict(summaries or {}), received_date=received_date,
        due_date=due_date)


def status_counter(rows: list[TaskRow]) -> Counter:
    return Counter(r.status for r in rows)
