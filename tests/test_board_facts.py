"""Board facts (dashboard.facts) equal what the ledger says after every kind of write: the ledger's
services, bulk status updates, raw statements, unit moves and changes of kind, and they come back
with ``rectify reindex``. The oracle below computes them in Python from the task units and the units'
paths; the units' own ``county`` is checked against it too."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from rectify.cli import main as rectify
from rectify.dashboard import selectors
from rectify.dashboard.models import ROUND_TOTAL, BoardFact, FactKind, RoundTally
from rectify.ledger import services as ledger
from rectify.ledger.models import Task, TaskUnit, UnitRole
from rectify.orgs.models import Category, Unit, UnitKind
from rectify.orgs.services import create_unit, move_unit, update_unit
from rectify.supervision.models import StatusSnapshot
from rectify.supervision.services import refresh_statuses


def nearest_counties() -> dict[int, int | None]:
    """Each unit's nearest county-level unit at or above it, from the paths and kinds."""
    kinds = dict(Unit.objects.values_list("pk", "kind"))
    result = {}
    for pk, path in Unit.objects.values_list("pk", "path"):
        ids = [int(p) for p in path.rstrip(".").split(".")]
        result[pk] = next((i for i in reversed(ids) if kinds[i] == UnitKind.COUNTY), None)
    return result


def expected_facts() -> set[tuple[int, int, int, str, str]]:
    """(task, kind, unit, the task's status, the task's category) of every fact the ledger implies."""
    county_of = nearest_counties()
    status = dict(Task.objects.values_list("pk", "progress_status"))
    category = dict(Task.objects.values_list("pk", "category"))
    facts = set()
    for task_id, unit_id, role in TaskUnit.objects.values_list("task_id", "unit_id", "role"):
        if role == UnitRole.RESPONSIBLE and county_of[unit_id] is not None:
            facts.add((task_id, FactKind.COUNTY.value, county_of[unit_id], status[task_id], category[task_id]))
        elif role == UnitRole.LEAD_SUPERVISOR:
            facts.add((task_id, FactKind.LEAD.value, unit_id, status[task_id], category[task_id]))
    return facts


def stored_facts() -> set[tuple[int, int, int, str, str]]:
    rows = list(BoardFact.objects.values_list("task_id", "kind", "unit_id", "status", "category"))
    assert len(rows) == len(set(rows))
    return set(rows)


def assert_consistent() -> set:
    assert dict(Unit.objects.values_list("pk", "county_id")) == nearest_counties()
    expected = expected_facts()
    assert stored_facts() == expected
    return expected


def county_fact(task: Task) -> set[int]:
    return set(BoardFact.objects.filter(task=task, kind=FactKind.COUNTY).values_list("unit_id", flat=True))


def sub_unit(world, name: str, parent: Unit) -> Unit:
    """A department of a county (区生态环境分局): responsible for tasks, counted for its county."""
    return create_unit(actor=world.users["office_admin"], name=name, kind=UnitKind.DEPARTMENT, parent=parent)


def new_task(world, code: str, responsible: list[Unit], lead: Unit) -> Task:
    return ledger.create_task(actor=world.users["office_admin"], campaign=world.campaign, data=ledger.TaskInput(
        code=code, title=f"统计任务{code}", responsible_units=responsible, lead_supervisor=lead,
        deadline_kind="by_date", deadline=timezone.localdate() + dt.timedelta(days=30)))


