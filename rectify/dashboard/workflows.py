"""A leader instruction's receipt (批示办理): reached the unit → the unit records what it did."""

from __future__ import annotations

from rectify.core.workflow import Transition, Workflow
from rectify.dashboard import scope
from rectify.dashboard.models import ReceiptStatus

R = ReceiptStatus

INSTRUCTION_FLOW = Workflow(
    "instruction_receipt",
    label="批示办理",
    states=R.choices,
    roles={"recipient": scope.records_on},
    transitions=[
        Transition(R.OPEN, "record", R.DONE, "recipient", "记录办理情况", "instruction_acted"),
    ],
)
