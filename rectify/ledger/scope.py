"""Who sees and acts on campaigns, tasks and measures. Every ledger query a user can trigger
passes through here (``Task.objects.visible_to(user)`` and its siblings call these functions).

| role | sees tasks | acts |
| --- | --- | --- |
| 整改办管理员/工作人员 | of campaigns run by a unit in its tree, and tasks involving any unit in its tree | edits them; creates tasks in its tree's campaigns; leads every task it sees |
| 牵头督导单位 | where its unit (or a unit under it) holds any role | leads (督导) the tasks where it is 牵头督导单位 |
| 责任单位 填报员/审核员 | where its unit (or a unit under it) is a responsible unit | none in the ledger |
| 市领导 | it owns, of its counties (包县市区), of its sectors | none |
| 纪委监委, 审计员 | none (accountability cases and the audit record only) | none |

Campaigns: the office sees and acts on those run by its tree; anyone else sees those holding a
task they can see.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from rectify.core.roles import QS, UNIT_ROLES, Role, Viewer, is_active_user, is_office
from rectify.ledger.models import Campaign, Task, TaskQuerySet, TaskUnit, UnitRole
from rectify.orgs.models import Unit
from rectify.orgs.scope import in_any_tree, in_tree, unit_within

TASK_ACTIONS = ("view", "edit", "lead")
CAMPAIGN_ACTIONS = ("view", "add_task")


def _held_by_units(*, path_prefixes: list[str], role: str | None = None, start_here: bool = True) -> Q:
    """Tasks where a unit of these trees holds ``role`` (any role when None).

    ``start_here``: ``id IN (SELECT task_id FROM taskunit …)``, so that both databases start from
    the unit's links (index taskunit_unit_task_idx) and read only that unit's tasks — for users who
    see a small part of the ledger. Otherwise a correlated EXISTS, tested row by row after a
    broader condition (the office's own campaigns) has matched nearly every row.
    """
    links = TaskUnit.objects.filter(in_any_tree("unit", path_prefixes))
    if role:
        links = links.filter(role=role)
    if start_here:
        return Q(pk__in=links.values("task_id"))
    return Q(Exists(links.filter(task=OuterRef("pk"))))


def leader_areas(user) -> tuple[list[str], list[str]]:
    """A leader's counties (as tree paths) and sectors (task categories)."""
    assignments = list(user.assignments.select_related("county"))
    return ([a.county.path for a in assignments if a.county_id], [a.sector for a in assignments if a.sector])


def visible_tasks(queryset: QS, user: Viewer) -> QS:
    if not is_active_user(user):
        return queryset.none()
    unit = user.unit
    if is_office(user):
        # campaign_id IN (the tree's campaigns) rather than a join: a list's count stays join-free.
        campaigns = Campaign.objects.filter(in_tree("office", unit)).values("pk")
        if unit.parent_id is None:
            # A top office. If it is the only top of the tree, every campaign is run by a unit of its
            # tree and every task unit is in it: it sees every task. Said in the same statement, as
            # a condition the database evaluates once (no other top exists), so that nothing is
            # tested per row and nothing can be stale: a count of 100,000 tasks 18 → 3.5 ms. With
            # another top beside it (two cities on one server) the conditions after it decide: its
            # campaigns match almost every row and its units are tested per row after them (EXISTS;
            # from the units' index it read every task: 10 → 367 ms to count 100,000).
            return queryset.filter(_only_top(unit) | Q(campaign__in=campaigns)
                                   | _held_by_units(path_prefixes=[unit.path], start_here=False))
        # An office lower in the tree (a city's, in a province's ledger) sees a small part of it:
        # its campaigns' tasks and its units' tasks, as one UNION that both databases read from
        # their indexes and start from (a city's few thousand rows), whatever the province's size.
        # As an OR of the two, PostgreSQL tested every task of the province against both as hashed
        # subqueries (a city's 500 of 100,000 tasks: count 22 -> 4-7 ms, page 1 15-26 -> 5-6 ms,
        # page 10 90-200 -> 4-6 ms); SQLite, which read the OR from both indexes, is unchanged.
        own = Task.objects.filter(campaign__in=campaigns).order_by().values("pk")
        links = TaskUnit.objects.filter(in_any_tree("unit", [unit.path])).order_by().values("task_id")
        return queryset.filter(pk__in=own.union(links))
    if user.role == Role.SUPERVISOR and unit is not None:
        return queryset.filter(_held_by_units(path_prefixes=[unit.path]))
    if user.role in UNIT_ROLES and unit is not None:
        return queryset.filter(_held_by_units(path_prefixes=[unit.path], role=UnitRole.RESPONSIBLE))
    if user.role == Role.LEADER:
        counties, sectors = leader_areas(user)
        condition = _leader_own_and_counties(user, counties)
        if sectors:
            condition |= Q(category__in=sectors)
        return queryset.filter(condition)
    return queryset.none()


def _leader_own_and_counties(user, counties: list[str]) -> Q:
    """The tasks a leader is 责任领导 of, and those of its counties (包县市区)."""
    condition = Q(leader=user)
    if counties:
        condition |= _held_by_units(path_prefixes=counties, role=UnitRole.RESPONSIBLE)
    return condition


def whole_categories(queryset: QS, user: Viewer) -> tuple[list[str], QS]:
    """The tasks ``user`` sees as two disjoint parts: whole task categories — a leader's sectors
    (分管领域), every task of which it sees — and ``queryset``'s tasks of the rest of its scope (its
    own and its counties', outside those categories). Together exactly :func:`visible_tasks`. A
    figure kept per category (dashboard.RoundTally) sums the first part and counts only the second:
    a sector leader sees 29,000 of 100,000 tasks, of which a few hundred are not its sectors'.
    For anyone else: no whole category, and every task it sees."""
    if is_active_user(user) and user.role == Role.LEADER:
        counties, sectors = leader_areas(user)
        own = queryset.filter(_leader_own_and_counties(user, counties))
        return sectors, own.exclude(category__in=sectors) if sectors else own
    return [], visible_tasks(queryset, user)


@dataclass(frozen=True)
class LeaderParts:
    """A leader's scope as its sectors (分管领域: whole task categories) and the ids of the rest of
    it (its own tasks and its counties', outside those categories): see :func:`leader_parts`."""

    sectors: list[str]
    rest_ids: list[int]

    def rest(self) -> TaskQuerySet:
        return Task.objects.filter(pk__in=self.rest_ids)

    def tasks(self) -> TaskQuerySet:
        """Every task of the scope (exactly :func:`visible_tasks`), from the category index and by key."""
        if not self.sectors:
            return self.rest()
        return Task.objects.filter(Q(category__in=self.sectors) | Q(pk__in=self.rest_ids))


def leader_parts(user, *, at_most: int) -> LeaderParts | None:
    """The parts of :func:`whole_categories` for a leader whose rest of scope holds at most
    ``at_most`` tasks, that rest read once as ids: None for anyone else or a larger rest.

    The rest is read as a UNION of its own tasks and its counties' (each outside the sectors), so
    that the database estimates and reads each from its own index: as one OR of a subquery,
    PostgreSQL planned for 14,688 tasks where there were 132 and scanned the ledger (a sector
    leader at 100,000 tasks: 45 ms to list its scope, docs/performance.md)."""
    if not (is_active_user(user) and user.role == Role.LEADER):
        return None
    counties, sectors = leader_areas(user)
    parts = [Task.objects.filter(leader_id=user.pk)]
    if counties:
        parts.append(Task.objects.filter(_held_by_units(path_prefixes=counties, role=UnitRole.RESPONSIBLE)))
    ids = [(part.exclude(category__in=sectors) if sectors else part).order_by().values_list("pk", flat=True)
           for part in parts]
    rest_ids = list(ids[0].union(*ids[1:])[:at_most + 1] if len(ids) > 1 else ids[0][:at_most + 1])
    return LeaderParts(sectors, rest_ids) if len(rest_ids) <= at_most else None


def _only_top(unit) -> Q:
    """"No other unit is a top of the tree": true for the only top office, in the statement itself
    (uncorrelated: the database evaluates it once)."""
    return Q(~Exists(Unit.objects.filter(parent__isnull=True).exclude(pk=unit.pk)))


def sees_every_task(user: Viewer) -> bool:
    """Whether ``user`` sees the whole ledger: an office at the only top of the tree (the first
    condition of :func:`visible_tasks`). One query. Aggregates over everything they see (the
    battle map) then read each table whole instead of semi-joining it with every task id."""
    others = other_tops(user)
    return others is not None and not others.exists()


def other_tops(user: Viewer) -> QuerySet | None:
    """For an office at a top of the tree, the other tops: it sees every task exactly when there is
    none (:func:`sees_every_task`, asked by a caller inside its own statement). None for anyone
    else: they never see every task by their place."""
    if not is_active_user(user) or not is_office(user) or user.unit is None or user.unit.parent_id is not None:
        return None
    return Unit.objects.filter(parent__isnull=True).exclude(pk=user.unit.pk)


def actionable_tasks(queryset: QS, user: Viewer, action: str) -> QS:
    """Tasks on which the user may take ``action`` (one of :data:`TASK_ACTIONS`)."""
    if action == "view":
        return visible_tasks(queryset, user)
    if action == "edit":
        return visible_tasks(queryset, user) if is_office(user) else queryset.none()
    if action == "lead":
        if is_office(user):
            return visible_tasks(queryset, user)
        if is_active_user(user) and user.role == Role.SUPERVISOR and user.unit_id:
            return queryset.filter(_held_by_units(path_prefixes=[user.unit.path], role=UnitRole.LEAD_SUPERVISOR))
        return queryset.none()
    raise ValueError(f"unknown task action {action!r}")


def leads_task(user: Viewer, task) -> bool:
    """牵头督导: the office (for any task it sees) or the task's lead supervising unit."""
    if not is_active_user(user):
        return False
    if user.role == Role.SUPERVISOR and user.unit_id:
        return any(tu.role == UnitRole.LEAD_SUPERVISOR and unit_within(tu.unit, user.unit)
                   for tu in task.task_units.all())
    return is_office(user) and actionable_tasks(Task.objects.all(), user, "lead").filter(pk=task.pk).exists()


def responsible_for(user: Viewer, task) -> bool:
    """A responsible unit's own people (填报员/审核员) on this task."""
    return (is_active_user(user) and user.role in UNIT_ROLES and user.unit_id is not None
            and any(tu.role == UnitRole.RESPONSIBLE and unit_within(tu.unit, user.unit)
                    for tu in task.task_units.all()))


def can_create_tasks(user: Viewer) -> bool:
    return is_office(user)


# --- campaigns --------------------------------------------------------------------------------


def visible_campaigns(queryset: QS, user: Viewer) -> QS:
    """Campaigns a user may see and pick in filters: run by the user's tree, or holding a visible task."""
    if not is_active_user(user):
        return queryset.none()
    if is_office(user):
        return queryset.filter(in_tree("office", user.unit))
    if user.role == Role.LEADER:
        # per campaign "holds a visible task": a leader's sectors are in nearly every campaign, found
        # after a few index probes each, where listing its 29,340 tasks' campaigns read them all
        return queryset.filter(Exists(visible_tasks(Task.objects.filter(campaign=OuterRef("pk")), user)))
    # a unit's own people and lead units: the campaigns of their tasks, read from the unit's links
    # (a county's 93 tasks at 100,000), where a probe per campaign walked each campaign's tasks to
    # the end for the many that hold none of them (800 campaigns: 15 ms)
    return queryset.filter(pk__in=visible_tasks(Task.objects.all(), user).order_by().values("campaign_id"))


def actionable_campaigns(queryset: QS, user: Viewer, action: str) -> QS:
    """``add_task``: the office adds, imports and parses plans into campaigns run by its tree."""
    if action == "view":
        return visible_campaigns(queryset, user)
    if action == "add_task":
        return queryset.filter(in_tree("office", user.unit)) if is_office(user) else queryset.none()
    raise ValueError(f"unknown campaign action {action!r}")


def may_run_campaign_for(user: Viewer, office) -> bool:
    """May this user open a campaign (or a round) for ``office``: an office user above or at it."""
    return is_office(user) and unit_within(office, user.unit)


def on_visible_task(user: Viewer, task_field: str = "task") -> Q:
    """The condition "the row's task is one the user sees", for the scope of a task's reports,
    escalations, measures, close-outs: a correlated EXISTS on that one task. Written as
    ``task_id IN (SELECT id FROM task WHERE scope)`` SQLite built the list of every task the user
    sees first — a task page's reports and escalations cost 60 ms each at 100,000 tasks — where
    this reads one task per row examined (the rows a page shows, or the one task of a task page).

    For a top office the first condition of :func:`visible_tasks` (it is the only top: it sees
    every task) stands outside the EXISTS too, evaluated once for the statement: counting 85,803
    escalations probed a task per row (31 ms at 100,000 tasks) where it now reads an index."""
    exists = Q(Exists(visible_tasks(Task.objects.all(), user).filter(pk=OuterRef(task_field))))
    if is_active_user(user) and is_office(user) and user.unit is not None and user.unit.parent_id is None:
        return _only_top(user.unit) | exists
    return exists


# --- measures ---------------------------------------------------------------------------------


def visible_measures(queryset: QS, user: Viewer) -> QS:
    return queryset.filter(on_visible_task(user))


# --- list settings ----------------------------------------------------------------------------


def own_preferences(queryset: QS, user: Viewer) -> QS:
    """List settings (ListPreference): each user reads and writes only their own."""
    if not is_active_user(user):
        return queryset.none()
    return queryset.filter(user_id=user.pk)


def my_county_prefixes(user: Viewer) -> list[str] | None:
    """The tree paths of the counties a user answers for ("我负责的县市区"): a leader's counties
    (包县市区), a responsible unit's own tree; None for the office and lead units, whose scope
    already is every county they see."""
    if not is_active_user(user):
        return []
    if user.role == Role.LEADER:
        return leader_areas(user)[0]
    if user.role in UNIT_ROLES and user.unit is not None:
        return [user.unit.path]
    return None
