"""Who sees and edits which tasks. Every task query a user can trigger passes through here.

| role | sees | edits |
| --- | --- | --- |
| 整改办管理员/工作人员 | tasks of campaigns run by a unit in its tree, and tasks involving any unit in its tree | the same |
| 牵头督导单位 | tasks where its unit (or a unit under it) holds any role | none in the ledger |
| 责任单位 填报员/审核员 | tasks where its unit (or a unit under it) is a responsible unit | none in the ledger |
| 市领导 | tasks it owns, tasks of its counties (包县市区), tasks of its sectors | none |
| 纪委监委, 审计员 | no tasks (accountability cases and the audit record only) | none |
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from rectify.ledger.models import TaskUnit, UnitRole
from rectify.orgs.models import OFFICE_ROLES, Role


def _unit_exists(*, path_prefixes: list[str], role: str | None = None) -> Exists:
    condition = Q()
    for prefix in path_prefixes:
        condition |= Q(unit__path__startswith=prefix)
    links = TaskUnit.objects.filter(condition, task=OuterRef("pk"))
    if role:
        links = links.filter(role=role)
    return Exists(links)


def visible_tasks(queryset: QuerySet, user) -> QuerySet:
    if user is None or not user.is_authenticated or not user.is_active:
        return queryset.none()
    unit = user.unit
    if user.role in OFFICE_ROLES and unit is not None:
        return queryset.filter(Q(campaign__office__path__startswith=unit.path)
                               | _unit_exists(path_prefixes=[unit.path]))
    if user.role == Role.SUPERVISOR and unit is not None:
        return queryset.filter(_unit_exists(path_prefixes=[unit.path]))
    if user.role in {Role.REPORTER, Role.REVIEWER} and unit is not None:
        return queryset.filter(_unit_exists(path_prefixes=[unit.path], role=UnitRole.RESPONSIBLE))
    if user.role == Role.LEADER:
        assignments = list(user.assignments.select_related("county"))
        counties = [a.county.path for a in assignments if a.county_id]
        sectors = [a.sector for a in assignments if a.sector]
        condition = Q(leader=user)
        if counties:
            condition |= _unit_exists(path_prefixes=counties, role=UnitRole.RESPONSIBLE)
        if sectors:
            condition |= Q(category__in=sectors)
        return queryset.filter(condition)
    return queryset.none()


def editable_tasks(queryset: QuerySet, user) -> QuerySet:
    if user is None or not user.is_authenticated or user.role not in OFFICE_ROLES:
        return queryset.none()
    return visible_tasks(queryset, user)


def can_create_tasks(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.role in OFFICE_ROLES and user.unit_id)


def visible_campaigns(queryset: QuerySet, user) -> QuerySet:
    """Campaigns a user may pick in filters: run by the user's tree, or holding a visible task."""
    if user is None or not user.is_authenticated:
        return queryset.none()
    from rectify.ledger.models import Task

    if user.role in OFFICE_ROLES and user.unit is not None:
        return queryset.filter(office__path__startswith=user.unit.path)
    visible = visible_tasks(Task.objects.all(), user).values("campaign_id")
    return queryset.filter(pk__in=visible)
