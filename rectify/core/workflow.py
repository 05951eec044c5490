"""Declared state machines: one transition table per workflow, read by services, pages, API and tests.

A workflow is a list of :class:`Transition` rows — (from state, action) → to state, who may do
it, the button label and the audit action it records — plus the permission predicates that give
meaning to each "who". The app's one transition service locks the row, asks
:meth:`Workflow.authorise` for the rule (refused when the table lacks it or the actor does not
qualify), applies the action's own effects and records the event named by the rule. Pages and
the API ask :meth:`Workflow.available` which actions to offer, so a button never exists for a
step the service would refuse. ``tests/test_workflows.py`` generates its cases from the tables:
every allowed (state, action, role) succeeds and every other combination is refused.

Every workflow registers itself in :data:`REGISTRY` so that docs and tests can list them all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError

SYSTEM = "system"  # a step only the software takes (tick, a derived change); no user qualifies


@dataclass(frozen=True)
class Transition:
    source: str
    action: str
    target: str
    who: str  # a key of the workflow's ``roles``, or SYSTEM
    label: str  # the Chinese name of the step, as a button or in a message
    event: str = ""  # the audit action recorded; defaults to "<workflow>_<action>"


class Workflow:
    def __init__(self, name: str, *, label: str, states: Iterable[tuple[str, Any]],
                 transitions: Iterable[Transition], roles: dict[str, Callable[[Any, Any], bool]],
                 state_attr: str = "status"):
        self.name = name
        self.label = label
        self.states: dict[str, str] = {str(k): str(v) for k, v in states}
        self.roles = dict(roles)
        self.state_attr = state_attr
        self.transitions: tuple[Transition, ...] = tuple(transitions)
        self._rules: dict[tuple[str, str], Transition] = {}
        for t in self.transitions:
            if (t.source, t.action) in self._rules:
                raise ValueError(f"{name}: ({t.source}, {t.action}) declared twice")
            if t.source not in self.states or (t.target not in self.states and not t.target.startswith("__")):
                raise ValueError(f"{name}: unknown state in {t}")
            if t.who != SYSTEM and t.who not in self.roles:
                raise ValueError(f"{name}: no predicate for who={t.who!r}")
            self._rules[(t.source, t.action)] = t
        REGISTRY[name] = self

    # --- reading the table ----------------------------------------------------------------

    @property
    def actions(self) -> list[str]:
        seen: dict[str, None] = {}
        for t in self.transitions:
            seen.setdefault(t.action, None)
        return list(seen)

    def rule(self, state: str, action: str) -> Transition | None:
        return self._rules.get((str(state), action))

    def label_of(self, action: str) -> str:
        return next((t.label for t in self.transitions if t.action == action), action)

    def event_of(self, rule: Transition) -> str:
        return rule.event or f"{self.name}_{rule.action}"

    def qualifies(self, user: Any, obj: Any, who: str) -> bool:
        if who == SYSTEM or user is None or not getattr(user, "is_authenticated", False):
            return False
        return bool(self.roles[who](user, obj))

    def available(self, user: Any, obj: Any) -> list[Transition]:
        """The steps this user may take on this object now (what a page or the API offers)."""
        state = str(getattr(obj, self.state_attr))
        return [t for t in self.transitions if t.source == state and self.qualifies(user, obj, t.who)]

    # --- executing ------------------------------------------------------------------------

    def authorise(self, user: Any, obj: Any, action: str) -> Transition:
        """The rule for ``action`` on ``obj`` in its current state, or a refusal.

        ``ValidationError`` when the table has no such step from this state (out of order, done
        twice); ``PermissionDenied`` when the actor is not one who may take it.
        """
        state = str(getattr(obj, self.state_attr))
        rule = self.rule(state, action)
        if rule is None:
            raise ValidationError(f"当前状态为「{self.states.get(state, state)}」，不能{self.label_of(action)}。")
        if not self.qualifies(user, obj, rule.who):
            raise PermissionDenied(f"您无权对该{self.label}执行「{rule.label}」。")
        return rule

    def system_rule(self, obj: Any, action: str) -> Transition:
        """The rule for a step the software takes on its own (no actor check)."""
        state = str(getattr(obj, self.state_attr))
        rule = self.rule(state, action)
        if rule is None:
            raise ValidationError(f"当前状态为「{self.states.get(state, state)}」，不能{self.label_of(action)}。")
        return rule

    def __repr__(self) -> str:
        return f"<Workflow {self.name}: {len(self.transitions)} transitions>"


REGISTRY: dict[str, Workflow] = {}