def test_the_ledger_services_keep_the_facts(world):
    assert len(assert_consistent()) == 4  # two tasks: a county and a lead unit each
    branch = sub_unit(world, "零陵区生态环境分局", world.county_a)
    assert branch.county_id == world.county_a.pk
    task = new_task(world, "F-01", [branch, world.county_a, world.county_b], world.dept_env)
    assert county_fact(task) == {world.county_a.pk, world.county_b.pk}  # two units in one county: one fact
    assert_consistent()

    admin = world.users["office_admin"]
    task.refresh_from_db()
    data = dataclasses.replace(ledger.task_input_from(task), responsible_units=[branch],
                               lead_supervisor=world.dept_housing)
    task = ledger.update_task(actor=admin, task=task, expected_version=task.version, data=data)
    assert county_fact(task) == {world.county_a.pk}
    assert set(BoardFact.objects.filter(task=task, kind=FactKind.LEAD).values_list("unit_id", flat=True)) == {
        world.dept_housing.pk}
    assert_consistent()

    # statuses: the product's own refresh, and a bulk UPDATE around it
    refresh_statuses(today=timezone.localdate() + dt.timedelta(days=400))
    assert set(BoardFact.objects.filter(task=task).values_list("status", flat=True)) == {
        Task.objects.get(pk=task.pk).progress_status} != {""}
    Task.objects.filter(pk=world.task_a.pk).update(progress_status="closed")
    assert_consistent()

    task.delete()
    assert not BoardFact.objects.filter(task_id=task.pk).exists()
    assert_consistent()


def test_a_bulk_write_keeps_the_facts_of_its_task_units(world):
    """write_tasks inserts its task units with the row triggers standing aside on SQLite and adds
    their facts in one statement (dashboard.facts.task_units_in_bulk): new tasks and updated ones
    (whose units are written again) end with the facts the ledger implies; the triggers are there
    again afterwards, also when the write fails half-way."""
    admin = world.users["office_admin"]
    branch = sub_unit(world, "零陵区生态环境分局", world.county_a)
    existing = new_task(world, "B-00", [world.county_b], world.dept_env)

    def write(code: str, responsible: list[Unit], lead: Unit) -> ledger.TaskWrite:
        return ledger.TaskWrite(data=ledger.TaskInput(
            code=code, title=f"批量{code}", problem="问题", responsible_units=responsible, lead_supervisor=lead,
            deadline_kind="long_term", measures=[ledger.MeasureInput(text="措施")]))

    update = write("B-00", [branch, world.county_a], world.dept_housing)
    update.task, update.expected_version = existing, existing.version
    writes = [write(f"B-{i:02d}", [[world.county_a], [branch, world.county_b], [world.county_a, branch]][i % 3],
                    [world.dept_env, world.dept_housing][i % 2]) for i in range(1, 13)] + [update]
    assert ledger.write_tasks(actor=admin, campaign=world.campaign, writes=writes) == (12, 1)
    assert _triggers() == fact_triggers() | TALLY_TRIGGERS | ledger_triggers()
    assert county_fact(existing) == {world.county_a.pk}
    assert len(assert_consistent()) == 4 + 2 * 13 + 4  # a county and a lead unit each; four in two counties

    # a bulk write that fails while the triggers stand aside: its transaction takes them back too
    from django.db import transaction

    from rectify.dashboard.facts import task_units_in_bulk

    with pytest.raises(RuntimeError), transaction.atomic(), task_units_in_bulk():
        raise RuntimeError("the insert failed")
    assert _triggers() == fact_triggers() | TALLY_TRIGGERS | ledger_triggers()
    later = new_task(world, "B-30", [world.county_b], world.dept_env)
    assert county_fact(later) == {world.county_b.pk}
    assert_consistent()


