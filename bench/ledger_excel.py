"""Benchmark: ledger Excel import and export on a throwaway SQLite database.

    .venv/bin/python bench/ledger_excel.py [--rows 10000] [--big 100000]

1. generates an office-layout workbook of --rows rows and times preview (parse_workbook) and
   commit (commit_import), then a re-import of the same file (every row unchanged);
2. times the export of those rows;
3. tops the ledger up to --big tasks with bulk_create (fine in a bench, never in the product) and
   exports them in a fresh child process, reporting peak RSS and the tracemalloc peak, next to the
   same figures for exporting --rows tasks, to show that export memory does not grow with size.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup(data_dir: str) -> None:
    os.environ["RECTIFY_DATA_DIR"] = data_dir
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "rectify.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def rss_mb() -> float:
    """Peak resident set size of this process so far, in MB."""
    # VmHWM belongs to this process image; ru_maxrss survives exec and would report the parent's peak.
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def build_world():
    import datetime as dt

    from django.conf import settings

    from rectify.ledger.services import create_campaign
    from rectify.orgs.models import Role, Unit, UnitKind
    from rectify.orgs.services import create_user

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    office = Unit.objects.create(name="基准市整改办", kind=UnitKind.OFFICE)
    counties = [Unit.objects.create(name=f"基准县{i:02d}", kind=UnitKind.COUNTY, parent=office) for i in range(11)]
    Unit.objects.create(name="市生态环境局", kind=UnitKind.DEPARTMENT, parent=office)
    Unit.objects.create(name="市住房和城乡建设局", kind=UnitKind.DEPARTMENT, parent=office)
    admin = create_user(actor=None, username="bench_admin", password="Bench@Passw0rd-2026", role=Role.OFFICE_ADMIN,
                        unit=office, display_name="基准管理员", must_change_password=False)
    create_user(actor=None, username="bench_leader", password="Bench@Passw0rd-2026", role=Role.LEADER, unit=None,
                display_name="基准市领导", must_change_password=False)
    campaign = create_campaign(actor=admin, code="B-1", name="基准批次", kind="central",
                               feedback_date=dt.date(2021, 7, 16))
    return admin, campaign, counties


def top_up(campaign, counties, total: int) -> None:
    """Bring the campaign to ``total`` tasks with bulk_create (bench only: no services, no events)."""
    import datetime as dt

    from rectify.ledger.models import DeadlineKind, Measure, Task, TaskStatus, TaskUnit, UnitRole
    from rectify.orgs.models import Unit

    env = Unit.objects.get(name="市生态环境局")
    have = Task.objects.filter(campaign=campaign).count()
    batch = 5000
    for start in range(have, total, batch):
        n = min(batch, total - start)
        tasks = Task.objects.bulk_create([
            Task(campaign=campaign, code=f"BK-{i:06d}", title=f"第{i}号问题：工业园区污水处理设施不完善",
                 problem="督察发现，园区污水集中处理设施建设滞后，\n部分企业废水直排。", target="园区污水全收集全处理",
                 deadline_kind=DeadlineKind.BY_DATE, deadline=dt.date(2024, 6, 30), status=TaskStatus.ACTIVE,
                 progress_note="已完成管网建设 60%") for i in range(start, start + n)])
        TaskUnit.objects.bulk_create(
            [TaskUnit(task=t, unit=counties[i % len(counties)], role=UnitRole.RESPONSIBLE, is_primary=True)
             for i, t in enumerate(tasks)]
            + [TaskUnit(task=t, unit=env, role=UnitRole.LEAD_SUPERVISOR, is_primary=True) for t in tasks])
        Measure.objects.bulk_create([Measure(task=t, ordinal=k, text=f"措施{k}：按期完成整改任务的第{k}步")
                                     for t in tasks for k in (1, 2, 3)])


def child_export(data_dir: str, trace: bool) -> None:
    """Run in a fresh process: export everything, print peak figures as one line."""
    setup(data_dir)
    import tracemalloc

    from rectify.ledger.excel import export_ledger
    from rectify.orgs.models import User

    user = User.objects.get(username="bench_admin")
    base = rss_mb()
    if trace:
        tracemalloc.start()
    out = Path(data_dir) / "export.xlsx"
    started = time.perf_counter()
    count = export_ledger(user=user, filters=None, target=str(out))
    elapsed = time.perf_counter() - started
    traced = tracemalloc.get_traced_memory()[1] / 1048576 if trace else 0.0
    print(f"RESULT {count} {elapsed:.2f} {base:.1f} {rss_mb():.1f} {traced:.1f} {out.stat().st_size / 1048576:.1f}")


def run_child(data_dir: str, trace: bool) -> dict:
    cmd = [sys.executable, __file__, "--child-export", data_dir] + (["--trace"] if trace else [])
    line = [x for x in subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines()
            if x.startswith("RESULT")][0]
    count, secs, base, peak, traced, size = line.split()[1:]
    return {"rows": int(count), "seconds": float(secs), "rss_base": float(base), "rss_peak": float(peak),
            "traced_peak": float(traced), "size_mb": float(size)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--child-export")
    parser.add_argument("--trace", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the throwaway database directory")
    args = parser.parse_args()
    if args.child_export:
        child_export(args.child_export, args.trace)
        return 0

    data_dir = tempfile.mkdtemp(prefix="rectify-bench-excel-")
    setup(data_dir)
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from rectify.ledger.excel import commit_import, parse_workbook
    from rectify.ledger.models import Task
    from tests.excel_helpers import generated_rows, office_workbook

    admin, campaign, counties = build_world()
    print(f"SQLite database in {data_dir}")

    t = time.perf_counter()
    data = office_workbook(generated_rows(args.rows, units=[u.name for u in counties], leader="基准市领导"))
    print(f"generate workbook      {args.rows:>7} rows  {time.perf_counter() - t:6.1f} s   ({len(data) / 1048576:.1f} MB)")

    t = time.perf_counter()
    preview = parse_workbook(data, campaign=campaign, actor=admin, filename="bench.xlsx")
    parse_s = time.perf_counter() - t
    assert preview.ok, preview.summary()
    print(f"import: preview        {len(preview.rows):>7} rows  {parse_s:6.1f} s   ({preview.summary()})")
    t = time.perf_counter()
    result = commit_import(preview, actor=admin)
    commit_s = time.perf_counter() - t
    assert result.ok, result.summary()
    print(f"import: commit         {result.created:>7} rows  {commit_s:6.1f} s   "
          f"({commit_s / max(result.created, 1) * 1000:.1f} ms/row)")
    print(f"import: preview+commit {result.created:>7} rows  {parse_s + commit_s:6.1f} s")

    t = time.perf_counter()
    again = parse_workbook(data, campaign=campaign, actor=admin, filename="bench.xlsx")
    print(f"re-import preview      {len(again.rows):>7} rows  {time.perf_counter() - t:6.1f} s   ({again.summary()})")

    small = run_child(data_dir, trace=False)
    small_traced = run_child(data_dir, trace=True)
    print(f"export                 {small['rows']:>7} rows  {small['seconds']:6.1f} s   ({small['size_mb']:.1f} MB file; "
          f"peak RSS {small['rss_peak']:.0f} MB, {small['rss_peak'] - small['rss_base']:.0f} MB above start; "
          f"tracemalloc peak {small_traced['traced_peak']:.1f} MB)")

    t = time.perf_counter()
    top_up(campaign, counties, args.big)
    print(f"bulk_create to         {Task.objects.count():>7} tasks {time.perf_counter() - t:6.1f} s")
    big = run_child(data_dir, trace=False)
    big_traced = run_child(data_dir, trace=True)
    print(f"export                 {big['rows']:>7} rows  {big['seconds']:6.1f} s   ({big['size_mb']:.1f} MB file; "
          f"peak RSS {big['rss_peak']:.0f} MB, {big['rss_peak'] - big['rss_base']:.0f} MB above start; "
          f"tracemalloc peak {big_traced['traced_peak']:.1f} MB)")
    print(f"(RSS at start of the export process, after Django setup: {big['rss_base']:.0f} MB)")
    if not args.keep:
        from django.db import connections

        connections.close_all()
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
