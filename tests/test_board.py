"""The battle map and board (挂图作战): figures equal the ledger's counts for the same filter, a
leader sees only their counties and sectors, and the data endpoint is scoped like the page."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rectify.dashboard import selectors
from rectify.ledger import services as ledger
from rectify.ledger.models import Task
from rectify.ledger.selectors import TaskFilter, task_queryset
from rectify.orgs.models import Category, UnitKind
from rectify.orgs.services import create_unit
from tests.test_list_plans import plan_of_sql

STATUSES = ["overdue", "lagging", "on_schedule", "closed", "long_term", "unscheduled"]


def populate(world, n: int = 24):
    """Tasks spread over three counties and two lead units, every derived status, some shared by two
    counties (so that a task counts for each of its counties, as the ledger's county filter counts it)."""
    county_c = create_unit(actor=None, name="东安县", kind=UnitKind.COUNTY, region_code="431122", parent=world.office)
    counties = [world.county_a, world.county_b, county_c]
    leads = [world.dept_env, world.dept_housing]
    today = timezone.localdate()
    combos = itertools.cycle(itertools.product(range(3), range(2), STATUSES))
    for i in range(n):
        c, lead, status = next(combos)
        units = [counties[c]] + ([counties[(c + 1) % 3]] if i % 5 == 0 else [])
        task = ledger.create_task(actor=world.users["office_admin"], campaign=world.campaign, data=ledger.TaskInput(
            code=f"B-{i:03d}", title=f"看板任务{i}", category=[Category.WATER, Category.AIR][i % 2],
            responsible_units=units, lead_supervisor=leads[lead], deadline_kind="by_date",
            deadline=today + dt.timedelta(days=10 * (i % 9) - 20)))
        # the derived status is written by supervision alone; a fixture may set it directly
        Task.objects.filter(pk=task.pk).update(progress_status=status)
    return counties


def ledger_count(user, **filters) -> int:
    return task_queryset(user, TaskFilter(**filters)).count()


@pytest.mark.parametrize("persona", ["office_admin", "leader_a"])
def test_board_figures_equal_the_ledger_counts(world, persona):
    populate(world)
    user = world.users[persona]
    data = selectors.board_data(user, today=timezone.localdate())
    assert data["total"] == ledger_count(user)
    for s in data["statuses"]:
        if not s["status"]:  # 未计算 (never computed): the ledger has no filter for it; the total covers it
            continue
        assert s["count"] == ledger_count(user, progress_status=s["status"]), s
    for c in data["counties"]:
        assert c["total"] == ledger_count(user, county=c["id"]), c["name"]
        for status in STATUSES:
            assert c["by_status"].get(status, 0) == ledger_count(user, county=c["id"], progress_status=status)
    for u in data["lead_units"]:
        assert u["total"] == ledger_count(user, lead=u["id"])
        for status, n in u["by_status"].items():
            assert not status or n == ledger_count(user, lead=u["id"], progress_status=status)
    today = timezone.localdate()
    assert data["deadlines"]["count"] == task_queryset(user, TaskFilter(
        deadline_from=today, deadline_to=today + dt.timedelta(days=60))).exclude(progress_status="closed").count()


def test_a_leader_sees_only_their_counties_and_sectors(world):
    counties = populate(world)
    leader = world.users["leader_a"]  # 包零陵区, no sector
    data = selectors.board_data(leader, today=timezone.localdate())
    assert [c["name"] for c in data["counties"]] == ["零陵区"]
    visible = set(Task.objects.visible_to(leader).values_list("code", flat=True))
    assert data["total"] == len(visible) < Task.objects.count()
    client = world.client("leader_a")
    page = client.get("/board/")
    assert page.status_code == 200 and "东安县" not in page.content.decode().split('id="county-table"')[1]
    endpoint = client.get("/board/data.json").json()
    assert [c["name"] for c in endpoint["counties"]] == ["零陵区"] and endpoint["total"] == data["total"]
    office = world.client("office_admin").get("/board/data.json").json()
    assert {c["name"] for c in office["counties"]} == {c.name for c in counties}
    assert office["total"] == Task.objects.count()
    # the map's geometry is the region of the leader's own counties; another region's is refused
    assert client.get("/board/geo/431100.json").status_code == 200
    assert client.get("/board/geo/110000.json").status_code == 404


def test_sectors_widen_a_leaders_board(world):
    from rectify.orgs.services import assign_leader_area

    populate(world)
    leader = world.users["leader_a"]
    before = selectors.board_data(leader, today=timezone.localdate())["total"]
    assign_leader_area(actor=None, leader=leader, sector=Category.AIR)
    after = selectors.board_data(leader, today=timezone.localdate())["total"]
    assert after == Task.objects.visible_to(leader).count() > before


@pytest.mark.parametrize("persona", ["reporter_a", "lead_env", "discipline", "auditor"])
def test_other_roles_have_no_board(world, persona):
    client = world.client(persona)
    assert client.get("/board/").status_code == 404
    assert client.get("/board/data.json").status_code == 404
    assert client.get("/board/geo/431100.json").status_code == 404


def test_the_endpoint_costs_the_same_at_any_size(world):
    client = world.client("office_admin")
    populate(world, 36)  # every list of the board full (12 rows and more): its count is then a query
    client.get("/board/data.json")

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/board/data.json").status_code == 200
        return len(ctx.captured_queries)

    small = queries()
    from rectify.ledger.models import Task

    Task.objects.bulk_create(Task(campaign=world.campaign, code=f"X-{n}", title="更多", deadline_kind="by_date",
                                  deadline=timezone.localdate(), progress_status="overdue") for n in range(60))
    assert queries() == small


def test_the_map_covers_the_demo_city(world):
    data = selectors.board_data(world.users["office_admin"], today=timezone.localdate(), measure="closeout_share")
    assert data["region"] == "431100" and data["measure"] == "closeout_share"
    geo = world.client("office_admin").get("/board/geo/431100.json").json()
    assert {f["properties"]["code"] for f in geo["features"]} >= {"431102", "431181"}


def test_targets_stand_on_the_board_and_colour_the_map(world):
    from decimal import Decimal

    from rectify.indicators import services as indicators

    ind = indicators.create_indicator(actor=world.users["office_admin"], data=indicators.IndicatorInput(
        name="县级空气质量达到二级标准", comparator="yes", value=Decimal(1), scope="each_county"))
    for county, value in ((world.county_a, "是"), (world.county_b, "否")):
        indicators.record_measurement(actor=world.users["office_admin"], indicator=ind, region=county, period="2025",
                                      value=value)
    data = selectors.board_data(world.users["office_admin"], today=timezone.localdate(), measure="attainment")
    assert data["indicators"][0]["attainment"] == "not_met" and data["indicators"][0]["met"] == 1
    share = {c["name"]: c["attainment"] for c in data["counties"]}
    assert share == {"零陵区": 100.0, "祁阳市": 0.0}
    leader = selectors.board_data(world.users["leader_a"], today=timezone.localdate())
    assert [c["name"] for c in leader["counties"]] == ["零陵区"]


def test_the_endpoint_writes_the_figures_as_the_standard_encoder_would(world):
    """The data endpoint and the wall screen's are written by orjson (a province's figures: 18 →
    1.5 ms); every value — shares as floats, None, labels, the targets' figures — reads back as
    Django's own JSON encoder writes it."""
    import json
    from decimal import Decimal

    from django.core.serializers.json import DjangoJSONEncoder

    from rectify.indicators import services as indicators

    populate(world)
    ind = indicators.create_indicator(actor=world.users["office_admin"], data=indicators.IndicatorInput(
        name="地表水国考断面优良比例", comparator="≥", value=Decimal("85.5"), unit="%", scope="city"))
    indicators.record_measurement(actor=world.users["office_admin"], indicator=ind, region=world.office, period="2025",
                                  value="88.25")
    client = world.client("office_admin")
    response = client.get("/board/data.json?measure=lagging")
    assert response["Content-Type"] == "application/json"
    expected = selectors.board_data(world.users["office_admin"], today=timezone.localdate(), measure="lagging")
    assert expected["indicators"] and expected["counties"] and expected["lead_units"]
    assert response.json() == json.loads(json.dumps(expected, cls=DjangoJSONEncoder))
    assert response.json()["indicators"][0]["name"] == "地表水国考断面优良比例"


# the page's county table and figures as the template engine wrote them before they were written in
# Python (dashboard.views.county_rows, figures_script): the page must read the same
_TEMPLATE_ROWS = """{% load i18n %}{% for c in data.counties %}<tr data-county="{{ c.id }}">
      <td><a href="{{ c.url }}">{{ c.name }}</a>{% if limited %} <a class="muted" href="{% url 'dashboard:instruction_new' %}?county={{ c.id }}">{% translate "批示" %}</a>{% endif %}</td><td class="num">{{ c.total }}</td><td class="num">{{ c.overdue }}</td><td class="num">{{ c.lagging }}</td>
      <td class="num">{% if c.on_schedule_share is None %}—{% else %}{{ c.on_schedule_share }}%{% endif %}</td>
      <td class="num">{% if c.closeout_share is None %}—{% else %}{{ c.closeout_share }}%{% endif %}</td>
      <td class="num">{% if c.attainment_total %}{{ c.attainment_met }}/{{ c.attainment_total }}{% else %}—{% endif %}</td>
    </tr>{% empty %}<tr><td colspan="7">{% translate "没有可显示的县市区。" %}</td></tr>{% endfor %}"""


@pytest.mark.parametrize("persona", ["office_admin", "leader_a"])
def test_the_pages_county_table_and_figures_read_as_the_template_wrote_them(world, persona):
    """The county table (a province's 2,159 rows: 75 ms through the template engine) and the
    figures' JSON (18 ms through the standard encoder) are written in Python: the same rows, the
    same values, the same escaping of a name that could close the script or open a tag."""
    import json

    from django.template import Context, Template
    from django.utils.html import json_script

    from rectify.dashboard.views import county_rows, figures_script
    from rectify.orgs.services import update_unit

    populate(world)
    update_unit(actor=None, unit=world.county_a, name="零陵区</script><b>&", short_name=world.county_a.short_name)
    user = world.users[persona]
    data = selectors.board_data(user, today=timezone.localdate())
    assert data["counties"] and any("</script>" in c["name"] for c in data["counties"])
    limited = persona == "leader_a"
    expected = Template(_TEMPLATE_ROWS).render(Context({"data": data, "limited": limited}))
    assert str(county_rows(data, limited=limited)) == expected
    assert str(county_rows({"counties": []}, limited=False)) == Template(_TEMPLATE_ROWS).render(
        Context({"data": {"counties": []}, "limited": False}))
    script, standard = str(figures_script(data)), str(json_script(data, "board-data"))
    assert "</script><b>" not in script.removesuffix("</script>") and "\\u003C/script\\u003E" in script
    inner = script.split(">", 1)[1].removesuffix("</script>")
    assert json.loads(inner) == json.loads(standard.split(">", 1)[1].removesuffix("</script>"))
    page = world.client(persona).get("/board/").content.decode()
    assert str(county_rows(data, limited=limited)) in page and inner in page


@pytest.mark.parametrize("persona", ["office_admin", "office_staff", "leader_a"])
def test_the_boards_escalations_and_objections_are_their_own_scope(world, persona):
    """dashboard.scope.on_board_tasks reads rows through the board's tasks: for the board's users it
    must give exactly the rows' own scope."""
    from rectify.closeout.models import Objection
    from rectify.dashboard.scope import on_board_tasks
    from rectify.supervision import services as supervision
    from rectify.supervision.models import Escalation

    populate(world, 12)
    for task, unit in ((world.task_a, world.county_a), (world.task_b, world.county_b)):
        supervision.issue_escalation(actor=world.users["office_admin"], task=task, rung="circular", reason="滞后",
                                     target_unit=unit, reply_due=timezone.localdate())
    from rectify.closeout import services as closeout
    from tests.test_closeout import assessed, through_notice

    closeout.file_objection(closeout=through_notice(world, assessed(world)), content="管网末端仍有污水直排入河。")
    user = world.users[persona]
    tasks = Task.objects.visible_to(user)
    assert Escalation.objects.visible_to(user).exists() and Objection.objects.exists()
    for per_row in (False, True):  # the scope listed, or tested row by row (a scope too large to list)
        assert set(on_board_tasks(Escalation.objects.all(), user, tasks, per_row=per_row)) == set(
            Escalation.objects.visible_to(user))
        assert set(on_board_tasks(Objection.objects.all(), user, tasks, task_field="closeout__task",
                                  per_row=per_row)) == set(Objection.objects.visible_to(user))
        assert not on_board_tasks(Escalation.objects.all(), world.users["reporter_a"], tasks,
                                  per_row=per_row).exists()


def test_a_scope_too_large_to_list_gives_the_same_figures(world, monkeypatch):
    """Past MATERIALISE_BELOW tasks the board keeps the scope as a subquery, tests the open
    escalations and objections row by row and counts a leader's sectors by category: the same
    figures as a scope read as a list of ids."""
    from rectify.closeout import services as closeout
    from rectify.orgs.services import assign_leader_area
    from rectify.supervision import services as supervision
    from tests.test_closeout import assessed, through_notice

    populate(world, 12)
    for task, unit in ((world.task_a, world.county_a), (world.task_b, world.county_b)):
        supervision.issue_escalation(actor=world.users["office_admin"], task=task, rung="circular", reason="滞后",
                                     target_unit=unit, reply_due=timezone.localdate())
    closeout.file_objection(closeout=through_notice(world, assessed(world)), content="管网末端仍有污水直排入河。")
    user = world.users["leader_a"]  # an office at the top sees every task: nothing is filtered
    for sector in (None, Category.WATER):  # its county alone; then a sector too (counted by category)
        if sector:
            assign_leader_area(actor=None, leader=user, sector=sector)
        monkeypatch.setattr(selectors, "MATERIALISE_BELOW", 5000)
        listed = selectors._board_figures(user, today=timezone.localdate())
        monkeypatch.setattr(selectors, "MATERIALISE_BELOW", 0)
        unlisted = selectors._board_figures(user, today=timezone.localdate())
        assert unlisted == listed and listed["total"] == Task.objects.visible_to(user).count()
    assert listed["total"] > Task.objects.filter(category=Category.WATER).count() > 0
    with CaptureQueriesContext(connection) as queries:  # still unlisted
        unlisted = selectors._board_figures(user, today=timezone.localdate())
    assert any("EXISTS" in q["sql"] and "supervision_escalation" in q["sql"] for q in queries.captured_queries)
    assert unlisted == listed and listed["escalations"]["count"] >= 1 and listed["objections"]["count"] == 1


def test_the_figures_are_kept_until_the_chain_moves(world):
    """A province's figures cost seconds: they are kept per user under the audit chain's head, so a
    repeat costs one query, and any write (its event moves the head) is in the next answer."""
    from django.core.cache import caches

    populate(world, 6)
    office = world.users["office_admin"]
    client = world.client("office_admin")
    first = client.get("/board/data.json").json()
    with CaptureQueriesContext(connection) as ctx:
        again = client.get("/board/data.json").json()
    figures = [q["sql"] for q in ctx.captured_queries if "ledger_task" in q["sql"] or "core_event" in q["sql"]]
    assert again == first
    assert len(figures) == 1 and "core_event" in figures[0], figures  # the head alone
    assert client.get("/board/data.json?measure=lagging").json()["measure"] == "lagging"  # not part of the key
    ledger.create_task(actor=office, campaign=world.campaign, data=ledger.TaskInput(
        code="B-NEW", title="新增任务", category=Category.WATER, responsible_units=[world.county_b],
        lead_supervisor=world.dept_env, deadline_kind="long_term"))
    assert client.get("/board/data.json").json()["total"] == first["total"] + 1
    # another user's figures are their own, under the same head
    leader = world.client("leader_a").get("/board/data.json").json()
    assert leader["total"] == ledger_count(world.users["leader_a"]) != first["total"] + 1
    caches["board"].clear()
    assert client.get("/board/data.json").json()["total"] == first["total"] + 1


@pytest.mark.parametrize("persona", ["office_admin", "leader_a"])
def test_the_rounds_chart_counts_the_visible_tasks_at_each_rounds_end(world, persona):
    """进度走势: per closed round, the status of the tasks this user sees as the round left them (its
    snapshots) — a leader's rounds are found from the offices of the tasks it sees."""
    from rectify.dispatch import services as dispatch
    from rectify.supervision.models import StatusSnapshot
    from tests.conftest import round_due

    populate(world, 12)
    admin = world.users["office_admin"]
    for period in ("2026-01", "2026-02"):
        rnd, _ = dispatch.open_round(actor=admin, office=world.office, period=period, due_date=round_due(period))
        dispatch.close_round(actor=admin, rnd=rnd)
    user = world.users[persona]
    rounds = selectors.board_data(user, today=timezone.localdate())["rounds"]
    assert rounds["periods"] == ["2026-01", "2026-02"]
    visible = set(task_queryset(user, TaskFilter()).values_list("pk", flat=True))
    for series in rounds["series"]:
        expected = [StatusSnapshot.objects.filter(round__period=p, status=series["status"], task_id__in=visible).count()
                    for p in rounds["periods"]]
        assert series["data"] == expected, series
    assert sum(sum(s["data"]) for s in rounds["series"]) == 2 * len(visible & set(
        StatusSnapshot.objects.values_list("task_id", flat=True)))
    assert 0 < len(visible) < Task.objects.count() or persona == "office_admin"


def test_an_imports_tasks_show_their_status_on_the_board_once_its_events_are_in(world):
    """A bulk write (Excel or plan import) stores its new tasks with their first derived status
    (ledger.new_task_status), in the same transaction as its events: figures kept under the chain
    head its events reach already count them by status; none is left uncomputed for later."""
    from rectify.core.models import Event

    admin = world.users["office_admin"]
    seen: list[dict] = []

    def look(created: int, updated: int) -> None:  # the board opened once the import's events are in
        seen.append(selectors.board_data(admin, today=timezone.localdate()))

    ledger.write_tasks(actor=admin, campaign=world.campaign, then=look, writes=[ledger.TaskWrite(data=ledger.TaskInput(
        code=f"I-{i}", title=f"导入任务{i}", category=Category.WATER, responsible_units=[world.county_a],
        lead_supervisor=world.dept_env, deadline_kind="by_date", deadline=timezone.localdate() - dt.timedelta(days=3)))
        for i in range(3)])
    assert not [s for s in seen[0]["statuses"] if s["status"] == ""], seen[0]["statuses"]
    data = selectors.board_data(admin, today=timezone.localdate())
    assert data["statuses"] == seen[0]["statuses"]
    assert data["total"] == ledger_count(admin) and data["statuses"][0]["count"] == ledger_count(
        admin, progress_status="overdue") >= 3
    assert not Event.objects.filter(action="task_statuses_computed").exists()


def test_the_only_top_office_reads_each_table_whole_and_another_top_restores_the_scope(world):
    """An office at the only top of the tree sees every task (ledger.scope.sees_every_task): its
    figures read each table without a semi-join against every task id. With a second top beside it
    (two cities on one server) its scope is its own tree again, and the figures follow the ledger."""
    from rectify.ledger.scope import sees_every_task

    populate(world, 12)
    admin = world.users["office_admin"]
    assert sees_every_task(admin) and not sees_every_task(world.users["leader_a"])
    with CaptureQueriesContext(connection) as ctx:
        data = selectors._board_figures(admin, today=timezone.localdate())
    assert data["total"] == Task.objects.count()
    semi_joins = [q["sql"] for q in ctx.captured_queries if '"task_id" IN (SELECT' in q["sql"]]
    assert not semi_joins, semi_joins

    other = create_unit(actor=None, name="另一市整改办", kind=UnitKind.OFFICE, parent=None)
    from rectify.ledger.models import Campaign

    theirs = Campaign.objects.create(code="OTHER", name="另一市批次", office=other)
    ledger.create_task(actor=admin, campaign=world.campaign, data=ledger.TaskInput(code="Z-1", title="本市任务"))
    Task.objects.create(campaign=theirs, code="Y-1", title="另一市任务")
    assert not sees_every_task(admin)
    data = selectors._board_figures(admin, today=timezone.localdate())
    assert data["total"] == ledger_count(admin) == Task.objects.count() - 1
    for c in data["counties"]:
        assert c["total"] == ledger_count(admin, county=c["id"]), c["name"]


def test_a_provinces_chart_has_one_column_a_month_summing_its_cities_rounds(world):
    """Each city office opens its own round of a month: the province office's 进度走势 shows one
    column per month (the sum over its cities' rounds, read from the kept tallies since it sees every
    task), a city office its own rounds alone, each equal to its snapshots counted directly."""
    from rectify.dispatch import services as dispatch
    from rectify.dispatch.models import DispatchRound
    from rectify.orgs.models import Role
    from rectify.orgs.services import create_user, move_unit
    from rectify.supervision.models import StatusSnapshot
    from tests.conftest import PASSWORD, round_due

    province = create_unit(actor=None, name="省整改办", kind=UnitKind.OFFICE)
    move_unit(actor=None, unit=world.office, parent=province)
    city_b = create_unit(actor=None, name="乙市整改办", kind=UnitKind.OFFICE, parent=province)
    county_b2 = create_unit(actor=None, name="乙县", kind=UnitKind.COUNTY, region_code="431202", parent=city_b)
    prov_admin = create_user(actor=None, username="prov_admin", password=PASSWORD, role=Role.OFFICE_ADMIN,
                             unit=province, must_change_password=False)
    b_admin = create_user(actor=None, username="b_admin", password=PASSWORD, role=Role.OFFICE_ADMIN, unit=city_b,
                          must_change_password=False)
    populate(world, 12)
    campaign_b = ledger.create_campaign(actor=b_admin, code="B-2021", name="乙市督察反馈问题", kind="central")
    for i in range(5):
        ledger.create_task(actor=b_admin, campaign=campaign_b, data=ledger.TaskInput(
            code=f"YB-{i}", title=f"乙市任务{i}", responsible_units=[county_b2], lead_supervisor=county_b2,
            deadline_kind="by_date", deadline=timezone.localdate() + dt.timedelta(days=5 * i - 10)))
    a_admin = world.users["office_admin"]
    for office, admin, periods in ((world.office, a_admin, ("2026-01", "2026-02", "2026-03")),
                                   (city_b, b_admin, ("2026-02", "2026-03", "2026-04"))):
        for period in periods:
            rnd, _ = dispatch.open_round(actor=admin, office=office, period=period, due_date=round_due(period))
            dispatch.close_round(actor=admin, rnd=rnd)

    def expected(user, periods):
        visible = set(task_queryset(user, TaskFilter()).values_list("pk", flat=True))
        snapshots = StatusSnapshot.objects.filter(round__in=DispatchRound.objects.visible_to(user), task_id__in=visible)
        return {s: [snapshots.filter(round__period=p, status=s).count() for p in periods]
                for s in STATUSES + ["not_reported"]}

    for user, periods in ((prov_admin, ["2026-01", "2026-02", "2026-03", "2026-04"]),
                          (a_admin, ["2026-01", "2026-02", "2026-03"]),
                          (b_admin, ["2026-02", "2026-03", "2026-04"])):
        rounds = selectors.board_data(user, today=timezone.localdate())["rounds"]
        assert rounds["periods"] == periods, user
        want = expected(user, periods)
        for series in rounds["series"]:
            assert series["data"] == want.get(series["status"], [0] * len(periods)), (user, series)
    province_rounds = selectors.board_data(prov_admin, today=timezone.localdate())["rounds"]
    both = [sum(s["data"][1] for s in province_rounds["series"])]  # 2026-02: both cities' tasks, once each
    assert both == [Task.objects.count()] == [StatusSnapshot.objects.filter(round__period="2026-02").count()]

    # A leader with a sector (分管领域, read from the kept tallies per category) and a county (its
    # tasks outside that sector counted snapshot by snapshot) sees both cities' rounds of its tasks:
    # the same columns as its snapshots counted directly, whichever part of its scope holds a task.
    from django.core.cache import caches

    from rectify.orgs.services import assign_leader_area

    leader = world.users["leader_a"]  # 包零陵区
    assign_leader_area(actor=None, leader=leader, sector=Category.WATER)
    Task.objects.filter(code__in=["YB-1", "YB-3"]).update(category=Category.WATER)  # city B's, by sector only
    Task.objects.filter(pk__in=Task.objects.filter(campaign=world.campaign).order_by("pk")[:3]
                        .values("pk")).update(category=Category.WATER)  # city A's, some in its county too

    def leaders_expected(periods):
        visible = set(Task.objects.visible_to(leader).values_list("pk", flat=True))
        snapshots = StatusSnapshot.objects.filter(task_id__in=visible)
        return {s: [snapshots.filter(round__period=p, status=s).count() for p in periods]
                for s in STATUSES + ["not_reported"]}

    for step in range(2):
        rounds = selectors.board_data(leader, today=timezone.localdate())["rounds"]
        assert rounds["periods"] == ["2026-01", "2026-02", "2026-03", "2026-04"]
        want = leaders_expected(rounds["periods"])
        assert sum(v[3] for v in want.values()) == 2 - step  # April: city B's rounds alone, YB-1 and YB-3
        assert sum(v[0] for v in want.values()) >= 3  # January: city A's
        for series in rounds["series"]:
            assert series["data"] == want.get(series["status"], [0] * 4), (step, series)
        # a task leaves the sector: it leaves the leader's chart (and would stay, were it its county's).
        # A bare UPDATE records no event: the kept figures are dropped by hand, as a service's event would.
        Task.objects.filter(code="YB-1").update(category=Category.AIR)
        caches["board"].clear()
    assert sum(s["data"][3] for s in selectors.board_data(leader, today=timezone.localdate())["rounds"]["series"]) == \
        StatusSnapshot.objects.filter(round__period="2026-04", task__category=Category.WATER,
                                      task__campaign=campaign_b).count()


@pytest.mark.parametrize("persona", ["office_admin", "leader_a"])
def test_the_counties_facts_are_read_without_the_scope(world, persona):
    """Every task with a responsible unit in one of the board's counties is in the board's scope (an
    office sees the tasks involving its tree, a leader those of its counties), so the county facts are
    read for those counties alone, not tested against the scope once more — and still equal the
    ledger's county filter in the user's scope, including a task of another office's campaign whose
    responsible unit lies in the county, and one the leader sees only through a sector."""
    from rectify.ledger.models import Campaign
    from rectify.orgs.services import assign_leader_area

    populate(world, 12)
    other = create_unit(actor=None, name="另一市整改办", kind=UnitKind.OFFICE, parent=None)
    theirs = Campaign.objects.create(code="OTHER", name="另一市批次", office=other)
    from rectify.ledger.models import TaskUnit, UnitRole

    theirs_task = Task.objects.create(campaign=theirs, code="Y-1", title="另一市批次的零陵区任务")
    TaskUnit.objects.create(task=theirs_task, unit=world.county_a, role=UnitRole.RESPONSIBLE)
    ledger.create_task(actor=world.users["office_admin"], campaign=world.campaign, data=ledger.TaskInput(
        code="Y-2", title="分管领域的冷水滩区任务", category=Category.SOIL, responsible_units=[world.county_b]))
    user = world.users[persona]
    if persona == "leader_a":
        assign_leader_area(actor=None, leader=user, sector=Category.SOIL)
    with CaptureQueriesContext(connection) as ctx:
        data = selectors._board_figures(user, today=timezone.localdate())
    facts = [q["sql"] for q in ctx.captured_queries
             if "dashboard_boardfact" in q["sql"] and '"dashboard_boardfact"."kind" = 1' in q["sql"]]
    assert len(facts) == 1 and "ledger_task" not in facts[0], facts
    assert data["counties"] and data["total"] == ledger_count(user)
    for c in data["counties"]:
        assert c["total"] == ledger_count(user, county=c["id"]), c["name"]
        for status in STATUSES:
            assert c["by_status"].get(status, 0) == ledger_count(user, county=c["id"], progress_status=status)


def test_a_large_scopes_sectors_are_counted_by_category(world, monkeypatch):
    """A leader's scope too large to list: its sectors (whole categories) are counted from the
    tasks' (category, status) index and the lead-unit facts' category, with no task read and no
    scope evaluated for them; the rest of its scope by its ids. The same figures as a listed scope."""
    from rectify.orgs.services import assign_leader_area

    populate(world, 12)
    user = world.users["leader_a"]
    assign_leader_area(actor=None, leader=user, sector=Category.WATER)
    listed = selectors._board_figures(user, today=timezone.localdate())
    monkeypatch.setattr(selectors, "MATERIALISE_BELOW", 0)
    with CaptureQueriesContext(connection) as ctx:
        unlisted = selectors._board_figures(user, today=timezone.localdate())
    assert unlisted == listed and listed["lead_units"]
    by_category = [q["sql"] for q in ctx.captured_queries if "'water'" in q["sql"] and "GROUP BY" in q["sql"]]
    assert any("ledger_task" in sql and '"category" IN' in sql for sql in by_category), by_category
    facts = [sql for sql in by_category if '"dashboard_boardfact"."category" IN' in sql]
    assert len(facts) == 1 and "ledger_task" not in facts[0], facts


def test_a_leaders_parts_are_exactly_its_scope(world):
    """ledger.scope.leader_parts: a leader's sectors and the ids of the rest of its scope (its own
    tasks and its counties', read as a UNION) together are exactly what the ledger shows it, for a
    leader with a county only, with its own tasks beside, and with a sector too; nobody else has
    parts, nor a leader whose rest is more than asked for."""
    from rectify.ledger.scope import leader_parts
    from rectify.orgs.services import assign_leader_area

    counties = populate(world)
    leader = world.users["leader_a"]  # 包零陵区
    own = Task.objects.filter(task_units__unit=counties[2], category=Category.AIR).exclude(
        task_units__unit=counties[0]).first()
    for step in ("county", "own", "sector"):
        if step == "own":  # a task of another county, led by the leader (责任领导)
            Task.objects.filter(pk=own.pk).update(leader=leader)
        if step == "sector":
            assign_leader_area(actor=None, leader=leader, sector=Category.WATER)
        parts = leader_parts(leader, at_most=1000)
        visible = set(Task.objects.visible_to(leader).values_list("pk", flat=True))
        assert set(parts.tasks().values_list("pk", flat=True)) == visible, step
        assert set(parts.rest_ids) == set(Task.objects.visible_to(leader).exclude(
            category__in=parts.sectors).values_list("pk", flat=True)), step
        assert len(parts.rest_ids) == len(set(parts.rest_ids))  # a task both own and its county's: once
    assert own.pk in parts.rest_ids and parts.sectors == [Category.WATER]
    assert not Task.objects.filter(pk__in=parts.rest_ids, category=Category.WATER).exists()
    assert leader_parts(leader, at_most=len(parts.rest_ids) - 1) is None
    assert leader_parts(world.users["office_admin"], at_most=1000) is None
    assert leader_parts(world.users["reporter_a"], at_most=1000) is None


def test_a_leaders_sectors_too_large_to_list_beside_a_listed_rest(world, monkeypatch):
    """A leader whose rest of scope is listed but whose sectors pass MATERIALISE_BELOW: its scope is
    its sectors by category or its rest by ids, and the figures are those of a scope listed whole."""
    from rectify.ledger.scope import leader_parts
    from rectify.orgs.services import assign_leader_area

    populate(world)
    user = world.users["leader_a"]
    assign_leader_area(actor=None, leader=user, sector=Category.WATER)
    listed = selectors._board_figures(user, today=timezone.localdate())
    rest = len(leader_parts(user, at_most=1000).rest_ids)
    assert 0 < rest < Task.objects.filter(category=Category.WATER).count()
    monkeypatch.setattr(selectors, "MATERIALISE_BELOW", rest)  # the rest fits, the sectors do not
    with CaptureQueriesContext(connection) as ctx:
        split = selectors._board_figures(user, today=timezone.localdate())
    assert split == listed and listed["total"] == Task.objects.visible_to(user).count()
    # the escalations and objections are tested per row against the scope: by category or by key
    assert any("UNION" in q["sql"] for q in ctx.captured_queries)
    assert not any('"ledger_task"."leader_id" =' in q["sql"] for q in ctx.captured_queries[1:]
                   if "UNION" not in q["sql"]), "the leader's own tasks are read once, in the UNION"


def test_the_statuses_are_counted_from_the_category_index_alone(world):
    """The board's statuses by category and status read task_category_progress_idx with no task row:
    COUNT(*), as COUNT(id) made PostgreSQL read every task's row for its id (a province at 100,000
    tasks: 72 -> 21 ms). On SQLite the id is the rowid, in every index, so both forms are covered."""
    populate(world, 12)
    with CaptureQueriesContext(connection) as ctx:
        counts = selectors.status_counts(Task.objects.all())
    assert sum(counts.values()) == Task.objects.count()
    (sql,) = [q["sql"] for q in ctx.captured_queries]
    plan = plan_of_sql(sql)
    assert "task_category_progress_idx" in plan, plan
    assert ("COVERING INDEX" in plan) if connection.vendor == "sqlite" else ("Index Only Scan" in plan), plan


def test_the_latest_months_are_read_backwards_from_the_period_index(world):
    """进度走势's months: the six latest periods whose rounds have figures, on PostgreSQL read from
    round_period_idx from the newest back (a province's 5,600 rounds were each probed for tallies: 22 -> 5 ms on
    PostgreSQL); a month whose round has no figure yet (open, no snapshot) is passed over."""
    from rectify.dispatch import services as dispatch
    from tests.conftest import round_due

    populate(world, 6)
    admin = world.users["office_admin"]
    periods = [f"2026-{m:02d}" for m in range(1, 10)]
    for period in periods:
        rnd, _ = dispatch.open_round(actor=admin, office=world.office, period=period, due_date=round_due(period))
        if period != periods[-1]:
            dispatch.close_round(actor=admin, rnd=rnd)
    with CaptureQueriesContext(connection) as ctx:
        rounds = selectors.board_data(world.users["office_admin"], today=timezone.localdate())["rounds"]
    assert rounds["periods"] == periods[-7:-1]
    (query,) = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith('SELECT DISTINCT "dispatch_dispatchround"."period"')]
    if connection.vendor == "postgresql":  # SQLite starts from the office's units (a city's few rounds)
        plan = plan_of_sql(query)
        assert "Index Scan Backward using round_period_idx" in plan, plan


