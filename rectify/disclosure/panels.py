"""The task page's disclosure line (registered on ledger.hooks.task_panels): for the office only,
whether the task is public and where to change it (one query: the task's decision)."""

from __future__ import annotations

from rectify.core.roles import is_office
from rectify.disclosure.models import Decision, Subject
from rectify.ledger.hooks import TaskPanel


def disclosure_panel(*, user, task) -> TaskPanel | None:
    if not is_office(user) or task.status == "draft":  # the disclosure page itself checks the campaign's tree
        return None
    decision = Decision.objects.filter(subject=Subject.TASK, object_id=task.pk).first()
    return TaskPanel(order=90, template="disclosure/_task_disclosure.html",
                     context={"disclosure": decision, "disclosure_task": task})
