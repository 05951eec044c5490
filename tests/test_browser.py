"""Browser test (Playwright + Debian's Chromium): log in, filter the ledger, open a task, edit it,
see the edit in its timeline; a second, stale edit is refused."""

from __future__ import annotations

import pytest

from tests.browser import ARTIFACTS, require_chromium
from tests.conftest import PASSWORD, make_world

pytestmark = [pytest.mark.browser]
sync_api = require_chromium()


@pytest.fixture
def site(live_server, transactional_db):
    world = make_world()
    return live_server.url, world


def log_in(browser, base, username, *, viewport=None):
    context = browser.new_context(locale="zh-CN", viewport=viewport or {"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/accounts/login" not in url)  # each role's landing page (tests/test_landing.py)
    page.goto(f"{base}/ledger/")
    return page


def test_filter_open_edit_and_see_the_timeline(browser, site):
    base, world = site
    page = log_in(browser, base, "admin1")
    page.locator("#filter-panel summary").click()  # the filter bar starts collapsed to one line
    page.get_by_label("关键词").fill("污水管网")
    page.get_by_role("button", name="筛选").click()
    rows = page.locator("table.list tbody tr")
    assert rows.count() == 1 and "T-01" in rows.first.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ledger-list.png"), full_page=True)

    page.get_by_role("link", name="零陵区城区污水管网建设滞后").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("T-01")
    page.get_by_role("link", name="编辑").click()
    page.get_by_label("整改目标").fill("2026年底前城区污水管网全覆盖，污水集中收集率达到70%")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(f"{base}/ledger/tasks/{world.task_a.pk}/")
    assert "已保存" in page.locator(".messages").inner_text()
    assert "污水集中收集率达到70%" in page.locator("dl.fields").inner_text()
    assert "修改整改任务 T-01：整改目标" in page.locator("#timeline").inner_text()
    page.screenshot(path=str(ARTIFACTS / "task-detail.png"), full_page=True)


def test_stale_second_edit_is_refused(browser, site):
    base, world = site
    first = log_in(browser, base, "admin1")
    second = log_in(browser, base, "staff1")
    edit_url = f"{base}/ledger/tasks/{world.task_b.pk}/edit/"
    first.goto(edit_url)
    second.goto(edit_url)
    first.get_by_label("问题/任务名称").fill("祁阳市垃圾填埋场渗滤液超标（第一人）")
    first.get_by_role("button", name="保存").click()
    first.wait_for_url(f"{base}/ledger/tasks/{world.task_b.pk}/")

    second.get_by_label("问题/任务名称").fill("祁阳市垃圾填埋场渗滤液超标（第二人）")
    second.get_by_role("button", name="保存").click()
    alert = second.locator("#form-errors")
    assert "已被 admin1" in alert.inner_text() and "请刷新页面" in alert.inner_text()
    second.screenshot(path=str(ARTIFACTS / "stale-edit.png"), full_page=True)
    world.task_b.refresh_from_db()
    assert world.task_b.title.endswith("（第一人）")


def test_ledger_works_on_a_phone_sized_screen(browser, site):
    base, _ = site
    page = log_in(browser, base, "rep_a", viewport={"width": 375, "height": 740})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 380, width  # no sideways scrolling
    assert page.locator("table.list tbody tr").count() == 1
    page.screenshot(path=str(ARTIFACTS / "ledger-phone.png"), full_page=True)
    # Keyboard: the skip link is the first stop and lands on the main content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "跳到正文"
