"""The accountability case's table: proposal → 立案 → investigation by the lead unit → the office's
review of the 追责建议报告 → 移交 to the discipline commission → its acceptance, outcome and 结案."""

from __future__ import annotations

from rectify.accountability import scope
from rectify.accountability.models import CaseStatus
from rectify.core.workflow import Transition, Workflow

S = CaseStatus

CASE_FLOW = Workflow(
    "accountability_case",
    label="追责问责案件",
    states=S.choices,
    roles={"handler": scope.handles, "investigator": scope.investigates, "commission": scope.commission_of},
    transitions=[
        # 立案: the office's handler decides on a proposal (an automatic one, or its own)
        Transition(S.PROPOSED, "open", S.OPENED, "handler", "立案并交牵头单位调查", "case_opened"),
        Transition(S.PROPOSED, "decline", S.DECLINED, "handler", "不予立案", "case_declined"),
        Transition(S.OPENED, "decline", S.DECLINED, "handler", "撤销立案", "case_declined"),
        # 调查: the lead supervising unit investigates and drafts the 追责建议报告
        Transition(S.OPENED, "start", S.INVESTIGATING, "investigator", "开始调查", "case_investigation_started"),
        Transition(S.INVESTIGATING, "submit_report", S.REPORTED, "investigator", "提交追责建议报告",
                   "case_report_submitted"),
        # 审核: the office reviews the report
        Transition(S.REPORTED, "return_report", S.INVESTIGATING, "handler", "退回补充调查", "case_report_returned"),
        Transition(S.REPORTED, "approve_report", S.REVIEWED, "handler", "审核通过", "case_report_approved"),
        Transition(S.REPORTED, "not_refer", S.NOT_REFERRED, "handler", "不予移交", "case_not_referred"),
        Transition(S.REVIEWED, "not_refer", S.NOT_REFERRED, "handler", "不予移交", "case_not_referred"),
        # 移交: with a referral number, to the discipline commission
        Transition(S.REVIEWED, "refer", S.REFERRED, "handler", "移交纪委监委", "case_referred"),
        # 纪委监委: accepts (or returns the referral for more), handles, decides, closes
        Transition(S.REFERRED, "accept", S.ACCEPTED, "commission", "受理", "case_accepted"),
        Transition(S.REFERRED, "return_referral", S.REVIEWED, "commission", "退回移交", "case_referral_returned"),
        Transition(S.ACCEPTED, "record_outcome", S.DECIDED, "commission", "录入处理结果", "case_outcome_recorded"),
        Transition(S.DECIDED, "close", S.CLOSED, "commission", "结案", "case_closed"),
    ],
)

# Steps that need a stated reason (kept on the case and in the record).
NEEDS_REASON = {"decline", "return_report", "not_refer", "return_referral"}
