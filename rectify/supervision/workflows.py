"""The escalation's own life (督办措施): issued → replied by its target → closed by the issuer's side."""

from __future__ import annotations

from rectify.core.workflow import Transition, Workflow
from rectify.supervision import scope
from rectify.supervision.models import EscalationStatus

E = EscalationStatus

ESCALATION_FLOW = Workflow(
    "escalation",
    label="督办",
    states=E.choices,
    roles={"target": scope.replies_to, "issuer": scope.closes},
    transitions=[
        Transition(E.OPEN, "reply", E.REPLIED, "target", "回复", "escalation_replied"),
        Transition(E.OPEN, "close", E.CLOSED, "issuer", "办结", "escalation_closed"),
        Transition(E.REPLIED, "close", E.CLOSED, "issuer", "办结", "escalation_closed"),
    ],
)
