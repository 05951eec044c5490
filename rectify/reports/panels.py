"""The reports app on lower apps' pages: a 一案一档 button on the task page for the office."""

from __future__ import annotations

from rectify.ledger.hooks import TaskPanel
from rectify.ledger.scope import can_create_tasks
from rectify.reports import scope


def dossier_panel(*, user, task) -> TaskPanel | None:
    """导出一案一档 for the office that runs the task's campaign (one query, office users only)."""
    if not can_create_tasks(user) or not scope.reporting_campaigns(user).filter(pk=task.campaign_id).exists():
        return None
    return TaskPanel(order=90, template="reports/_task_dossier.html", context={"task": task})
