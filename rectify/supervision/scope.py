"""Who sees and acts on escalations and on the history of a task's warning colour.

Everyone who sees a task sees its escalations; reporters and reviewers see only those aimed at
their unit. The office issues any rung; a lead unit issues rungs on the tasks it leads; the
target unit (its reporters and reviewers) replies; the issuer's side (office or lead unit) closes.
Status flips (预警颜色变化) are seen with the task.
"""

from __future__ import annotations

from django.db.models import QuerySet

from rectify.core.roles import UNIT_ROLES, is_active_user
from rectify.ledger.models import Task
from rectify.ledger.scope import leads_task
from rectify.orgs.scope import in_tree, unit_within


def visible_escalations(queryset: QuerySet, user) -> QuerySet:
    if not is_active_user(user):
        return queryset.none()
    queryset = queryset.filter(task__in=Task.objects.visible_to(user).values("pk"))
    if user.role in UNIT_ROLES:
        if user.unit is None:
            return queryset.none()
        queryset = queryset.filter(in_tree("target_unit", user.unit))
    return queryset


def issues_on(user, task) -> bool:
    """May issue a rung of the ladder on this task (the office, or the task's lead unit)."""
    return leads_task(user, task)


def replies_to(user, escalation) -> bool:
    return (is_active_user(user) and user.role in UNIT_ROLES
            and unit_within(escalation.target_unit, user.unit))


def closes(user, escalation) -> bool:
    return leads_task(user, escalation.task)


def visible_flips(queryset: QuerySet, user) -> QuerySet:
    return queryset.filter(task__in=Task.objects.visible_to(user).values("pk"))
