"""Browser test (Playwright + Debian's Chromium) of one month's dispatch (一月一调度):

the office opens the round; a county reporter submits a report with a photo; the county reviewer
approves it; the lead unit returns it; the reporter sees why, corrects and resubmits; the reviewer
approves again; the lead unit accepts; the round table shows it.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils import timezone

from tests.browser import ARTIFACTS, require_chromium
from tests.conftest import PASSWORD, make_world

pytestmark = [pytest.mark.browser]
sync_api = require_chromium()
expect = sync_api.expect


@pytest.fixture
def site(live_server, transactional_db, settings, tmp_path):
    # The live server runs in this process, so the evidence store writes here, not into data/.
    settings.MEDIA_ROOT = tmp_path / "media"
    world = make_world()
    return live_server.url, world


def log_in(browser, base, username):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    # Every data-confirm button asks window.confirm(); a user says yes.
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/accounts/login" not in url)  # each role's landing page (tests/test_landing.py)
    page.goto(f"{base}/ledger/")
    return page


def site_photo(path: Path) -> Path:
    """A small JPEG with a capture time in its EXIF, as a phone camera would write it."""
    from PIL import Image

    image = Image.new("RGB", (640, 480), (70, 130, 90))
    for x in range(0, 640, 40):  # some structure, so the thumbnail is recognisably a picture
        for y in range(200, 480):
            image.putpixel((x, y), (200, 200, 200))
    exif = Image.Exif()
    taken = timezone.localtime() - dt.timedelta(days=2)
    exif[0x0132] = taken.strftime("%Y:%m:%d %H:%M:%S")  # DateTime
    exif.get_ifd(0x8769)[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")  # DateTimeOriginal
    image.save(path, "JPEG", quality=85, exif=exif)
    return path


def open_report_from_todo(page, base, task_title):
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="调度报送").click()
    page.wait_for_url(f"{base}/dispatch/")
    todo = page.locator("section.card", has=page.get_by_role("heading", name=re.compile(r"^待我处理")))
    todo.get_by_role("link", name=re.compile(task_title)).click()
    page.wait_for_url(re.compile(r"/dispatch/reports/\d+/$"))
    return page


def decide(page, button, reason=""):
    if reason:
        page.get_by_label("退回原因").fill(reason)
    page.get_by_role("button", name=button, exact=True).click()
    expect(page.locator(".messages")).to_contain_text(f"已{button}")


def test_report_with_photo_is_returned_resubmitted_and_accepted(browser, site, tmp_path):
    base, _ = site
    task = "零陵区城区污水管网建设滞后"
    today = timezone.localdate()
    period = f"{today:%Y-%m}"

    # 1. The office opens this month's round through the 调度报送 page.
    admin = log_in(browser, base, "admin1")
    admin.get_by_role("navigation", name="主导航").get_by_role("link", name="调度报送").click()
    admin.wait_for_url(f"{base}/dispatch/")
    admin.get_by_label("调度月份").fill(period)
    admin.get_by_label("报送截止日期").fill(f"{today + dt.timedelta(days=20):%Y-%m-%d}")
    expect(admin.get_by_label("须本单位审核后上报")).to_be_checked()
    admin.get_by_role("button", name="开启").click()
    admin.wait_for_url(re.compile(r"/dispatch/rounds/\d+/$"))
    round_url = admin.url
    expect(admin.locator(".messages")).to_contain_text("共 2 个报送任务")
    expect(admin.get_by_role("heading", level=1)).to_contain_text(f"{today.year}年{today.month}月调度")

    # 2. The reporter finds T-01 in 待我处理, writes the month's progress and attaches a photo.
    reporter = open_report_from_todo(log_in(browser, base, "rep_a"), base, task)
    report_url = reporter.url
    expect(reporter.get_by_role("heading", level=1)).to_contain_text("T-01")
    expect(reporter.locator("#report-status")).to_have_text("未报送")
    reporter.get_by_label("本月进展").fill("城区污水管网新建 3.2 公里，完成老城区雨污分流改造一期。")
    reporter.get_by_label("完成进度（%）").fill("45")
    reporter.get_by_role("button", name="保存草稿").click()  # the photo upload is a separate form
    expect(reporter.locator(".messages")).to_contain_text("已保存草稿")
    reporter.get_by_label("佐证材料").set_input_files(str(site_photo(tmp_path / "管网施工现场.jpg")))
    reporter.get_by_role("button", name="上传", exact=True).click()
    expect(reporter.locator(".messages")).to_contain_text("已上传「管网施工现场.jpg」")
    evidence = reporter.locator("ul.evidence")
    expect(evidence.get_by_role("link", name="管网施工现场.jpg")).to_be_visible()
    thumb = evidence.get_by_role("img", name="管网施工现场.jpg")
    expect(thumb).to_be_visible()
    reporter.wait_for_load_state("load")  # images included; a broken one is complete with no width
    assert thumb.evaluate("img => img.complete && img.naturalWidth > 0"), "the thumbnail did not load"
    expect(reporter.get_by_role("heading", name="佐证材料（1）")).to_be_visible()
    expect(reporter.get_by_label("本月进展")).to_have_value(re.compile("新建 3.2 公里"))
    reporter.get_by_role("button", name="报送", exact=True).click()
    expect(reporter.locator(".messages")).to_contain_text("已报送")
    expect(reporter.locator("#report-status")).to_have_text("待本单位审核")

    # 3. The county reviewer approves (the round requires unit review).
    reviewer = open_report_from_todo(log_in(browser, base, "rev_a"), base, task)
    assert reviewer.url == report_url
    decide(reviewer, "审核通过并上报")
    expect(reviewer.locator("#report-status")).to_have_text("待牵头单位审核")

    # 4. The lead unit returns it with a reason.
    lead = open_report_from_todo(log_in(browser, base, "env1"), base, task)
    assert lead.url == report_url
    expect(lead.get_by_role("heading", name="牵头督导单位审核")).to_be_visible()
    decide(lead, "退回", reason="请补充管网建设的具体路段和验收情况。")
    expect(lead.locator("#report-status")).to_have_text("已退回")

    # The reporter has a reminder and sees the reason on the report.
    reporter.goto(f"{base}/dispatch/")
    expect(reporter.locator("#inbox-link")).to_contain_text("1")
    expect(reporter.get_by_label("未读 1 条")).to_be_visible()
    reporter.locator("#inbox-link").click()
    notice = reporter.locator("#notifications li.unread")
    expect(notice).to_have_count(1)
    expect(notice).to_contain_text("报送被退回：T-01")
    expect(notice).to_contain_text("请补充管网建设的具体路段和验收情况。")
    notice.get_by_role("link", name="报送被退回：T-01").click()
    reporter.wait_for_url(report_url)
    expect(reporter.locator("#report-status")).to_have_text("已退回")
    expect(reporter.locator("#return-reason")).to_contain_text("请补充管网建设的具体路段和验收情况。")
    expect(reporter.get_by_label("未读 1 条")).to_have_count(0)  # opening the reminder read it
    ARTIFACTS.mkdir(exist_ok=True)
    reporter.screenshot(path=str(ARTIFACTS / "dispatch-report-returned.png"), full_page=True)
    reporter.get_by_label("本月进展").fill(
        "城区污水管网新建 3.2 公里（潇水路、南津路段），老城区雨污分流改造一期已完工并通过验收。")
    reporter.get_by_label("完成进度（%）").fill("50")
    reporter.get_by_role("button", name="报送", exact=True).click()
    expect(reporter.locator(".messages")).to_contain_text("已报送")
    expect(reporter.locator("#report-status")).to_have_text("待本单位审核")
    expect(reporter.locator("#return-reason")).to_have_count(0)
    expect(reporter.get_by_role("heading", name="佐证材料（1）")).to_be_visible()  # the photo stayed

    # The reviewer approves again; the lead unit accepts.
    reviewer.reload()
    decide(reviewer, "审核通过并上报")
    expect(reviewer.locator("#report-status")).to_have_text("待牵头单位审核")
    lead.reload()
    submitted = lead.locator("dl.fields", has=lead.get_by_text("本月进展", exact=True))
    expect(submitted).to_contain_text("潇水路、南津路段")
    expect(submitted).to_contain_text("50%")
    decide(lead, "采纳")
    expect(lead.locator("#report-status")).to_have_text("已采纳")
    lead.screenshot(path=str(ARTIFACTS / "dispatch-report.png"), full_page=True)

    # 5. The office's round table shows it.
    admin.goto(round_url)
    by_unit = admin.locator("#by-unit")
    lingling = by_unit.locator("tbody tr", has=admin.get_by_role("cell", name="零陵区", exact=True))
    qiyang = by_unit.locator("tbody tr", has=admin.get_by_role("cell", name="祁阳市", exact=True))
    expect(lingling.locator('td[data-label="已采纳"]')).to_have_text("1")
    expect(lingling.locator('td[data-label="按时"]')).to_have_text("1")
    expect(lingling.locator('td[data-label="未报送"]')).to_have_text("0")
    missing = qiyang.locator('td[data-label="未报送"]').get_by_role("link", name="1", exact=True)
    expect(missing).to_be_visible()
    expect(qiyang.locator('td[data-label="已采纳"]')).to_have_text("0")
    by_lead = admin.locator("#by-lead")
    env_row = by_lead.locator("tbody tr", has=admin.get_by_role("cell", name="市生态环境局", exact=True))
    expect(env_row.locator('td[data-label="已采纳"]')).to_have_text("1")
    summary = admin.get_by_label("总体情况")
    expect(summary.get_by_role("link", name=re.compile(r"^已采纳"))).to_have_text(re.compile(r"已采纳\s*1$"))
    expect(summary.get_by_role("link", name=re.compile(r"^未报送"))).to_have_text(re.compile(r"未报送\s*1$"))
    expect(summary.get_by_role("link", name=re.compile(r"^应报"))).to_have_text(re.compile(r"应报\s*2$"))
    admin.screenshot(path=str(ARTIFACTS / "dispatch-round.png"), full_page=True)

    # The 未报送 link leads to 祁阳市's missing report and nothing else.
    missing.click()
    admin.wait_for_url(re.compile(r"/dispatch/reports/\?.*bucket=missing"))
    rows = admin.locator("#reports tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("T-02")
    expect(rows.first).to_contain_text("祁阳市")
