"""Who sees and acts on escalations.

Everyone who sees a task sees its escalations; reporters and reviewers see only those aimed at
their unit. The office issues any rung; a lead unit issues rungs on the tasks it leads; the
target unit (its reporters and reviewers) replies.
"""

from __future__ import annotations

from django.db.models import QuerySet

from rectify.dispatch.scope import leads_task
from rectify.ledger.models import Task
from rectify.orgs.models import OFFICE_ROLES, Role


def visible_escalations(queryset: QuerySet, user) -> QuerySet:
    if user is None or not user.is_authenticated:
        return queryset.none()
    queryset = queryset.filter(task__in=Task.objects.visible_to(user).values("pk"))
    if user.role in {Role.REPORTER, Role.REVIEWER}:
        if user.unit is None:
            return queryset.none()
        queryset = queryset.filter(target_unit__path__startswith=user.unit.path)
    return queryset


def can_issue(user, task) -> bool:
    return bool(user and user.is_authenticated and leads_task(user, task))


def can_reply(user, escalation) -> bool:
    return (user.role in {Role.REPORTER, Role.REVIEWER} and user.unit is not None
            and escalation.target_unit.path.startswith(user.unit.path))


def can_close(user, escalation) -> bool:
    return user.role in OFFICE_ROLES or can_issue(user, escalation.task)
