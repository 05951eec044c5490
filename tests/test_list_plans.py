"""The ledger list reads a page in the order of an index and stops at LIMIT (issue 8).

Query counts (tests/query_counts.json) say how many queries a page costs; this says what kind:
the page query of every indexed sort must be served by its index, never by sorting the user's
whole ledger before LIMIT. At 25,000 tasks a sort before LIMIT cost 33–48 ms of database time a
page on SQLite against 1 ms in index order (docs/performance.md).

SQLite: the plan of the query the list runs, as the planner chooses it from the tables'
statistics, must name the index and hold no temporary B-tree for ORDER BY. (On the generated
25,000-task province the planner also turned an INNER JOIN of the campaign into the outer loop and
sorted; the campaign is therefore prefetched. That needs the province's statistics to show, so
it is measured in bench/, not here.) PostgreSQL chooses a sequential scan on a test-sized table
whatever the indexes, so there the check is that an index-ordered plan exists: with sorting and
sequential scans priced out, the plan must read the named index.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection, transaction
from django.db.models import Q

from rectify.ledger.models import Task, TaskUnit, UnitRole
from rectify.ledger.selectors import TaskFilter, task_queryset, with_list_data

SORT_INDEX = {"warning": "task_warning_idx", "code": "task_list_idx", "deadline": "task_deadline_idx",
              "updated": "task_updated_idx", "title": "task_title_idx", "colour": "task_colour_order_idx",
              "progress": "task_progress_order_idx"}


def plan_of(qs) -> str:
    return plan_of_sql(*qs.query.sql_with_params())


def plan_of_sql(sql: str, params=None) -> str:
    """The plan of ``sql``: SQLite's as it chooses; PostgreSQL's with sorts and sequential scans
    priced out (``params`` None for SQL captured with its values inlined)."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            return "\n".join(str(row[-1]) for row in cursor.fetchall())
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.fixture
def ledger(world):
    """A few hundred tasks over four campaigns: enough for the planner's statistics to matter."""
    from rectify.ledger.models import Campaign

    campaigns = [world.campaign] + [Campaign.objects.create(code=f"P-{n}", name=f"批次{n}", office=world.office)
                                    for n in range(3)]
    tasks = Task.objects.bulk_create(
        Task(campaign=campaigns[i % 4], code=f"P-{i:03d}", title=f"任务{i}", status="active", deadline_kind="by_date",
             deadline=dt.date(2026, 1, 1) + dt.timedelta(days=i), warning_colour=("red", "yellow", "blue", "")[i % 4])
        for i in range(400))
    TaskUnit.objects.bulk_create(TaskUnit(task=task, unit=world.county_a, role=UnitRole.RESPONSIBLE, is_primary=True)
                                 for task in tasks)
    with connection.cursor() as cursor:  # statistics, as a maintained database has them (the planner's input)
        cursor.execute("ANALYZE")
    return world


@pytest.mark.parametrize("sort", sorted(SORT_INDEX))
def test_each_indexed_sort_reads_its_index_and_stops_at_the_page(ledger, sort):
    office = ledger.users["office_admin"]
    plan = plan_of(with_list_data(task_queryset(office, TaskFilter(sort=sort)))[:50])
    # (campaign, code) is unique, so its constraint's index reads the same order as task_list_idx:
    # PostgreSQL takes either, depending on statistics left by the tests before
    indexes = (SORT_INDEX[sort], "task_code_unique_in_campaign") if sort == "code" else (SORT_INDEX[sort],)
    assert any(index in plan for index in indexes), plan
    if connection.vendor == "sqlite":
        assert "TEMP B-TREE FOR ORDER BY" not in plan, plan
    else:
        top = plan.splitlines()[1] if plan.startswith("Limit") else plan.splitlines()[0]
        assert not top.lstrip(" ->").startswith("Sort"), plan


@pytest.mark.parametrize(("field", "value", "index"), [
    ("status", "active", "task_status_warning_idx"), ("category", "water", "task_category_warning_idx"),
    ("progress_status", "lagging", "task_progress_warning_idx"),
    ("deadline_kind", "long_term", "task_kind_warning_idx")])
