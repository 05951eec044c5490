"""Who sees the battle map and board (挂图作战), and which counties it shows them.

| role | board | counties on the map |
| --- | --- | --- |
| 整改办管理员/工作人员 | the tasks of its tree (the ledger's scope) | the county-level units of its tree |
| 市领导 | the tasks it sees in the ledger: its counties (包县市区), sectors (分管领域) and the tasks where it is 责任领导 | its own counties only |
| anyone else | none (their landing page is their own work) | none |

Every figure is computed from ``Task.objects.visible_to(user)``, so the board can never show more
than the ledger would.
"""

from __future__ import annotations

from rectify.core.roles import QS, Role, Viewer, is_active_user, is_office
from rectify.orgs.models import LeaderAssignment, UnitKind
from rectify.orgs.scope import in_tree


def sees_board(user: Viewer) -> bool:
    return is_office(user) or (is_active_user(user) and user.role == Role.LEADER)


def board_counties(queryset: QS, user: Viewer) -> QS:
    """County-level units whose figures this user's board shows."""
    queryset = queryset.filter(kind=UnitKind.COUNTY, is_active=True)
    if is_office(user):
        return queryset.filter(in_tree("", user.unit))
    if is_active_user(user) and user.role == Role.LEADER:
        return queryset.filter(pk__in=LeaderAssignment.objects.filter(leader=user, county__isnull=False)
                               .values("county_id"))
    return queryset.none()


def manages_displays(user: Viewer) -> bool:
    """The office issues and revokes display tokens (大屏令牌) for its own tree."""
    return is_office(user)


def visible_display_tokens(queryset: QS, user: Viewer) -> QS:
    return queryset.filter(in_tree("office", user.unit)) if is_office(user) else queryset.none()