def test_raw_statements_are_seen_too(world):
    branch = sub_unit(world, "祁阳市生态环境分局", world.county_b)
    branch_a = sub_unit(world, "零陵区生态环境分局", world.county_a)
    task = new_task(world, "F-02", [world.county_a, branch], world.dept_env)
    responsible = {tu.unit_id: tu.pk for tu in TaskUnit.objects.filter(task=task, role=UnitRole.RESPONSIBLE)}
    with connection.cursor() as cursor:
        # a responsible unit changed in place: county B's fact goes, A's stays (the other unit holds it)
        cursor.execute("UPDATE ledger_taskunit SET unit_id = %s WHERE id = %s",
                       [branch_a.pk, responsible[branch.pk]])
        assert county_fact(task) == {world.county_a.pk}
        assert_consistent()
        # one of two units in county A removed: the fact stays; both removed: it goes
        cursor.execute("DELETE FROM ledger_taskunit WHERE id = %s", [responsible[world.county_a.pk]])
        assert county_fact(task) == {world.county_a.pk}
        cursor.execute("DELETE FROM ledger_taskunit WHERE task_id = %s AND role = %s", [task.pk, "responsible"])
        assert county_fact(task) == set()
        cursor.execute("INSERT INTO ledger_taskunit (task_id, unit_id, role, is_primary, ordinal) "
                       "VALUES (%s, %s, %s, %s, 0)", [task.pk, branch.pk, "responsible", True])
        assert county_fact(task) == {world.county_b.pk}
        # a lead unit changes role: its fact goes
        cursor.execute("UPDATE ledger_taskunit SET role = %s WHERE task_id = %s AND role = %s",
                       ["co_supervisor", task.pk, "lead_supervisor"])
        assert not BoardFact.objects.filter(task=task, kind=FactKind.LEAD).exists()
        cursor.execute("UPDATE ledger_task SET progress_status = %s WHERE id = %s", ["overdue", task.pk])
        # a change of category (a leader's sectors are read by it), alone and with the status
        cursor.execute("UPDATE ledger_task SET category = %s WHERE id = %s", ["soil", task.pk])
        assert set(BoardFact.objects.filter(task=task).values_list("category", flat=True)) == {"soil"}
        cursor.execute("UPDATE ledger_task SET category = %s, progress_status = %s WHERE id IN (%s, %s)",
                       ["mines", "lagging", task.pk, world.task_a.pk])
        assert set(BoardFact.objects.filter(task=task).values_list("status", "category")) == {("lagging", "mines")}
        cursor.execute("UPDATE ledger_task SET progress_status = %s WHERE id = %s", ["overdue", task.pk])
    assert set(BoardFact.objects.filter(task=task).values_list("status", flat=True)) == {"overdue"}
    assert_consistent()


def test_a_unit_moved_or_made_a_county_takes_its_tasks_along(world):
    admin = world.users["office_admin"]
    branch = sub_unit(world, "零陵区水利局", world.county_a)
    station = sub_unit(world, "零陵区水文站", branch)  # two levels below the county
    task = new_task(world, "F-03", [station], world.dept_env)
    assert station.county_id == world.county_a.pk and county_fact(task) == {world.county_a.pk}

    move_unit(actor=admin, unit=branch, parent=world.county_b)
    assert Unit.objects.get(pk=station.pk).county_id == world.county_b.pk
    assert county_fact(task) == {world.county_b.pk}
    assert_consistent()

    move_unit(actor=admin, unit=branch, parent=world.office)  # a city department now: no county
    assert county_fact(task) == set()
    assert_consistent()

    update_unit(actor=admin, unit=branch, kind=UnitKind.COUNTY, county_kind="管理区")  # 管理区 becomes county-level
    assert Unit.objects.get(pk=station.pk).county_id == branch.pk
    assert county_fact(task) == {branch.pk}
    assert_consistent()
    # and the board counts it for its new county, as the ledger's county filter does
    data = selectors.board_data(admin, today=timezone.localdate())
    assert next(c for c in data["counties"] if c["id"] == branch.pk)["total"] == 1


def test_reindex_builds_the_facts_again(world, capsys):
    new_task(world, "F-04", [world.county_a, world.county_b], world.dept_housing)
    expected = assert_consistent()
    with connection.cursor() as cursor:  # as if the table had been emptied around the triggers
        cursor.execute("DELETE FROM dashboard_boardfact")
    admin = world.users["office_admin"]
    assert all(c["total"] == 0 for c in selectors.board_data(admin, today=timezone.localdate())["counties"])
    assert rectify(["reindex"]) == 0
    assert f"已重建作战图统计：{len(expected)} 条" in capsys.readouterr().out
    assert stored_facts() == expected


