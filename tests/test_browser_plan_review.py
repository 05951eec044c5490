"""Browser test (Playwright + Debian's Chromium) of the plan review page (issue 14, point 7): units are
chosen by searching and shown as chips over the plain multi-select; the import takes them; the
confirm button says it is working."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rectify.ledger.models import Task
from tests.browser import ARTIFACTS, require_chromium
from tests.conftest import make_world
from tests.test_browser_dispatch import log_in

pytestmark = [pytest.mark.browser]
sync_api = require_chromium()
expect = sync_api.expect

SEED = Path(__file__).parent / "planparse" / "fixtures" / "seed_rectification_plan.txt"


@pytest.fixture
def site(live_server, transactional_db, settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    return live_server.url, make_world()


def test_units_are_chosen_with_search_and_chips_and_imported(browser, site):
    base, world = site
    page = log_in(browser, base, "admin1")
    page.goto(f"{base}/plans/")
    page.get_by_label("导入到整改批次").select_option(str(world.campaign.pk))
    page.get_by_label("整改方案文件（.docx 或 .txt）").set_input_files(str(SEED))
    page.get_by_role("button", name=re.compile("解析")).click()
    page.wait_for_url(re.compile(r"/plans/[^/]+/$"))
    expect(page.locator("#mechanisms")).to_contain_text("督办措施（逐级升级）")
    expect(page.locator("#mechanisms")).not_to_contain_text("escalation_ladder")

    row = page.locator("#measures tbody tr").first
    select = row.locator("select[multiple]")
    expect(select).to_be_hidden()  # enhanced: the list box gives way to search and chips
    search = row.get_by_role("searchbox")
    search.fill("零陵")
    row.get_by_role("button", name="添加 零陵区").click()
    expect(row.locator(".chip", has_text="零陵区")).to_be_visible()
    search.fill("祁阳")
    search.press("Enter")  # the first match, without sending the form
    expect(row.locator(".chip", has_text="祁阳市")).to_be_visible()
    assert "/plans/" in page.url
    chosen = select.evaluate("s => Array.from(s.selectedOptions).map(o => o.text)")
    assert {"零陵区", "祁阳市"} <= set(chosen)
    row.get_by_role("button", name="移除 祁阳市").click()
    expect(row.locator(".chip", has_text="祁阳市")).to_have_count(0)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "plan-review.png"))
    title = row.locator("input.title-edit")
    assert title.bounding_box()["width"] > 300  # room to read and edit a title

    page.on("dialog", lambda dialog: dialog.accept())
    button = page.get_by_role("button", name="确认导入")
    button.click()
    page.wait_for_url(re.compile(r"/ledger/"))
    expect(page.locator(".messages")).to_contain_text("导入的目标指标")
    first = Task.objects.filter(campaign=world.campaign, code__startswith="T-2021-F").order_by("code").first()
    units = {tu.unit.name for tu in first.task_units.filter(role="responsible")}
    assert "零陵区" in units and "祁阳市" not in units
