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
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from rectify.closeout import services as closeout_services
from rectify.closeout.models import Closeout, LookBackCheck, Objection
from rectify.core.workflow import REGISTRY, SYSTEM
from rectify.dispatch import services as dispatch
from rectify.dispatch.models import DispatchRound, ProgressReport
from rectify.ledger.models import Task
from rectify.supervision import services as supervision
from rectify.supervision.models import Escalation, Rung
from tests.conftest import make_world, round_due

PERSONAS = ["office_admin", "office_staff", "lead_env", "lead_housing", "reporter_a", "reviewer_a", "reporter_b",
            "leader_a", "discipline", "auditor"]
REFUSALS = (ValidationError, PermissionDenied, Http404)


@dataclass
class Spec:
    make: Callable[[Any], Any]  # world -> the object the cases act on
    roles: dict[str, set[str]]  # persona -> the table roles it holds on that object
    act: Callable[[Any, Any, Any, str], None] | None  # (world, user, obj, action) through the service
    reload: Callable[[Any], Any]
    reset: Callable[[Any], None] = lambda obj: None  # restore what an allowed step changed around the object


def _report(world):
    rnd, _ = dispatch.open_round(actor=world.users["office_admin"], office=world.office, period="2026-11",
                                 due_date=round_due("2026-11"))
    report = ProgressReport.objects.get(round=rnd, task=world.task_a)
    ProgressReport.objects.filter(pk=report.pk).update(progress_text="完成截污管网 3.2 公里。", percent=40)
    return report


def _act_report(world, user, report, action):
    report.refresh_from_db()
    dispatch.transition(actor=user, report=report, action=action, expected_version=report.version,
                        reason="退回原因" if action in {"send_back", "return"} else "")


def _round(world):
    rnd, _ = dispatch.open_round(actor=world.users["office_admin"], office=world.office, period="2026-11",
                                 due_date=round_due("2026-11"))
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


def _closeout(world):
    from tests.test_closeout import assessed, checks

    closeout = assessed(world)
    Closeout.objects.filter(pk=closeout.pk).update(status="accepted")
    checks(world, closeout)  # the three 核查 records verify_pass needs
    Closeout.objects.filter(pk=closeout.pk).update(notice_end=dt.date(2020, 1, 1), notice_start=dt.date(2019, 12, 25))
    return closeout


def _reset_closeout(closeout):
    Task.objects.filter(pk=closeout.task_id).update(status="closing")


def _act_closeout(world, user, closeout, action):
    closeout_services.transition(actor=user, closeout=closeout, action=action, reason="退回原因", opinion="核查意见")


def _objection(world):
    closeout = _closeout(world)
    Closeout.objects.filter(pk=closeout.pk).update(status="in_notice", notice_end=dt.date(2099, 1, 1))
    return closeout_services.file_objection(closeout=Closeout.objects.get(pk=closeout.pk), content="异议内容五个字以上")


def _reset_objection(objection):
    Closeout.objects.filter(pk=objection.closeout_id).update(status="in_notice")
    Task.objects.filter(pk=objection.closeout.task_id).update(status="closing")


def _act_objection(world, user, objection, action):
    closeout_services.answer_objection(actor=user, objection=objection, action=action, answer="答复内容")


def _lookback_check(world):
    from tests.test_closeout import closed_task

    task = closed_task(world)
    lookback = closeout_services.start_lookback(actor=world.users["office_admin"], campaign=world.campaign,
                                                title="回头看", share_percent=100, due_date=dt.date(2099, 1, 1))
    return lookback.checks.get(task=task)


def _reset_lookback_check(check):
    Task.objects.filter(pk=check.task_id).update(status="closed")


def _act_lookback_check(world, user, check, action):
    closeout_services.record_lookback_result(actor=user, check=check, action=action, statement="复查情况",
                                             new_deadline=dt.date(2099, 6, 30))


def _case(world):
    from rectify.accountability.models import AccountabilityCase
    from tests.accountability_helpers import designate, open_case

    designate(world)  # office_staff becomes the office's case handler; office_admin is not one
    case = open_case(world)
    # what later steps need, set up front so every state can be tried: the findings a report is made
    # of, and the commission the case goes to (whose members see it once referred)
    AccountabilityCase.objects.filter(pk=case.pk).update(findings="调查认定的事实。", recommendation="建议。",
                                                         commission=world.discipline, referred_at=timezone.now())
    case.refresh_from_db()
    return case


def _act_case(world, user, case, action):
    from rectify.accountability import services as accountability
    from tests.accountability_helpers import LATER

    accountability.transition(actor=user, case=case, action=action, reason="理由", opinion="审核意见",
                              lead_unit=world.dept_env, investigation_due=LATER, commission=world.discipline,
                              handling_due=LATER, outcome="criticism", detail="通报批评。")


