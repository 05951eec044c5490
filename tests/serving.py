"""Run `rectify serve` in a subprocess on a free port, for tests that talk to a real server."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sqlite_env(data_dir: Path, db: Path | None = None) -> dict:
    """The environment of a product process on its own SQLite file (never the test database)."""
    return {**os.environ, "RECTIFY_DATA_DIR": str(data_dir),
            "DATABASE_URL": f"sqlite:///{db or data_dir / 'rectify.sqlite3'}"}


def get(port: int, path: str, *, cookie: str = "", timeout: float = 10) -> tuple[int, bytes, float]:
    """(status, body, seconds) of a GET, redirects not followed."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    start = time.monotonic()
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = conn.getresponse()
        return response.status, response.read(), time.monotonic() - start
    finally:
        conn.close()


class Server:
    def __init__(self, process: subprocess.Popen, port: int):
        self.process, self.port, self.lines = process, port, []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, prefix: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(line.startswith(prefix) for line in self.lines):
                return True
            time.sleep(0.2)
        return False

    def children(self) -> list[tuple[int, str]]:
        """(pid, command line) of the server process's children (Linux /proc)."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        found = []
        for pid in path.read_text().split():
            try:
                found.append((int(pid), Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()))
            except FileNotFoundError:
                continue
        return found


@contextmanager
def running_server(env: dict, *args: str, start_timeout: float = 90):
    """`rectify serve --port P *args`, answering before it is yielded; stopped (SIGTERM) afterwards."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "rectify.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                                *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    server = Server(process, port)
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            if process.poll() is not None:
                raise AssertionError(f"serve exited with {process.returncode}:\n{server.output}")
            try:
                if get(port, "/accounts/login/", timeout=5)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"serve did not answer within {start_timeout} s:\n{server.output}")
            time.sleep(0.3)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()  # the master stops its workers and its tick process
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # the process group this test started
                process.wait(timeout=10)
