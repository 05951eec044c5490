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

from django.db.models import Exists, OuterRef
from django.db.models.lookups import In

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


# --- leader instructions (领导批示) --------------------------------------------------------------
#
# | role | sees | acts |
# | --- | --- | --- |
# | 市领导 | its own instructions | writes on a task it sees, or on one of its counties |
# | 整改办 | those that reached a unit of its tree | none |
# | 牵头督导单位 | those on the tasks it leads | none |
# | 责任单位 填报员/审核员 | those that reached its unit (its own receipt only) | records what it did |


def _receipts_in(unit):
    from rectify.dashboard.models import InstructionReceipt

    return InstructionReceipt.objects.filter(in_tree("unit", unit)).values("instruction_id")


def visible_instructions(queryset: QS, user: Viewer) -> QS:
    from django.db.models import Q

    from rectify.core.roles import UNIT_ROLES
    from rectify.ledger.models import Task

    if not is_active_user(user):
        return queryset.none()
    if user.role == Role.LEADER:
        return queryset.filter(leader_id=user.pk)
    if (is_office(user) or user.role in UNIT_ROLES) and user.unit is not None:
        return queryset.filter(Q(pk__in=_receipts_in(user.unit)))
    if user.role == Role.SUPERVISOR and user.unit is not None:
        return queryset.filter(task__in=Task.objects.actionable_by(user, "lead").values("pk"))
    return queryset.none()


def visible_receipts(queryset: QS, user: Viewer) -> QS:
    from rectify.core.roles import UNIT_ROLES
    from rectify.dashboard.models import Instruction

    queryset = queryset.filter(instruction__in=visible_instructions(Instruction.objects.all(), user).values("pk"))
    if is_active_user(user) and user.role in UNIT_ROLES:
        queryset = queryset.filter(in_tree("unit", user.unit))
    return queryset


def instructs_on_task(user: Viewer, task) -> bool:
    from rectify.ledger.models import Task

    return (is_active_user(user) and user.role == Role.LEADER
            and Task.objects.visible_to(user).filter(pk=task.pk).exists())


def instructs_on_county(user: Viewer, county) -> bool:
    return (is_active_user(user) and user.role == Role.LEADER
            and LeaderAssignment.objects.filter(leader_id=user.pk, county=county).exists())


def records_on(user: Viewer, receipt) -> bool:
    """The receiving unit's own people (填报员/审核员) record what it did."""
    from rectify.core.roles import UNIT_ROLES
    from rectify.orgs.scope import unit_within

    return (is_active_user(user) and user.role in UNIT_ROLES and user.unit is not None
            and unit_within(receipt.unit, user.unit))


def on_board_tasks(queryset: QS, user: Viewer, tasks: QS, *, task_field: str = "task", per_row: bool = False) -> QS:
    """Rows hanging off the board's tasks (escalations, close-out objections), read through the
    tasks already scoped for the board. For the board's users (the office, city leaders) this is
    exactly those rows' own scope — supervision.scope.visible_escalations and
    closeout.scope.visible_objections both reduce to "its task is visible" for them
    (tests/test_board.py checks the equality) — without evaluating the ledger scope once more."""
    if not sees_board(user):
        return queryset.none()
    return of_tasks(queryset, tasks, task_field, per_row=per_row)


def of_tasks(queryset: QS, tasks: QS, task_field: str = "task", *, per_row: bool = False) -> QS:
    """``queryset``'s rows whose task is one of ``tasks``. When ``tasks`` is the whole ledger (no
    condition: the board of an office that sees every task, ledger.scope.sees_every_task) every row
    qualifies and none is filtered: ``task_id IN (every task id)`` made SQLite list 100,000 ids and
    drive each figure's query from them (a province's first view: 1.2 s).

    ``per_row``: each row's task is tested against ``tasks`` (a correlated EXISTS, one probe of the
    task's key) instead of listing every task of ``tasks`` first — for a large scope (a sector
    leader's 29,000 tasks) and rows that are few (the open escalations and objections): listing
    that scope cost 15–30 ms per figure, whatever the rows."""
    if not tasks.query.has_filters():
        return queryset
    ids = listed_ids(tasks)
    if ids is not None:
        return queryset.filter(**{f"{task_field}__in": ids})
    if per_row:
        return queryset.filter(Exists(tasks.order_by().filter(pk=OuterRef(task_field))))
    return queryset.filter(**{f"{task_field}__in": tasks.order_by().values("pk")})


def listed_ids(tasks: QS) -> list[int] | None:
    """The ids of a scope already read as a list (``Task.objects.filter(pk__in=[…])``, as the board
    lists a small scope once), or None for any other queryset. Its rows are then filtered by those
    ids themselves: through a subquery on the tasks, PostgreSQL planned the progress chart's
    snapshots of a leader's 133 listed tasks from a scan of a task index filtered by the list
    (33,289 rows read and dropped: 24 ms) instead of 133 probes of the snapshots' task index.
    tests/test_board.py pins the form it recognises."""
    children = tasks.query.where.children
    if tasks.query.where.negated or len(children) != 1 or tasks.query.where.connector != "AND":
        return None
    lookup = children[0]
    if (isinstance(lookup, In) and getattr(lookup.lhs, "target", None) == tasks.model._meta.pk
            and isinstance(lookup.rhs, list | tuple) and not tasks.query.is_sliced):
        return list(lookup.rhs)
    return None
