"""The task page's close-out section (registered on ledger.hooks.task_panels)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from rectify.closeout import scope
from rectify.closeout.models import Closeout, LookBackCheck
from rectify.closeout.services import eligibility
from rectify.ledger.hooks import TaskPanel
from rectify.ledger.models import TaskStatus


def closeout_panel(*, user, task) -> TaskPanel | None:
    closeouts = list(Closeout.objects.visible_to(user).filter(task=task).order_by("-attempt")[:10])
    checks = list(LookBackCheck.objects.visible_to(user).filter(task=task).select_related("lookback")[:10])
    current = next((c for c in closeouts if c.status not in ("filed", "returned")), None)
    actions = []
    can_start = (task.status == TaskStatus.ACTIVE and current is None
                 and scope.assesses(user, Closeout(task=task, status="self_assessing")))
    if current is not None:
        actions.append((_("销号办理"), reverse("closeout:detail", args=[current.pk])))
    elif can_start:
        actions.append((_("申请销号（初审自评）"), reverse("closeout:assess", args=[task.pk])))
    if not closeouts and not checks and not can_start:
        return None
    return TaskPanel(order=40, template="closeout/_task_closeout.html", actions=actions, context={
        "closeouts": closeouts, "current": current, "lookback_checks": checks,
        "closeout_blockers": eligibility(task) if can_start else []})