def test_a_listed_scope_filters_rows_by_its_ids(world):
    """dashboard.scope.listed_ids recognises a scope already read as ids (the board's small scopes, a
    leader's listed rest), and of_tasks then filters rows by those ids themselves, with no subquery
    on the tasks (which PostgreSQL planned from a scan of a task index: 24 ms for 133 tasks at L);
    the same rows as through the subquery. Any other queryset keeps the subquery."""
    from rectify.dashboard.scope import listed_ids, of_tasks
    from rectify.supervision.models import Escalation

    populate(world, 12)
    ids = list(Task.objects.order_by("pk").values_list("pk", flat=True)[:5])
    listed = Task.objects.filter(pk__in=ids)
    assert listed_ids(listed) == ids
    for other in (Task.objects.filter(pk__in=ids, category=Category.WATER), Task.objects.exclude(pk__in=ids),
                  Task.objects.filter(pk__in=Task.objects.filter(category=Category.WATER).values("pk")),
                  Task.objects.filter(Q(pk__in=ids) | Q(category=Category.AIR)), Task.objects.filter(code="B-001"),
                  Task.objects.all()):
        assert listed_ids(other) is None, other.query
    from rectify.ledger.models import TaskUnit
    rows = of_tasks(TaskUnit.objects.all(), listed)
    assert 'FROM "ledger_task"' not in str(rows.query)
    assert set(rows.values_list("pk", flat=True)) == set(
        TaskUnit.objects.filter(task__in=Task.objects.filter(pk__in=ids).values("pk")).values_list("pk", flat=True)) != set()
    other = Task.objects.filter(category=Category.WATER)
    assert 'FROM "ledger_task"' in str(of_tasks(Escalation.objects.all(), other).query)
