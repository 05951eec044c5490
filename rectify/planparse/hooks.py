"""Extension points of the plan import (see rectify/core/hooks.py and docs/architecture.md, Hooks)."""

from __future__ import annotations

from rectify.core.hooks import Hook

preview_panels = Hook(
    "planparse.preview_panels",
    "handler(user, campaign, parse, back) -> ledger.hooks.TaskPanel | None — sections of the plan's review "
    "page (/plans/<token>/) drawn by higher apps outside the import form, each with its own form posting "
    "to its own app (reports: the plan's deadlines offered as the campaign's); ``parse`` is the parsed "
    "plan (PlanParse.to_dict()), ``back`` the review page's address to return to.",
)
