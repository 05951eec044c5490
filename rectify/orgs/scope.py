"""Who sees and manages units, users, leader assignments and API tokens; the unit-tree helpers
that every other app's scope is written with.

| role | units | users, assignments, tokens |
| --- | --- | --- |
| 系统管理员 (system administrator) | all (names are public within the system); manages its own tree | manages the accounts of its tree, and the leaders assigned to a county in it (the top office also those with no county), their areas and tokens |
| 整改办管理员 | as the system administrator while ``OFFICE_ADMIN_MANAGES_ACCOUNTS`` is on (the default; off = strict 三员分立) | as the system administrator while that setting is on |
| 安全管理员 (security administrator) | all | sees the same accounts; locks, unlocks and resets passwords of them (``manages_credentials``); no roles, units or tokens |
| anyone else signed in | all (to pick them in forms and filters) | their own account and tokens |

Account management (``manages_accounts``) and credentials (``manages_credentials``: lock, unlock,
password reset) are separate predicates so that 三员分立 (SECURITY.md #12) holds: the auditor is in
neither, the security administrator only in the second, and neither administrator is an office role
(no ledger, no report decisions, no workflow steps).

"This unit and everything under it" is one indexed prefix match on the materialised path
(``path__under``, orgs.models.PathUnder: a GLOB on SQLite, which its index serves); the helpers
below are the only place that spells it.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q
from typing_extensions import TypeIs

from rectify.core.roles import QS, Actor, Role, Viewer, is_active_user, is_office
from rectify.orgs.models import User


def in_tree(field: str, unit) -> Q:
    """Rows whose ``field`` (a unit relation, "" for the unit itself) lies in ``unit``'s subtree."""
    lookup = f"{field}__path__under" if field else "path__under"
    return Q(**{lookup: unit.path})


def in_any_tree(field: str, paths: list[str]) -> Q:
    condition = Q(pk__in=[])
    lookup = f"{field}__path__under" if field else "path__under"
    for path in paths:
        condition |= Q(**{lookup: path})
    return condition


def unit_within(unit, ancestor) -> bool:
    """Whether ``unit`` is ``ancestor`` or lies under it (both loaded units)."""
    return bool(unit is not None and ancestor is not None and unit.path.startswith(ancestor.path))


def user_within(user: Viewer, unit) -> bool:
    """Whether an active user's own unit lies in ``unit``'s subtree."""
    return is_active_user(user) and user.unit_id is not None and unit_within(unit, user.unit)


def is_office_admin(user: Viewer) -> TypeIs[Actor]:
    """The business administrator of an office (整改办管理员): designations inside the office's own
    work (case handlers, publicists) stay with it, whoever manages the accounts."""
    return is_office(user) and user.role == Role.OFFICE_ADMIN


def manages_accounts(user: Viewer) -> TypeIs[Actor]:
    """Creates and edits accounts, units, leader areas and tokens of its own tree (系统管理员; the
    office administrator too unless ``OFFICE_ADMIN_MANAGES_ACCOUNTS`` is off)."""
    if not is_active_user(user) or user.unit_id is None:
        return False
    if user.role == Role.SYSTEM_ADMIN:
        return True
    return is_office(user) and user.role == Role.OFFICE_ADMIN and bool(
        getattr(settings, "OFFICE_ADMIN_MANAGES_ACCOUNTS", True))


def manages_credentials(user: Viewer) -> TypeIs[Actor]:
    """Locks, unlocks and resets the passwords of the accounts of its tree: an account manager, or
    the security administrator (安全管理员), who does nothing else with accounts."""
    if manages_accounts(user):
        return True
    return is_active_user(user) and user.unit_id is not None and user.role == Role.SECURITY_ADMIN


# --- units ------------------------------------------------------------------------------------


def visible_units(queryset: QS, user: Viewer) -> QS:
    return queryset if is_active_user(user) else queryset.none()


def actionable_units(queryset: QS, user: Viewer, action: str) -> QS:
    if action == "view":
        return visible_units(queryset, user)
    if action == "manage" and manages_accounts(user):
        return queryset.filter(in_tree("", user.unit))
    return queryset.none()


# --- users and their leader assignments -------------------------------------------------------


def visible_users(queryset: QS, user: Viewer) -> QS:
    if not is_active_user(user):
        return queryset.none()
    if manages_credentials(user):
        # Leaders belong to no unit: an office manages the leaders assigned to a county in its tree;
        # leaders with no county (sectors only, or not yet assigned) belong to the top office.
        from rectify.orgs.models import LeaderAssignment

        condition = in_tree("unit", user.unit) | Q(
            pk__in=LeaderAssignment.objects.filter(in_tree("county", user.unit)).values("leader_id"))
        if user.unit.parent_id is None:
            condition |= Q(unit__isnull=True) & ~Q(
                pk__in=LeaderAssignment.objects.filter(county__isnull=False).values("leader_id"))
        return queryset.filter(condition)
    return queryset.filter(pk=user.pk)


def actionable_users(queryset: QS, user: Viewer, action: str) -> QS:
    if action == "view":
        return visible_users(queryset, user)
    if action == "manage" and manages_accounts(user):
        return visible_users(queryset, user)
    if action == "credentials" and manages_credentials(user):
        return visible_users(queryset, user)
    return queryset.none()


def visible_assignments(queryset: QS, user: Viewer) -> QS:
    return queryset.filter(leader__in=visible_users(User.objects.all(), user).values("pk"))


def visible_tokens(queryset: QS, user: Viewer) -> QS:
    if not is_active_user(user):
        return queryset.none()
    if manages_accounts(user):
        return queryset.filter(user__in=visible_users(User.objects.all(), user).values("pk"))
    return queryset.filter(user=user)


# --- second factor and sessions ----------------------------------------------------------------


def manages_security(user: Viewer) -> TypeIs[Actor]:
    """Who may reset another user's second factor and end their sessions: the office administrator
    over the accounts they manage, and the security administrator (roles named in
    settings.SECURITY_MANAGER_ROLES by their string values) over every account."""
    from django.conf import settings

    return is_active_user(user) and (manages_accounts(user) or user.role in settings.SECURITY_MANAGER_ROLES)


def security_users(queryset: QS, user: Viewer) -> QS:
    """The accounts whose second factor and sessions ``user`` manages."""
    from django.conf import settings

    if not is_active_user(user):
        return queryset.none()
    if user.role in settings.SECURITY_MANAGER_ROLES:
        return queryset
    if manages_accounts(user):
        return visible_users(queryset, user)
    return queryset.filter(pk=user.pk)


def visible_second_factors(queryset: QS, user: Viewer) -> QS:
    """Only the holder reads their own authenticator and recovery codes."""
    if not is_active_user(user):
        return queryset.none()
    return queryset.filter(user=user)


def visible_sessions(queryset: QS, user: Viewer) -> QS:
    return queryset.filter(user__in=security_users(User.objects.all(), user).values("pk"))