def _help_request(world):
    from rectify.assessment import services as assessment

    report = _report(world)
    ProgressReport.objects.filter(pk=report.pk).update(status="draft", difficulties="缺少专项资金。")
    report.refresh_from_db()
    help_request = assessment.request_help(actor=world.users["reporter_a"], report=report, needs="协调专项资金。")
    type(help_request).objects.filter(pk=help_request.pk).update(helper_unit=world.dept_housing)
    help_request.refresh_from_db()
    return help_request


def _act_help(world, user, help_request, action):
    from rectify.assessment import services as assessment

    assessment.help_transition(actor=user, help_request=help_request, action=action, answer="答复",
                               helper_unit=world.dept_housing, help_given="已派员指导。")


def _visit(world):
    from rectify.assessment import services as assessment

    today = timezone.localdate()
    return assessment.plan_visit(actor=world.users["office_admin"], county=world.county_a,
                                 quarter=assessment.quarter_of(today), planned_on=today, team="督导组")


def _act_visit(world, user, visit, action):
    from rectify.assessment import services as assessment

    assessment.visit_transition(actor=user, visit=visit, action=action, visited_on=timezone.localdate(),
                                findings="发现问题。", reason="另行安排。")


def _result(world):
    from rectify.assessment import scoring
    from rectify.assessment import services as assessment

    scheme = assessment.save_scheme(actor=world.users["office_admin"], campaign=world.campaign, name="办法",
                                    items=scoring.DEFAULT_ITEMS)
    today = timezone.localdate()
    return assessment.compute_result(actor=world.users["office_admin"], scheme=scheme, title="考核",
                                     period_start=today.replace(day=1), period_end=today)


def _act_result(world, user, result, action):
    from rectify.assessment import services as assessment

    assessment.result_transition(actor=user, result=result, action=action)


def _article(world):
    from rectify.disclosure import services as disclosure

    return disclosure.create_article(actor=world.users["office_admin"], kind="circular", title="通报",
                                     body="正文。")


def _act_article(world, user, article, action):
    from rectify.disclosure import services as disclosure

    disclosure.article_transition(actor=user, article=article, action=action)


def _instruction_receipt(world):
    from rectify.dashboard.services import issue_instruction

    ins = issue_instruction(actor=world.users["leader_a"], task=world.task_a, text="抓紧推进管网建设。")
    return ins.receipts.get()


def _act_instruction(world, user, receipt, action):
    from rectify.dashboard.services import record_instruction_action

    if action != "record":
        raise PermissionDenied("no such step")
    record_instruction_action(actor=user, receipt=receipt, text="已按批示办理。")


def _job(world):
    from rectify.jobs.models import Job

    return Job.objects.create(kind="ledger_import", title="导入台账", owner=world.users["office_admin"],
                              params={"campaign": world.campaign.pk}, status="failed", attempt=1)


def _act_job(world, user, job, action):
    from rectify.jobs import services as jobs

    if action != "rerun":
        raise PermissionDenied("no personal entry point")
    jobs.rerun_job(actor=user, job=job)


def _project(world):
    from decimal import Decimal

    from rectify.reserve import services as reserve

    return reserve.create_project(actor=world.users["office_admin"], data=reserve.ProjectInput(
        code="P-01", name="湿地修复", responsible_unit=world.county_a, county=world.county_a,
        total_investment=Decimal("100")))


