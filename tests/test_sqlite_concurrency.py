"""SQLite under concurrency: several processes doing read-then-write transactions on the ledger at
once; none fails with "database is locked" (WAL + IMMEDIATE transactions + busy timeout)."""

import json
import os
import subprocess
import sys
from pathlib import Path

WORKERS, ROUNDS = 6, 15
ROOT = Path(__file__).resolve().parent.parent


def run(*args, data_dir):
    env = {**os.environ, "RECTIFY_DATA_DIR": str(data_dir)}
    return subprocess.Popen([sys.executable, "-m", "tests.concurrency_worker", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_parallel_read_then_write_transactions_never_hit_database_is_locked(tmp_path):
    db = tmp_path / "ledger.sqlite3"
    setup = run("setup", str(db), data_dir=tmp_path)
    assert setup.wait(timeout=120) == 0, setup.stderr.read()

    workers = [run("work", str(db), str(w), str(ROUNDS), data_dir=tmp_path) for w in range(WORKERS)]
    results = []
    for proc in workers:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))

    assert all(r["locked"] == 0 for r in results), results
    assert all(not r["other"] for r in results), results
    assert sum(r["done"] for r in results) == WORKERS * ROUNDS

    check = subprocess.run([sys.executable, "-m", "rectify.cli", "verify"], cwd=ROOT, capture_output=True, text=True,
                           env={**os.environ, "DATABASE_URL": f"sqlite:///{db}", "RECTIFY_DATA_DIR": str(tmp_path)})
    assert check.returncode == 0 and check.stdout.startswith("OK:"), check.stdout + check.stderr
    import sqlite3

    with sqlite3.connect(db) as conn:
        version = conn.execute("SELECT version FROM ledger_task WHERE code = 'T-01'").fetchone()[0]
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert version == 1 + WORKERS * ROUNDS  # every write landed, none was lost
    assert mode == "wal"
