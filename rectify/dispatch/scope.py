"""Who sees and acts on progress reports. Reads start from the task scope of the ledger.

| role | sees reports | may |
| --- | --- | --- |
| 整改办 | of tasks in its tree | open/close rounds, accept or return (for any task) |
| 牵头督导单位 | of tasks it supervises or is involved in | accept or return reports of tasks it leads |
| 责任单位 填报员 | of its own unit (and units under it) | write, attach evidence, submit |
| 责任单位 审核员 | same | approve before it goes up (初审), or send back; never its own report |
| 市领导 | of its tasks | read |
"""

from __future__ import annotations

from django.db.models import QuerySet

from rectify.ledger.models import Task, UnitRole
from rectify.orgs.models import OFFICE_ROLES, Role


def visible_reports(queryset: QuerySet, user) -> QuerySet:
    if user is None or not user.is_authenticated:
        return queryset.none()
    tasks = Task.objects.visible_to(user).values("pk")
    queryset = queryset.filter(task__in=tasks)
    if user.role in {Role.REPORTER, Role.REVIEWER}:
        if user.unit is None:
            return queryset.none()
        queryset = queryset.filter(unit__path__startswith=user.unit.path)
    return queryset


def can_write_report(user, report) -> bool:
    return (user.role == Role.REPORTER and user.unit is not None
            and report.unit.path.startswith(user.unit.path))


def can_review_report(user, report) -> bool:
    return (user.role == Role.REVIEWER and user.unit is not None
            and report.unit.path.startswith(user.unit.path))


def leads_task(user, task) -> bool:
    if user.role in OFFICE_ROLES:
        return Task.objects.visible_to(user).filter(pk=task.pk).exists()
    if user.role != Role.SUPERVISOR or user.unit is None:
        return False
    return task.task_units.filter(role=UnitRole.LEAD_SUPERVISOR, unit__path__startswith=user.unit.path).exists()


def can_run_rounds(user) -> bool:
    return bool(user and user.is_authenticated and user.role in OFFICE_ROLES and user.unit_id)