def test_a_filter_in_default_order_reads_its_index(ledger, field, value, index):
    """台账状态, 问题类别, 进度状态 in the default order: the page read from the filter's own index in
    warning order, not by walking the whole warning order past every other value (40 ms at 100,000
    tasks for 滞后) nor by sorting every match."""
    office = ledger.users["office_admin"]
    Task.objects.filter(code__endswith="3").update(category="water", progress_status="lagging",
                                                   deadline_kind="long_term")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    plan = plan_of(with_list_data(task_queryset(office, TaskFilter(sort="warning", **{field: value})))[:50])
    assert index in plan, plan
    if connection.vendor == "sqlite":
        assert "TEMP B-TREE FOR ORDER BY" not in plan, plan


@pytest.mark.parametrize(("filters", "index"), [
    ({"warning_colour": "red"}, "task_colour_idx"),
    ({"deadline_from": dt.date(2026, 3, 1), "deadline_to": dt.date(2026, 6, 30)}, "task_deadline_idx"),
    ({"deadline_kind": "by_date"}, "task_kind_warning_idx"), ({"status": "active"}, "task_status_warning_idx"),
    ({"category": "water"}, "task_category_warning_idx"), ({"progress_status": "lagging"}, "task_progress_warning_idx")])
def test_a_filters_index_holds_every_column_its_count_reads(ledger, filters, index):
    """The count of a filtered list can read the filter's index and no task row: the index holds
    every column of the tasks the count names, the scope's too (the top office's: its campaigns, its
    units' tasks by id). Without them (ledger 0019), PostgreSQL read every task of a colour from the
    table (27,000 red at 100,000 tasks: 28 ms) and counted a year's deadlines from the whole category
    index (26 ms). Which plan a test-sized, unvacuumed table gets is the planner's guess, so the
    columns are what is checked; the figures are in docs/performance.md."""
    from rectify.core.paging import bare

    sql, _ = bare(task_queryset(ledger.users["office_admin"], TaskFilter(**filters))).values("pk").query.sql_with_params()
    named = set(re.findall(r'"ledger_task"\."(\w+)"', sql))
    with connection.cursor() as cursor:
        held = set(connection.introspection.get_constraints(cursor, "ledger_task")[index]["columns"])
    assert named and named <= held, (named - held, sql)


def test_the_default_order_follows_every_write_path(ledger):
    """warning_rank is kept by the database: a bulk UPDATE that bypasses the model moves the task."""
    office = ledger.users["office_admin"]

    def first_codes():
        return list(task_queryset(office, TaskFilter(sort="warning")).values_list("code", flat=True)[:3])

    assert first_codes() == ["P-000", "P-004", "P-008"]  # red, nearest deadline first
    Task.objects.filter(code="P-001").update(warning_colour="red", deadline=dt.date(2025, 1, 1))
    assert first_codes() == ["P-001", "P-000", "P-004"]
    # a red task without a deadline comes after the dated red ones, before the first yellow
    Task.objects.filter(code="P-001").update(deadline=None, deadline_kind="long_term")
    reds = Task.objects.filter(warning_colour="red").count()
    ordered = list(task_queryset(office, TaskFilter(sort="warning")).values_list("code", "warning_colour"))
    assert ordered[reds - 1] == ("P-001", "red") and ordered[reds][1] == "yellow"


@pytest.mark.parametrize("query", ["", "county={county}&unit={county}&campaign={campaign}", "unit=abc&county=999999"])
def test_unit_filters_read_as_rows_give_the_same_markup_as_instances(ledger, query):
    """The ledger's filter selects (every unit of a province) are read as (pk, name) rows, not model
    instances; the markup, the selected option and the empty choice are those of the general path."""
    from rectify.core.forms import FastSelect
    from rectify.ledger.forms import TaskFilterForm
    from rectify.ledger.selectors import campaigns_for

    office = ledger.users["office_admin"]
    data = dict(part.split("=") for part in query.format(county=ledger.county_a.pk,
                                                         campaign=ledger.campaign.pk).split("&") if part)
    fast = TaskFilterForm(data or None, campaigns=campaigns_for(office))
    general = TaskFilterForm(data or None, campaigns=campaigns_for(office))
    for name in ("campaign", "unit", "county", "lead"):
        general.fields[name].widget = FastSelect(choices=general.fields[name].widget.choices)
        assert fast.fields[name].widget.label_field == "name"
        assert str(fast[name]) == str(general[name])
    if data.get("county", "").isdigit() and int(data["county"]) == ledger.county_a.pk:
        assert f'<option value="{ledger.county_a.pk}" selected>{ledger.county_a.name}</option>' in str(fast["county"])


