"""The two tables of monthly dispatch: a progress report's life and a round's."""

from __future__ import annotations

from rectify.core.workflow import SYSTEM, Transition, Workflow
from rectify.dispatch import scope
from rectify.dispatch.models import ReportStatus, RoundStatus

S = ReportStatus

REPORT_FLOW = Workflow(
    "report",
    label="进展报送",
    states=S.choices,
    roles={"writer": scope.writes_report, "reviewer": scope.reviews_report, "lead": scope.decides_report},
    transitions=[
        Transition(S.PENDING, "save", S.DRAFT, "writer", "保存草稿", "report_save"),
        Transition(S.DRAFT, "save", S.DRAFT, "writer", "保存草稿", "report_save"),
        Transition(S.RETURNED, "save", S.DRAFT, "writer", "保存草稿", "report_save"),
        Transition(S.PENDING, "submit", S.AWAITING_REVIEW, "writer", "报送", "report_submit"),
        Transition(S.DRAFT, "submit", S.AWAITING_REVIEW, "writer", "报送", "report_submit"),
        Transition(S.RETURNED, "submit", S.AWAITING_REVIEW, "writer", "报送", "report_submit"),
        # A round that does not require the unit's own review sends a submitted report straight up.
        Transition(S.AWAITING_REVIEW, "skip_review", S.SUBMITTED, SYSTEM, "免本单位审核直接上报"),
        Transition(S.AWAITING_REVIEW, "approve", S.SUBMITTED, "reviewer", "审核通过并上报", "report_approve"),
        Transition(S.AWAITING_REVIEW, "send_back", S.RETURNED, "reviewer", "本单位退回修改", "report_send_back"),
        Transition(S.SUBMITTED, "accept", S.ACCEPTED, "lead", "采纳", "report_accept"),
        Transition(S.SUBMITTED, "return", S.RETURNED, "lead", "退回", "report_return"),
    ],
)

EDITABLE = frozenset({S.PENDING, S.DRAFT, S.RETURNED})  # the writer may change content and files

ROUND_FLOW = Workflow(
    "round",
    label="调度轮次",
    states=RoundStatus.choices,
    roles={"office": scope.runs_round},
    transitions=[
        Transition(RoundStatus.OPEN, "close", RoundStatus.CLOSED, "office", "结束本轮调度", "round_closed"),
        # tick ends last month's round when this month's opens
        Transition(RoundStatus.OPEN, "close_on_schedule", RoundStatus.CLOSED, SYSTEM, "到期自动结束", "round_closed"),
    ],
)
