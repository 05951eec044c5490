"""SQLite, two processes: pages answer while an import commits.

One process runs `rectify import … --commit` of a 10,000-row workbook, which holds SQLite's one
write lock while it writes (a few seconds: the rows are prepared before, then written in bulk). Meanwhile a `rectify serve` (gunicorn, two workers) answers the
ledger and a task page to a signed-in office administrator. Since a GET writes nothing, it needs no
lock: every answer is 200 within a second, none says "database is locked".

The session's idle timer is refreshed at most once a minute (a write): the pages are warmed up just
before the import starts and are requested only in the following 45 seconds.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time

import pytest

from tests.serving import ROOT, get, running_server, sqlite_env

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="multi-process server needs fork")]

ROWS = 10_000  # the write transaction is short now (bulk): enough rows to hold it for a few requests
WINDOW_SECONDS = 45


def _run(*args, env) -> str:
    done = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip()


def _locked(db) -> bool:
    """Whether another process holds the write lock right now (taken and released at once if free)."""
    conn = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return True
        raise
    finally:
        conn.close()


def test_pages_answer_while_an_import_commits(tmp_path):
    db = tmp_path / "ledger.sqlite3"
    env = sqlite_env(tmp_path, db)
    _run("-m", "tests.concurrency_worker", "setup", str(db), env=env)
    cookie = "sessionid=" + _run("-m", "tests.concurrency_worker", "session", str(db), "admin1", env=env).splitlines()[-1]
    workbook = tmp_path / "台账.xlsx"
    _run("-c", "import sys; from tests.excel_helpers import office_workbook, generated_rows; "
               f"open(sys.argv[1], 'wb').write(office_workbook(generated_rows({ROWS}, units=['零陵区', '祁阳市'])))",
         str(workbook), env=env)
    with sqlite3.connect(db) as conn:
        task = conn.execute("SELECT id FROM ledger_task WHERE code = 'T-01'").fetchone()[0]
    pages = ["/ledger/", f"/ledger/tasks/{task}/"]

    with running_server(env, "--workers", "2", "--no-tick") as server:
        for page in pages:  # warm-up: the session's idle timer is written here, before the import
            status, body, _ = get(server.port, page, cookie=cookie)
            assert status == 200 and b"T-01" in body, (page, status)
        importer = subprocess.Popen([sys.executable, "-m", "rectify.cli", "import", str(workbook), "--campaign", "T-2021",
                                     "--user", "admin1", "--commit"], cwd=ROOT, env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        started, answers = time.monotonic(), []
        try:
            while importer.poll() is None and time.monotonic() - started < WINDOW_SECONDS:
                if _locked(db):
                    for page in pages:
                        status, body, seconds = get(server.port, page, cookie=cookie, timeout=35)
                        answers.append((page, status, round(seconds, 3), b"database is locked" in body))
                time.sleep(0.2)
        finally:
            output, _ = importer.communicate(timeout=600)
        assert importer.returncode == 0, output
        assert f"新增 {ROWS} 条" in output, output

    assert all(status == 200 for _, status, _, _ in answers), answers
    assert not any(locked for *_, locked in answers), answers
    # A read that waited for the write lock would take as long as the write (seconds) or fail after the
    # 30 s busy timeout; 3 s leaves room for a loaded CI machine (1.004 s was seen at load average 14)
    # while still failing such a wait. The 1 s goal itself is a benchmark: bench/during_import.py.
    slow = [a for a in answers if a[2] >= 3.0]
    assert not slow, f"answers slower than 3 s while the import committed: {slow}"
    assert len(answers) >= 4, f"too few requests while the import held the lock: {answers}\n{output}"
    assert "database is locked" not in server.output, server.output
