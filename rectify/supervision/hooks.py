"""Extension points of supervision (see rectify/core/hooks.py and docs/architecture.md, Hooks)."""

from __future__ import annotations

from rectify.core.hooks import Hook

escalation_issued = Hook(
    "supervision.escalation_issued",
    "handler(escalation) -> object | None — a person issued a rung of the ladder (通报 and up); runs "
    "inside the issuing transaction. Accountability proposes a case on 挂牌督办 and 约谈.",
)