@pytest.mark.parametrize("field", ["unit", "county"])
def test_a_unit_filter_starts_from_the_units_tasks(ledger, field):
    """涉及单位 / 县市区: the database starts from the unit's rows in the task-unit index and sorts the
    few tasks it finds, instead of walking the whole ledger in sort order testing each task (a
    county holding 88 of 25,000 tasks cost 80–114 ms a page that way)."""
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL turns both forms into a semi-join chosen from its statistics; on a test-sized "
                    "table it scans whatever the query says (measured in bench/)")
    office = ledger.users["office_admin"]
    plan = plan_of(with_list_data(task_queryset(office, TaskFilter(sort="warning", **{field: ledger.county_b.pk})))[:50])
    assert "SEARCH ledger_task USING INTEGER PRIMARY KEY" in plan, plan


def test_a_tasks_reports_and_escalations_read_that_task_only(ledger):
    """The scope of a task's reports, escalations, measures and close-outs is "its task is visible":
    a correlated EXISTS on that task, not the list of every task the user sees (at 100,000 tasks
    a task page's reports and escalations cost 60 ms each that way)."""
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL plans IN and EXISTS alike as a semi-join from its statistics")
    from rectify.closeout.models import Closeout
    from rectify.dispatch.models import ProgressReport
    from rectify.ledger.models import Measure
    from rectify.supervision.models import Escalation

    task = ledger.task_a
    for persona in ("office_admin", "lead_env", "reporter_a"):
        user = ledger.users[persona]
        for model in (ProgressReport, Escalation, Measure, Closeout):
            plan = plan_of(model.objects.visible_to(user).filter(task=task))
            # the task is looked up by its key (aliased V0 in the EXISTS), never scanned
            assert "SEARCH V0 USING INTEGER PRIMARY KEY" in plan, (persona, model, plan)
            assert not re.search(r"^SCAN (ledger_task|V0)\b", plan, re.M), (persona, model, plan)


def test_an_office_below_the_top_reads_its_tasks_from_the_indexes(ledger):
    """A city's office in a province's ledger sees a small part of it: its campaigns' tasks and its
    units' tasks, one UNION read from their indexes, instead of testing every task of the province
    (SQLite 177 → 3.5 ms to count a city's 500 of 100,000 tasks; PostgreSQL, which tested the OR of
    both per task: 22 → 4–7 ms, a deep page 90–200 → 4–6 ms). The rows are the same as the top
    office's form gives."""
    from rectify.core.roles import Role
    from rectify.ledger.models import Campaign
    from rectify.ledger.scope import _held_by_units
    from rectify.orgs.models import UnitKind
    from rectify.orgs.services import create_unit, create_user

    city = create_unit(actor=None, name="某市整改办", kind=UnitKind.OFFICE, parent=ledger.office)
    county = create_unit(actor=None, name="某县", kind=UnitKind.COUNTY, parent=city)
    admin = create_user(actor=None, username="city_admin", password="Xy7#plan-test-2026", role=Role.OFFICE_ADMIN,
                        unit=city, display_name="市整改办管理员", must_change_password=False)
    own = Campaign.objects.create(code="C-CITY", name="某市批次", office=city)
    mine = Task.objects.bulk_create(Task(campaign=own, code=f"C-{i}", title=f"市任务{i}", status="active")
                                    for i in range(3))
    held = Task.objects.filter(code__in=["P-001", "P-002"])  # the province's tasks held by the city's county
    TaskUnit.objects.bulk_create(TaskUnit(task=t, unit=county, role=UnitRole.RESPONSIBLE) for t in held)
    visible = Task.objects.visible_to(admin)
    assert set(visible.values_list("code", flat=True)) == {"C-0", "C-1", "C-2", "P-001", "P-002"}
    campaigns = Campaign.objects.filter(pk=own.pk).values("pk")
    per_row = Task.objects.filter(Q(campaign__in=campaigns) | _held_by_units(path_prefixes=[city.path], start_here=False))
    assert set(per_row.values_list("pk", flat=True)) == set(visible.values_list("pk", flat=True))
    assert len(mine) == 3
    # Which plan the database picks depends on the province's statistics (measured in bench/: a test-sized
    # table is scanned whatever the query says); what the query must offer it is a condition each index
    # can serve and start from: the campaigns' tasks and the units' tasks as one UNION, not an OR of
    # conditions tested per task of the province, nor an EXISTS.
    sql = str(visible.values("pk").query)
    assert "EXISTS" not in sql and " OR " not in sql and " UNION " in sql, sql
    assert sql.count('"ledger_task"."id" IN (') == 1, sql
    top = str(Task.objects.visible_to(ledger.users["office_admin"]).values("pk").query)
    # the one top of the tree sees every task: said first, as a condition evaluated once
    assert top.split("WHERE", 1)[1].lstrip(" (").startswith('NOT EXISTS(SELECT 1 AS "a" FROM "orgs_unit"'), top
    if connection.vendor == "sqlite":
        plan = plan_of(Task.objects.visible_to(ledger.users["office_admin"]).values("pk"))
        assert "CORRELATED" not in plan.split("\n")[0], plan


