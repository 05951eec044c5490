"""The close-out table (初审、公示、申请、核查、备案), the objection table and the look-back check table."""

from __future__ import annotations

from rectify.closeout import scope
from rectify.closeout.models import CheckResult, CloseoutStatus, ObjectionStatus
from rectify.core.workflow import SYSTEM, Transition, Workflow

C = CloseoutStatus

CLOSEOUT_FLOW = Workflow(
    "closeout",
    label="销号申请",
    states=C.choices,
    roles={"unit_reviewer": scope.assesses, "office": scope.runs_closeout, "verifier": scope.verifies},
    transitions=[
        # 初审: every responsible unit self-assesses, then a reviewer applies
        Transition(C.SELF_ASSESSING, "apply", C.APPLIED, "unit_reviewer", "初审通过，申请销号", "closeout_applied"),
        Transition(C.SELF_ASSESSING, "withdraw", C.RETURNED, "unit_reviewer", "撤回销号申请", "closeout_returned"),
        # 公示
        Transition(C.APPLIED, "publish_notice", C.IN_NOTICE, "office", "发布整改情况公示", "closeout_notice_published"),
        # 申请: after the notice period, with every objection answered
        Transition(C.IN_NOTICE, "accept_application", C.ACCEPTED, "office", "受理销号申请", "closeout_accepted"),
        # 核查
        Transition(C.ACCEPTED, "verify_pass", C.VERIFIED, "verifier", "核查通过", "closeout_verified"),
        Transition(C.ACCEPTED, "verify_fail", C.RETURNED, "verifier", "核查不通过，退回整改", "closeout_returned"),
        # 备案
        Transition(C.VERIFIED, "file", C.FILED, "office", "备案销号", "closeout_filed"),
        # any step can fail back to rectification, with a reason
        Transition(C.SELF_ASSESSING, "return", C.RETURNED, "office", "退回整改", "closeout_returned"),
        Transition(C.APPLIED, "return", C.RETURNED, "office", "退回整改", "closeout_returned"),
        Transition(C.IN_NOTICE, "return", C.RETURNED, "office", "退回整改", "closeout_returned"),
        Transition(C.ACCEPTED, "return", C.RETURNED, "office", "退回整改", "closeout_returned"),
        Transition(C.VERIFIED, "return", C.RETURNED, "office", "退回整改", "closeout_returned"),
        # an upheld objection sends the task back (the objection's answer is the recorded act)
        Transition(C.IN_NOTICE, "objection_upheld", C.RETURNED, SYSTEM, "异议成立，退回整改", "closeout_returned"),
        # a look-back rebound on a task whose new close-out is under way
        Transition(C.SELF_ASSESSING, "rebound", C.RETURNED, SYSTEM, "回头看发现反弹", "closeout_returned"),
        Transition(C.APPLIED, "rebound", C.RETURNED, SYSTEM, "回头看发现反弹", "closeout_returned"),
        Transition(C.IN_NOTICE, "rebound", C.RETURNED, SYSTEM, "回头看发现反弹", "closeout_returned"),
        Transition(C.ACCEPTED, "rebound", C.RETURNED, SYSTEM, "回头看发现反弹", "closeout_returned"),
        Transition(C.VERIFIED, "rebound", C.RETURNED, SYSTEM, "回头看发现反弹", "closeout_returned"),
    ],
)

BULK_ACTIONS = ("accept_application", "file")  # what the office may do to a selection at once

OS = ObjectionStatus

OBJECTION_FLOW = Workflow(
    "objection",
    label="异议",
    states=OS.choices,
    roles={"office": scope.answers_objection},
    transitions=[
        Transition(OS.OPEN, "uphold", OS.UPHELD, "office", "异议成立", "objection_upheld"),
        Transition(OS.OPEN, "dismiss", OS.DISMISSED, "office", "异议不成立", "objection_dismissed"),
    ],
)

R = CheckResult

LOOKBACK_CHECK_FLOW = Workflow(
    "lookback_check",
    label="回头看复查",
    states=R.choices,
    roles={"checker": scope.rechecks},
    state_attr="result",
    transitions=[
        Transition(R.PENDING, "hold", R.HOLDING, "checker", "巩固", "lookback_holding"),
        Transition(R.PENDING, "rebound", R.REBOUND, "checker", "反弹，重新整改", "lookback_rebound"),
    ],
)
