#!/usr/bin/env python3
"""Benchmark table at a tier (issue 8, item 2): every figure beside a floor measured in the same run.

    .venv/bin/python bench/run.py --tier S --data-dir /tmp/benchS            # generates S first if empty
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rectify_bench_m .venv/bin/python bench/run.py --tier M

Areas (one table each; see bench/README.md for what each figure and floor means):
  pages      p50/p95 server time (Django test Client, in-process) of the ledger list (default, each
             filter, page 1, last page), task page, round table, report list, escalation board, API
             lists; floor: the same page's SQL (captured with CaptureQueriesContext) replayed raw
  load       requests/s under wrk from a separate process against `rectify serve` on 127.0.0.1;
             floor: the same server's GET of the login page (its hello world)
  excel      import of 10k rows (preview + commit) vs python-calamine's bare read + bulk insert;
             export of 100k rows (time, peak RSS, in a child process) vs a bare XlsxWriter
             constant_memory write of the same cells
  dispatch   opening a round vs a bulk insert of the same report slots; the monthly bulletin
             (.docx, .xlsx) vs its SQL replayed
  audit      `rectify verify` events/s, in one process and in parallel ranges (one process per core),
             vs a bare SM3 loop over the same canonical bytes
Writes made by a figure (import, export, round opening) are rolled back.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import BENCH_USER, TIERS, configure  # noqa: E402

NOT_BUILT = "n/a (not built yet)"


class Rollback(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Output


class Table:
    def __init__(self, title: str):
        self.title = title
        self.rows: list[tuple[str, str, str, str, str]] = []

    def add(self, figure: str, value: str, floor: str = "", floor_value: str = "", ratio: float | None = None):
        self.rows.append((figure, value, floor, floor_value, f"{ratio:.1f}×" if ratio is not None else ""))
        print(f"    {figure}: {value}" + (f"  | {floor}: {floor_value}" if floor else ""), file=sys.stderr, flush=True)

    def render(self) -> str:
        head = ("figure", "value", "floor", "floor value", "ratio")
        rows = [head, *self.rows]
        widths = [max(_width(r[i]) for r in rows) for i in range(5)]
        lines = [f"== {self.title}"]
        for n, r in enumerate(rows):
            lines.append("  ".join(_pad(c, w) for c, w in zip(r, widths, strict=True)).rstrip())
            if n == 0:
                lines.append("  ".join("-" * w for w in widths))
        return "\n".join(lines)


def _width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


# ---------------------------------------------------------------------------------------------
# Pages: in-process server time and the SQL floor


CPU: dict[str, list[float]] = {}  # url → CPU seconds per request of the last timed_get / sql_floor


def timed_get(client, url: str, reps: int, headers: dict | None = None, before=None) -> tuple[list[float], int]:
    """Wall seconds of ``reps`` GETs (after two warm-ups), and the last status; the CPU seconds of
    this process per GET go to ``CPU[url]`` (steadier than wall time on a shared machine; on SQLite
    the queries run in-process, on PostgreSQL the server's share is not in it). ``before()`` runs
    untimed before each GET (e.g. emptying a cache)."""
    headers = headers or {}
    status = 0
    for _ in range(2):
        status = client.get(url, headers=headers).status_code
    times, cpus = [], []
    for _ in range(reps):
        if before is not None:
            before()
        t, cpu = time.perf_counter(), time.process_time()
        response = client.get(url, headers=headers)
        times.append(time.perf_counter() - t)
        cpus.append(time.process_time() - cpu)
        status = response.status_code
    CPU[url] = cpus
    return times, status


def plain(sql: str) -> str:
    """A captured statement as a plain query: server-side cursors (``.iterator()`` on PostgreSQL,
    e.g. a form's choice list) show up as DECLARE … CURSOR FOR <query>."""
    return re.sub(r"^\s*DECLARE\s+\S+\s+.*?CURSOR\s+(?:WITH(?:OUT)?\s+HOLD\s+)?FOR\s+", "", sql, flags=re.I | re.S)


def sql_floor(client, url: str, reps: int, headers: dict | None = None, before=None) -> tuple[list[float], int, int]:
    """Capture the page's queries once, then time them replayed raw through the cursor."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if before is not None:
        before()
    with CaptureQueriesContext(connection) as ctx:
        client.get(url, headers=headers or {})
    sqls = [plain(q["sql"]) for q in ctx.captured_queries]
    writes = sum(1 for s in sqls if re.match(r"\s*(UPDATE|INSERT|DELETE)", s, re.I))
    times, cpus = [], []
    with connection.cursor() as cursor:
        for i in range(reps + 2):
            t, cpu = time.perf_counter(), time.process_time()
            for sql in sqls:
                cursor.execute(sql)
                if cursor.description is not None:
                    cursor.fetchall()
            if i >= 2:
                times.append(time.perf_counter() - t)
                cpus.append(time.process_time() - cpu)
    CPU["floor " + url] = cpus
    return times, len(sqls), writes


def pages(table: Table, ctx: dict, reps: int) -> None:
    import gc

    from django.test import Client

    # as a server worker does once it has loaded (rectify/serve.py): what lives as long as the
    # process is kept out of the collector's full passes, which otherwise stall one request in 20
    gc.collect()
    gc.freeze()

    client, token = ctx["client"], ctx["token"]
    api = {"Authorization": f"Bearer {token}"}
    f = ctx["filters"]
    entries: list[tuple[str, str | None, dict | None, object]] = [
        ("ledger: default (page 1)", "/ledger/", None, client),
        ("ledger: last page", f"/ledger/?page={ctx['last_page']}", None, client),
        ("ledger: per_page=200", "/ledger/?per_page=200", None, client),
        ("ledger: filter campaign", f"/ledger/?campaign={f['campaign']}", None, client),
        ("ledger: filter category", "/ledger/?category=water", None, client),
        ("ledger: filter unit", f"/ledger/?unit={f['unit']}", None, client),
        ("ledger: filter county", f"/ledger/?county={f['county']}", None, client),
        ("ledger: filter status", "/ledger/?status=active", None, client),
        ("ledger: filter progress_status", "/ledger/?progress_status=lagging", None, client),
        ("ledger: filter warning_colour", "/ledger/?warning_colour=red", None, client),
        ("ledger: filter deadline_kind", "/ledger/?deadline_kind=by_date", None, client),
        ("ledger: filter deadline range", "/ledger/?deadline_from=2026-01-01&deadline_to=2026-12-31", None, client),
        ("ledger: keyword q=污水", "/ledger/?q=污水", None, client),
        ("ledger: sort colour, last page", f"/ledger/?sort=colour&page={ctx['last_page']}", None, client),
        ("ledger: as county reporter", "/ledger/", None, ctx["reporter_client"]),
        ("ledger: as a city office (of a province)", "/ledger/", None, ctx["city_client"]),
        ("task page (busiest task)", f"/ledger/tasks/{ctx['task']}/", None, client),
        ("round table (current round)", f"/dispatch/rounds/{ctx['round']}/", None, client),
        ("report list: missing", f"/dispatch/reports/?round={ctx['round']}&bucket=missing", None, client),
        ("escalation board (督办台账)", "/supervision/", None, client),
        ("battle map page (挂图作战)", "/board/", None, client),
        ("battle map data: figures kept", "/board/data.json", None, client),
        ("battle map data: figures computed", "/board/data.json?computed", None, client),
        ("public portal: task list (anonymous)", "/gongkai/tasks/", None, Client()),
        ("public portal: overview (anonymous)", "/gongkai/", None, Client()),
        ("API /tasks?limit=50", "/api/v1/tasks?limit=50", api, client),
        ("API /tasks last offset", f"/api/v1/tasks?limit=50&offset={ctx['last_offset']}", api, client),
        ("API /reports?round", f"/api/v1/reports?round={ctx['round']}&limit=50", api, client),
        ("API /escalations", "/api/v1/escalations?limit=50", api, client),
        ("API /rounds", "/api/v1/rounds", api, client),
    ]
    def forget_figures() -> None:  # the board's figures are kept per chain head: what a first view costs
        from django.core.cache import caches

        caches["board"].clear()

    for label, url, headers, c in entries:
        if url is None:
            table.add(label, NOT_BUILT)
            continue
        before = forget_figures if url.endswith("?computed") else None
        times, status = timed_get(c, url, reps, headers, before)
        if status != 200:
            table.add(label, f"HTTP {status}")
            continue
        floor, n, writes = sql_floor(c, url, reps, headers, before)
        wrote = f", {writes} write" if writes else ""
        p50, floor50 = statistics.median(times), statistics.median(floor)
        cpu50, floor_cpu50 = statistics.median(CPU[url]), statistics.median(CPU["floor " + url])
        table.add(label, f"p50 {ms(p50)} p95 {ms(pct(times, 0.95))} · cpu p50 {ms(cpu50)} p95 {ms(pct(CPU[url], 0.95))}",
                  f"SQL replay ({n} q{wrote})", f"p50 {ms(floor50)} · cpu {ms(floor_cpu50)}",
                  p50 / floor50 if floor50 else None)
        if floor_cpu50:
            table.add("  (cpu ratio)", "", "", "", cpu50 / floor_cpu50)


# ---------------------------------------------------------------------------------------------
# Load: wrk against `rectify serve`


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wrk(url: str, seconds: int, connections: int, cookie: str | None) -> dict:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "60s", "--latency", url]
    if cookie:
        cmd[1:1] = ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0}
    return {"rate": float(rate.group(1)) if rate else 0.0,
            "p50": float(p50.group(1)) * scale[p50.group(2)] if p50 else 0.0,
            "errors": (int(non2xx.group(1)) if non2xx else 0)
            + (sum(int(x) for x in socket_errors.groups()) if socket_errors else 0)}


def settle(url: str, seconds: int = 120) -> None:
    """Wait until the server has worked off what wrk left queued (a slow page keeps its threads busy
    after wrk stops), so that the next URL is not measured against the previous one's backlog."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        t = time.perf_counter()
        try:
            urllib.request.urlopen(url, timeout=seconds).read()
        except OSError:
            pass
        if time.perf_counter() - t < 0.5:
            return
        time.sleep(0.5)


def load(table: Table, ctx: dict, seconds: int, connections: int) -> None:
    if not shutil.which("wrk"):
        table.add("load", "skipped: wrk not installed (apt-get install wrk)")
        return
    port = free_port()
    env = dict(os.environ)
    server = subprocess.Popen([str(Path(sys.executable).parent / "rectify"), "serve", "--host", "127.0.0.1", "--port",
                               str(port), "--no-tick"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.3)
        base = f"http://127.0.0.1:{port}"
        cookie = f"sessionid={ctx['session']}"
        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        probe = urllib.request.build_opener(NoRedirect).open(
            urllib.request.Request(f"{base}/ledger/", headers={"Cookie": cookie}), timeout=30)
        if probe.status != 200:  # a redirect to the login page would count as success in wrk
            raise SystemExit(f"session cookie not accepted by the server: HTTP {probe.status}")
        hello = wrk(f"{base}/accounts/login/", seconds, connections, None)
        table.add("hello world: GET /accounts/login/ (anonymous)", f"{hello['rate']:.0f} req/s, p50 {ms(hello['p50'])}")
        static = wrk(f"{base}/static/rectify/app.css", seconds, connections, None)
        table.add("static file /static/rectify/app.css", f"{static['rate']:.0f} req/s, p50 {ms(static['p50'])}",
                  "hello world", f"{hello['rate']:.0f} req/s", hello["rate"] / static["rate"] if static["rate"] else None)
        for label, path in (("ledger list (default)", "/ledger/"), ("task page", f"/ledger/tasks/{ctx['task']}/")):
            settle(f"{base}/accounts/login/")
            r = wrk(base + path, seconds, connections, cookie)
            extra = f", {r['errors']} errors" if r["errors"] else ""
            table.add(label, f"{r['rate']:.0f} req/s, p50 {ms(r['p50'])}{extra}", "hello world",
                      f"{hello['rate']:.0f} req/s", hello["rate"] / r["rate"] if r["rate"] else None)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


# ---------------------------------------------------------------------------------------------
# Excel


def excel_import(table: Table, ctx: dict, rows: int, reps: int = 3) -> None:
    """Import ``rows`` rows (preview + commit) and the floor (calamine's bare read + a bulk insert of
    the same rows), alternately ``reps`` times each, every write rolled back; medians. The write
    window is the time from the import's first SAVEPOINT/BEGIN (its transaction) to its end: how
    long other writers wait (readers never wait: WAL on SQLite, MVCC on PostgreSQL)."""
    import io

    from django.db import connection, transaction
    from django.utils import timezone
    from python_calamine import CalamineWorkbook

    from rectify.core.bulk import insert_rows, reserve_ids
    from rectify.ledger.excel import commit_import, parse_workbook
    from rectify.ledger.models import Campaign, Measure, Task, TaskUnit
    from rectify.ledger.services import create_campaign
    from rectify.ledger.tally import tasks_in_bulk
    from rectify.orgs.models import Unit, User
    from tests.excel_helpers import generated_rows, office_workbook

    admin, city = ctx["city_admin"], ctx["city_office"]
    counties = list(Unit.objects.filter(parent=city, kind="county").values_list("name", flat=True))
    data = office_workbook(generated_rows(rows, units=counties, leader=ctx["leader_name"]))
    unit_id = {name: u.pk for u in Unit.objects.filter(is_active=True) for name in reversed(u.names())}
    leader_id = dict(User.objects.filter(role="leader").values_list("display_name", "pk"))
    figures: dict[str, list[float]] = {k: [] for k in ("preview", "commit", "window", "read", "insert", "cpu",
                                                        "floor_cpu")}

    def product() -> None:
        marks: list[float] = []

        def watch(execute, sql, params, many, context):
            if not marks and sql.startswith(("SAVEPOINT", "BEGIN")):
                marks.append(time.perf_counter())
            return execute(sql, params, many, context)

        try:
            with transaction.atomic():
                campaign = create_campaign(actor=admin, code="BENCH-IMPORT", name="基准导入批次", kind="city",
                                           feedback_date=None)
                t, cpu = time.perf_counter(), time.process_time()
                preview = parse_workbook(data, campaign=campaign, actor=admin, filename="bench.xlsx")
                figures["preview"].append(time.perf_counter() - t)
                assert preview.ok, preview.summary()
                t = time.perf_counter()
                with connection.execute_wrapper(watch):
                    result = commit_import(preview, actor=admin)
                end = time.perf_counter()
                figures["cpu"].append(time.process_time() - cpu)
                figures["commit"].append(end - t)
                figures["window"].append(end - marks[0] if marks else end - t)
                assert result.ok, result.summary()
                raise Rollback
        except Rollback:
            pass

    def floor() -> None:
        # calamine's bare read, then the same rows (each task with its four unit roles and its
        # measures) inserted the fastest way the product has (rectify.core.bulk: COPY on
        # PostgreSQL, one prepared INSERT on SQLite): no parsing of cells, no checks, no events
        try:
            with transaction.atomic():
                campaign = Campaign.objects.create(code="BENCH-FLOOR", name="基准导入下限", office=city)
                t, cpu = time.perf_counter(), time.process_time()
                sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
                figures["read"].append(time.perf_counter() - t)
                t = time.perf_counter()
                body = sheet[3:]
                ids = reserve_ids(Task, len(body))
                now = timezone.now()
                with tasks_in_bulk():  # as the import: SQLite's row trigger on task inserts set aside
                    insert_rows(Task, ["id", "campaign_id", "code", "title", "problem", "target", "leader_id",
                                       "deadline_kind", "progress_note", "completion_note", "status", "created_at",
                                       "updated_at"],
                                [(pk, campaign.pk, r[1], r[2], r[3], r[4], leader_id.get(r[9]), "long_term", r[11],
                                  r[12], "active", now, now) for pk, r in zip(ids, body, strict=True)])
                insert_rows(TaskUnit, ["task_id", "unit_id", "role", "is_primary", "ordinal"],
                            [row for pk, r in zip(ids, body, strict=True)
                             for row in ((pk, unit_id[r[6]], "responsible", True, 0),
                                         (pk, unit_id[r[7]], "lead_supervisor", True, 0),
                                         (pk, unit_id[r[8]], "co_supervisor", False, 0),
                                         (pk, unit_id[r[7]], "acceptance", True, 0))])
                insert_rows(Measure, ["task_id", "ordinal", "text"],
                            [(pk, k, line.split(".", 1)[-1]) for pk, r in zip(ids, body, strict=True)
                             for k, line in enumerate(r[5].split("\n"), start=1)])
                figures["insert"].append(time.perf_counter() - t)
                figures["floor_cpu"].append(time.process_time() - cpu)
                raise Rollback
        except Rollback:
            pass

    for _ in range(reps):
        product()
        floor()
    med = {k: statistics.median(v) for k, v in figures.items()}
    total, base = med["preview"] + med["commit"], med["read"] + med["insert"]
    note = f" (median of {reps})" if reps > 1 else ""
    table.add(f"import {rows} rows: preview{note}", f"{med['preview']:.2f} s", "calamine bare read",
              f"{med['read']:.2f} s", med["preview"] / med["read"])
    table.add(f"import {rows} rows: commit", f"{med['commit']:.2f} s ({med['commit'] / rows * 1000:.2f} ms/row)",
              "bulk insert of the same rows", f"{med['insert']:.2f} s", med["commit"] / med["insert"])
    table.add(f"import {rows} rows: total", f"{total:.2f} s", "read + bulk insert", f"{base:.2f} s", total / base)
    # CPU time of this process: steadier than wall time on a shared machine (on SQLite the database
    # works in-process; on PostgreSQL the server's share is not in it)
    table.add(f"import {rows} rows: CPU time", f"{med['cpu']:.2f} s", "read + bulk insert", f"{med['floor_cpu']:.2f} s",
              med["cpu"] / med["floor_cpu"])
    table.add(f"import {rows} rows: write transaction", f"{med['window']:.2f} s", "bulk insert of the same rows",
              f"{med['insert']:.2f} s", med["window"] / med["insert"])


def excel_export(table: Table, ctx: dict, rows: int) -> None:
    out = subprocess.run([sys.executable, __file__, "--child-export", str(rows)], env=dict(os.environ),
                         capture_output=True, text=True, timeout=3600)
    line = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")]
    if not line:
        table.add(f"export {rows} rows", "failed: " + out.stderr.strip().splitlines()[-1] if out.stderr else "failed")
        return
    r = json.loads(line[0][7:])
    table.add(f"export {r['rows']} rows: time", f"{r['seconds']:.1f} s ({r['size_mb']:.1f} MB)",
              "bare XlsxWriter constant_memory", f"{r['floor_seconds']:.1f} s", r["seconds"] / r["floor_seconds"])
    # CPU time of the exporting process: steadier than wall time on a shared machine (on SQLite the
    # queries run in-process; on PostgreSQL the server's share is not in it)
    table.add(f"export {r['rows']} rows: CPU time", f"{r['cpu']:.1f} s", "the same cells written bare",
              f"{r['floor_cpu']:.1f} s", r["cpu"] / r["floor_cpu"])
    # growth over the process's RSS at the start of the write (the bare write's process also holds the cells)
    table.add(f"export {r['rows']} rows: peak RSS", f"{r['rss_peak']:.0f} MB, {r['rss_peak'] - r['rss_base']:+.0f} MB",
              "bare write: growth", f"{r['floor_rss'] - r['floor_base']:+.0f} MB")


def rss_peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def rss_now_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def reset_peak() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # Linux: reset VmHWM to the current RSS
    except OSError:
        pass


def child_export(rows: int) -> None:
    """In a fresh process: top the ledger up to ``rows`` tasks (rolled back afterwards), export them
    as bench_admin, then write the same cells with a bare constant_memory workbook."""
    configure()
    import tempfile

    import xlsxwriter
    from django.db import transaction
    from python_calamine import CalamineWorkbook

    from bench.generate import next_id
    from rectify.ledger.excel import export_ledger
    from rectify.ledger.models import Campaign, Measure, Task, TaskUnit
    from rectify.orgs.models import Unit, User

    user = User.objects.get(username=BENCH_USER)
    tmp = Path(tempfile.mkdtemp(prefix="rectify-bench-export-"))
    result = {}
    try:
        with transaction.atomic():
            have = Task.objects.count()
            if have < rows:
                office = Unit.objects.filter(kind="office").order_by("path").first()
                campaign = Campaign.objects.create(code="BENCH-EXPORT", name="基准导出补足批次", office=office)
                county = Unit.objects.filter(kind="county").first()
                tid = next_id(Task)
                for start in range(0, rows - have, 5000):
                    n = min(5000, rows - have - start)
                    tasks = Task.objects.bulk_create([
                        Task(id=tid + start + i, campaign=campaign, code=f"BX-{start + i:06d}",
                             title=f"第{start + i}号问题：工业园区污水处理设施不完善",
                             problem="督察发现，园区污水集中处理设施建设滞后，部分企业废水直排。", target="园区污水全收集全处理",
                             deadline_kind="long_term", status="active", progress_note="已完成管网建设 60%")
                        for i in range(n)])
                    TaskUnit.objects.bulk_create([TaskUnit(task=x, unit=county, role="responsible", is_primary=True)
                                                  for x in tasks])
                    Measure.objects.bulk_create([Measure(task=x, ordinal=k, text=f"措施{k}：按期完成整改任务的第{k}步")
                                                 for x in tasks for k in (1, 2, 3)])
            import gc

            gc.collect()
            base = rss_now_mb()
            reset_peak()
            target = tmp / "export.xlsx"
            t, cpu = time.perf_counter(), time.process_time()
            count = export_ledger(user=user, filters=None, target=str(target))
            result.update(rows=count, seconds=time.perf_counter() - t, cpu=time.process_time() - cpu,
                          rss_base=base, rss_peak=rss_peak_mb(),
                          size_mb=target.stat().st_size / 1048576)
            raise Rollback
    except Rollback:
        pass
    # the same cells, read back (untimed), written bare
    cells = CalamineWorkbook.from_path(str(tmp / "export.xlsx")).get_sheet_by_index(0).to_python()
    import gc

    gc.collect()
    base = rss_now_mb()
    reset_peak()
    # the same cells with the same cell formats (a header style, text wrap on every data cell)
    t, cpu = time.perf_counter(), time.process_time()
    book = xlsxwriter.Workbook(str(tmp / "floor.xlsx"), {"constant_memory": True, "tmpdir": str(tmp)})
    sheet = book.add_worksheet()
    head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    for r, row in enumerate(cells):
        style = head if r == 0 else wrap
        for c, value in enumerate(row):
            if isinstance(value, (int, float)):
                sheet.write_number(r, c, value, style)
            elif value:
                sheet.write_string(r, c, value, style)
    book.close()
    result["floor_cpu"] = time.process_time() - cpu
    result.update(floor_seconds=time.perf_counter() - t, floor_base=base, floor_rss=rss_peak_mb())
    shutil.rmtree(tmp, ignore_errors=True)
    print("RESULT " + json.dumps(result))


# ---------------------------------------------------------------------------------------------
# Dispatch: opening a round, the bulletin


def dispatch(table: Table, ctx: dict) -> None:
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from rectify.dispatch.models import DispatchRound, ProgressReport
    from rectify.dispatch.services import open_round
    from rectify.documents.bulletin import bulletin_docx, bulletin_xlsx
    from rectify.ledger.models import TaskUnit
    from rectify.orgs.models import Unit

    admin = ctx["city_admin"]
    office = Unit.objects.get(pk=ctx["city_office"].pk)
    latest = DispatchRound.objects.filter(office=office).order_by("-period").first()
    year, month = map(int, latest.period.split("-"))
    period = f"{year + month // 12}-{month % 12 + 1:02d}"
    try:
        with transaction.atomic():
            t = time.perf_counter()
            due = dt.date(int(period[:4]), int(period[5:]), 10)  # the new month's own due date
            rnd, created = open_round(actor=admin, office=office, period=period, due_date=due)
            t_open = time.perf_counter() - t
            slots = rnd.reports.count()
            raise Rollback
    except Rollback:
        pass
    try:
        with transaction.atomic():
            rnd = DispatchRound.objects.create(office=office, period=period, title="floor", opened_at=latest.opened_at,
                                               due_date=latest.due_date)
            links = list(TaskUnit.objects.filter(role="responsible", task__campaign__office__path__startswith=office.path)
                         .exclude(task__status="closed").values_list("task_id", "unit_id"))
            t = time.perf_counter()
            ProgressReport.objects.bulk_create([ProgressReport(round=rnd, task_id=a, unit_id=b) for a, b in links],
                                               batch_size=2000)
            t_floor = time.perf_counter() - t
            raise Rollback
    except Rollback:
        pass
    table.add(f"open a round ({slots} slots, {office.short_name or office.name})", f"{t_open * 1000:.0f} ms",
              "bulk insert of the slots", f"{t_floor * 1000:.0f} ms", t_open / t_floor if t_floor else None)

    closed = DispatchRound.objects.filter(office=office, status="closed").order_by("-period").first()
    for label, fn in (("monthly bulletin .docx", bulletin_docx), ("monthly bulletin .xlsx", bulletin_xlsx)):
        fn(closed, admin)
        times = []
        for _ in range(3):
            t = time.perf_counter()
            fn(closed, admin)
            times.append(time.perf_counter() - t)
        with CaptureQueriesContext(connection) as cq:
            fn(closed, admin)
        sqls = [plain(q["sql"]) for q in cq.captured_queries]
        floor = []
        with connection.cursor() as cursor:
            for _ in range(3):
                t = time.perf_counter()
                for sql in sqls:
                    cursor.execute(sql)
                    if cursor.description is not None:
                        cursor.fetchall()
                floor.append(time.perf_counter() - t)
        p50, f50 = statistics.median(times), statistics.median(floor)
        table.add(f"{label} ({closed.period})", f"{p50 * 1000:.0f} ms", f"its SQL replayed ({len(sqls)} q)",
                  f"{f50 * 1000:.0f} ms", p50 / f50 if f50 else None)


# ---------------------------------------------------------------------------------------------
# Audit: verify vs bare SM3


def audit(table: Table, sample: int) -> None:
    from django.conf import settings

    from rectify.core.audit import HASHED_FIELDS, _canonical_time, verify_chain
    from rectify.core.models import Event
    from rectify.core.sm3 import sm3_hex

    t = time.perf_counter()
    result = verify_chain(workers=1)
    t_verify = time.perf_counter() - t
    rate = result.count / t_verify
    # the ranges in parallel processes, whatever the chain's length (the default threshold keeps a
    # short chain in one process)
    threshold, settings.VERIFY_PARALLEL_ABOVE = settings.VERIFY_PARALLEL_ABOVE, 0
    try:
        t = time.perf_counter()
        split = verify_chain(workers=max(2, settings.VERIFY_WORKERS))
        t_split = time.perf_counter() - t
    finally:
        settings.VERIFY_PARALLEL_ABOVE = threshold
    split_rate = split.count / t_split
    # the same canonical bytes verify hashes (built untimed from a sample), hashed bare
    payloads = []
    for row in Event.objects.order_by("id").values(*HASHED_FIELDS)[:sample].iterator(chunk_size=5000):
        row["created_at"] = _canonical_time(row["created_at"])
        payloads.append(json.dumps(row, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8"))
    t = time.perf_counter()
    for data in payloads:
        sm3_hex(data)
    bare = len(payloads) / (time.perf_counter() - t)
    t = time.perf_counter()
    n = sum(1 for _ in Event.objects.order_by("id").values(*HASHED_FIELDS, "id", "hash")[:sample]
            .iterator(chunk_size=2000))
    read = n / (time.perf_counter() - t)
    table.add(f"rectify verify ({result.count} events, {'OK' if result.ok else 'BROKEN'}), 1 process",
              f"{rate:,.0f} events/s ({t_verify:.1f} s)", "bare SM3 loop, same bytes", f"{bare:,.0f} events/s",
              bare / rate)
    table.add("  of which: reading the rows (values().iterator)", f"{read:,.0f} events/s")
    table.add(f"rectify verify ({split.count} events, {'OK' if split.ok else 'BROKEN'}), {split.processes} processes",
              f"{split_rate:,.0f} events/s ({t_split:.1f} s)", "bare SM3 loop, same bytes", f"{bare:,.0f} events/s",
              bare / split_rate)


# ---------------------------------------------------------------------------------------------
# Setup


def context() -> dict:
    from django.db.models import Count
    from django.test import Client

    from rectify.dispatch.models import DispatchRound
    from rectify.ledger.models import Campaign, Task, TaskUnit
    from rectify.orgs.models import Role, Unit, User
    from rectify.orgs.services import issue_api_token

    admin = User.objects.get(username=BENCH_USER)
    client = Client()
    client.force_login(admin)
    city_office = (Unit.objects.filter(kind="office").exclude(pk=admin.unit_id).order_by("path").first()
                   if admin.unit.parent_id is None and Unit.objects.filter(kind="office").count() > 1 else admin.unit)
    city_admin = User.objects.filter(role=Role.OFFICE_ADMIN, unit=city_office).order_by("id").first()
    county = (TaskUnit.objects.filter(role="responsible", unit__kind="county").values("unit_id")
              .annotate(n=Count("id")).order_by("-n").first()["unit_id"])
    reporter = User.objects.filter(role=Role.REPORTER, unit_id=county).first()
    reporter_client = Client()
    reporter_client.force_login(reporter)
    city_client = Client()
    city_client.force_login(city_admin)
    from rectify.core.models import Event

    busiest = (Event.objects.filter(object_type="ledger.task").values("object_id").annotate(n=Count("id"))
               .order_by("-n").first()["object_id"])
    total = Task.objects.visible_to(admin).count()
    leader = User.objects.filter(role=Role.LEADER).first()
    return {
        "client": client, "reporter_client": reporter_client, "city_client": city_client, "token": issue_api_token(actor=admin, user=admin,
                                                                                     name="bench"),
        "session": client.cookies["sessionid"].value, "admin": admin, "city_office": city_office,
        "city_admin": city_admin, "leader_name": leader.display_name,
        "filters": {"campaign": Campaign.objects.filter(office=city_office).order_by("id").first().pk,
                    "unit": county, "county": county},
        "last_page": max(1, math.ceil(total / 50)), "last_offset": max(0, total - 50), "task": int(busiest),
        "round": DispatchRound.objects.filter(office=city_office, status="open").order_by("-period").first().pk,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="Rectify benchmark table (figures beside floors).")
    parser.add_argument("--tier", choices=sorted(TIERS), default="S", help="generated first if the database is empty")
    parser.add_argument("--data-dir")
    parser.add_argument("--database-url")
    parser.add_argument("--reps", type=int, default=30, help="repetitions per page (p50/p95)")
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per URL")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--import-rows", type=int, default=10_000)
    parser.add_argument("--import-reps", type=int, default=3, help="imports (and floors) measured; medians")
    parser.add_argument("--export-rows", type=int, default=100_000)
    parser.add_argument("--only", help="comma-separated areas: pages,load,excel (or import, export),dispatch,audit")
    parser.add_argument("--child-export", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.data_dir:
        os.environ["RECTIFY_DATA_DIR"] = str(Path(args.data_dir).resolve())
    if args.database_url is not None:
        os.environ["DATABASE_URL"] = args.database_url
    if args.child_export:
        child_export(args.child_export)
        return 0
    configure()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", interactive=False, verbosity=0)
    from rectify.orgs.models import Unit

    if not Unit.objects.exists():
        from bench.generate import generate

        print(f"empty database: generating tier {args.tier} first", file=sys.stderr)
        generate(tier=args.tier, log=lambda line: print(line, file=sys.stderr))
    from rectify.core.models import Event
    from rectify.dispatch.models import ProgressReport
    from rectify.ledger.models import Task
    from rectify.orgs.models import User

    areas = set((args.only or "pages,load,excel,dispatch,audit").split(","))
    ctx = context()
    print(f"Rectify bench — {connection.vendor} ({settings.DATABASES['default']['NAME']}): "
          f"{Task.objects.count()} tasks, {ProgressReport.objects.count()} reports, {Event.objects.count()} events, "
          f"{User.objects.count()} users; {os.cpu_count()} cores; {args.reps} reps per page")
    tables = []
    steps: list[tuple[str, str, Callable[[Table], None]]] = [
        ("pages", "Server time per page (in-process, as bench_admin unless noted)", lambda t: pages(t, ctx, args.reps)),
        ("load", f"Throughput: wrk -t2 -c{args.connections} -d{args.seconds}s against `rectify serve` (gunicorn)",
         lambda t: load(t, ctx, args.seconds, args.connections)),
        ("excel", "Excel import and export", lambda t: (excel_import(t, ctx, args.import_rows, args.import_reps),
                                                        excel_export(t, ctx, args.export_rows))),
        ("dispatch", "Dispatch and documents", lambda t: dispatch(t, ctx)),
        ("audit", "Audit chain", lambda t: audit(t, 200_000)),
    ]
    # "import" and "export": either half of "excel"
    steps.insert(2, ("import", "Excel import", lambda t: excel_import(t, ctx, args.import_rows, args.import_reps)))
    steps.insert(3, ("export", "Excel export", lambda t: excel_export(t, ctx, args.export_rows)))
    for key, title, fn in steps:
        if key not in areas:
            continue
        print(f"-- {title}", file=sys.stderr, flush=True)
        table = Table(title)
        fn(table)
        tables.append(table)
        print(table.render(), flush=True)
        print(flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
