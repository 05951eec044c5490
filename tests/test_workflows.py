"""Every declared workflow, exercised from its own table (generated, not hand-written per step).

For each workflow in ``rectify.core.workflow.REGISTRY`` and each (state, action, persona):
- the table's answer (``authorise``) is "allowed" exactly when the table has the step from that
  state and the persona holds the step's role on the object — the roles each persona holds are
  written here, independently of the code's predicates;
- for a step a person takes, the app's own transition service moves the object to the table's
  target when allowed, and refuses (ValidationError, PermissionDenied or 404) without changing
  anything when not.

A new workflow without a spec here fails ``test_every_workflow_has_a_spec``.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from rectify.core.workflow import REGISTRY, SYSTEM
from rectify.dispatch import services as dispatch
from rectify.dispatch.models import DispatchRound, ProgressReport
from rectify.ledger.models import Task
from rectify.supervision import services as supervision
from rectify.supervision.models import Escalation, Rung
from tests.conftest import make_world

PERSONAS = ["office_admin", "office_staff", "lead_env", "lead_housing", "reporter_a", "reviewer_a", "reporter_b",
            "leader_a", "discipline", "auditor"]
REFUSALS = (ValidationError, PermissionDenied, Http404)


@dataclass
class Spec:
    make: Callable[[Any], Any]  # world -> the object the cases act on
    roles: dict[str, set[str]]  # persona -> the table roles it holds on that object
    act: Callable[[Any, Any, Any, str], None] | None  # (world, user, obj, action) through the service
    reload: Callable[[Any], Any]


def _report(world):
    rnd, _ = dispatch.open_round(actor=world.users["office_admin"], office=world.office, period="2026-11",
                                 due_date=dt.date(2099, 12, 10))
    report = ProgressReport.objects.get(round=rnd, task=world.task_a)
    ProgressReport.objects.filter(pk=report.pk).update(progress_text="完成截污管网 3.2 公里。", percent=40)
    return report


def _act_report(world, user, report, action):
    report.refresh_from_db()
    dispatch.transition(actor=user, report=report, action=action, expected_version=report.version,
                        reason="退回原因" if action in {"send_back", "return"} else "")


def _round(world):
    rnd, _ = dispatch.open_round(actor=world.users["office_admin"], office=world.office, period="2026-11",
                                 due_date=dt.date(2099, 12, 10))
    return rnd


def _act_round(world, user, rnd, action):
    if action != "close":
        raise PermissionDenied("no personal entry point")
    dispatch.close_round(actor=user, rnd=rnd)


def _escalation(world):
    return supervision.issue_escalation(actor=world.users["office_admin"], task=world.task_a, rung=Rung.CIRCULAR,
                                        reason="进度滞后", target_unit=world.county_a,
                                        reply_due=dt.date(2099, 1, 1))


def _act_escalation(world, user, esc, action):
    if action == "reply":
        supervision.reply_escalation(actor=user, escalation=esc, text="已整改")
    else:
        supervision.close_escalation(actor=user, escalation=esc)


SPECS: dict[str, Spec] = {
    "report": Spec(_report, {"reporter_a": {"writer"}, "reviewer_a": {"reviewer"}, "lead_env": {"lead"},
                             "office_admin": {"lead"}, "office_staff": {"lead"}},
                   _act_report, lambda r: ProgressReport.objects.get(pk=r.pk)),
    "round": Spec(_round, {"office_admin": {"office"}, "office_staff": {"office"}}, _act_round,
                  lambda r: DispatchRound.objects.get(pk=r.pk)),
    "escalation": Spec(_escalation, {"reporter_a": {"target"}, "reviewer_a": {"target"}, "office_admin": {"issuer"},
                                     "office_staff": {"issuer"}, "lead_env": {"issuer"}},
                       _act_escalation, lambda e: Escalation.objects.get(pk=e.pk)),
    "task": Spec(lambda world: world.task_a, {}, None, lambda t: Task.objects.get(pk=t.pk)),
}


def test_every_workflow_has_a_spec():
    assert set(REGISTRY) == set(SPECS), "add a Spec for each workflow (and remove those that are gone)"


CASES = [(name, state, action) for name, flow in sorted(REGISTRY.items())
         for state, action in itertools.product(flow.states, flow.actions)]


def _set_state(obj, flow, state):
    type(obj).objects.filter(pk=obj.pk).update(**{flow.state_attr: state})
    obj.refresh_from_db()


@pytest.mark.parametrize("name,state,action", CASES, ids=[f"{n}:{s}:{a}" for n, s, a in CASES])
def test_transition_table(db, name, state, action):
    flow, spec = REGISTRY[name], SPECS[name]
    world = make_world()
    obj = spec.make(world)
    rule = flow.rule(state, action)
    for persona in PERSONAS:
        user = world.users[persona]
        _set_state(obj, flow, state)
        allowed = rule is not None and rule.who != SYSTEM and rule.who in spec.roles.get(persona, set())
        if allowed:
            assert flow.authorise(user, obj, action) == rule
        else:
            with pytest.raises((ValidationError, PermissionDenied)):
                flow.authorise(user, obj, action)
        if spec.act is None or (rule is not None and rule.who == SYSTEM):
            continue
        before = spec.reload(obj)
        if allowed:
            spec.act(world, user, obj, action)
            after = getattr(spec.reload(obj), flow.state_attr)
            follow = flow.rule(rule.target, "skip_review")  # a round without unit review skips a step
            assert after in {rule.target, *( [follow.target] if follow else [])}, (persona, after)
        else:
            with pytest.raises(REFUSALS):
                spec.act(world, user, obj, action)
            assert getattr(spec.reload(obj), flow.state_attr) == getattr(before, flow.state_attr), persona


@pytest.mark.parametrize("name", sorted(SPECS))
def test_system_steps_follow_the_table(db, name):
    """Steps only the software takes are still declared: system_rule gives their target, nothing else."""
    flow = REGISTRY[name]
    obj = SPECS[name].make(make_world())
    for state, action in itertools.product(flow.states, flow.actions):
        _set_state(obj, flow, state)
        rule = flow.rule(state, action)
        if rule is not None:
            assert flow.system_rule(obj, action).target == rule.target
        else:
            with pytest.raises(ValidationError):
                flow.system_rule(obj, action)


def test_pages_and_api_offer_what_the_table_allows(db):
    world = make_world()
    report = _report(world)
    offered = {t.action for t in REGISTRY["report"].available(world.users["reporter_a"], report)}
    assert offered == {"save", "submit"}
    api_actions = world.client("reporter_a")
    page = api_actions.get(f"/dispatch/reports/{report.pk}/").content.decode()
    assert 'value="submit"' in page and 'value="approve"' not in page
