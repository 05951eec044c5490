"""The task page's progress-report section (registered on ledger.hooks.task_panels)."""

from __future__ import annotations

from django.db.models import Q

from rectify.core.roles import UNIT_ROLES
from rectify.dispatch.models import ProgressReport
from rectify.ledger.hooks import TaskPanel


def report_panel(*, user, task) -> TaskPanel:
    # the columns the table shows: full rows (the texts, every round's and unit's columns) cost
    # more than the query itself for a busy task's 36 reports
    reports = (ProgressReport.objects.visible_to(user).filter(task=task)
               .select_related("round", "unit")
               .only("status", "percent", "late", "submitted_at", "round__title", "unit__name")
               .order_by("-round__period", "unit__sort_order")[:36])
    return TaskPanel(order=20, template="dispatch/_task_reports.html", context={"reports": reports})


def hidden_report_events(*, user, task) -> Q | None:
    """A county sees only its own reports' events on a shared task."""
    if user.role not in UNIT_ROLES:
        return None
    hidden = list(ProgressReport.objects.filter(task=task).exclude(
        pk__in=ProgressReport.objects.visible_to(user).values("pk")).values_list("pk", flat=True))
    # has_key first: a bare key lookup is NULL on events without it, and NOT NULL drops them.
    return (Q(after__has_key="report") & Q(after__report__in=hidden)) if hidden else None
