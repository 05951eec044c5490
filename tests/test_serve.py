"""`rectify serve`: several worker processes under gunicorn on Linux, waitress where gunicorn cannot
run, and periodic work (tick) in exactly one process whatever the number of workers."""

from __future__ import annotations

import http.client
import sys
import time
from pathlib import Path

import pytest

from rectify.serve import choose_server, default_workers, gunicorn_available
from tests.serving import get, running_server, sqlite_env

pytestmark = pytest.mark.slow
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; gunicorn needs fork")


@linux_only
def test_two_workers_answer_and_tick_runs_once(tmp_path):
    with running_server(sqlite_env(tmp_path), "--workers", "2") as server:
        assert server.wait_for_line("[tick]", timeout=60), server.output
        for path in ("/accounts/login/", "/static/rectify/app.css", "/ledger/"):
            status, _, _ = get(server.port, path)
            assert status in (200, 302), (path, status)
        # each response closes its connection, so that the next request goes to a free worker (a
        # kept-alive connection stays with the worker that accepted it)
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("GET", "/accounts/login/")
        response = conn.getresponse()
        assert response.status == 200 and response.getheader("Connection") == "close", response.getheaders()
        conn.close()
        children = server.children()
        ticks = [pid for pid, cmd in children if "tick --every" in cmd]
        job_workers = [pid for pid, cmd in children if "rectify.cli worker" in cmd]  # one background-job worker
        workers = [pid for pid, cmd in children if "tick --every" not in cmd and "rectify.cli worker" not in cmd]
        assert len(workers) == 2 and len(ticks) == 1 and len(job_workers) == 1, children
        time.sleep(3)  # a loop per worker would have printed by now
        tick_lines = [line for line in server.lines if line.startswith("[tick]")]
        assert len(tick_lines) == 1, server.output
        assert f"pid={ticks[0]}" in tick_lines[0]
        assert "gunicorn：2 个工作进程" in server.output
    assert server.process.returncode is not None
    deadline = time.monotonic() + 15  # the tick process stops with the server
    while Path(f"/proc/{ticks[0]}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not Path(f"/proc/{ticks[0]}").exists()
    while Path(f"/proc/{job_workers[0]}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not Path(f"/proc/{job_workers[0]}").exists()  # nor does the job worker outlive it


@linux_only
def test_no_tick_starts_no_tick_process(tmp_path):
    with running_server(sqlite_env(tmp_path), "--workers", "1", "--no-tick", "--no-worker") as server:
        assert all("tick --every" not in cmd and "rectify.cli worker" not in cmd for _, cmd in server.children())
        assert "定时任务" not in server.output


def test_waitress_remains_the_fallback(tmp_path):
    with running_server(sqlite_env(tmp_path), "--server", "waitress", "--threads", "2") as server:
        assert server.wait_for_line("[tick]", timeout=60), server.output
        assert "waitress：单进程" in server.output
        time.sleep(2)
        assert sum(line.startswith("[tick]") for line in server.lines) == 1


def test_server_choice():
    assert choose_server("waitress") == "waitress"
    assert choose_server("auto") == ("gunicorn" if gunicorn_available() else "waitress")
    assert default_workers() >= 1
