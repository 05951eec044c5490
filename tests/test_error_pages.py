"""Chinese 403/404/500 pages in the site's layout with a request id that the log line carries too
(SECURITY.md check 24), and the CSP on static responses."""

from __future__ import annotations

import io
import logging
import re

import pytest
from django.test import Client


def _shown_id(html: str) -> str:
    match = re.search(r"错误编号：([0-9a-f]{12})", html)
    assert match, html[:2000]
    return match.group(1)


def test_a_missing_page_is_chinese_in_the_layout_and_names_its_request(world):
    response = world.client("reporter_a").get("/no/such/page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "页面不存在" in html and "返回首页" in html and 'class="topbar"' in html
    assert _shown_id(html) == response["X-Request-ID"]


def test_a_refusal_says_which_rule_and_names_its_request(world):
    response = world.client("reporter_a").post("/closeout/lookbacks/", {"title": "x"})
    html = response.content.decode()
    assert response.status_code == 403
    assert "无权访问" in html and "只有整改办可以组织回头看" in html
    assert _shown_id(html) == response["X-Request-ID"]


@pytest.mark.urls("tests.error_urls")
def test_check_24_a_failure_shows_the_id_that_its_log_line_carries(db, settings):
    from rectify.core.request_id import RequestIdFilter

    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)  # configured as settings.LOGGING's console handler is
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(logging.Formatter(settings.LOGGING["formatters"]["plain"]["format"]))
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        response = Client(raise_request_exception=False).get("/boom/")
    finally:
        logger.removeHandler(handler)
    html = response.content.decode()
    assert response.status_code == 500
    assert "系统出错" in html and "planted failure" not in html and "Traceback" not in html
    request_id = _shown_id(html)
    assert request_id == response["X-Request-ID"]
    line = next(line for line in buffer.getvalue().splitlines() if "Internal Server Error: /boom/" in line)
    assert f"[{request_id}]" in line


def test_every_response_names_its_request_and_ids_differ(db):
    client = Client()
    first, second = client.get("/accounts/login/"), client.get("/accounts/login/")
    assert re.fullmatch(r"[0-9a-f]{12}", first["X-Request-ID"]) and first["X-Request-ID"] != second["X-Request-ID"]


def test_check_24_static_files_carry_the_same_content_security_policy(db):
    from rectify.core.headers import CSP

    response = Client().get("/static/rectify/app.css")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == CSP and response["X-Content-Type-Options"] == "nosniff"


def test_a_body_declared_past_the_cap_is_refused_before_it_is_read(world, settings):
    class Unreadable:
        def read(self, *args):  # the middleware must answer without touching the body
            raise AssertionError("the body was read")

        readline = read

    client = world.client("reporter_a")
    response = client.generic("POST", "/dispatch/", b"", CONTENT_LENGTH=str(300 * 1024 * 1024),
                              **{"wsgi.input": Unreadable()})
    assert response.status_code == 413 and "过大" in response.content.decode()
    assert client.generic("POST", "/dispatch/", b"", CONTENT_LENGTH="99999999999999999999").status_code == 413
    assert client.get("/dispatch/").status_code == 200
