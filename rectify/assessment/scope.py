"""Who sees and acts on help requests, supervision visits and the assessment.

| what | sees | acts |
| --- | --- | --- |
| 帮扶申请 | whoever sees the report it came from (the office, the task's supervising units, the unit itself, its leader), and the helper unit | the unit's reporter or reviewer asks and may withdraw while unanswered; the office or the task's lead unit answers, assigns a helper unit and records the help given; the helper unit records the help given too |
| 季度督导 (一季一督导) | the office (its tree), the county visited (its own people), the county's leaders | the office plans, records (date, team, findings, follow-up items) and cancels |
| 考核评分办法, 考核结果 (draft) | the office of the campaign | the office sets weights, computes, publishes or discards |
| 考核结果 (published) | anyone signed in within the office's tree, and city leaders; a unit's breakdown only the office and that unit | — |

The discipline commission, the auditor and the system and security administrators have no part here.
"""

from __future__ import annotations

from django.db.models import Q

from rectify.core.roles import ADMIN_ROLES, QS, UNIT_ROLES, Role, Viewer, is_active_user, is_office
from rectify.ledger.scope import leader_areas, leads_task
from rectify.orgs.scope import in_any_tree, in_tree, unit_within

HELPER_ROLES = (Role.SUPERVISOR, Role.REPORTER, Role.REVIEWER)


# --- help requests ------------------------------------------------------------------------------


def visible_help_requests(queryset: QS, user: Viewer) -> QS:
    from rectify.dispatch.models import ProgressReport

    if not is_active_user(user) or user.role in (Role.DISCIPLINE, Role.AUDITOR):
        return queryset.none()
    condition = Q(report__in=ProgressReport.objects.visible_to(user).values("pk"))
    if user.role in HELPER_ROLES and user.unit_id:
        condition |= in_tree("helper_unit", user.unit)
    return queryset.filter(condition)


def asks_for_help(user: Viewer, report) -> bool:
    """The reporting unit's own people (填报员, 审核员) turn its difficulties into a request."""
    return is_active_user(user) and user.role in UNIT_ROLES and unit_within(report.unit, user.unit)


def withdraws(user: Viewer, help_request) -> bool:
    return asks_for_help(user, help_request.report)


def responds(user: Viewer, help_request) -> bool:
    """The office or the task's lead supervising unit answers and arranges the help."""
    return leads_task(user, help_request.task)


def records_help(user: Viewer, help_request) -> bool:
    """Who may record the help given: whoever arranged it, or the helper unit itself."""
    if responds(user, help_request):
        return True
    return (is_active_user(user) and user.role in HELPER_ROLES and help_request.helper_unit_id is not None
            and unit_within(help_request.helper_unit, user.unit))


# --- supervision visits ---------------------------------------------------------------------------


def visible_visits(queryset: QS, user: Viewer) -> QS:
    if not is_active_user(user):
        return queryset.none()
    if is_office(user):
        return queryset.filter(in_tree("office", user.unit))
    if user.role in UNIT_ROLES and user.unit_id:
        return queryset.filter(in_tree("county", user.unit))
    if user.role == Role.LEADER:
        counties, _sectors = leader_areas(user)
        return queryset.filter(in_any_tree("county", counties))
    return queryset.none()


def runs_visits(user: Viewer, visit) -> bool:
    return is_office(user) and unit_within(visit.office, user.unit)


# --- assessment -----------------------------------------------------------------------------------


def visible_schemes(queryset: QS, user: Viewer) -> QS:
    if not is_office(user):
        return queryset.none()
    return queryset.filter(in_tree("campaign__office", user.unit))


def visible_results(queryset: QS, user: Viewer) -> QS:
    from rectify.assessment.models import ResultStatus

    if not is_active_user(user) or user.role in (Role.DISCIPLINE, Role.AUDITOR, *ADMIN_ROLES):
        return queryset.none()
    if is_office(user):
        return queryset.filter(in_tree("campaign__office", user.unit))
    published = queryset.filter(status=ResultStatus.PUBLISHED)
    if user.role == Role.LEADER:
        return published
    if user.unit_id is None:
        return queryset.none()
    # units see the published results of the offices above them
    ancestors = [int(p) for p in user.unit.path.split(".") if p]
    return published.filter(campaign__office_id__in=ancestors)


def runs_assessment(user: Viewer, obj) -> bool:
    """The office of the campaign sets schemes, computes, publishes and discards results."""
    campaign = obj.campaign
    return is_office(user) and unit_within(campaign.office, user.unit)


def sees_breakdown(user: Viewer, row) -> bool:
    """A unit's breakdown (the records behind its figures): the office, and the unit itself."""
    if is_office(user):
        return unit_within(row.result.campaign.office, user.unit)
    return (is_active_user(user) and user.unit_id is not None and user.role in HELPER_ROLES
            and unit_within(row.unit, user.unit))