def test_an_office_that_is_not_the_only_top_keeps_its_scope(ledger):
    """Two trees side by side (two cities on one server): each top office sees its own tree's tasks,
    not the other's — "the top sees everything" holds only for the one top."""
    from rectify.core.roles import Role
    from rectify.ledger.models import Campaign
    from rectify.orgs.models import UnitKind
    from rectify.orgs.services import create_unit, create_user

    other = create_unit(actor=None, name="另一市整改办", kind=UnitKind.OFFICE)
    admin = create_user(actor=None, username="other_admin", password="Xy7#plan-test-2026", role=Role.OFFICE_ADMIN,
                        unit=other, display_name="另一市管理员", must_change_password=False)
    theirs = Campaign.objects.create(code="X-1", name="另一市批次", office=other)
    Task.objects.create(campaign=theirs, code="X-001", title="另一市任务", status="active")
    assert set(Task.objects.visible_to(admin).values_list("code", flat=True)) == {"X-001"}
    first = ledger.users["office_admin"]
    assert "X-001" not in set(Task.objects.visible_to(first).values_list("code", flat=True))
    assert Task.objects.visible_to(first).count() == Task.objects.count() - 1
    # so do the rows hanging off tasks (measures here; reports, escalations, close-outs alike)
    from rectify.ledger.models import Measure

    Measure.objects.create(task=Task.objects.get(code="X-001"), text="另一市措施")
    Measure.objects.create(task=ledger.task_a, text="本市措施")
    assert set(Measure.objects.visible_to(admin).values_list("text", flat=True)) == {"另一市措施"}
    assert "另一市措施" not in set(Measure.objects.visible_to(first).values_list("text", flat=True))


def test_the_only_top_office_sees_every_tasks_rows_without_a_probe_per_row(ledger):
    """The rows hanging off tasks (reports, escalations, measures, close-outs) are scoped by "its
    task is visible", an EXISTS per row. For the only top office "it sees every task" stands
    before that EXISTS, evaluated once for the statement: counting 85,803 escalations at 100,000
    tasks probed a task per row (31 ms; the API's escalation list 178 ms in all) and now reads an
    index (2 ms; 35 ms)."""
    from rectify.dispatch.models import ProgressReport
    from rectify.ledger.models import Measure
    from rectify.supervision.models import Escalation

    top = ledger.users["office_admin"]
    for model in (ProgressReport, Escalation, Measure):
        where = str(model.objects.visible_to(top).values("pk").query).split("WHERE", 1)[1]
        assert where.lstrip(" (").startswith('NOT EXISTS(SELECT 1 AS "a" FROM "orgs_unit"'), (model, where)
    assert Measure.objects.visible_to(top).count() == Measure.objects.count()
    # anyone else is tested per row as before
    reporter = str(Measure.objects.visible_to(ledger.users["reporter_a"]).values("pk").query).split("WHERE", 1)[1]
    assert reporter.lstrip(" (").startswith("EXISTS("), reporter


@pytest.mark.parametrize(("field", "index"), [("campaign", "campaign_order_idx"), ("unit", "unit_kind_order_idx"),
                                               ("county", "unit_kind_order_idx"), ("lead", "unit_kind_order_idx")])
