"""Extension points of the dashboard (see rectify/core/hooks.py and docs/architecture.md, Hooks)."""

from __future__ import annotations

from rectify.core.hooks import Hook

board_panels = Hook(
    "dashboard.board_panels",
    "handler(user, today) -> ledger.hooks.TaskPanel | None — sections of the board (挂图作战, the office's and "
    "the leaders' landing page) drawn by higher apps, each reading through its own app's scope: the 6-month "
    "report's countdown (reports, order < 50: above the map), the project reserve per county and stage "
    "(reserve, order ≥ 50: below the county table).",
)
