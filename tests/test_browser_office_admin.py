"""Browser test (Playwright + Debian's Chromium): the system administrator lands on 账号与单位管理,
creates an account through the form, reads its temporary password once, locks it after the
confirmation dialog, and walks the unit tree."""

from __future__ import annotations

import re

import pytest

from rectify.orgs.models import Role, User
from rectify.orgs.services import create_user
from tests.browser import ARTIFACTS, require_chromium
from tests.conftest import PASSWORD, make_world

pytestmark = [pytest.mark.browser]
sync_api = require_chromium()


@pytest.fixture
def site(live_server, transactional_db):
    world = make_world()
    create_user(actor=None, username="sysadmin1", password=PASSWORD, role=Role.SYSTEM_ADMIN, unit=world.office,
                display_name="系统管理员", must_change_password=False)
    return live_server.url, world


def test_system_admin_creates_and_locks_an_account(browser, site):
    base, world = site
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("用户名").fill("sysadmin1")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/accounts/admin/users/$"))  # its landing page
    assert page.get_by_role("link", name="整改台账").count() == 0  # no business pages in its menu
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "office-admin-users.png"), full_page=True)

    page.get_by_role("link", name="新增账户").click()
    page.get_by_label("用户名").fill("qiyang2")
    page.get_by_label("姓名").fill("祁阳新填报员")
    page.get_by_label("角色").select_option(Role.REPORTER.value)
    page.get_by_label("所属单位").select_option(label="祁阳市")
    page.get_by_role("button", name="创建账户").click()
    temporary = page.locator("code.secret").inner_text()
    assert len(temporary) == 16
    page.screenshot(path=str(ARTIFACTS / "office-admin-temporary-password.png"), full_page=True)

    page.get_by_role("link", name="返回账户").click()
    page.once("dialog", lambda dialog: dialog.accept())  # 确认锁定该账户？
    page.get_by_role("button", name="锁定").click()
    page.wait_for_selector("text=已锁定，解锁前不能登录")
    page.screenshot(path=str(ARTIFACTS / "office-admin-user.png"), full_page=True)
    assert User.objects.get(username="qiyang2").locked_until is not None

    page.get_by_role("navigation", name="账号与单位管理").get_by_role("link", name="单位").click()
    assert page.locator("#units").get_by_text("431181").count() == 1
    page.screenshot(path=str(ARTIFACTS / "office-admin-units.png"), full_page=True)
    context.close()
