"""The per-address limit on failed logins holds across server processes: two `rectify serve`
processes on one installation share the count (the database cache), so spreading attempts over
workers or machines does not multiply the allowance."""

from __future__ import annotations

import http.client
import re
import subprocess
import sys
import urllib.parse

from tests.serving import ROOT, running_server, sqlite_env


def _failed_login(port: int) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/accounts/login/")
        page = conn.getresponse()
        body = page.read().decode()
        cookie = next(c.split(";")[0] for c in page.headers.get_all("Set-Cookie") if c.startswith("csrftoken="))
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
        form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": "nobody", "password": "Wrong-Passw0rd"})
        conn.request("POST", "/accounts/login/", body=form, headers={
            "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded",
            "Referer": f"http://127.0.0.1:{port}/accounts/login/"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def test_the_failed_login_limit_is_shared_by_two_server_processes(tmp_path):
    env = {**sqlite_env(tmp_path), "RECTIFY_LOGIN_RATE_LIMIT": "3", "RECTIFY_ALLOWED_HOSTS": "127.0.0.1"}
    subprocess.run([sys.executable, "-m", "rectify.cli", "manage", "migrate", "--verbosity", "0"], cwd=ROOT, env=env,
                   check=True, timeout=300)
    with running_server(env, "--no-tick", "--workers", "1") as first, \
            running_server(env, "--no-tick", "--workers", "1") as second:
        assert [_failed_login(first.port), _failed_login(second.port), _failed_login(first.port)] == [200, 200, 200]
        assert _failed_login(second.port) == 429  # the fourth, on the other process: over the shared limit
        assert _failed_login(first.port) == 429