def test_the_lead_units_panel_shows_the_busiest_twenty(world):
    """Most tasks first, ties by name, at most twenty: the names are read for those units alone."""
    leads = [create_unit(actor=None, name=f"市直部门{i:02d}", kind=UnitKind.DEPARTMENT, parent=world.office)
             for i in range(22)]
    for i, lead in enumerate(leads):
        for j in range(1 + (i % 3)):
            new_task(world, f"L-{i:02d}-{j}", [world.county_a], lead)
    rows = selectors.board_data(world.users["office_admin"], today=timezone.localdate())["lead_units"]
    counts = {u.pk: TaskUnit.objects.filter(unit=u, role=UnitRole.LEAD_SUPERVISOR).count()
              for u in [*leads, world.dept_env, world.dept_housing]}
    names = {u.pk: u.short_name or u.name for u in [*leads, world.dept_env, world.dept_housing]}
    expected = sorted(counts, key=lambda pk: (-counts[pk], names[pk]))[:20]
    assert [r["id"] for r in rows] == expected
    assert [r["total"] for r in rows] == [counts[pk] for pk in expected]
    assert all(r["name"] == names[r["id"]] and sum(r["by_status"].values()) == r["total"] for r in rows)


def stored_tallies() -> dict[tuple[int, str, str], int]:
    rows = list(RoundTally.objects.values_list("round_id", "category", "status", "n"))
    assert all(n > 0 for *_, n in rows), rows  # a tally that reached nought is gone
    return {(r, c, s): n for r, c, s, n in rows}


def counted_tallies() -> dict[tuple[int, str, str], int]:
    """The oracle: the snapshots counted per round, their task's category as it stands, and status,
    and per round and status under the round's total."""
    counted = {(r, c, s): n for r, c, s, n in StatusSnapshot.objects.values_list("round_id", "task__category", "status")
               .annotate(n=Count("id")).order_by()}
    return counted | {(r, ROUND_TOTAL, s): n for (r, s), n in by_round_status(counted).items()}


def by_round_status(tallies: dict[tuple[int, str, str], int]) -> dict[tuple[int, str], int]:
    summed: dict[tuple[int, str], int] = {}
    for (r, c, s), n in tallies.items():
        if c != ROUND_TOTAL:
            summed[(r, s)] = summed.get((r, s), 0) + n
    return summed


def test_round_tallies_follow_the_snapshots(world, capsys):
    """dashboard.RoundTally equals the snapshots counted per round, task category and status after
    rounds close, after snapshots are deleted through the ORM or changed and removed by raw
    statements (a whole round's among them), after tasks change category (a save, a bulk update), and
    after ``rectify reindex``."""
    from rectify.dispatch import services as dispatch
    from tests.conftest import round_due

    admin = world.users["office_admin"]
    for i in range(6):
        new_task(world, f"R-{i}", [world.county_a], world.dept_env)
    for i, category in enumerate([Category.WATER, Category.AIR, Category.WATER, Category.MINES]):
        Task.objects.filter(code=f"R-{i}").update(category=category)
    rounds = []
    for period in ("2026-01", "2026-02"):
        rnd, _ = dispatch.open_round(actor=admin, office=world.office, period=period, due_date=round_due(period))
        dispatch.close_round(actor=admin, rnd=rnd)
        rounds.append(rnd)
    expected = counted_tallies()
    assert stored_tallies() == expected and sum(by_round_status(expected).values()) == 2 * Task.objects.count() == 16

    StatusSnapshot.objects.filter(task__code="R-0").delete()  # a task's snapshots (tasks with reports stay)
    assert stored_tallies() == counted_tallies() and sum(by_round_status(counted_tallies()).values()) == 14
    one = StatusSnapshot.objects.filter(round=rounds[0]).exclude(task__category=Category.WATER).first()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE supervision_statussnapshot SET status = %s WHERE id = %s", ["closed", one.pk])
        assert stored_tallies() == counted_tallies()
        assert by_round_status(counted_tallies())[(rounds[0].pk, "closed")] >= 1
        other = Task.objects.get(code="R-0")  # water, its snapshots gone
        assert one.task.category != other.category
        cursor.execute("UPDATE supervision_statussnapshot SET task_id = %s WHERE id = %s",
                       [other.pk, one.pk])  # a snapshot moved to a task of another category
        assert stored_tallies() == counted_tallies()
        cursor.execute("DELETE FROM supervision_statussnapshot WHERE round_id = %s AND status <> %s",
                       [rounds[0].pk, "closed"])
        assert stored_tallies() == counted_tallies()
        cursor.execute("DELETE FROM supervision_statussnapshot WHERE round_id = %s", [rounds[0].pk])
    assert not RoundTally.objects.filter(round=rounds[0]).exists()
    assert stored_tallies() == counted_tallies() != {}

    # a task's category changes: its snapshots' counts move from the old category to the new
    moved = Task.objects.get(code="R-1")
    before = {c for _, c, _ in stored_tallies()}
    moved.category = Category.AIR if moved.category != Category.AIR else Category.WATER
    moved.save(update_fields=["category"])
    assert stored_tallies() == counted_tallies() and moved.category in {c for _, c, _ in stored_tallies()}
    Task.objects.filter(code__in=["R-2", "R-3"]).update(category=Category.SOIL)
    assert stored_tallies() == counted_tallies() and {c for _, c, _ in stored_tallies()} != before
    Task.objects.filter(code__in=["R-2", "R-3"]).update(category=Category.SOIL)  # no change: nothing moves
    assert stored_tallies() == counted_tallies()

    with connection.cursor() as cursor:  # as if emptied around the triggers
        cursor.execute("DELETE FROM dashboard_roundtally")
    assert rectify(["reindex"]) == 0
    capsys.readouterr()
    assert stored_tallies() == counted_tallies() != {}




