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