def test_the_filter_pickers_read_their_first_rows_in_index_order(ledger, field, index):
    """Each picker of the filter form reads its first UNIT_PICKER_LIST_ALL + 1 choices to decide
    between a select and a search box: in its index's order, stopping there, not every unit or
    campaign of a province sorted (5,560 units at 100,000 tasks: 7 → 0.2 ms)."""
    from django.conf import settings

    from rectify.ledger import selectors
    from rectify.ledger.forms import TaskFilterForm

    form = TaskFilterForm(campaigns=selectors.campaigns_for(ledger.users["office_admin"]))
    queryset = form.fields[field].queryset.values_list("pk", "name")[:settings.UNIT_PICKER_LIST_ALL + 1]
    plan = plan_of(queryset)
    assert index in plan, plan
    if connection.vendor == "sqlite":
        assert "TEMP B-TREE FOR ORDER BY" not in plan, plan


@pytest.mark.parametrize("status", ["", "open", "replied", "closed"])
def test_the_escalation_board_reads_its_order_from_an_index(ledger, status):
    """督办台账 (web and API): its order (open and overdue first) was a CASE over today's date, so
    every page ranked and sorted every escalation the user sees (18 ms at 85,803 escalations). It is
    now the stored ``board_rank`` and the reply date, read from ``escalation_order_idx``; a status
    filter is a range of that index."""
    from rectify.supervision.models import Escalation, Rung
    from rectify.supervision.selectors import escalation_board

    tasks = list(Task.objects.order_by("pk")[:200])
    statuses = ("open", "replied", "closed")
    Escalation.objects.bulk_create(
        Escalation(task=task, rung=Rung.CIRCULAR, reason="滞后", target_unit=ledger.county_a,
                   reply_due=dt.date(2026, 1, 1) + dt.timedelta(days=i % 90), issued_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                   status=statuses[i % 3])
        for i, task in enumerate(tasks))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    plan = plan_of(escalation_board(ledger.users["office_admin"], status=status)[:50])
    assert "escalation_order_idx" in plan, plan
    if connection.vendor == "sqlite":
        assert "TEMP B-TREE FOR ORDER BY" not in plan, plan


def test_a_tree_prefix_reads_the_path_index(ledger):
    """"This unit and its subtree" (orgs.scope.in_tree, every unit-scoped user's tasks) is a prefix
    of the materialised path read from its index: on SQLite a GLOB (its LIKE ignores case and
    cannot use a binary index: every unit's path was read), on PostgreSQL the pattern-ops index.
    (Several prefixes, a leader's counties, are an OR that SQLite reads by a scan of that index.)"""
    from rectify.orgs.models import Unit
    from rectify.orgs.scope import in_tree

    plan = plan_of(Unit.objects.filter(in_tree("", ledger.county_a)).order_by().values("pk"))
    assert "orgs_unit_path" in plan and not re.search(r"SCAN \S*orgs_unit|Seq Scan", plan), plan


def test_a_tree_prefix_is_the_paths_prefix_and_nothing_more(world):
    """The same units as a prefix test in Python, for every unit of the tree; GLOB's wildcards in a
    path (never written by the tree, which uses digits and dots) are matched as themselves."""
    from rectify.orgs.models import Unit
    from rectify.orgs.scope import in_any_tree, in_tree

    units = list(Unit.objects.all())
    for unit in units:
        assert set(Unit.objects.filter(in_tree("", unit)).values_list("pk", flat=True)) == {
            u.pk for u in units if u.path.startswith(unit.path)}, unit.path
    prefixes = [world.county_a.path, world.dept_env.path]
    assert set(TaskUnit.objects.filter(in_any_tree("unit", prefixes)).values_list("pk", flat=True)) == {
        tu.pk for tu in TaskUnit.objects.select_related("unit") if tu.unit.path.startswith(tuple(prefixes))}
    odd, plain = world.county_a, world.county_b
    Unit.objects.filter(pk=odd.pk).update(path="9[*?].")
    Unit.objects.filter(pk=plain.pk).update(path="9a1.")
    odd.path = "9[*?]."
    assert list(Unit.objects.filter(in_tree("", odd)).values_list("pk", flat=True)) == [odd.pk]
    assert not Unit.objects.filter(in_tree("", Unit(path="9*"))).exists()
    assert not Unit.objects.filter(in_tree("", Unit(path="9?1."))).exists()


