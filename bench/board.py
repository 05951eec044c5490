#!/usr/bin/env python3
"""Time the board's data endpoint (/board/data.json) on a generated city or province.

    # once: a world of N tasks (bench/generate.py; report slots and audit events kept small here,
    # the board reads neither)
    .venv/bin/python bench/board.py generate --tasks 25000 --data-dir /tmp/board25k
    .venv/bin/python bench/board.py generate --tasks 25000 --data-dir /tmp/board25k-pg \\
        --database-url postgres://postgres@127.0.0.1:5432/board25k
    # then:
    .venv/bin/python bench/board.py time --data-dir /tmp/board25k [--runs 7]

Prints, per persona (the province or city office, a city office, a city leader), the median and
the slowest of --runs requests of the endpoint through Django's test client (no network), the
number of queries and what the board counted (tasks, counties).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate as gen  # noqa: E402  (bench/generate.py)


def cmd_generate(args) -> int:
    argv = ["--tasks", str(args.tasks), "--reports", str(args.reports or args.tasks * 4),
            "--events", str(args.events or args.tasks * 3), "--no-verify", "--seed", "12"]
    if args.data_dir:
        argv += ["--data-dir", args.data_dir]
    if args.database_url:
        argv += ["--database-url", args.database_url]
    if args.today:
        argv += ["--today", args.today]
    return gen.main(argv)


def personas():
    from rectify.core.roles import Role
    from rectify.orgs.models import User

    admin = User.objects.get(username=gen.BENCH_USER)
    found = [("bench_admin (top office)", admin)]
    city_admin = (User.objects.filter(role=Role.OFFICE_ADMIN, unit__parent__isnull=False).select_related("unit")
                  .order_by("id").first())
    if city_admin is not None:
        found.append((f"{city_admin.username} (a city office)", city_admin))
    leader = User.objects.filter(role=Role.LEADER, assignments__county__isnull=False).order_by("id").first()
    if leader is not None:
        found.append((f"{leader.username} (a city leader)", leader))
    return found


def cmd_time(args) -> int:
    gen.configure(data_dir=args.data_dir, database_url=args.database_url)
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from rectify.ledger.models import Task

    settings.ALLOWED_HOSTS = ["testserver"]
    print(f"database: {connection.vendor}; tasks: {Task.objects.count():,}")
    from django.core.cache import caches

    for label, user in personas():
        client = Client()
        client.force_login(user)
        client.get("/board/data.json")  # warm the caches (and the page's compiled templates)
        for kept in (False, True):
            times = []
            for _ in range(args.runs):
                if not kept:  # the figures computed: what the first request after a write costs
                    caches["board"].clear()
                t = time.perf_counter()
                with CaptureQueriesContext(connection) as ctx:
                    response = client.get("/board/data.json")
                times.append(time.perf_counter() - t)
                assert response.status_code == 200, response.status_code
            data = response.json()
            print(f"  {label:<34} {'kept' if kept else 'computed':<9} median {statistics.median(times) * 1000:7.1f} ms  "
                  f"max {max(times) * 1000:7.1f} ms  {len(ctx.captured_queries):2d} queries  tasks {data['total']:>7,}  "
                  f"counties {len(data['counties']):>4}")
            if not kept and args.queries:
                for q in sorted(ctx.captured_queries, key=lambda q: -float(q["time"]))[:args.queries]:
                    print(f"      {float(q['time']) * 1000:8.1f} ms  {q['sql'][:160]}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--tasks", type=int, required=True)
    g.add_argument("--reports", type=int)
    g.add_argument("--events", type=int)
    g.add_argument("--today")
    t = sub.add_parser("time")
    t.add_argument("--runs", type=int, default=7)
    t.add_argument("--queries", type=int, default=0, help="print the N slowest queries of a computed run")
    for p in (g, t):
        p.add_argument("--data-dir")
        p.add_argument("--database-url")
    args = parser.parse_args(argv)
    return cmd_generate(args) if args.cmd == "generate" else cmd_time(args)


if __name__ == "__main__":
    sys.exit(main())
