"""Export: the ledger list a user sees, streamed to .xlsx with XlsxWriter ``constant_memory`` in
the import's column layout, every text neutralised against formula injection, and recorded.

Rows come from ``values_list`` (no model instances), 2,000 tasks at a time with one query for
their units and one for their measures; choice labels are looked up once per export, not per
cell. So the queries grow by two per 2,000 tasks and memory stays flat whatever the size."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from rectify.core.audit import record_event
from rectify.ledger import selectors
from rectify.ledger.excel.cells import neutralise
from rectify.ledger.excel.columns import COLUMN_BY_FIELD, EXPORT_FIELDS
from rectify.ledger.excel.deadlines import format_deadline
from rectify.ledger.excel.measures import join_measures
from rectify.ledger.models import DeadlineKind, Measure, TaskStatus, TaskUnit, UnitRole
from rectify.orgs.models import Category, User

EXPORT_CHUNK = 2000

# what a row reads from the task itself, in this order (ledger_rows unpacks it)
_TASK_VALUES = ("id", "code", "title", "problem", "target", "leader__display_name", "deadline_kind", "deadline",
                "progress_note", "completion_note", "category", "inspection_number", "status", "campaign__name",
                "start_date", "location_name", "latitude", "longitude")


def export_queryset(user: User, filters: selectors.TaskFilter | None = None) -> QuerySet:
    """What an export holds: exactly the ledger list the user sees with these filters, in its order."""
    return selectors.task_queryset(user, filters)


def ledger_rows(tasks: QuerySet) -> Iterator[list]:
    """The export's rows (cells in ``EXPORT_FIELDS`` order, 序号 from 1) for ``tasks`` in their
    order: the tasks streamed as tuples, and per 2,000 of them one query for their units (by role,
    in order) and one for their measures."""
    categories = {value: str(label) for value, label in Category.choices}  # gettext once, not per cell
    statuses = {value: str(label) for value, label in TaskStatus.choices}
    at = {f: i for i, f in enumerate(EXPORT_FIELDS)}
    width = len(EXPORT_FIELDS)
    stream = tasks.values_list(*_TASK_VALUES).iterator(chunk_size=EXPORT_CHUNK)
    seq = 0
    while chunk := list(islice(stream, EXPORT_CHUNK)):
        ids = [r[0] for r in chunk]
        units: dict[int, dict[str, list[str]]] = {}
        for task_id, role, name in (TaskUnit.objects.filter(task_id__in=ids).order_by("task_id", "role", "ordinal", "id")
                                    .values_list("task_id", "role", "unit__name")):
            units.setdefault(task_id, {}).setdefault(role, []).append(name)
        measures: dict[int, list[str]] = {}
        for task_id, text in (Measure.objects.filter(task_id__in=ids).order_by("task_id", "ordinal", "id")
                              .values_list("task_id", "text")):
            measures.setdefault(task_id, []).append(text)
        for (pk, code, title, problem, target, leader, deadline_kind, deadline, progress, completion, category,
             inspection, status, campaign, start, location, latitude, longitude) in chunk:
            seq += 1
            roles = units.get(pk, {})
            row: list = [""] * width
            row[at["seq"]] = seq
            row[at["code"]] = code
            row[at["title"]] = title
            row[at["problem"]] = problem
            row[at["target"]] = target
            row[at["measures"]] = join_measures(measures.get(pk, ()))
            row[at["responsible"]] = "、".join(roles.get(UnitRole.RESPONSIBLE, ()))
            row[at["lead"]] = "、".join(roles.get(UnitRole.LEAD_SUPERVISOR, ()))
            row[at["co"]] = "、".join(roles.get(UnitRole.CO_SUPERVISOR, ()))
            row[at["leader"]] = leader or ""
            row[at["deadline"]] = format_deadline(deadline_kind, deadline)
            row[at["progress"]] = progress
            row[at["completion"]] = completion
            row[at["category"]] = categories.get(category, category)
            row[at["inspection"]] = inspection
            row[at["status"]] = statuses.get(status, status)
            row[at["campaign"]] = campaign
            row[at["start"]] = format_deadline(DeadlineKind.BY_DATE, start)  # a bare date, as 整改时限 writes it
            row[at["location"]] = location
            row[at["latitude"]] = latitude if latitude is not None else ""
            row[at["longitude"]] = longitude if longitude is not None else ""
            yield row


_WIDTHS = {"seq": 6, "code": 14, "title": 30, "problem": 40, "target": 30, "measures": 50, "responsible": 18,
           "lead": 16, "co": 18, "leader": 10, "deadline": 16, "progress": 36, "completion": 20, "category": 14,
           "inspection": 12, "status": 8, "campaign": 24, "start": 14, "location": 24, "latitude": 11,
           "longitude": 11}


def write_ledger(rows: Iterable[list], target, *, sheet_name: str = "整改台账") -> int:
    """Write rows (from :func:`ledger_rows`) to ``target`` (a path or a binary file) one by one;
    returns the row count.

    ``constant_memory`` flushes each row as it is written, so memory stays flat however long
    the ledger is. Every text goes through :func:`neutralise` and ``write_string`` (never
    ``write``, which would turn "=…" into a formula).
    """
    import xlsxwriter

    book = xlsxwriter.Workbook(target, {"constant_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False, "tmpdir": str(scratch_dir())})
    sheet = book.add_worksheet(sheet_name)
    head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter",
                            "align": "center"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    for c, f in enumerate(EXPORT_FIELDS):
        sheet.set_column(c, c, _WIDTHS.get(f, 14))
    for c, f in enumerate(EXPORT_FIELDS):
        sheet.write_string(0, c, COLUMN_BY_FIELD[f].label, head)
    sheet.freeze_panes(1, 3)
    write_string, write_number = sheet.write_string, sheet.write_number
    count = 0
    for count, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if isinstance(value, int | float):
                write_number(count, c, value, wrap)
            elif value:
                write_string(count, c, neutralise(value), wrap)
    sheet.autofilter(0, 0, max(count, 1), len(EXPORT_FIELDS) - 1)
    book.close()
    return count


def scratch_dir() -> Path:
    """Where export scratch files go: under UPLOAD_DIR, outside any web root."""
    path = Path(settings.UPLOAD_DIR) / "tmp"
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_ledger(*, user: User, filters: selectors.TaskFilter | None, target) -> int:
    """Export the user's view of the ledger and record who exported what (导出留痕)."""
    count = write_ledger(ledger_rows(export_queryset(user, filters)), target)
    shown = {k: v for k, v in dataclasses.asdict(filters or selectors.TaskFilter()).items()
             if v not in (None, "", False) and not (k == "sort" and v in ("code", "warning"))}  # defaults left out
    with transaction.atomic():
        record_event(actor=user, action="ledger_exported", object_type="ledger.task",
                     summary=f"导出整改台账 Excel：{count} 条任务",
                     after={"filters": shown, "rows": count})
    return count


def export_filename(today: dt.date) -> str:
    return f"整改台账-{today:%Y%m%d}.xlsx"
