#!/usr/bin/env python3
"""Figures for issue 13: the rectification report, a dossier export and a 10,000-row import, each
run as a background job by a real `rectify worker` process.

    .venv/bin/python bench/reports_scale.py [--tasks 2000] [--import-rows 10000] [--data-dir DIR] [--skip-import]

1. ``bench/generate.py --tasks N`` builds a city (SQLite under DIR) with reports, real evidence files
   and audit events.
2. The report of the biggest campaign: time of the job (``rectify worker --batch``), size of the .zip
   and of its .docx/.pdf/.xlsx, worker peak RSS.
3. The dossier of every task the bench admin may export: time, .zip size, files, worker peak RSS.
4. An N-row Excel import confirmed as a job while `rectify serve` (gunicorn, its own job worker) is
   asked for the ledger page and the job's progress page every 0.5 s: the import's time and the
   pages' latencies (median, p95, max) meanwhile.

Peak RSS is the worker child's ``ru_maxrss`` (os.wait4), i.e. the whole process's high-water mark.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def worker_batch(env: dict) -> tuple[float, float]:
    """Run `rectify worker --batch` once: (seconds, peak RSS in MB)."""
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "rectify.cli", "worker", "--no-migrate", "--batch"], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - start
    if status != 0:
        raise SystemExit(f"worker failed: {proc.stderr.read().decode()[-2000:] if proc.stderr else status}")
    return seconds, usage.ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--import-rows", type=int, default=10000)
    parser.add_argument("--data-dir", default="")
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--skip-dossier", action="store_true")
    parser.add_argument("--skip-report", action="store_true")
    args = parser.parse_args(argv)
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="rectify-reports-"))
    env = {**os.environ, "RECTIFY_DATA_DIR": str(data_dir), "DATABASE_URL": os.environ.get("DATABASE_URL", "")}
    if not (data_dir / "rectify.sqlite3").exists() and not env["DATABASE_URL"]:
        t = time.monotonic()
        subprocess.run([sys.executable, "bench/generate.py", "--tasks", str(args.tasks), "--data-dir", str(data_dir)],
                       cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        print(f"generated {args.tasks} tasks in {time.monotonic() - t:.0f} s ({data_dir})")
    os.environ.update({"RECTIFY_DATA_DIR": str(data_dir), "DATABASE_URL": env["DATABASE_URL"],
                       "DJANGO_SETTINGS_MODULE": "rectify.settings"})
    import django

    django.setup()
    from django.db.models import CharField, Count
    from django.utils import timezone

    from rectify.jobs.runner import result_file
    from rectify.orgs.models import User
    from rectify.reports import scope
    from rectify.reports.services import start_dossier, start_report

    admin = User.objects.get(username="bench_admin")
    figures: dict[str, object] = {}

    campaign = (scope.reporting_campaigns(admin).annotate(n=Count("tasks")).order_by("-n").first())
    assert campaign is not None
    if campaign.n < args.tasks // 2:
        # The generator spreads tasks over several campaigns; the report covers one. Gather the admin's
        # tasks into the biggest campaign (bench data only: codes prefixed to stay unique there).
        from django.db.models import F, Value
        from django.db.models.functions import Cast, Concat

        from rectify.ledger.models import Task

        moved = (Task.objects.filter(campaign__in=scope.reporting_campaigns(admin)).exclude(campaign=campaign)
                 .update(code=Concat(Value("C"), Cast(F("campaign_id"), output_field=CharField()), Value("-"), F("code")),
                         campaign=campaign))
        campaign = scope.reporting_campaigns(admin).annotate(n=Count("tasks")).get(pk=campaign.pk)
        print(f"gathered {moved} tasks into one campaign ({campaign.n} tasks)")
    if not args.skip_report:
        job = start_report(actor=admin, campaign=campaign, as_of=timezone.localdate())
        seconds, rss = worker_batch(env)
        job.refresh_from_db()
        assert job.status == "succeeded", job.error
        path = result_file(job)
        assert path is not None
        with zipfile.ZipFile(path) as archive:
            sizes = {Path(i.filename).suffix: i.file_size for i in archive.infolist()}
        figures["report"] = {"tasks": campaign.n, "seconds": round(seconds, 1), "zip_bytes": path.stat().st_size,
                             "docx_bytes": sizes.get(".docx"), "pdf_bytes": sizes.get(".pdf"),
                             "xlsx_bytes": sizes.get(".xlsx"), "worker_peak_rss_mb": round(rss)}
        print("report", json.dumps(figures["report"]))
    if args.skip_dossier:
        figures["import"] = bench_import(admin, campaign, env, args.import_rows) if not args.skip_import else None
        print(json.dumps(figures, ensure_ascii=False))
        return 0
    ids = list(scope.dossier_tasks(admin).values_list("pk", flat=True))
    job = start_dossier(actor=admin, task_ids=ids, name="基准测试")
    seconds, rss = worker_batch(env)
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    path = result_file(job)
    assert path is not None
    with zipfile.ZipFile(path) as archive:
        members = len(archive.infolist())
    figures["dossier"] = {"tasks": len(ids), "seconds": round(seconds, 1), "zip_bytes": path.stat().st_size,
                          "members": members, "worker_peak_rss_mb": round(rss)}
    print("dossier", json.dumps(figures["dossier"]))

    if not args.skip_import:
        figures["import"] = bench_import(admin, campaign, env, args.import_rows)
        print("import", json.dumps(figures["import"]))
    print(json.dumps(figures, ensure_ascii=False))
    return 0


def poll(port: int, path: str, *, cookie: str, as_poll: bool) -> tuple[int, bytes, float]:
    """A GET as the browser sends it: the job page's htmx poll carries X-Rectify-Poll."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    start = time.monotonic()
    try:
        conn.request("GET", path, headers={"Cookie": cookie, **({"X-Rectify-Poll": "1", "HX-Request": "true"}
                                                                 if as_poll else {})})
        response = conn.getresponse()
        return response.status, response.read(), time.monotonic() - start
    finally:
        conn.close()


