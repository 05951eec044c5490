"""Who sees the quantitative targets (目标指标).

Targets are the city's public commitments: the office sees those of its tree; every other signed-in
user sees those set by the office their own unit belongs to (a city leader, who belongs to no
unit, sees them all). Only the office records them (through the plan import for now).
"""

from __future__ import annotations

from django.db.models import Q

from rectify.core.roles import QS, Viewer, is_active_user, is_office
from rectify.orgs.scope import in_tree


def visible_indicators(queryset: QS, user: Viewer) -> QS:
    if not is_active_user(user):
        return queryset.none()
    if is_office(user):
        return queryset.filter(in_tree("office", user.unit))
    if user.unit_id is None:
        return queryset
    ancestors = [p + "." for p in _prefixes(user.unit.path)]
    return queryset.filter(Q(office__path__in=ancestors))


def _prefixes(path: str) -> list[str]:
    parts = path.rstrip(".").split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]
