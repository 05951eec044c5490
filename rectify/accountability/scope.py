"""Who sees and acts on accountability cases. Confidentiality is the point: this table is the only
place that says who may know that a case exists.

| who | sees | acts |
| --- | --- | --- |
| 案件承办人 (an office user an office administrator designated, ``CaseHandler``) | cases of offices in its tree | opens (立案) or declines proposals, opens cases, reviews the investigation's report, refers (移交) to the commission, keeps notes |
| 牵头调查单位 (supervisors of the case's lead unit) | the case only while it investigates (已立案、调查中) | opens cases on tasks it leads, investigates (notes, evidence, persons, findings), submits the 追责建议报告 |
| 纪委监委 (discipline users of the commission it was referred to) | cases once referred to it | accepts or returns the referral, records its handling and the outcome, closes |
| anyone else — office administrators who are not handlers, the units and persons concerned, responsible units, leaders, auditors | nothing | nothing |

A unit concerned by a case (``CaseUnit``; every person concerned brings their unit) never sees it,
whatever its role: a user whose unit is that unit or lies under it, and a lead unit that has a
concerned unit under it, are left out. A unit concerned cannot investigate its own case.
"""

from __future__ import annotations

from typing import TypeGuard

from django.db.models import Exists, OuterRef, Q

from rectify.core.roles import QS, Actor, Role, Viewer, is_active_user, is_office
from rectify.orgs.scope import in_tree, is_office_admin, unit_within


def _ancestor_ids(unit) -> list[int]:
    return [int(part) for part in unit.path.split(".") if part]


def is_case_handler(user: Viewer) -> TypeGuard[Actor]:
    """An office user designated as a case handler (cached on the user object per request)."""
    if not is_office(user):
        return False
    cached = getattr(user, "_is_case_handler", None)
    if cached is None:
        from rectify.accountability.models import CaseHandler

        cached = CaseHandler.objects.filter(user_id=user.pk).exists()
        user._is_case_handler = cached  # type: ignore[attr-defined]
    return cached


def manages_handlers(user: Viewer) -> TypeGuard[Actor]:
    """Office administrators designate and remove case handlers (of their tree, never themselves)."""
    return is_office_admin(user)


def visible_cases(queryset: QS, user: Viewer) -> QS:
    from rectify.accountability.models import INVESTIGATION_STATES, CaseUnit

    if not is_active_user(user) or user.unit is None:
        return queryset.none()
    condition = Q(pk__in=[])
    if is_case_handler(user):
        condition |= in_tree("office", user.unit)
    if user.role == Role.SUPERVISOR:
        condition |= in_tree("lead_unit", user.unit) & Q(status__in=INVESTIGATION_STATES)
    if user.role == Role.DISCIPLINE:
        condition |= in_tree("commission", user.unit) & Q(referred_at__isnull=False)
    concerned = Q(unit_id__in=_ancestor_ids(user.unit))
    if user.role == Role.SUPERVISOR:
        concerned |= in_tree("unit", user.unit)
    return queryset.filter(condition).exclude(Exists(CaseUnit.objects.filter(concerned, case=OuterRef("pk"))))


def _concerned(user, case) -> bool:
    """Whether the user's unit is (under) a unit the case concerns — or, for a lead unit, above one."""
    for link in case.unit_links.all():
        if unit_within(user.unit, link.unit) or (user.role == Role.SUPERVISOR and unit_within(link.unit, user.unit)):
            return True
    return False


def handles(user: Viewer, case) -> bool:
    """案件承办人 of the office that runs the case."""
    return is_case_handler(user) and unit_within(case.office, user.unit) and not _concerned(user, case)


def investigates(user: Viewer, case) -> bool:
    """牵头调查单位: a supervisor of the case's lead unit, not concerned by the case."""
    return (is_active_user(user) and user.role == Role.SUPERVISOR and case.lead_unit_id is not None
            and unit_within(case.lead_unit, user.unit) and not _concerned(user, case))


def commission_of(user: Viewer, case) -> bool:
    """纪委监委: a discipline user of the commission the case was referred to."""
    return (is_active_user(user) and user.role == Role.DISCIPLINE and case.commission_id is not None
            and unit_within(case.commission, user.unit) and not _concerned(user, case))


def may_open_on(user: Viewer, task) -> bool:
    """Who may open a case on a task: a handler of the office that runs it, or its lead unit."""
    from rectify.ledger.models import UnitRole

    if not is_active_user(user):
        return False
    if is_case_handler(user):
        return unit_within(task.campaign.office, user.unit)
    if user.role == Role.SUPERVISOR and user.unit_id:
        return any(tu.role == UnitRole.LEAD_SUPERVISOR and unit_within(tu.unit, user.unit)
                   for tu in task.task_units.all())
    return False


def sees_workspace(user: Viewer) -> bool:
    """The case workspace is offered to handlers, supervisors (their investigations) and the commission."""
    return is_active_user(user) and (is_case_handler(user) or user.role in (Role.SUPERVISOR, Role.DISCIPLINE))


def visible_case_files(queryset: QS, user: Viewer) -> QS:
    from rectify.accountability.models import AccountabilityCase

    return queryset.filter(case__in=visible_cases(AccountabilityCase.objects.all(), user).values("pk"))


def visible_handlers(queryset: QS, user: Viewer) -> QS:
    """The handler list: office administrators of the tree."""
    if not manages_handlers(user):
        return queryset.none()
    return queryset.filter(in_tree("user__unit", user.unit))