def bench_import(admin, campaign, env: dict, rows: int) -> dict:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connections

    from rectify.jobs.models import Job
    from rectify.jobs.services import start_job
    from rectify.ledger import excel
    from rectify.orgs.models import Unit, UnitKind
    from rectify.orgs.scope import in_tree
    from tests.excel_helpers import generated_rows, office_workbook
    from tests.serving import get, running_server

    counties = list(Unit.objects.filter(in_tree("", campaign.office), kind=UnitKind.COUNTY)
                    .values_list("name", flat=True)[:4])
    data = office_workbook(generated_rows(rows, units=counties, start=900_000))
    t = time.monotonic()
    preview = excel.parse_workbook(data, campaign=campaign, actor=admin, filename="基准.xlsx")
    preview_seconds = time.monotonic() - t
    assert preview.ok, (preview.file_errors, [r.errors for r in preview.error_rows[:3]])
    session = SessionStore()
    session.update({SESSION_KEY: str(admin.pk), BACKEND_SESSION_KEY: settings.AUTHENTICATION_BACKENDS[0],
                    HASH_SESSION_KEY: admin.get_session_auth_hash(), "login_at": time.time()})
    session.create()
    cookie = f"sessionid={session.session_key}"
    latencies: dict[str, list[float]] = {"/ledger/": [], "job": []}
    failures: list[tuple[str, int, float]] = []
    with running_server(env, "--workers", "2", "--no-tick") as server:
        for page in ("/ledger/",):  # warm up (the session's idle timer is written once)
            get(server.port, page, cookie=cookie, timeout=60)
        job = start_job(actor=admin, kind="ledger_import", title="基准导入", input_bytes=data, input_suffix=".xlsx",
                        params={"campaign": campaign.pk, "filename": "基准.xlsx", "plan": preview.fingerprint()})
        connections.close_all()
        started = time.monotonic()
        status = "queued"
        while time.monotonic() - started < 1800:
            for label, page in (("/ledger/", "/ledger/"), ("job", f"/jobs/{job.pk}/progress/")):
                code, body, seconds = poll(server.port, page, cookie=cookie, as_poll=label == "job")
                latencies[label].append(seconds)
                if code != 200:  # e.g. the session's once-a-minute idle-timer write waiting for SQLite's lock
                    failures.append((label, code, round(seconds, 1)))
            status = Job.objects.filter(pk=job.pk).values_list("status", flat=True).first()
            connections.close_all()
            if status in ("succeeded", "failed"):
                break
            time.sleep(0.5)
        total = time.monotonic() - started
    job.refresh_from_db()
    assert job.status == "succeeded", job.error

    def stats(values: list[float]) -> dict:
        ordered = sorted(values)
        return {"n": len(values), "median_ms": round(statistics.median(ordered) * 1000),
                "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1 if len(ordered) > 1 else 0] * 1000),
                "max_ms": round(ordered[-1] * 1000)}

    return {"rows": rows, "preview_seconds": round(preview_seconds, 1), "job_seconds": round(total, 1),
            "summary": job.summary, "ledger_page": stats(latencies["/ledger/"]), "progress_page": stats(latencies["job"]),
            "non_200": failures[:20]}


if __name__ == "__main__":
    sys.exit(main())
