"""Who sees and acts on close-outs, objections and look-backs. Reads start from the ledger's task
scope; the predicates below are the "who" of the tables in workflows.py.

| role | sees | acts |
| --- | --- | --- |
| 整改办 | close-outs, objections (with full contact details) and look-backs of tasks in its tree | publishes the notice, accepts the application, answers objections, files (备案), returns to rectification; starts look-backs; verifies when a campaign's policy names the office |
| 责任单位 审核员 | close-outs of its tasks, objections without contact details | self-assesses for its unit and applies (初审); withdraws before applying |
| 牵头验收单位 / 牵头督导单位 (督导员) | close-outs and objections (contact masked) of tasks it supervises | verifies (核查) as the campaign's policy says — never the person who applied |
| 复查单位 | look-back checks assigned to it | records 巩固 or 反弹 |
| 市领导 | close-outs of its tasks, objections with contact masked | reads |
"""

from __future__ import annotations

from django.db.models import Q

from rectify.core.roles import QS, UNIT_ROLES, Role, Viewer, is_active_user, is_office
from rectify.ledger.models import UnitRole
from rectify.ledger.scope import leads_task, on_visible_task, responsible_for
from rectify.orgs.scope import in_tree, unit_within


def visible_closeouts(queryset: QS, user: Viewer) -> QS:
    if not is_active_user(user):
        return queryset.none()
    return queryset.filter(on_visible_task(user))


def visible_policies(queryset: QS, user: Viewer) -> QS:
    from rectify.ledger.models import Campaign

    return queryset.filter(campaign__in=Campaign.objects.visible_to(user).values("pk"))


def runs_closeout(user: Viewer, closeout) -> bool:
    """The office whose tree holds the task: publishes, accepts, answers, files, returns."""
    return is_office(user) and leads_task(user, closeout.task)


def assesses(user: Viewer, closeout) -> bool:
    """A responsible unit's reviewer (审核员) on this task: self-assesses and applies (初审)."""
    return is_active_user(user) and user.role == Role.REVIEWER and responsible_for(user, closeout.task)


def verifying_units(closeout) -> list:
    """The units whose supervisors verify (核查) under the campaign's policy."""
    from rectify.closeout.models import Verifier
    from rectify.closeout.services import policy_for

    verifier = closeout.verifier if closeout.pk else policy_for(closeout.task.campaign).verifier
    links = list(closeout.task.task_units.all())
    acceptance = [tu.unit for tu in links if tu.role == UnitRole.ACCEPTANCE]
    lead = [tu.unit for tu in links if tu.role == UnitRole.LEAD_SUPERVISOR]
    if verifier == Verifier.OFFICE:
        return []
    if verifier == Verifier.ACCEPTANCE and acceptance:
        return acceptance
    return lead


def verifies(user: Viewer, closeout) -> bool:
    """核查: the verifying unit's supervisors (or the office, when the attempt's rules say so); never
    the person who applied or assessed (初审 and 核查 are separate duties)."""
    from rectify.closeout.models import Verifier

    if not is_active_user(user) or took_part_in_initial_review(user, closeout):
        return False
    if closeout.verifier == Verifier.OFFICE:
        return runs_closeout(user, closeout)
    return user.role == Role.SUPERVISOR and any(unit_within(unit, user.unit) for unit in verifying_units(closeout))


def took_part_in_initial_review(user: Viewer, closeout) -> bool:
    """Applied or self-assessed this attempt (初审): such a person may not verify it."""
    if not is_active_user(user) or not closeout.pk:
        return False
    return user.pk == closeout.applied_by_id or closeout.assessments.filter(assessor_id=user.pk).exists()


# --- objections -------------------------------------------------------------------------------


def visible_objections(queryset: QS, user: Viewer) -> QS:
    if not is_active_user(user):
        return queryset.none()
    return queryset.filter(on_visible_task(user, "closeout__task"))


def contact_visibility(user: Viewer, objection) -> str:
    """"full" for the office, "hidden" for the unit concerned (its own people), "masked" for others."""
    if is_office(user):
        return "full"
    if is_active_user(user) and user.role in UNIT_ROLES:
        return "hidden"
    return "masked"


def answers_objection(user: Viewer, objection) -> bool:
    return runs_closeout(user, objection.closeout)


# --- look-backs -------------------------------------------------------------------------------


def visible_lookbacks(queryset: QS, user: Viewer) -> QS:
    if not is_active_user(user):
        return queryset.none()
    if is_office(user):
        return queryset.filter(in_tree("campaign__office", user.unit))
    from rectify.closeout.models import LookBackCheck

    return queryset.filter(pk__in=visible_lookback_checks(LookBackCheck.objects.all(), user).values("lookback_id"))


def visible_lookback_checks(queryset: QS, user: Viewer) -> QS:
    if not is_active_user(user):
        return queryset.none()
    if is_office(user):
        return queryset.filter(in_tree("lookback__campaign__office", user.unit))
    condition = Q(on_visible_task(user))
    if user.role == Role.SUPERVISOR and user.unit_id:
        condition |= in_tree("assigned_unit", user.unit)
    return queryset.filter(condition)


def starts_lookbacks(user: Viewer, campaign) -> bool:
    return is_office(user) and unit_within(campaign.office, user.unit)


def rechecks(user: Viewer, check) -> bool:
    """复查: the assigned unit's supervisors, or the office that runs the campaign."""
    if is_office(user):
        return unit_within(check.lookback.campaign.office, user.unit)
    return is_active_user(user) and user.role == Role.SUPERVISOR and unit_within(check.assigned_unit, user.unit)


def visible_closeout_files(queryset: QS, user: Viewer) -> QS:
    from rectify.closeout.models import Closeout

    return queryset.filter(closeout__in=visible_closeouts(Closeout.objects.all(), user).values("pk"))


def visible_lookback_files(queryset: QS, user: Viewer) -> QS:
    from rectify.closeout.models import LookBackCheck

    return queryset.filter(lookback_check__in=visible_lookback_checks(LookBackCheck.objects.all(), user).values("pk"))


def notices_open_to_public(queryset: QS) -> QS:
    """Close-outs in notice (公示) that the public may object to: those the portal shows (the
    disclosure app says which, through ``closeout.hooks.public_notices``); none if nobody says."""
    from rectify.closeout.hooks import public_notices
    from rectify.closeout.models import CloseoutStatus

    conditions = public_notices()
    if not conditions:
        return queryset.none()
    condition = Q()
    for q in conditions:
        condition &= q
    return queryset.filter(condition, status=CloseoutStatus.IN_NOTICE)
