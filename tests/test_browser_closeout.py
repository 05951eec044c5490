"""Browser tests (Playwright + Debian's Chromium) of close-out (销号) and look-back (回头看):

1. the whole path — the county reviewer self-assesses and applies, the office publishes the
   notice, the notice period ends, the office accepts, the lead unit records its checks and
   passes, the office files; the task shows 已销号 with its filing number;
2. a rebound — the office draws a look-back, the lead unit finds the problem rebounded, the task is
   back in rectification with its new deadline and the county sees it.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from rectify.closeout.models import Closeout
from rectify.ledger.models import Task, TaskStatus
from tests.browser import ARTIFACTS, require_chromium
from tests.conftest import PASSWORD, make_world
from tests.test_closeout import closed_task, make_eligible

pytestmark = [pytest.mark.browser]
sync_api = require_chromium()
expect = sync_api.expect


@pytest.fixture
def site(live_server, transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return live_server.url, make_world()


def log_in(browser, base, username):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # every data-confirm asks; the user says yes
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/accounts/login" not in url)
    return page


def take_step(page, label):
    page.locator("#closeout-actions").get_by_role("button", name=label, exact=True).click()
    expect(page.locator(".messages")).to_contain_text(f"已{label}")


def test_the_whole_close_out_path_in_the_browser(browser, site):
    base, world = site
    task = make_eligible(world, world.task_a)

    reviewer = log_in(browser, base, "rev_a")
    reviewer.goto(f"{base}/ledger/tasks/{task.pk}/")
    reviewer.get_by_role("link", name="申请销号（初审自评）").click()
    for statement in reviewer.locator("fieldset.standard textarea").all():
        statement.fill("截污管网已建成投用，水质监测达标。")
    reviewer.get_by_label("整改完成情况").fill("新建截污管网 3.2 公里，黑臭水体消除。")
    reviewer.get_by_role("button", name="保存初审自评").click()
    reviewer.wait_for_url(re.compile(r"/closeout/\d+/$"))
    expect(reviewer.locator("#assessments")).to_contain_text("零陵区")
    take_step(reviewer, "初审通过，申请销号")
    expect(reviewer.locator("#closeout-status")).to_contain_text("待公示")
    closeout_url = reviewer.url
    reviewer.context.close()

    office = log_in(browser, base, "admin1")
    office.goto(f"{base}/closeout/?status=applied")
    office.get_by_role("link", name=re.compile(task.code)).click()
    take_step(office, "发布整改情况公示")
    expect(office.locator("#notice")).to_contain_text("个工作日")
    # five work days pass
    closeout = Closeout.objects.get(task=task)
    Closeout.objects.filter(pk=closeout.pk).update(notice_end=timezone.localdate() - dt.timedelta(days=1))
    office.reload()
    take_step(office, "受理销号申请")

    lead = log_in(browser, base, "env1")
    lead.goto(closeout_url)
    for standard in ("生态修复", "污染消除", "群众满意"):
        form = lead.locator("#check-form")
        form.get_by_role("combobox", name="销号标准").select_option(label=standard)
        form.get_by_label("核查情况").fill(f"{standard}：现场查看，符合销号标准。")
        form.get_by_label("核查人员").fill("王某、李某")
        form.get_by_label("符合销号标准").check()
        form.get_by_role("button", name="保存核查记录").click()
        expect(lead.locator(".messages")).to_contain_text("核查记录已保存")
    lead.locator("#closeout-actions summary", has_text="核查通过").click()
    lead.get_by_label("核查意见").fill("三项标准均符合，同意销号。")
    lead.get_by_role("button", name="确认核查通过").click()
    expect(lead.locator("#closeout-status")).to_contain_text("待备案")
    lead.context.close()

    office.reload()
    take_step(office, "备案销号")
    expect(office.locator("#filing")).to_contain_text("销备〔")
    office.goto(f"{base}/ledger/tasks/{task.pk}/")
    expect(office.locator("h1")).to_contain_text("已销号")
    ARTIFACTS.mkdir(exist_ok=True)
    office.screenshot(path=str(ARTIFACTS / "closeout-filed.png"), full_page=True)
    assert Task.objects.get(pk=task.pk).status == TaskStatus.CLOSED


def test_a_rebound_found_by_a_look_back_reopens_the_task(browser, site):
    base, world = site
    task = closed_task(world)

    office = log_in(browser, base, "admin1")
    office.goto(f"{base}/closeout/lookbacks/")
    form = office.locator("#lookback-form")
    form.get_by_label("名称").fill("2026 年第一次回头看")
    form.get_by_label("随机抽取比例（%）").fill("100")
    form.get_by_label("随机种子").fill("永州-2026-1")
    form.get_by_role("button", name="抽取并下发复查").click()
    expect(office.locator("#draw")).to_contain_text("随机种子 永州-2026-1")

    lead = log_in(browser, base, "env1")
    lead.goto(office.url)
    row = lead.locator("tr", has_text=task.code)
    row.get_by_label("反弹，重新整改").check()
    row.get_by_label("复查情况").fill("汛期后河道再现黑臭。")
    row.get_by_label("重新整改时限（反弹时填写）").fill((timezone.localdate() + dt.timedelta(days=90)).isoformat())
    row.get_by_role("button", name="提交复查结论").click()
    expect(lead.locator(".messages")).to_contain_text("复查结论已记录")

    county = log_in(browser, base, "rep_a")
    county.goto(f"{base}/ledger/tasks/{task.pk}/")
    expect(county.locator("h1")).to_contain_text("整改中")
    expect(county.locator("#timeline")).to_contain_text("回头看发现反弹")
    assert Task.objects.get(pk=task.pk).status == TaskStatus.ACTIVE
