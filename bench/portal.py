#!/usr/bin/env python3
"""The public portal under load: task list and task page at N disclosed tasks, cached and
uncached, beside the same server's hello world, measured in one run from a separate load process
(wrk) on 127.0.0.1 only.

    .venv/bin/python bench/generate.py --tasks 10000 --reports 60000 --events 200000 --data-dir /tmp/pb
    .venv/bin/python bench/portal.py --data-dir /tmp/pb [--seconds 10] [--connections 8]

The script first discloses every campaign, every non-draft task and every accepted report summary
of the target database (bulk rows, as an office deciding "公开批次及全部非草稿任务" would, without
an event per row), then starts ``rectify serve --no-tick`` and runs wrk against:

- hello world: the login page (anonymous, no database query);
- the portal's task list and one task page, **cached**: the same URL again and again (a hit after
  the first request: one query for the chain head);
- the same pages **uncached**: a random unused query parameter per request (wrk Lua), so every
  request misses the cache and renders from the database.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import settle, wrk  # noqa: E402  (after the path is set)

RANDOM_LUA = """
request = function()
  return wrk.format("GET", wrk.path .. (string.find(wrk.path, "?", 1, true) and "&" or "?") .. "nocache=" .. math.random(1, 1000000000))
end
"""


def disclose_all() -> tuple[int, int]:
    """Disclose everything in the target in bulk; return (tasks disclosed, a disclosed task id)."""
    from django.utils import timezone

    from rectify.disclosure import services
    from rectify.disclosure.models import Decision
    from rectify.dispatch.models import ProgressReport
    from rectify.ledger.models import Campaign, Task

    now = timezone.now()
    rows = [Decision(subject="campaign", object_id=pk, disclosed=True, decided_at=now)
            for pk in Campaign.objects.values_list("pk", flat=True)]
    rows += [Decision(subject="task", object_id=pk, disclosed=True, decided_at=now)
             for pk in Task.objects.exclude(status="draft").values_list("pk", flat=True)]
    rows += [Decision(subject="report", object_id=pk, disclosed=True, decided_at=now)
             for pk in ProgressReport.objects.filter(status="accepted").exclude(public_summary="")
             .values_list("pk", flat=True)]
    Decision.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True)
    from django.db import connection

    with connection.cursor() as cursor:  # fresh statistics, as autovacuum would take after a bulk write
        cursor.execute("ANALYZE disclosure_decision" if connection.vendor == "postgresql" else "ANALYZE")
    services.publish_head(actor=None, where="bench/portal.py")
    from rectify.disclosure.scope import published_task_ids

    ids = list(published_task_ids().order_by("pk").values_list("pk", flat=True))
    return len(ids), ids[len(ids) // 2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed (apt-get install wrk)")
    os.environ["RECTIFY_DATA_DIR"] = str(Path(args.data_dir).resolve())
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rectify.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", interactive=False, verbosity=0)
    count, task_id = disclose_all()
    connection.close()
    print(f"database: {connection.vendor}; disclosed tasks: {count}")

    port = _free_port()
    server = subprocess.Popen([str(Path(sys.executable).parent / "rectify"), "serve", "--host", "127.0.0.1",
                               "--port", str(port), "--no-tick", "--workers", str(args.workers)],
                              env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    lua = Path(tempfile.mkdtemp()) / "nocache.lua"
    lua.write_text(RANDOM_LUA)
    try:
        _wait(port)
        base = f"http://127.0.0.1:{port}"
        for path in ("/gongkai/tasks/", f"/gongkai/tasks/{task_id}/"):
            urllib.request.urlopen(base + path, timeout=60).read()  # warm: the first render fills the cache
        results = []
        hello = wrk(f"{base}/accounts/login/", args.seconds, args.connections, None)
        results.append(("hello world: GET /accounts/login/", hello))
        for label, path in (("portal task list", "/gongkai/tasks/"), ("portal task page", f"/gongkai/tasks/{task_id}/")):
            settle(f"{base}/accounts/login/")
            results.append((f"{label}, cached", wrk(base + path, args.seconds, args.connections, None)))
            settle(f"{base}/accounts/login/")
            results.append((f"{label}, uncached", _wrk_lua(base + path, args.seconds, args.connections, lua)))
        print(f"{args.connections} connections, {args.seconds} s each, {args.workers} workers, 127.0.0.1")
        for label, r in results:
            errors = f", {r['errors']} errors" if r["errors"] else ""
            print(f"  {label:<40} {r['rate']:>8.0f} req/s  p50 {r['p50'] * 1000:7.1f} ms  "
                  f"({r['rate'] / hello['rate'] * 100 if hello['rate'] else 0:5.1f}% of hello world){errors}")
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    return 0


def _wrk_lua(url: str, seconds: int, connections: int, lua: Path) -> dict:
    import re

    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "60s", "--latency", "-s", str(lua), url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0}
    return {"rate": float(rate.group(1)) if rate else 0.0,
            "p50": float(p50.group(1)) * scale[p50.group(2)] if p50 else 0.0,
            "errors": int(non2xx.group(1)) if non2xx else 0}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(port: int, seconds: int = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not start")


if __name__ == "__main__":
    raise SystemExit(main())