def _act_project(world, user, project, action):
    from rectify.reserve import services as reserve

    reserve.transition(actor=user, project=project, action=action)


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
    # 零陵区's reviewer assesses and applies; the office runs the procedure; 市生态环境局 (lead, and the
    # acceptance unit by default) verifies.
    "closeout": Spec(_closeout, {"reviewer_a": {"unit_reviewer"}, "office_admin": {"office"},
                                 "office_staff": {"office"}, "lead_env": {"verifier"}},
                     _act_closeout, lambda c: Closeout.objects.get(pk=c.pk), _reset_closeout),
    "objection": Spec(_objection, {"office_admin": {"office"}, "office_staff": {"office"}}, _act_objection,
                      lambda o: Objection.objects.get(pk=o.pk), _reset_objection),
    # the check is assigned to 市生态环境局 (the task's lead unit); the office that runs the campaign may record too
    "lookback_check": Spec(_lookback_check, {"lead_env": {"checker"}, "office_admin": {"checker"},
                                             "office_staff": {"checker"}},
                           _act_lookback_check, lambda c: LookBackCheck.objects.get(pk=c.pk), _reset_lookback_check),
    # office_staff is the designated case handler (office_admin is not); 市生态环境局 investigates T-01's
    # case; 市纪委监委 receives it. The units concerned (零陵区: reporter_a, reviewer_a) hold no role.
    "accountability_case": Spec(_case, {"office_staff": {"handler"}, "lead_env": {"investigator"},
                                        "discipline": {"commission"}},
                                _act_case, lambda c: type(c).objects.get(pk=c.pk)),
    # 零陵区 asks on its report of T-01; the office and 市生态环境局 (T-01's lead) answer; 住建局 is the helper
    # unit, so its supervisor may record the help given too (as may whoever answers)
    "help_request": Spec(_help_request, {"reporter_a": {"requester"}, "reviewer_a": {"requester"},
                                         "office_admin": {"responder", "helper"},
                                         "office_staff": {"responder", "helper"},
                                         "lead_env": {"responder", "helper"}, "lead_housing": {"helper"}},
                         _act_help, lambda h: type(h).objects.get(pk=h.pk)),
    "supervision_visit": Spec(_visit, {"office_admin": {"office"}, "office_staff": {"office"}}, _act_visit,
                              lambda v: type(v).objects.get(pk=v.pk)),
    # the office writes the public articles (a publicist designated by it would too)
    "article": Spec(_article, {"office_admin": {"editor"}, "office_staff": {"editor"}}, _act_article,
                    lambda a: type(a).objects.get(pk=a.pk)),


    # 包零陵区's leader writes on T-01: 零陵区's own people record what they did
    "instruction_receipt": Spec(_instruction_receipt, {"reporter_a": {"recipient"}, "reviewer_a": {"recipient"}},
                                _act_instruction, lambda r: type(r).objects.get(pk=r.pk)),


    # the office that runs the reserve moves a project's stage; the county only reports progress
    "project_stage": Spec(_project, {"office_admin": {"office"}, "office_staff": {"office"}}, _act_project,
                          lambda p: type(p).objects.get(pk=p.pk)),
    # a background job is its owner's alone (office_admin started this one)
    "job": Spec(_job, {"office_admin": {"owner"}}, _act_job, lambda j: type(j).objects.get(pk=j.pk)),
    "assessment_result": Spec(_result, {"office_admin": {"office"}, "office_staff": {"office"}}, _act_result,
                              lambda r: type(r).objects.get(pk=r.pk)),
}


def test_every_workflow_has_a_spec():
    assert set(REGISTRY) == set(SPECS), "add a Spec for each workflow (and remove those that are gone)"


def cases(name: str) -> list[tuple[str, str, str]]:
    flow = REGISTRY[name]
    return [(state, action, persona) for state, action in itertools.product(flow.states, flow.actions)
            for persona in PERSONAS]


def _set_state(obj, flow, state):
    type(obj).objects.filter(pk=obj.pk).update(**{flow.state_attr: state})
    obj.refresh_from_db()


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_transition_table(db, name):
    """Every (state × action × persona) of the table, each in a savepoint rolled back afterwards, so the
    world is built once per workflow."""
    flow, spec = REGISTRY[name], SPECS[name]
    world = make_world()
    obj = spec.make(world)
    for state, action, persona in cases(name):
        sid = transaction.savepoint()
        try:
            _check_case(flow, spec, world, obj, state, action, persona)
        except AssertionError as exc:
            raise AssertionError(f"{name}: state={state} action={action} persona={persona}: {exc}") from exc
        finally:
            transaction.savepoint_rollback(sid)
            obj.refresh_from_db()


def _check_case(flow, spec, world, obj, state, action, persona):
    user = world.users[persona]
    _set_state(obj, flow, state)
    spec.reset(obj)
    rule = flow.rule(state, action)
    allowed = rule is not None and rule.who != SYSTEM and rule.who in spec.roles.get(persona, set())
    if allowed:
        assert flow.authorise(user, obj, action) == rule
    else:
        with pytest.raises((ValidationError, PermissionDenied)):
            flow.authorise(user, obj, action)
    if spec.act is None or (rule is not None and rule.who == SYSTEM):
        return
    before = getattr(spec.reload(obj), flow.state_attr)
    if allowed:
        spec.act(world, user, obj, action)
        after = getattr(spec.reload(obj), flow.state_attr)
        follow = flow.rule(rule.target, "skip_review")  # a round without unit review skips a step
        assert after in {rule.target, *([follow.target] if follow else [])}, after
    else:
        with pytest.raises(REFUSALS):
            spec.act(world, user, obj, action)
        assert getattr(spec.reload(obj), flow.state_attr) == before


def test_case_counts():
    """The generated cases per workflow (states × actions × personas), as the closing note reports them."""
    counts = {name: len(cases(name)) for name in REGISTRY}
    assert all(n >= len(PERSONAS) for n in counts.values()), counts


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
