"""The dashboard app's part of the task page: leader instructions (领导批示) on the task."""

from __future__ import annotations

from django.db.models import Prefetch
from django.urls import reverse
from django.utils.translation import gettext as _

from rectify.dashboard import scope
from rectify.dashboard.models import Instruction, InstructionReceipt
from rectify.ledger.hooks import TaskPanel


def instruction_panel(*, user, task) -> TaskPanel | None:
    """The instructions on this task the user may see, each with its units' receipts; a leader who
    sees the task gets the 写批示 button."""
    may_write = scope.instructs_on_task(user, task)
    receipts = InstructionReceipt.objects.visible_to(user).select_related("unit", "acted_by")
    rows = list(Instruction.objects.visible_to(user).filter(task=task).select_related("leader")
                .prefetch_related(Prefetch("receipts", queryset=receipts)).order_by("-created_at", "-id")[:20])
    if not rows and not may_write:
        return None
    actions = [(_("写批示"), reverse("dashboard:instruction_new") + f"?task={task.pk}")] if may_write else []
    return TaskPanel(order=15, template="dashboard/_task_instructions.html", context={"instructions": rows},
                     actions=actions)
