"""`rectify serve`: the web server of an installation.

On Linux and other Unix systems it runs gunicorn: a master (arbiter) process that forks ``workers``
worker processes, each serving ``threads`` requests at once (gthread workers). Several processes
use several cores, and one slow request (an Excel import, a bulletin) no longer holds up the others
behind Python's global interpreter lock. Where gunicorn cannot run (Windows has no ``fork``), the
pure-Python waitress serves from one process with threads, as before.

Periodic work (tick) runs in exactly one place: with gunicorn, one process of its own started by the
master when it is ready (``rectify tick --every N``) and stopped with it — never once per worker;
with waitress, a thread of the one process. Background jobs (rectify/jobs) likewise: one
``rectify worker`` process beside gunicorn's workers, a thread under waitress; ``--no-worker`` when
workers run elsewhere.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from dataclasses import dataclass

# Long requests still run inside the request (Excel imports of 10,000 rows take about a minute on
# PostgreSQL): a worker is killed only after this many seconds without answering.
WORKER_TIMEOUT_SECONDS = 300


@dataclass
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 0  # 0: one per core
    threads: int = 0  # 0: per gunicorn worker 2 on SQLite, 4 on PostgreSQL; 8 for waitress
    tick_minutes: int | None = 10  # None: no tick (production runs `rectify tick` from cron)
    server: str = "auto"  # auto | gunicorn | waitress
    worker: bool = True  # one background-job worker (`rectify worker`) beside the server


def default_workers() -> int:
    return os.cpu_count() or 1


def gunicorn_available() -> bool:
    if sys.platform == "win32":
        return False
    try:
        import gunicorn.app.base  # noqa: F401
    except ImportError:
        return False
    return True


def choose_server(requested: str) -> str:
    if requested == "waitress":
        return "waitress"
    if gunicorn_available():
        return "gunicorn"
    if requested == "gunicorn":
        raise SystemExit("gunicorn 不可用（需要 Linux/Unix 并安装 gunicorn）；可改用 --server waitress")
    return "waitress"


def serve(options: ServeOptions) -> int:
    server = choose_server(options.server)
    if server == "gunicorn":
        return _gunicorn(options)
    return _waitress(options)


# --- gunicorn -------------------------------------------------------------------------------------


def start_tick_process(minutes: int) -> subprocess.Popen:
    """`rectify tick --every N` as a child of this process; it stops when this process goes away."""
    return subprocess.Popen([sys.executable, "-m", "rectify.cli", "tick", "--every", str(minutes),
                             "--parent-pid", str(os.getpid())])


def start_worker_process() -> subprocess.Popen:
    """`rectify worker` as a child of this process, for single-machine installs; it stops with the server."""
    return subprocess.Popen([sys.executable, "-m", "rectify.cli", "worker", "--no-migrate",
                             "--parent-pid", str(os.getpid())])


def _stop(process: subprocess.Popen | None) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _gunicorn(options: ServeOptions) -> int:
    from django.db import connections
    from gunicorn.app.base import BaseApplication

    from rectify.core.env import env_int

    workers = options.workers or default_workers()
    # Threads cover waits on the database server; on SQLite the data is in the process, a page is
    # CPU-bound Python, and 4 threads per process only took turns on the GIL (ledger list at 25,000
    # tasks: 25 req/s with 4, 29 with 1 or 2; bench/run.py's load).
    threads = options.threads or (2 if connections["default"].vendor == "sqlite" else 4)
    tick: dict[str, subprocess.Popen] = {}

    def when_ready(arbiter):
        if options.tick_minutes:
            tick["process"] = start_tick_process(options.tick_minutes)
        if options.worker:
            tick["worker"] = start_worker_process()
        ticking = f"，定时任务每 {options.tick_minutes} 分钟" if options.tick_minutes else ""
        print(f"督察整改调度平台 运行于 http://{options.host}:{options.port}/ （gunicorn：{workers} 个工作进程 × "
              f"{threads} 线程{ticking}；Ctrl+C 停止）", flush=True)

    def on_exit(arbiter):
        _stop(tick.get("process"))
        _stop(tick.get("worker"))

    def post_worker_init(worker):
        # Everything the worker loaded (Django, the URL map, the translations) lives as long as the
        # process: out of the collector's sight, a full collection walks only what requests leave
        # (a ledger page's slowest of 60: 147 → 63 ms, its median unchanged).
        gc.collect()
        gc.freeze()

    config = {
        "bind": [f"{options.host}:{options.port}"],
        "post_worker_init": post_worker_init,
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        "timeout": WORKER_TIMEOUT_SECONDS,
        # A kept-alive connection stays with the worker that accepted it, and a gthread worker accepts
        # every connection it can: a few keep-alive clients could all land on one worker and leave the
        # others idle (the ledger under wrk: 19–20 or 37–42 req/s from run to run with 2 workers).
        # Closed after each response, every request is accepted by whichever worker is free (what a
        # reverse proxy does anyway: nginx speaks HTTP/1.0 to its upstream by default).
        "keepalive": env_int("RECTIFY_SERVE_KEEPALIVE", 0, minimum=0),
        "graceful_timeout": 30,
        "proc_name": "rectify",
        "errorlog": "-",
        "loglevel": "warning",
        "when_ready": when_ready,
        "on_exit": on_exit,
    }

    class Rectify(BaseApplication):
        def load_config(self):
            for key, value in config.items():
                self.cfg.set(key, value)

        def load(self):
            from rectify.wsgi import application

            return application

    # The master migrated the database: its connections must not be inherited by forked workers.
    connections.close_all()
    Rectify().run()
    return 0


# --- waitress -------------------------------------------------------------------------------------


def _waitress(options: ServeOptions) -> int:
    from waitress import serve as waitress_serve

    from rectify.wsgi import application

    threads = options.threads or 8
    if options.tick_minutes:
        from rectify.tick import run_forever

        run_forever(options.tick_minutes)
    if options.worker:
        import threading

        from rectify.jobs.worker import run_worker

        threading.Thread(target=run_worker, kwargs={"handle_signals": False}, name="rectify-worker",
                         daemon=True).start()
    print(f"督察整改调度平台 运行于 http://{options.host}:{options.port}/ （waitress：单进程 × {threads} 线程；"
          "Ctrl+C 停止）", flush=True)
    waitress_serve(application, host=options.host, port=options.port, threads=threads, ident="rectify")
    return 0
