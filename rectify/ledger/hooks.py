"""Extension points of the ledger (see rectify/core/hooks.py and docs/architecture.md, Hooks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rectify.core.hooks import Hook


@dataclass
class TaskPanel:
    """A section of the task page drawn by a higher app (reports, escalations, close-out …)."""

    order: int
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    actions: list[tuple[str, str]] = field(default_factory=list)  # (label, url) buttons in the page header


task_panels = Hook(
    "ledger.task_panels",
    "handler(user, task) -> TaskPanel | None — sections of the task page; each handler reads "
    "through its own app's scope.",
)

timeline_hidden = Hook(
    "ledger.timeline_hidden",
    "handler(user, task) -> Q | None — events on the task's timeline this user may not see (e.g. "
    "another county's reports on a shared task).",
)

tasks_saved = Hook(
    "ledger.tasks_saved",
    "handler(task_ids) — tasks were created or edited (the form, the API, an Excel import); runs "
    "inside the writing transaction for one task, and right after it for a bulk write (an import's "
    "write lock is not held for it). Supervision recomputes their derived progress status, so a "
    "new task shows it at once.",
)

bulk_task_units = Hook(
    "ledger.bulk_task_units",
    "handler(using) -> context manager | None — entered around a bulk write's insert of task units, "
    "inside its transaction (which holds the write lock): what other apps keep from task units by "
    "row triggers may be kept for the whole insert at once when it exits. An exception inside "
    "rolls the transaction back, the handler's work with it.",
)

new_task_status = Hook(
    "ledger.new_task_status",
    "handler(task, measures_total, measures_done, today) -> dict | None — the derived progress status "
    "(the Task fields progress_status, warning_colour, expected_percent, actual_percent, status_reasons, "
    "status_computed_on) of a task a bulk write is about to insert, from its own fields: a new task "
    "has no reports yet. The bulk write stores it with the row, before its transaction, so its "
    "tasks need no recomputation afterwards. Runs before any transaction; must not query per task. "
    "The answer may depend only on the task's status, deadline_kind, deadline and start_date, the "
    "measure counts and today: a bulk write asks once for the tasks alike in these.",
)
