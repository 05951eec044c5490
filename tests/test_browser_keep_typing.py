"""Browser tests (Playwright + Debian's Chromium) of no lost typing (issue 14, point 2).

A reporter types the month's progress and percentage, then uploads a photo before saving: the page
comes back with the photo and with what was typed. A reporter whose session ended while typing
presses 保存草稿, is asked for the password on the spot, and the report is saved with the text.
"""

from __future__ import annotations

import re
import time

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session

from rectify.dispatch import services
from rectify.dispatch.models import Evidence, ProgressReport, ReportStatus
from tests.browser import ARTIFACTS, require_chromium
from tests.conftest import PASSWORD, make_world, round_due
from tests.test_browser_dispatch import log_in, site_photo

pytestmark = [pytest.mark.browser]
sync_api = require_chromium()
expect = sync_api.expect

TEXT = "城区污水管网新建 3.2 公里，完成老城区雨污分流改造一期。"


@pytest.fixture
def site(live_server, transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    world = make_world()
    rnd, _ = services.open_round(actor=world.users["office_admin"], office=world.office, period="2026-11",
                                 due_date=round_due("2026-11"))
    return live_server.url, ProgressReport.objects.get(round=rnd, task=world.task_a)


def type_report(page):
    page.get_by_label("本月进展").fill(TEXT)
    page.get_by_label("完成进度（%）").fill("45")


def test_uploading_a_photo_before_saving_keeps_the_text_and_percent(browser, site, tmp_path):
    base, report = site
    page = log_in(browser, base, "rep_a")
    page.goto(f"{base}/dispatch/reports/{report.pk}/")
    type_report(page)
    # the limit's counter (app.js) follows the typing
    expect(page.locator("#id_progress_text + .counter")).to_have_text(f"{len(TEXT)} / 4000")
    page.get_by_label("佐证材料").set_input_files(str(site_photo(tmp_path / "管网施工现场.jpg")))
    page.get_by_role("button", name="上传", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("已上传「管网施工现场.jpg」")
    expect(page.locator(".messages")).to_contain_text("已保存草稿")
    expect(page.get_by_role("heading", name="佐证材料（1）")).to_be_visible()
    expect(page.get_by_label("本月进展")).to_have_value(TEXT)
    expect(page.get_by_label("完成进度（%）")).to_have_value("45")
    report.refresh_from_db()
    assert (report.progress_text, report.percent, report.status) == (TEXT, 45, ReportStatus.DRAFT)
    assert Evidence.objects.filter(report=report).count() == 1


@pytest.mark.parametrize("how", ["idle", "session_gone"])
def test_an_ended_session_asks_for_the_password_in_place_and_saves_the_text(browser, site, how):
    base, report = site
    page = log_in(browser, base, "rep_a")
    page.goto(f"{base}/dispatch/reports/{report.pk}/")
    type_report(page)
    if how == "idle":  # the reporter went to a meeting: idle far past the limit
        key = next(c["value"] for c in page.context.cookies() if c["name"] == "sessionid")
        session = SessionStore(session_key=key)
        session["last_activity"] = time.time() - 3 * 3600
        session.save()
    else:  # the session is gone (server restarted with a cleared store, or signed out elsewhere)
        Session.objects.all().delete()
    page.get_by_role("button", name="保存草稿").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("登录已失效，请重新输入密码")
    expect(page.locator("#kept-preview")).to_contain_text("城区污水管网新建")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"reauth-{how}.png"))
    if how == "idle":
        expect(page.get_by_label("用户名")).to_have_value("rep_a")
    else:
        page.get_by_label("用户名").fill("rep_a")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="重新登录并继续").click()
    page.wait_for_url(re.compile(rf"/dispatch/reports/{report.pk}/$"))
    expect(page.locator(".messages")).to_contain_text("已保存草稿")
    expect(page.get_by_label("本月进展")).to_have_value(TEXT)
    expect(page.get_by_label("完成进度（%）")).to_have_value("45")
    report.refresh_from_db()
    assert (report.progress_text, report.percent, report.status) == (TEXT, 45, ReportStatus.DRAFT)