@pytest.mark.parametrize("persona", ["reporter_a", "lead_env", "leader_a", "discipline"])
def test_a_units_campaigns_are_those_of_its_tasks_read_from_its_links(ledger, persona):
    """The campaigns a non-office user sees (the ledger's campaign filter): those holding a task it
    sees. A unit's people and lead units read them from their tasks, found from the unit's links, not
    by a probe per campaign that walked every campaign's tasks for the many holding none of theirs
    (800 campaigns at 100,000 tasks: 15 of a county reporter's 17 ms of SQL); a leader, whose
    sectors are in nearly every campaign, keeps the probe per campaign. The same campaigns either way."""
    from rectify.ledger.models import Campaign

    user = ledger.users[persona]
    seen = Campaign.objects.visible_to(user)
    assert set(seen.values_list("pk", flat=True)) == {
        c.pk for c in Campaign.objects.all() if Task.objects.visible_to(user).filter(campaign=c).exists()}
    if connection.vendor == "sqlite" and persona != "discipline":
        plan = plan_of(seen.order_by().values("pk"))
        assert ("CORRELATED" in plan) == (persona == "leader_a"), plan


def test_the_status_index_of_a_category_is_analysed_where_the_others_are(ledger):
    """ledger 0016 adds (category, progress_status) for the battle map's sectors. On a SQLite
    database whose other indexes have statistics it gives the new one its own, so that the category
    filter's page keeps reading its own index in order (without, SQLite took the new index for a few
    rows a category and sorted the page: 1 → 59 ms at 100,000 tasks); and the filter does. Its step
    (core.dbstats.analyse_new_index) serves dispatch 0002's period index too."""
    import importlib
    from types import SimpleNamespace

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL keeps its statistics per column (ANALYZE, autovacuum)")
    migrations = [importlib.import_module(name) for name in (
        "rectify.ledger.migrations.0016_task_category_progress_index", "rectify.dispatch.migrations.0002_round_period_idx")]
    from rectify.dispatch import services as dispatch
    from tests.conftest import round_due

    dispatch.open_round(actor=ledger.users["office_admin"], office=ledger.office, period="2026-01",
                        due_date=round_due("2026-01"))  # rounds to measure (an empty table has no statistics)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        for migration in migrations:
            cursor.execute("DELETE FROM sqlite_stat1 WHERE idx = %s", [migration.INDEX])
    for migration in migrations:
        step = next(op for op in migration.Migration.operations if hasattr(op, "code")).code
        step(None, SimpleNamespace(connection=connection))  # what it reads of its schema editor
        with connection.cursor() as cursor:
            cursor.execute("SELECT stat FROM sqlite_stat1 WHERE idx = %s", [migration.INDEX])
            assert cursor.fetchone() is not None, migration.INDEX
    plan = plan_of(with_list_data(task_queryset(ledger.users["office_admin"], TaskFilter(sort="warning", category="water")))[:50])
    assert "task_category_warning_idx" in plan and "TEMP B-TREE FOR ORDER BY" not in plan, plan


def test_the_colour_sort_written_out_is_the_same_on_both_databases(world):
    """预警从重到轻: red, yellow, blue, none; within a colour the furthest behind first (实际进度 lowest,
    none before 0 %), dated before undated, the nearest deadline, then the id — from the stored
    colour_order, which every write keeps (a bulk UPDATE too); the same from the end of the list."""
    from rectify.core.paging import page_rows

    day = dt.date(2026, 6, 1)
    rows = [  # (colour, actual percent, deadline), in the expected order
        ("red", None, day), ("red", 0, day), ("red", 0, day + dt.timedelta(days=3)), ("red", 0, None),
        ("red", 40, day), ("yellow", 10, day), ("yellow", 90, day), ("blue", None, None), ("blue", 100, day),
        ("", 0, day), ("", 5, None)]
    made = Task.objects.bulk_create(  # created in the opposite order: ids do not decide it
        Task(campaign=world.campaign, code=f"C-{i:02d}", title=f"颜色{i}", status="active",
             deadline_kind="by_date" if due else "long_term", deadline=due, warning_colour=colour,
             actual_percent=percent) for i, (colour, percent, due) in reversed(list(enumerate(rows))))
    expected = [t.pk for t in reversed(made)]
    user = world.users["office_admin"]
    qs = task_queryset(user, TaskFilter(sort="colour")).filter(code__startswith="C-")
    assert list(qs.values_list("pk", flat=True)) == expected
    tail = len(expected) // 2 + 1  # past the middle: read from the end
    assert [t.pk for t in page_rows(qs, tail, len(expected), total=len(expected))] == expected[tail:]
    Task.objects.filter(pk=expected[-1]).update(  # a bulk write: now the reddest, furthest behind, nearest
        warning_colour="red", actual_percent=None, deadline_kind="by_date", deadline=day - dt.timedelta(days=1))
    assert list(qs.values_list("pk", flat=True))[0] == expected[-1]


