"""Time the ledger list (page 1 and a deep page, web and API) on a large generated ledger.

    # once: build a ledger of N tasks in a database of its own (SQLite file or PostgreSQL)
    RECTIFY_DATA_DIR=/tmp/ls-sqlite .venv/bin/python bench/list_speed.py generate 25000
    RECTIFY_DATA_DIR=/tmp/ls-pg DATABASE_URL=postgres://postgres@127.0.0.1:5432/ls25k \\
        .venv/bin/python bench/list_speed.py generate 25000
    # then, as often as wanted (migrates first, so new indexes land):
    RECTIFY_DATA_DIR=/tmp/ls-sqlite .venv/bin/python bench/list_speed.py time [--runs 15] [--explain]

A quick bulk generator of the ledger only (tasks, their units and measures), for this measurement;
bench/generate.py builds a whole province. Prints the median of each page and, with --explain,
the plan of the list query and the paginator's count.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rectify.settings")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import django  # noqa: E402

django.setup()
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

settings.ALLOWED_HOSTS = ["testserver"]
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def generate(count: int) -> None:
    from rectify.ledger.models import Campaign, Measure, Task, TaskUnit
    from rectify.orgs.models import Category, Role, Unit, UnitKind, User
    from rectify.orgs.services import create_user

    call_command("migrate", verbosity=0)
    if Unit.objects.exists():
        sys.exit("the database is not empty")
    rng = random.Random(8)
    office = Unit.objects.create(name="市整改办", kind=UnitKind.OFFICE)
    counties = [Unit.objects.create(name=f"县区{i:02d}", kind=UnitKind.COUNTY, parent=office) for i in range(11)]
    depts = [Unit.objects.create(name=f"市直部门{i:02d}", kind=UnitKind.DEPARTMENT, parent=office) for i in range(30)]
    for username, role, unit in [("bench_admin", Role.OFFICE_ADMIN, office), ("bench_rep", Role.REPORTER, counties[0]),
                                 ("bench_lead", Role.SUPERVISOR, depts[0])]:
        create_user(actor=None, username=username, password="Bench@Passw0rd-2026", role=role, unit=unit,
                    display_name=username, must_change_password=False)
    leaders = [User.objects.create(username=f"leader{i}", role=Role.LEADER, display_name=f"领导{i}") for i in range(8)]
    campaigns = [Campaign.objects.create(code=f"C{i}", name=f"批次{i}", office=office) for i in range(5)]
    categories = list(Category.values)
    statuses = ["active"] * 8 + ["draft", "closing", "closed"]
    progress = ["done", "on_schedule", "lagging", "overdue", "long_term", ""]
    colours = ["", "", "", "blue", "yellow", "red"]
    start = time.perf_counter()
    batch = 5000
    for first in range(0, count, batch):
        tasks = []
        for i in range(first, min(first + batch, count)):
            kind = rng.choice(["by_date", "by_date", "long_term", "immediate"])
            tasks.append(Task(
                campaign=campaigns[i % len(campaigns)], code=f"T-{i:06d}", title=f"生成任务{i} 关于某处环境问题的整改",
                problem="问题描述" * 20, target="整改目标" * 10, category=rng.choice(categories),
                leader=rng.choice(leaders + [None]), deadline_kind=kind,
                deadline=dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(1500)) if kind == "by_date" else None,
                status=rng.choice(statuses), progress_status=rng.choice(progress), warning_colour=rng.choice(colours),
                expected_percent=rng.randrange(101), actual_percent=rng.randrange(101)))
        tasks = Task.objects.bulk_create(tasks)
        links, measures = [], []
        for t in tasks:
            resp = rng.sample(counties, rng.choice([1, 1, 1, 2]))
            for n, u in enumerate(resp):
                links.append(TaskUnit(task=t, unit=u, role="responsible", is_primary=n == 0, ordinal=n))
            lead, co = rng.sample(depts, 2)
            links.append(TaskUnit(task=t, unit=lead, role="lead_supervisor"))
            links.append(TaskUnit(task=t, unit=co, role="co_supervisor"))
            for m in range(rng.randrange(2, 6)):
                measures.append(Measure(task=t, ordinal=m + 1, text=f"措施{m + 1}", owner_unit=resp[0],
                                        done=rng.random() < 0.4))
        TaskUnit.objects.bulk_create(links)
        Measure.objects.bulk_create(measures)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"{count} tasks on {connection.vendor} in {time.perf_counter() - start:.1f} s")


def _median_ms(client, url, runs):
    client.get(url)  # warm-up (session refresh, caches)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    return statistics.median(times), len(ctx.captured_queries), ctx.captured_queries


def timings(runs: int, explain: bool) -> None:
    from rectify.ledger.models import Task
    from rectify.orgs.models import User
    from rectify.orgs.services import issue_api_token

    call_command("migrate", verbosity=0)
    total = Task.objects.count()
    print(f"ledger of {total} tasks on {connection.vendor}; median of {runs} runs")
    for username in ("bench_admin", "bench_rep"):
        user = User.objects.get(username=username)
        deep = Task.objects.visible_to(user).count() // 2 // 50  # a page in the middle of what the user sees
        client = Client()
        client.force_login(user)
        api = Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(actor=user, user=user, name='bench')}")
        rows = [
            ("web page 1", client, "/ledger/"),  # default order: warning, then deadline
            ("web sort=code p1", client, "/ledger/?sort=code"),  # index order (the default until issue 14)
            (f"web page {deep}", client, f"/ledger/?page={deep}"),
            ("web sort=-deadline p1", client, "/ledger/?sort=-deadline"),
            ("web status=active p1", client, "/ledger/?status=active"),
            ("api offset 0", api, "/api/v1/tasks?limit=50"),
            (f"api offset {deep * 50}", api, f"/api/v1/tasks?limit=50&offset={deep * 50}"),
        ]
        print(f"  as {username}:")
        for name, c, url in rows:
            ms, n, queries = _median_ms(c, url, runs)
            slowest = max(queries, key=lambda q: float(q["time"]))
            sql_ms = sum(float(q["time"]) for q in queries) * 1000
            print(f"    {name:24} {ms:8.1f} ms  {n:3d} queries  (SQL {sql_ms:6.1f} ms; slowest "
                  f"{float(slowest['time']) * 1000:5.1f} ms: {slowest['sql'][:60]}…)")
            if explain and name in ("web page 1", f"web page {deep}"):
                _explain(queries)


def _explain(queries) -> None:
    for q in queries:
        sql = q["sql"]
        if "ledger_task" not in sql or not sql.startswith("SELECT"):
            continue
        if "prefetch" in sql or '"ledger_taskunit"."task_id" IN' in sql:
            continue
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
        with connection.cursor() as cursor:
            cursor.execute(prefix + sql)
            plan = cursor.fetchall()
        print("      --", sql[:160].replace("\n", " "), "…")
        for row in plan:
            print("        ", row[0] if connection.vendor == "postgresql" else row[-1])


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "time"
    if mode == "generate":
        generate(int(sys.argv[2]) if len(sys.argv) > 2 else 25000)
    else:
        runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 15
        timings(runs, "--explain" in sys.argv)
