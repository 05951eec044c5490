"""Background jobs (rectify/jobs): started from a page, run by a worker, followed on a page, their
result downloaded by their owner only; a failure keeps what was there before; a worker killed with
SIGKILL half-way leaves nothing half-written and the job can be run again."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from django.db import connection

from rectify.core.audit import verify_chain
from rectify.jobs import runner, services
from rectify.jobs.models import Job, JobStatus
from rectify.jobs.registry import KINDS, JobKind, Outcome, register
from rectify.jobs.runner import JobFailed
from rectify.jobs.worker import run_pending
from rectify.ledger.models import Task
from tests.excel_helpers import generated_rows, office_workbook
from tests.serving import ROOT

TEST_KIND = "test_file"


def _run_test_kind(job, ctx):
    ctx.progress(50, "写文件")
    if job.params.get("fail"):
        part = ctx.part_path(".txt")
        part.write_text("half")  # a failing run's part file must not survive
        raise JobFailed("测试失败：数据源不可用。")
    if job.params.get("crash"):
        raise RuntimeError("boom")
    part = ctx.part_path(".txt")
    part.write_text(job.params.get("text", "结果"), encoding="utf-8")
    return Outcome(summary="已生成", file=part, filename="结果.txt")


@pytest.fixture(autouse=True)
def jobs_dir(settings, tmp_path):
    settings.JOBS_DIR = tmp_path / "jobs"
    settings.UPLOAD_DIR = tmp_path / "uploads"
    register(JobKind(name=TEST_KIND, label="测试", run=_run_test_kind,
                     allowed=lambda user, params: user.role in {"office_admin", "office_staff"}))
    yield settings.JOBS_DIR
    KINDS.pop(TEST_KIND, None)


def test_a_job_runs_and_only_its_owner_sees_and_downloads_it(world, jobs_dir):
    admin = world.users["office_admin"]
    job = services.start_job(actor=admin, kind=TEST_KIND, title="测试结果", params={"text": "第一次"})
    client = world.client("office_admin")
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "排队中" in page and "hx-get" in page and "<progress" in page
    assert run_pending() == 1
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.result_name == "结果.txt"
    fragment = client.get(f"/jobs/{job.pk}/progress/").content.decode()
    assert "已完成" in fragment and "hx-get" not in fragment and "100%" in fragment  # polling stops
    response = client.get(f"/jobs/{job.pk}/download/")
    assert response.status_code == 200 and b"".join(response.streaming_content).decode() == "第一次"
    for persona in ["office_staff", "reporter_a", "leader_a"]:  # not theirs: as if it did not exist
        other = world.client(persona)
        for url in (f"/jobs/{job.pk}/", f"/jobs/{job.pk}/progress/", f"/jobs/{job.pk}/download/"):
            assert other.get(url).status_code == 404, (persona, url)
        assert other.post(f"/jobs/{job.pk}/rerun/").status_code == 404
        assert "测试结果" not in other.get("/jobs/").content.decode()
    assert "测试结果" in client.get("/jobs/").content.decode()
    assert verify_chain().ok


def test_the_progress_poll_is_not_activity_and_writes_nothing(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    job = services.start_job(actor=world.users["office_admin"], kind=TEST_KIND, title="测试结果", params={})
    client = world.client("office_admin")
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert 'X-Rectify-Poll' in page
    session = client.session
    session["last_activity"] = session["last_activity"] - 120  # the timer is due for a refresh
    session.save()
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(f"/jobs/{job.pk}/progress/", HTTP_X_RECTIFY_POLL="1").status_code == 200
    assert not [q for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))]
    before = client.session["last_activity"]
    client.get(f"/jobs/{job.pk}/progress/", HTTP_X_RECTIFY_POLL="1")
    assert client.session["last_activity"] == before  # a poll keeps no idle session alive
    client.get(f"/jobs/{job.pk}/")
    assert client.session["last_activity"] > before  # the person opening a page does


def test_a_failed_rerun_keeps_the_previous_result_and_says_why(world, jobs_dir):
    admin = world.users["office_admin"]
    job = services.start_job(actor=admin, kind=TEST_KIND, title="测试结果", params={"text": "好的结果"})
    run_pending()
    job.refresh_from_db()
    first = runner.result_file(job)
    assert first is not None
    Job.objects.filter(pk=job.pk).update(params={"fail": True})  # the next run will fail
    client = world.client("office_admin")
    assert client.post(f"/jobs/{job.pk}/rerun/").status_code == 302
    run_pending()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.error == "测试失败：数据源不可用。"
    assert runner.result_file(job) == first and first.read_text(encoding="utf-8") == "好的结果"
    assert not list(jobs_dir.glob("*.part*"))
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "测试失败：数据源不可用。" in page and "上一次成功运行的结果" in page and "重新运行" in page
    Job.objects.filter(pk=job.pk).update(params={"crash": True})
    services.rerun_job(actor=admin, job=job)
    run_pending()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "后台任务运行出错（RuntimeError）" in job.error
    assert runner.result_file(job) == first


def test_someone_without_the_right_cannot_start_it(world):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.start_job(actor=world.users["reporter_a"], kind=TEST_KIND, title="x", params={})
    assert not Job.objects.exists()


def test_the_excel_import_is_a_job_and_a_changed_ledger_fails_it_cleanly(world):
    client = world.client("office_admin")
    upload = io.BytesIO(office_workbook(generated_rows(5, units=["零陵区"])))
    upload.name = "五条.xlsx"
    client.post("/ledger/import/", {"campaign": world.campaign.pk, "file": upload})
    client.get("/ledger/import/preview/")
    response = client.post("/ledger/import/confirm/")
    job = Job.objects.get()
    assert response["Location"] == f"/jobs/{job.pk}/" and job.kind == "ledger_import"
    real = dict(job.params)
    Job.objects.filter(pk=job.pk).update(params={**real, "plan": "stale"})  # as if the ledger moved on
    before = Task.objects.count()
    run_pending()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "预览之后台账已有变化" in job.error
    assert Task.objects.count() == before
    Job.objects.filter(pk=job.pk).update(params=real)  # the real fingerprint again
    services.rerun_job(actor=world.users["office_admin"], job=job)
    run_pending()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and Task.objects.count() == before + 5
    assert "导入完成：新增 5 条" in client.get(f"/jobs/{job.pk}/").content.decode()


# --- a real worker process, killed ------------------------------------------------------------------


def _product_env(tmp_path: Path) -> dict:
    """A worker's environment: on PostgreSQL this test's database (committed: transactional_db), on
    SQLite a file of its own (the test database is in memory)."""
    from rectify.core.keys import load_key

    env = {**os.environ, "RECTIFY_DATA_DIR": str(tmp_path), "RECTIFY_JOB_STALE_SECONDS": "3",
           # the job pages are read as an office administrator of the test world, not a demo account:
           # without this it would be sent to enrol a second factor first (tests/test_twofactor.py)
           "RECTIFY_TOTP_REQUIRED_ROLES": "none",
           # the events already in the test database (migrations) were keyed by this process
           "RECTIFY_CHAIN_KEY": load_key("chain_key").hex(), "RECTIFY_DATA_KEY": load_key("data_key").hex()}
    settings_dict = connection.settings_dict
    if connection.vendor == "postgresql":
        user, host, port = settings_dict["USER"], settings_dict["HOST"] or "127.0.0.1", settings_dict["PORT"] or 5432
        password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
        env["DATABASE_URL"] = f"postgres://{user}{password}@{host}:{port}/{settings_dict['NAME']}"
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'rectify.sqlite3'}"
    return env


def _helper(env, *args) -> dict:
    done = subprocess.run([sys.executable, "-m", "tests.jobs_worker", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _kill_when(worker, progress: Path, percent: int) -> None:
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                state = json.loads(progress.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                state = {}
            if state.get("percent", 0) >= percent:
                break
            assert worker.poll() is None, "the worker ended before it was killed"
            time.sleep(0.02)
        else:
            pytest.fail(f"the job never got to {percent}%")
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SIGKILL")
def test_a_report_killed_mid_way_leaves_no_result_and_reruns(transactional_db, tmp_path):
    """SIGKILL while the report's PDF is being drawn: part files only, no result; the rerun finishes and
    leaves the result alone."""
    env = _product_env(tmp_path)
    made = _helper(env, "setup_report", 300)
    job = made["job"]
    worker = subprocess.Popen([sys.executable, "-m", "rectify.cli", "worker", "--no-migrate", "--interval", "0.2"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _kill_when(worker, tmp_path / "jobs" / f"{job}.progress", 50)  # 生成 PDF: the .docx part is written
    time.sleep(4)
    state = _helper(env, "status", job)
    assert state["status"] == "running" and state["interrupted"] and state["result"] == "", state
    assert not [f for f in state["files"] if f.endswith(".zip") and ".part" not in f], state  # no result
    assert _helper(env, "rerun", job)["code"] == 302
    done = subprocess.run([sys.executable, "-m", "rectify.cli", "worker", "--no-migrate", "--batch"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    state = _helper(env, "status", job)
    assert state["status"] == "succeeded" and state["result"] == f"{job}-2.zip" and state["parts"] == [], state
    with zipfile.ZipFile(tmp_path / "jobs" / state["result"]) as archive:
        assert sum(n.endswith((".docx", ".pdf", ".xlsx")) for n in archive.namelist()) == 3
    assert state["chain_ok"], state["chain"]


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SIGKILL")
def test_a_worker_killed_mid_way_leaves_nothing_and_the_job_reruns(transactional_db, tmp_path):
    """SIGKILL during an import: the ledger is as before or has every row — never part of the file
    (the commit is one transaction) — and the job reruns to the end."""
    # enough rows that the one bulk transaction is usually still open when the worker, having said
    # "half-way" from inside it, is killed; either outcome is checked below
    rows = 4000
    env = _product_env(tmp_path)
    made = _helper(env, "setup", rows)
    job, before = made["job"], made["tasks"]
    worker = subprocess.Popen([sys.executable, "-m", "rectify.cli", "worker", "--no-migrate", "--interval", "0.2"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _kill_when(worker, tmp_path / "jobs" / f"{job}.progress", 40)  # half-way, inside the write transaction
    time.sleep(4)  # RECTIFY_JOB_STALE_SECONDS=3: the heartbeat has stopped
    state = _helper(env, "status", job)
    assert state["status"] == "running" and state["interrupted"], state  # as the killed worker left it
    assert state["tasks"] in (before, before + rows)  # all or nothing, never part of the file
    committed = state["tasks"] == before + rows  # killed after the one short write had committed
    assert _helper(env, "rerun", job)["code"] == 302
    state = _helper(env, "status", job)
    assert state["status"] == "queued" and state["attempt"] == 2, state
    done = subprocess.run([sys.executable, "-m", "rectify.cli", "worker", "--no-migrate", "--batch"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    state = _helper(env, "status", job)
    if committed:  # the rerun sees the ledger changed since the preview and writes nothing more
        assert state["status"] == "failed" and "预览之后台账已有变化" in state["error"], state
    else:
        assert state["status"] == "succeeded", state
    assert state["tasks"] == before + rows and state["parts"] == [] and state["chain_ok"], state["chain"]
