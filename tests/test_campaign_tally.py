"""The tasks of each campaign kept counted by database triggers (rectify.ledger.tally), and the
ledger's count for an office that sees every task read from them.

What must hold: whatever writes the tasks — the services, a bulk write, the ORM's own create,
bulk_create, update and delete, a TRUNCATE on PostgreSQL — the tallies equal a count of the tasks
per campaign; ``rectify reindex`` counts them again; and the ledger list and API /tasks show the
same number the list holds, read from the tallies only where the office sees every task.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext

from rectify.cli import main as rectify
from rectify.ledger import services
from rectify.ledger.models import Campaign, CampaignTally, DeadlineKind, Task
from rectify.orgs.models import Category
from rectify.orgs.services import issue_api_token


def _tallies() -> dict[int, int]:
    return {c: n for c, n in CampaignTally.objects.values_list("campaign_id", "tasks") if n}


def _counted() -> dict[int, int]:
    return dict(Task.objects.values("campaign_id").annotate(n=Count("pk")).values_list("campaign_id", "n"))


def _input(code: str) -> services.TaskInput:
    return services.TaskInput(code=code, title="任务", problem="问题", category=Category.WATER,
                              deadline_kind=DeadlineKind.BY_DATE, deadline=dt.date(2026, 12, 31),
                              measures=[services.MeasureInput(text="措施")])


def test_the_tallies_follow_every_write_path(world):
    admin = world.users["office_admin"]
    other = Campaign.objects.create(code="TALLY-2", name="第二批次", office=world.office)
    assert _tallies() == _counted() != {}  # the world's tasks, counted as they were written
    services.create_task(actor=admin, campaign=world.campaign, data=_input("N-1"))
    services.write_tasks(actor=admin, campaign=other, writes=[services.TaskWrite(data=_input(f"B-{i}")) for i in range(3)])
    Task.objects.create(campaign=other, code="O-1", title="直接写入")
    Task.objects.bulk_create([Task(campaign=world.campaign, code=f"K-{i}", title="批量") for i in range(4)])
    assert _tallies() == _counted()
    Task.objects.get(code="O-1").delete()
    Task.objects.filter(code__in=["K-0", "K-1"]).delete()
    assert _tallies() == _counted()
    moved = Task.objects.get(code="K-2")
    moved.campaign = other
    moved.save()  # a save writes every column: only a changed campaign moves the count
    Task.objects.filter(code="K-3").update(campaign=other)
    Task.objects.filter(campaign=other).update(title="改名")  # no campaign change: nothing moves
    assert _tallies() == _counted()
    assert _counted()[other.pk] == 5


def _tally_triggers() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'ledger_campaigntally%%'")
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'ledger_campaigntally%%'")
        return {row[0] for row in cursor.fetchall()}


def test_a_bulk_write_counts_its_tasks_in_one_statement_and_keeps_the_trigger(world, monkeypatch):
    # on SQLite write_tasks sets the insert trigger aside (a row trigger cost 50 µs a task) and
    # counts the new tasks at once; the trigger is there afterwards, also after a failure inside
    import rectify.core.bulk as bulk

    admin = world.users["office_admin"]
    triggers = _tally_triggers()
    assert {"ledger_campaigntally_insert", "ledger_campaigntally_delete", "ledger_campaigntally_move"} <= triggers
    services.write_tasks(actor=admin, campaign=world.campaign, writes=[services.TaskWrite(data=_input(f"W-{i}"))
                                                                       for i in range(5)])
    assert _tallies() == _counted() and _tally_triggers() == triggers
    real = bulk.insert_rows

    def failing(model, columns, rows, **kwargs):
        count = real(model, columns, rows, **kwargs)
        if model is Task:
            raise RuntimeError("磁盘已满")  # the tasks are in, their count not yet
        return count

    monkeypatch.setattr(bulk, "insert_rows", failing)
    with pytest.raises(RuntimeError):
        services.write_tasks(actor=admin, campaign=world.campaign, writes=[services.TaskWrite(data=_input("F-1"))])
    monkeypatch.undo()
    assert _tally_triggers() == triggers and _tallies() == _counted()
    Task.objects.create(campaign=world.campaign, code="AFTER", title="之后")  # the trigger still counts
    assert _tallies() == _counted()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no TRUNCATE (Django's flush deletes)")
def test_a_truncate_of_the_tasks_empties_the_tallies(world):
    assert _tallies()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred check may be pending on a TRUNCATE
        cursor.execute("TRUNCATE ledger_task CASCADE")  # rolled back with the test
    assert _tallies() == {}


def test_reindex_counts_them_again(world, capsys):
    CampaignTally.objects.update(tasks=999)  # as if data had been loaded around the triggers
    assert rectify(["reindex"]) == 0
    assert f"已重新统计各批次任务数：共 {Task.objects.count()} 项任务" in capsys.readouterr().out
    assert _tallies() == _counted()


def _count_sql(client, params) -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        page = client.get("/ledger/", params)
    assert page.status_code == 200
    shown = page.content.decode().split('id="result-count">', 1)[1].split("<", 1)[0]
    return shown, [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("SELECT CASE WHEN EXISTS")
                   or (q["sql"].upper().startswith("SELECT COUNT(") and 'FROM "ledger_task"' in q["sql"])]


def test_the_office_that_sees_every_task_counts_the_ledger_from_the_tallies(world):
    admin = world.users["office_admin"]
    other = Campaign.objects.create(code="TALLY-3", name="第三批次", office=world.office)
    Task.objects.bulk_create([Task(campaign=other, code=f"T-{i}", title="任务") for i in range(3)])
    client = world.client("office_admin")
    for params, expected in (({}, Task.objects.count()), ({"campaign": other.pk}, 3),
                             ({"campaign": world.campaign.pk}, Task.objects.filter(campaign=world.campaign).count())):
        shown, (count,) = _count_sql(client, params)
        assert shown.startswith(f"共 {expected} 条任务"), (params, shown)
        assert "ledger_campaigntally" in count and '"ledger_task"' not in count, count
    api = Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(actor=admin, user=admin, name='t')}")
    assert api.get("/api/v1/tasks", {"limit": 1}).json()["count"] == Task.objects.count()
    # another filter, or a user who does not see every task: the list counts itself
    shown, (count,) = _count_sql(client, {"campaign": other.pk, "category": Category.WATER})
    assert shown.startswith("共 0 条任务") and '"ledger_task"' in count, (shown, count)
    shown, (count,) = _count_sql(world.client("reporter_a"), {})
    assert shown.startswith(f"共 {Task.objects.visible_to(world.users['reporter_a']).count()} 条任务")
    assert '"ledger_task"' in count, count


def test_with_another_top_the_office_counts_its_own_tree(world):
    from rectify.orgs.models import UnitKind
    from rectify.orgs.services import create_unit

    other = create_unit(actor=None, name="另一市整改办", kind=UnitKind.OFFICE, parent=None)
    theirs = Campaign.objects.create(code="THEIRS", name="另一市批次", office=other)
    Task.objects.create(campaign=theirs, code="Y-1", title="另一市任务")
    admin = world.users["office_admin"]
    shown, counts = _count_sql(world.client("office_admin"), {})
    assert Task.objects.visible_to(admin).count() == Task.objects.count() - 1
    assert shown.startswith(f"共 {Task.objects.count() - 1} 条任务"), shown
    assert len(counts) == 2 and "ledger_campaigntally" in counts[0] and '"ledger_task"' in counts[1], counts
