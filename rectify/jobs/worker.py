"""`rectify worker`: runs queued jobs (django-tasks' database worker) until stopped.

Several may run at once against PostgreSQL (each claims a job under a row lock); on SQLite one is
enough. At start, and then every minute, jobs whose worker died are marked interrupted.
``rectify serve`` starts one, as a child process, for a single-machine installation.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time


def _worker(batch: bool, interval: float = 1.0):
    from django_tasks_db.management.commands.db_worker import Worker

    return Worker(queue_names=["default"], interval=interval, batch=batch, backend_name="default",
                  startup_delay=False, max_tasks=None, worker_id=f"{socket.gethostname()}-{os.getpid()}"[:64],
                  excluded_queue_names=[])


def run_worker(*, interval: float = 1.0, batch: bool = False, parent_pid: int | None = None,
               handle_signals: bool = True) -> None:
    from rectify.jobs.runner import interrupt_stale_jobs

    interrupt_stale_jobs()
    worker = _worker(batch, interval)
    if handle_signals:
        worker.configure_signals()
    if parent_pid is not None or not batch:
        def watch() -> None:
            last_sweep = time.monotonic()
            while True:
                time.sleep(2)
                if parent_pid is not None and os.getppid() != parent_pid:  # the server went away
                    os.kill(os.getpid(), signal.SIGTERM)
                    return
                if time.monotonic() - last_sweep > 60:
                    last_sweep = time.monotonic()
                    try:
                        interrupt_stale_jobs()
                    except Exception:  # a busy database: next minute
                        pass

        threading.Thread(target=watch, name="worker-watch", daemon=True).start()
    worker.run()


def run_pending() -> int:
    """Run every queued job now, in this process and this connection (tests; no connection recycling,
    which would break a test's transaction). Returns how many ran."""
    from django_tasks_db.models import DBTaskResult
    from django_tasks_db.utils import exclusive_transaction

    worker, ran = _worker(True, 0), 0
    while True:
        with exclusive_transaction(DBTaskResult.objects.db):
            result = DBTaskResult.objects.ready().filter(backend_name="default").get_locked()
            if result is None:
                return ran
            result.claim(worker.worker_id)
        worker.run_task(result)
        ran += 1
