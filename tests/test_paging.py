"""Paging of lists (rectify/core/paging.py): bounded API limit/offset, a count without joins, deep
pages fetched by key, planner estimates past a threshold on PostgreSQL, and a token's last use
recorded at most once a minute."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rectify.core.paging import ListPaginator, count_rows
from rectify.ledger import selectors
from rectify.ledger.models import Task
from rectify.orgs.models import ApiToken
from rectify.orgs.services import user_for_token
from tests.listing import Scene, add_tasks


@pytest.fixture
def api(world):
    return Scene(world).client("office_admin", api=True)


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "offset=-1", "offset=1000001",
                                   "offset=100000000000000000000000000000", "limit=99999999999999999999999", "limit=x"])
@pytest.mark.parametrize("path", ["/api/v1/tasks", "/api/v1/rounds", "/api/v1/reports", "/api/v1/escalations"])
def test_out_of_range_limit_or_offset_is_refused_with_422(api, path, query):
    response = api.get(f"{path}?{query}")
    assert response.status_code == 422, (path, query, response.status_code, response.content[:300])


def test_limits_at_the_bounds_are_accepted(api, world):
    add_tasks(Scene(world), 3)
    assert len(api.get("/api/v1/tasks?limit=200").json()["items"]) == 5
    page = api.get("/api/v1/tasks?limit=2&offset=1").json()
    assert page["count"] == 5 and page["estimated"] is False and len(page["items"]) == 2
    assert api.get("/api/v1/tasks?offset=1000000").json() == {"items": [], "count": 5, "estimated": False}
    assert len(api.get("/api/v1/tasks").json()["items"]) == 5  # default limit 50


def test_pages_do_not_overlap_and_follow_the_sort(world):
    add_tasks(Scene(world), 23)
    user = world.users["office_admin"]
    for sort in selectors.SORTS:
        qs = selectors.with_list_data(selectors.task_queryset(user, selectors.TaskFilter(sort=sort)))
        paginator = ListPaginator(qs, 10)
        seen = [t.pk for n in paginator.page_range for t in paginator.page(n)]
        assert len(seen) == len(set(seen)) == 25 == paginator.count, sort
        whole = list(selectors.task_queryset(user, selectors.TaskFilter(sort=sort)).values_list("pk", flat=True))
        assert seen == whole, sort


def test_a_deep_page_asks_for_its_keys_not_for_every_row(world):
    add_tasks(Scene(world), 30)
    qs = selectors.with_list_data(selectors.task_queryset(world.users["office_admin"], selectors.TaskFilter()))
    with CaptureQueriesContext(connection) as ctx:
        rows = list(ListPaginator(qs, 8).page(2))
    page = next(q["sql"] for q in ctx.captured_queries if '"ledger_task"."title"' in q["sql"])
    assert len(rows) == 8 and "LIMIT 8 OFFSET 8" in page and '"ledger_task"."id" IN (SELECT' in page, page


@pytest.mark.parametrize("sort", ["warning", "deadline", "-updated", "colour"])
def test_a_page_past_the_middle_reads_its_keys_from_the_end(world, sort):
    """The last of 100,000 tasks skips 50 index entries read backwards, not 99,950 forwards; the rows
    and their order are the forward order's."""
    add_tasks(Scene(world), 30)
    user = world.users["office_admin"]
    qs = selectors.with_list_data(selectors.task_queryset(user, selectors.TaskFilter(sort=sort)))
    whole = list(selectors.task_queryset(user, selectors.TaskFilter(sort=sort)).values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as ctx:
        rows = [t.pk for t in ListPaginator(qs, 10).page(4)]
    page = next(q["sql"] for q in ctx.captured_queries if '"ledger_task"."title"' in q["sql"])
    assert rows == whole[30:32]
    assert "LIMIT 2" in page and "OFFSET" not in page, page  # forwards it would be LIMIT 2 OFFSET 30
    with CaptureQueriesContext(connection) as ctx:
        rows = [t.pk for t in ListPaginator(qs, 10).page(3)]
    assert rows == whole[20:30]
    page = next(q["sql"] for q in ctx.captured_queries if '"ledger_task"."title"' in q["sql"])
    assert "LIMIT 10 OFFSET 2" in page, page


@pytest.mark.parametrize("persona", ["reporter_a", "leader_a", "lead_env"])
def test_a_pages_rows_are_read_by_their_keys_alone_and_stay_in_scope(world, persona):
    """page_rows reads a page's keys with the list's scope and filters, then the rows of those keys
    alone: the scope is not repeated around them (PostgreSQL priced its subqueries per key and
    scanned a province's ledger instead: a city office's page at 100,000 tasks, 88 → 17 ms of SQL).
    The pages, forwards and from the end, are exactly the scoped list; no task outside it appears."""
    from rectify.ledger.models import TaskUnit, UnitRole

    tasks = add_tasks(Scene(world), 30)
    TaskUnit.objects.filter(task__in=tasks[::3], role=UnitRole.RESPONSIBLE).update(unit=world.county_b)
    user = world.users[persona]
    visible = list(selectors.task_queryset(user, selectors.TaskFilter()).values_list("pk", flat=True))
    assert 0 < len(visible) < Task.objects.count() or persona == "lead_env"
    qs = selectors.with_list_data(selectors.task_queryset(user, selectors.TaskFilter()))
    with CaptureQueriesContext(connection) as ctx:
        seen = [t.pk for n in ListPaginator(qs, 7).page_range for t in ListPaginator(qs, 7).page(n)]
    assert seen == visible
    pages = [q["sql"] for q in ctx.captured_queries if '"ledger_task"."title"' in q["sql"]]
    keys_sql = str(selectors.task_queryset(user, selectors.TaskFilter()).values("pk").query)
    assert len(pages) == len(ListPaginator(qs, 7).page_range) > 2
    for page in pages:  # the scope's subquery once, inside the keys' query
        assert page.count('FROM "ledger_taskunit"') == keys_sql.count('FROM "ledger_taskunit"') == 1, page


def test_a_condition_that_joins_a_table_is_kept_around_the_pages_keys(world):
    """A list filtered through a join (a multi-valued relation) keeps its condition around the keys:
    without it the join would stay in the query unfiltered and repeat each row per linked unit."""
    from rectify.core.paging import page_rows

    tasks = add_tasks(Scene(world), 12)
    qs = Task.objects.filter(task_units__unit=world.county_a, task_units__role="responsible").order_by("code", "pk")
    whole = list(qs.values_list("pk", flat=True))
    assert len(whole) == 13 and set(whole) >= {t.pk for t in tasks}
    rows = [t.pk for t in page_rows(qs, 0, 20)] + [t.pk for t in page_rows(qs, 20, 40)]
    assert sorted(rows) == sorted(whole) and len(rows) == len(set(rows))
    assert [t.pk for t in page_rows(qs, 10, 13, total=13)] == whole[10:13]


def test_count_is_exact_below_the_threshold(world):
    assert count_rows(Task.objects.all(), threshold=100) == (2, False)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the planner's estimate is PostgreSQL's")
def test_past_the_threshold_postgresql_shows_an_estimate_labelled_as_such(world, settings):
    add_tasks(Scene(world), 30)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE ledger_task")
    counted, estimated = count_rows(Task.objects.all(), threshold=10)
    assert estimated and counted >= 11
    settings.LIST_ESTIMATE_ABOVE = 10
    # a list that counts itself (the office's, filtered by status) estimates past the threshold
    page = world.client("office_admin").get("/ledger/", {"status": "active"}).content.decode()
    assert "约" in page and "（估算）" in page and "末页" not in page
    body = Scene(world).client("office_admin", api=True).get("/api/v1/tasks", {"status": "active"}).json()
    assert body["estimated"] is True and body["count"] >= 11
    # the whole ledger of the office that sees every task is counted from its tallies: exact
    page = world.client("office_admin").get("/ledger/").content.decode()
    assert f"共 {Task.objects.count()} 条任务" in page and "（估算）" not in page


def test_sqlite_always_counts_exactly(world, settings):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's behaviour")
    settings.LIST_ESTIMATE_ABOVE = 1
    assert count_rows(Task.objects.all()) == (2, False)


def test_token_last_use_is_written_at_most_once_a_minute(world):
    from rectify.orgs.services import issue_api_token

    user = world.users["office_staff"]
    key = issue_api_token(actor=user, user=user, name="同步")
    assert user_for_token(key) == user
    first = ApiToken.objects.get(user=user).last_used_at
    assert first is not None
    with CaptureQueriesContext(connection) as ctx:
        assert user_for_token(key) == user
    assert not [q for q in ctx.captured_queries if q["sql"].startswith("UPDATE")], ctx.captured_queries
    assert ApiToken.objects.get(user=user).last_used_at == first
    ApiToken.objects.filter(user=user).update(last_used_at=timezone.now() - dt.timedelta(seconds=61))
    assert user_for_token(key) == user
    assert ApiToken.objects.get(user=user).last_used_at > first


HUGE = "59634237455192211456"  # past every database's 64-bit integers


def test_an_out_of_range_integer_in_a_query_string_filters_nothing_and_never_fails(world):
    client = world.client("office_admin")
    client.raise_request_exception = False
    failed = []
    for path in ("/dispatch/reports/", "/closeout/", "/closeout/lookbacks/", "/accountability/", "/assessment/help/",
                 "/assessment/visits/", "/ledger/", "/supervision/", "/dispatch/"):
        for param in ("round", "task", "unit", "campaign", "county", "page", "year", "lookback", "lead"):
            status = client.get(f"{path}?{param}={HUGE}").status_code
            if status >= 500:
                failed.append(f"{path}?{param}= → {status}")
    assert failed == []


def test_query_int_bounds():
    from rectify.core.paging import MAX_ID, query_int

    assert query_int("12") == 12 and query_int(str(MAX_ID)) == MAX_ID
    assert query_int(str(MAX_ID + 1)) is None and query_int(HUGE) is None
    assert query_int("0", low=1) is None and query_int("-3") is None and query_int("x") is None
    assert query_int("") is None and query_int(None) is None
