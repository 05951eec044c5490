"""Export: the ledger list a user sees, streamed to .xlsx with XlsxWriter ``constant_memory`` in
the import's column layout, every text neutralised against formula injection, and recorded."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch, QuerySet

from rectify.core.audit import record_event
from rectify.ledger import selectors
from rectify.ledger.excel.cells import neutralise
from rectify.ledger.excel.columns import COLUMN_BY_FIELD, EXPORT_FIELDS
from rectify.ledger.excel.deadlines import format_deadline
from rectify.ledger.excel.measures import join_measures
from rectify.ledger.models import Measure, Task, TaskUnit, UnitRole
from rectify.orgs.models import User

EXPORT_CHUNK = 2000


def export_queryset(user: User, filters: selectors.TaskFilter | None = None) -> QuerySet:
    """What an export holds: exactly the ledger list the user sees with these filters."""
    return (selectors.task_queryset(user, filters)
            .select_related("campaign", "leader")
            .prefetch_related(Prefetch("task_units", queryset=TaskUnit.objects.select_related("unit")
                                       .order_by("role", "ordinal", "id")),
                              Prefetch("measures", queryset=Measure.objects.order_by("ordinal", "id"))))


def task_row(task: Task, seq: int) -> list:
    units: dict[str, list[str]] = {}
    for tu in task.task_units.all():
        units.setdefault(tu.role, []).append(tu.unit.name)
    values = {
        "seq": seq, "code": task.code, "title": task.title, "problem": task.problem, "target": task.target,
        "measures": join_measures(m.text for m in task.measures.all()),
        "responsible": "、".join(units.get(UnitRole.RESPONSIBLE, [])),
        "lead": "、".join(units.get(UnitRole.LEAD_SUPERVISOR, [])),
        "co": "、".join(units.get(UnitRole.CO_SUPERVISOR, [])),
        "leader": task.leader.display_name if task.leader_id else "",
        "deadline": format_deadline(task.deadline_kind, task.deadline),
        "progress": task.progress_note, "completion": task.completion_note,
        "category": task.get_category_display(), "inspection": task.inspection_number,
        "status": task.get_status_display(), "campaign": task.campaign.name,
    }
    return [values[f] for f in EXPORT_FIELDS]


_WIDTHS = {"seq": 6, "code": 14, "title": 30, "problem": 40, "target": 30, "measures": 50, "responsible": 18,
           "lead": 16, "co": 18, "leader": 10, "deadline": 16, "progress": 36, "completion": 20, "category": 14,
           "inspection": 12, "status": 8, "campaign": 24}


def write_ledger(tasks: Iterable[Task], target, *, sheet_name: str = "整改台账") -> int:
    """Write tasks to ``target`` (a path or a binary file) row by row; returns the row count.

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
    count = 0
    for count, task in enumerate(tasks, start=1):
        for c, value in enumerate(task_row(task, count)):
            if isinstance(value, int):
                sheet.write_number(count, c, value, wrap)
            elif value:
                sheet.write_string(count, c, neutralise(value), wrap)
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
    count = write_ledger(export_queryset(user, filters).iterator(chunk_size=EXPORT_CHUNK), target)
    shown = {k: v for k, v in dataclasses.asdict(filters or selectors.TaskFilter()).items()
             if v not in (None, "") and not (k == "sort" and v == "code")}
    with transaction.atomic():
        record_event(actor=user, action="ledger_exported", object_type="ledger.task",
                     summary=f"导出整改台账 Excel：{count} 条任务",
                     after={"filters": shown, "rows": count})
    return count


def export_filename(today: dt.date) -> str:
    return f"整改台账-{today:%Y%m%d}.xlsx"
