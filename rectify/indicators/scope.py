"""Who sees and records the quantitative targets (目标指标) and their observed values (监测值).

| role | sees targets and values | records |
| --- | --- | --- |
| 整改办管理员/工作人员 | of its tree's offices | targets and values of its tree's offices |
| anyone else signed in | those set by the office their own unit belongs to (a city leader, who belongs to no unit, sees them all) | nothing |

Targets are the city's public commitments; the values are monitoring data the office enters or
imports from the monitoring departments' sheets.
"""

from __future__ import annotations

from django.db.models import Q

from rectify.core.roles import QS, Viewer, is_active_user, is_office
from rectify.orgs.scope import in_tree

INDICATOR_ACTIONS = ("view", "manage")


def visible_indicators(queryset: QS, user: Viewer) -> QS:
    if not is_active_user(user):
        return queryset.none()
    if is_office(user):
        return queryset.filter(in_tree("office", user.unit))
    if user.unit_id is None:
        return queryset
    ancestors = [p + "." for p in _prefixes(user.unit.path)]
    return queryset.filter(Q(office__path__in=ancestors))


def actionable_indicators(queryset: QS, user: Viewer, action: str) -> QS:
    """``manage``: define targets and record values (the office, for its tree)."""
    if action == "view":
        return visible_indicators(queryset, user)
    if action == "manage":
        return queryset.filter(in_tree("office", user.unit)) if is_office(user) else queryset.none()
    raise ValueError(f"unknown indicator action {action!r}")


def manages_indicators(user: Viewer) -> bool:
    return is_office(user)


def visible_measurements(queryset: QS, user: Viewer) -> QS:
    from rectify.indicators.models import Indicator

    return queryset.filter(indicator__in=visible_indicators(Indicator.objects.all(), user).values("pk"))


def _prefixes(path: str) -> list[str]:
    parts = path.rstrip(".").split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]
