"""The task's own life (任务状态), one declared table.

A task is a draft until it is "四清楚" and goes back to draft if an edit leaves something
unclear; it is 销号中 while a close-out is under way and 已销号 once filed; a look-back that
finds a rebound (反弹) reopens it. Every step here is taken by the software as the consequence
of another recorded act (an edit, a close-out step, a look-back result) whose own workflow
decides who may take it, so no user takes these steps directly.
"""

from __future__ import annotations

from rectify.core.workflow import SYSTEM, Transition, Workflow
from rectify.ledger.models import TaskStatus

S = TaskStatus

TASK_FLOW = Workflow(
    "task",
    label="整改任务",
    states=S.choices,
    roles={},
    transitions=[
        Transition(S.DRAFT, "complete_essentials", S.ACTIVE, SYSTEM, "四清楚，转入整改"),
        Transition(S.ACTIVE, "lose_essentials", S.DRAFT, SYSTEM, "不再四清楚，退回草稿"),
        Transition(S.ACTIVE, "start_closeout", S.CLOSING, SYSTEM, "申请销号"),
        Transition(S.CLOSING, "return_to_rectification", S.ACTIVE, SYSTEM, "退回整改"),
        Transition(S.CLOSING, "file_closeout", S.CLOSED, SYSTEM, "销号备案"),
        Transition(S.CLOSED, "reopen", S.ACTIVE, SYSTEM, "回头看发现反弹，重新整改"),
    ],
)
