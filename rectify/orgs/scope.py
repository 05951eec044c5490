"""Who sees and manages units, users, leader assignments and API tokens; the unit-tree helpers
that every other app's scope is written with.

| role | units | users, assignments, tokens |
| --- | --- | --- |
| 整改办管理员 | all (names are public within the system); manages its own tree | of its tree, and the leaders assigned to a county in it (the top office also those with no county) |
| anyone else signed in | all (to pick them in forms and filters) | their own account and tokens |

"This unit and everything under it" is one indexed prefix match on the materialised path; the
helpers below are the only place that spells it.
"""

from __future__ import annotations

from django.db.models import Q
from typing_extensions import TypeIs

from rectify.core.roles import QS, Actor, Role, Viewer, is_active_user, is_office
from rectify.orgs.models import User


def in_tree(field: str, unit) -> Q:
    """Rows whose ``field`` (a unit relation, "" for the unit itself) lies in ``unit``'s subtree."""
    lookup = f"{field}__path__startswith" if field else "path__startswith"
    return Q(**{lookup: unit.path})


def in_any_tree(field: str, paths: list[str]) -> Q:
    condition = Q(pk__in=[])
    lookup = f"{field}__path__startswith" if field else "path__startswith"
    for path in paths:
        condition |= Q(**{lookup: path})
    return condition


def unit_within(unit, ancestor) -> bool:
    """Whether ``unit`` is ``ancestor`` or lies under it (both loaded units)."""
    return bool(unit is not None and ancestor is not None and unit.path.startswith(ancestor.path))


def user_within(user: Viewer, unit) -> bool:
    """Whether an active user's own unit lies in ``unit``'s subtree."""
    return is_active_user(user) and user.unit_id is not None and unit_within(unit, user.unit)


def manages_accounts(user: Viewer) -> TypeIs[Actor]:
    return is_office(user) and user.role == Role.OFFICE_ADMIN


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
    if manages_accounts(user):
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
