"""The help request's table (帮扶), the supervision visit's (一季一督导) and the assessment result's
(综合评估考核: a computed draft is published into the record, or discarded)."""

from __future__ import annotations

from rectify.assessment import scope
from rectify.assessment.models import HelpStatus, ResultStatus, VisitStatus
from rectify.core.workflow import Transition, Workflow

H = HelpStatus

HELP_FLOW = Workflow(
    "help_request",
    label="帮扶申请",
    states=H.choices,
    roles={"requester": scope.withdraws, "responder": scope.responds, "helper": scope.records_help},
    transitions=[
        Transition(H.OPEN, "assign", H.ASSIGNED, "responder", "答复并安排帮扶", "help_assigned"),
        Transition(H.OPEN, "decline", H.DECLINED, "responder", "答复不予安排", "help_declined"),
        Transition(H.OPEN, "withdraw", H.WITHDRAWN, "requester", "撤回申请", "help_withdrawn"),
        Transition(H.ASSIGNED, "record_help", H.HELPED, "helper", "记录帮扶情况", "help_recorded"),
    ],
)

V = VisitStatus

VISIT_FLOW = Workflow(
    "supervision_visit",
    label="季度督导",
    states=V.choices,
    roles={"office": scope.runs_visits},
    transitions=[
        Transition(V.PLANNED, "record", V.DONE, "office", "记录督导情况", "visit_recorded"),
        Transition(V.PLANNED, "cancel", V.CANCELLED, "office", "取消督导", "visit_cancelled"),
    ],
)

R = ResultStatus

RESULT_FLOW = Workflow(
    "assessment_result",
    label="考核结果",
    states=R.choices,
    roles={"office": scope.runs_assessment},
    transitions=[
        Transition(R.DRAFT, "publish", R.PUBLISHED, "office", "发布考核结果", "assessment_published"),
        Transition(R.DRAFT, "discard", R.DISCARDED, "office", "作废", "assessment_discarded"),
    ],
)
