"""The task page's accountability button and the timeline entries it hides (registered in apps.py).

No case ever appears on a task's page: the handler and the task's lead unit get a button to open one,
everyone else nothing, and the timeline hides that accountability was proposed from all but handlers.
"""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from rectify.accountability import scope
from rectify.ledger.hooks import TaskPanel

# Events a lower app records on a task about accountability (close-out's look-back rebound).
ACCOUNTABILITY_EVENTS = ["accountability_proposed"]


def case_panel(*, user, task) -> TaskPanel | None:
    """Only a button to open a case (立案), for the handler and the task's lead unit. The task page
    never lists a task's cases: they live in the case workspace (searchable by task code)."""
    if not scope.may_open_on(user, task):
        return None
    return TaskPanel(order=60, template="accountability/_task_cases.html",
                     actions=[(_("追责问责立案"), reverse("accountability:case_new") + f"?task={task.pk}")])


def hidden_accountability_events(*, user, task) -> Q | None:
    """Only case handlers read, on a task's timeline, that accountability was proposed."""
    if scope.is_case_handler(user):
        return None
    return Q(action__in=ACCOUNTABILITY_EVENTS)


def hidden_audit_events(*, user) -> Q | None:
    """The audit record viewer shows cases' events (and accountability proposed on a task) to case
    handlers only: the record's other readers (office administrator, security auditor) are not told
    of a case (docs/accountability.md); `rectify verify` still walks every link."""
    if scope.is_case_handler(user):
        return None
    return (Q(object_type__startswith="accountability.") | Q(action__in=ACCOUNTABILITY_EVENTS)
            | Q(action__startswith="case_"))
