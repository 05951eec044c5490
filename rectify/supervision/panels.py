"""The task page's escalation section and button (registered on ledger.hooks.task_panels)."""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from rectify.core.roles import UNIT_ROLES
from rectify.ledger.hooks import TaskPanel
from rectify.supervision import scope
from rectify.supervision.models import Escalation, StatusFlip


def escalation_panel(*, user, task) -> TaskPanel:
    escalations = (Escalation.objects.visible_to(user).filter(task=task).select_related("target_unit")
                   .only("rung", "doc_number", "status", "reply_due", "target_unit__name")[:50])  # what the list shows
    flips = StatusFlip.objects.visible_to(user).filter(task=task)[:20]
    open_task = task.status in ("draft", "active", "closing")  # a filed task takes no new rung
    actions = ([(_("发起督办"), reverse("supervision:issue", args=[task.pk]))]
               if open_task and scope.issues_on(user, task) else [])
    return TaskPanel(order=30, template="supervision/_task_escalations.html",
                     context={"escalations": escalations, "flips": flips}, actions=actions)


def hidden_escalation_events(*, user, task) -> Q | None:
    """A county sees only the escalations aimed at it on a shared task."""
    if user.role not in UNIT_ROLES:
        return None
    hidden = list(Escalation.objects.filter(task=task).exclude(
        pk__in=Escalation.objects.visible_to(user).values("pk")).values_list("pk", flat=True))
    return (Q(after__has_key="escalation") & Q(after__escalation__in=hidden)) if hidden else None