def test_the_progress_sort_written_out_is_the_same_on_both_databases(world):
    """进度从低到高: the lowest 实际进度 first (none reported before 0 %), dated before undated, the
    nearest deadline, then the id, from the stored progress_order — the same on both databases (the
    column itself put no percent and no deadline first on SQLite, last on PostgreSQL); from the end too."""
    from rectify.core.paging import page_rows

    day = dt.date(2026, 6, 1)
    rows = [(None, day), (None, None), (0, day), (0, day + dt.timedelta(days=2)), (0, None), (35, day),
            (100, None)]  # (actual percent, deadline), in the expected order
    made = Task.objects.bulk_create(
        Task(campaign=world.campaign, code=f"P-{i:02d}", title=f"进度{i}", status="active",
             deadline_kind="by_date" if due else "long_term", deadline=due, actual_percent=percent)
        for i, (percent, due) in reversed(list(enumerate(rows))))
    expected = [t.pk for t in reversed(made)]
    qs = task_queryset(world.users["office_admin"], TaskFilter(sort="progress")).filter(code__startswith="P-")
    assert list(qs.values_list("pk", flat=True)) == expected
    tail = len(expected) // 2 + 1
    assert [t.pk for t in page_rows(qs, tail, len(expected), total=len(expected))] == expected[tail:]


def test_postgresql_compiles_no_plan(db, tmp_path):
    """A PostgreSQL connection runs without JIT compilation: the scope's OR of EXISTS priced the
    ledger's count at 560,000 (past jit_above_cost), and compiling it took 285 of the page's 308 ms
    of SQL at 25,000 tasks (docs/performance.md). The setting comes with DATABASE_URL's connection."""
    from rectify.core.env import database_from_url

    config = database_from_url("postgres://u@db.example:5432/rectify", sqlite_default=tmp_path / "x.sqlite3")
    assert "-c jit=off" in config["OPTIONS"]["options"]
    if connection.vendor != "postgresql":
        pytest.skip("JIT is PostgreSQL's: the configuration above is what a PostgreSQL install gets")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


@pytest.mark.parametrize("field", ["unit", "county"])
def test_a_units_tasks_are_read_from_the_task_units_index_alone(ledger, field):
    """A unit filter, "my counties" and a city office's scope read the tasks where units hold a
    role: taskunit_unit_task_idx holds the task id, so the database reads that index alone (a city
    office's scope in a province at 25,000 tasks on PostgreSQL: its 31 units' tasks 12 → 0.5 ms,
    where the planner had scanned every task unit rather than read the unit index and each row)."""
    office = ledger.users["office_admin"]
    if connection.vendor == "sqlite":
        plan = plan_of(task_queryset(office, TaskFilter(**{field: ledger.county_a.pk})).values("pk"))
        assert "USING COVERING INDEX taskunit_unit_task_idx" in plan, plan
    # PostgreSQL's semi-join of a test-sized ledger is chosen from its statistics whatever the
    # indexes (measured in bench/), and a scan of the index alone needs the visibility map a VACUUM
    # writes, which a test's transaction cannot run: there the units' tasks must come from the
    # index, and the index must hold the task id
    plan = plan_of(TaskUnit.objects.filter(unit__in=[ledger.county_a, ledger.county_b]).order_by().values("task_id"))
    if connection.vendor == "sqlite":
        assert "USING COVERING INDEX taskunit_unit_task_idx" in plan, plan
    else:
        assert "on taskunit_unit_task_idx" in plan, plan
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'taskunit_unit_task_idx'")
            assert cursor.fetchone()[0].endswith("(unit_id, role, task_id)")
