"""Scoped reads for the administration pages (账号与单位管理). Every read starts from
``visible_to``/``actionable_by`` (orgs/scope.py); single objects give 404 for both "missing" and
"not yours"."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from rectify.orgs.models import ApiToken, LeaderAssignment, Role, Unit, User
from rectify.orgs.scope import in_tree

USER_STATES = ("active", "inactive", "locked")


@dataclass(frozen=True)
class UserFilter:
    unit: Unit | None = None
    role: str = ""
    state: str = ""
    q: str = ""


def users_for_admin(user, f: UserFilter) -> QuerySet[User]:
    """The accounts an administrator may act on, filtered; one query for the page's rows."""
    qs = User.objects.actionable_by(user, "credentials").select_related("unit")
    if f.unit is not None:
        qs = qs.filter(in_tree("unit", f.unit))
    if f.role:
        qs = qs.filter(role=f.role)
    now = timezone.now()
    if f.state == "active":
        qs = qs.filter(is_active=True).exclude(locked_until__gt=now)
    elif f.state == "inactive":
        qs = qs.filter(is_active=False)
    elif f.state == "locked":
        qs = qs.filter(locked_until__gt=now)
    if f.q:
        q = f.q.strip()
        qs = qs.filter(Q(username__icontains=q) | Q(display_name__icontains=q) | Q(title__icontains=q))
    return qs.order_by("unit__sort_order", "unit_id", "username")


def get_user_for_admin(user, pk: int, action: str = "credentials") -> User:
    found = User.objects.actionable_by(user, action).select_related("unit").filter(pk=pk).first()
    if found is None:
        raise Http404("账户不存在或不在您的管理范围内")
    return found


def units_for_admin(user) -> QuerySet[Unit]:
    """The units of the administrator's tree, in tree order (path, then sort order within a level)."""
    return Unit.objects.actionable_by(user, "manage").select_related("parent").order_by("path")


@dataclass
class TreeRow:
    unit: Unit
    depth: int
    users: int = 0


def unit_tree(user) -> list[TreeRow]:
    """The tree as indented rows: parents before children, siblings by sort order then id. Two
    queries whatever the size (units, then account counts per unit)."""
    from django.db.models import Count

    units = list(units_for_admin(user))
    by_parent: dict[int | None, list[Unit]] = {}
    ids = {u.pk for u in units}
    for u in units:
        by_parent.setdefault(u.parent_id if u.parent_id in ids else None, []).append(u)
    counts = dict(User.objects.filter(unit__in=ids, is_active=True).values("unit").annotate(n=Count("id"))
                  .values_list("unit", "n")) if ids else {}
    rows: list[TreeRow] = []

    def walk(parent: int | None, depth: int) -> None:
        for u in sorted(by_parent.get(parent, []), key=lambda x: (x.sort_order, x.pk)):
            rows.append(TreeRow(u, depth, counts.get(u.pk, 0)))
            walk(u.pk, depth + 1)

    walk(None, 0)
    return rows


def get_unit_for_admin(user, pk: int) -> Unit:
    found = Unit.objects.actionable_by(user, "manage").select_related("parent").filter(pk=pk).first()
    if found is None:
        raise Http404("单位不存在或不在您的管理范围内")
    return found


def leaders_for_admin(user) -> list[tuple[User, list[LeaderAssignment]]]:
    """The city leaders an administrator manages, each with their counties and sectors (two queries)."""
    leaders = list(User.objects.actionable_by(user, "manage").filter(role=Role.LEADER).order_by("username"))
    areas: dict[int, list[LeaderAssignment]] = {}
    for a in (LeaderAssignment.objects.visible_to(user).filter(leader__in=[x.pk for x in leaders])
              .select_related("county").order_by("county__sort_order", "county_id", "sector")):
        areas.setdefault(a.leader_id, []).append(a)
    return [(x, areas.get(x.pk, [])) for x in leaders]


def get_leader_for_admin(user, pk: int) -> User:
    found = User.objects.actionable_by(user, "manage").filter(pk=pk, role=Role.LEADER).first()
    if found is None:
        raise Http404("市领导账户不存在或不在您的管理范围内")
    return found


def get_assignment_for_admin(user, pk: int) -> LeaderAssignment:
    found = LeaderAssignment.objects.visible_to(user).select_related("leader", "county").filter(pk=pk).first()
    if found is None:
        raise Http404("分工不存在或不在您的管理范围内")
    return found


def tokens_for_admin(user, *, state: str = "") -> QuerySet[ApiToken]:
    qs = ApiToken.objects.visible_to(user).select_related("user", "user__unit")
    if state == "active":
        qs = qs.filter(revoked=False)
    elif state == "revoked":
        qs = qs.filter(revoked=True)
    return qs.order_by("-created_at", "-id")


def get_token_for_user(user, pk: int) -> ApiToken:
    found = ApiToken.objects.visible_to(user).select_related("user").filter(pk=pk).first()
    if found is None:
        raise Http404("令牌不存在或不在您的管理范围内")
    return found


def locked_now(user: User, now: dt.datetime | None = None) -> bool:
    return bool(user.locked_until and user.locked_until > (now or timezone.now()))