def _triggers() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        return {row[0] for row in cursor.fetchall()} - {"core_event_append_only"}


def fact_triggers() -> set[str]:
    """The facts' triggers: an insert of task units is one statement-level trigger on PostgreSQL and
    one row trigger per counted role on SQLite (dashboard 0007)."""
    inserts = ("taskunit_insert",) if connection.vendor == "postgresql" else (
        "taskunit_insert_county", "taskunit_insert_lead")
    return {f"dashboard_boardfact_{name}" for name in (
        *inserts, "taskunit_delete", "taskunit_update", "task_status", "task_delete", "unit_county")}


TALLY_TRIGGERS = {f"dashboard_roundtally_{name}" for name in ("insert", "delete", "update", "category")}


def ledger_triggers() -> set[str]:
    """The ledger's own on its tasks: the keyword index's delete trigger (ledger 0018) and the
    campaigns' task counts (0020); on PostgreSQL each also on a TRUNCATE."""
    names = {"ledger_task_search_delete", "ledger_campaigntally_insert", "ledger_campaigntally_delete",
             "ledger_campaigntally_move"}
    if connection.vendor == "postgresql":
        names |= {"ledger_task_search_truncate", "ledger_campaigntally_truncate"}
    return names


def test_the_triggers_outlive_a_rebuild_of_the_task_table(world):
    """SQLite adds a stored column by rebuilding ledger_task (ledger 0017): the rename is refused
    while a trigger names the table, and the table's own triggers go with it. The migration sets
    every trigger naming ledger_task aside and makes it again from its own text; here, on SQLite,
    its two steps around nothing, then the facts still follow a change of status and category."""
    import importlib
    from types import SimpleNamespace

    assert _triggers() == fact_triggers() | TALLY_TRIGGERS | ledger_triggers()
    if connection.vendor != "sqlite":
        return  # PostgreSQL alters the table in place: nothing is set aside
    migration = importlib.import_module("rectify.ledger.migrations.0017_task_colour_order")
    editor = SimpleNamespace(connection=connection)  # what the steps use of their schema editor
    migration.set_triggers_aside(None, editor)
    assert _triggers() == set()  # every one of them joins or is on ledger_task
    migration.restore_triggers(None, editor)
    assert _triggers() == fact_triggers() | TALLY_TRIGGERS | ledger_triggers()
    Task.objects.filter(pk=world.task_a.pk).update(progress_status="lagging", category="air")
    assert set(BoardFact.objects.filter(task=world.task_a).values_list("status", "category")) == {("lagging", "air")}
    assert_consistent()
