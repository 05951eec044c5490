"""Extension points of dispatch (see rectify/core/hooks.py and docs/architecture.md, Hooks)."""

from __future__ import annotations

from rectify.core.hooks import Hook

report_accepted = Hook(
    "dispatch.report_accepted",
    "handler(report) — a lead unit accepted a progress report; runs inside the accepting "
    "transaction (supervision refreshes the task's derived status).",
)

round_closed = Hook(
    "dispatch.round_closed",
    "handler(rnd, today) — a round has just closed; runs inside the closing transaction "
    "(supervision keeps each task's status as it stood at the round's end).",
)

round_panels = Hook(
    "dispatch.round_panels",
    "handler(user, rnd) -> ledger.hooks.TaskPanel | None — sections of the dispatch table (the round "
    "page) drawn by higher apps; each reads through its own app's scope (e.g. open help requests).",
)

report_panels = Hook(
    "dispatch.report_panels",
    "handler(user, report) -> ledger.hooks.TaskPanel | None — sections of a progress report's page "
    "drawn by higher apps (e.g. turning its 存在困难 into a help request).",
)
