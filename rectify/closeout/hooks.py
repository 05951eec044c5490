"""Extension points of close-out (see rectify/core/hooks.py and docs/architecture.md, Hooks)."""

from __future__ import annotations

from rectify.core.hooks import Hook

rebound_found = Hook(
    "closeout.rebound_found",
    "handler(check) -> object | None — a look-back found a closed problem rebounded; runs inside "
    "the recording transaction. Accountability turns it into a proposed case (追责问责建议).",
)

verification_failed = Hook(
    "closeout.verification_failed",
    "handler(closeout) -> object | None — 核查 found that the completion a unit reported is not true "
    "(verify_fail); runs inside the transition's transaction. Accountability proposes a case.",
)

public_notices = Hook(
    "closeout.public_notices",
    "handler() -> Q — the close-outs whose notice the public may see and object to (disclosure: those of "
    "published tasks). Without a handler no notice is public: the public objection operation fails closed.",
)
