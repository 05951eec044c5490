"""The public portal in a real browser (Playwright + Debian's Chromium), as a citizen on a phone:

1. every portal page at a 390 px viewport: axe-core finds no serious or critical violation, nothing
   is wider than the screen, and no request leaves 127.0.0.1;
2. an objection filed with JavaScript switched off (the form and its challenge work without it),
   then its answer looked up by receipt.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest

from rectify.closeout import services as closeout
from tests.browser import ARTIFACTS, require_chromium
from tests.conftest import make_world
from tests.disclosure_helpers import public_world
from tests.test_disclosure import portal_urls

pytestmark = [pytest.mark.browser]
sync_api = require_chromium()
expect = sync_api.expect
PHONE = {"width": 390, "height": 844}
LOCAL = {"127.0.0.1", "localhost"}


@pytest.fixture
def site(live_server, transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    world = make_world()
    return live_server.url, world, public_world(world)


def phone(browser, *, javascript: bool = True):
    context = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True,
                                  java_script_enabled=javascript)
    context.set_default_timeout(15_000)
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda request: outside.append(request.url)
            if urlparse(request.url).scheme in ("http", "https", "ws", "wss")
            and urlparse(request.url).hostname not in LOCAL else None)
    return page, outside


def test_every_portal_page_on_a_phone_is_accessible_and_local(browser, site):
    from axe_playwright_python.sync_playwright import Axe

    base, world, scene = site
    page, outside = phone(browser)
    axe = Axe()
    problems = []
    ARTIFACTS.mkdir(exist_ok=True)
    for path in portal_urls(world, scene):
        page.goto(base + path)
        results = axe.run(page)
        for violation in results.response["violations"]:
            if violation["impact"] in ("serious", "critical"):
                targets = [n["target"] for n in violation["nodes"]][:3]
                problems.append(f"{path}: {violation['id']} ({violation['impact']}) {targets}")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            problems.append(f"{path}: {width} px wide on a {PHONE['width']} px screen")
        assert page.locator("footer").get_by_text(re.compile(r"\d+:[0-9a-f]{64}")).count() == 1, path
    page.goto(base + f"/gongkai/tasks/{world.task_a.pk}/")
    page.screenshot(path=str(ARTIFACTS / "portal-task-390.png"), full_page=True)
    page.goto(base + "/gongkai/")
    page.screenshot(path=str(ARTIFACTS / "portal-overview-390.png"), full_page=True)
    assert not problems, "\n".join(problems)
    assert not outside, f"requests left 127.0.0.1: {outside}"


def test_an_objection_without_javascript_then_its_answer_by_receipt(browser, site):
    base, world, scene = site
    page, outside = phone(browser, javascript=False)
    page.goto(f"{base}/gongkai/notices/")
    page.get_by_role("link", name=re.compile(world.task_a.code)).click()
    page.get_by_label("异议内容（必填，5 至 2000 字）").fill("河道排口仍有黑水流出，请再核查。")
    page.get_by_label("联系电话（可不填）").fill("13712345678")
    question = page.locator("label[for=challenge_answer]").inner_text()
    a, op, b = re.search(r"(\d+) (加|减) (\d+)", question).groups()
    page.get_by_label(re.compile("验证题")).fill(str(int(a) + int(b) if op == "加" else int(a) - int(b)))
    page.get_by_role("button", name="提交异议").click()
    receipt = page.locator("#receipt").inner_text()
    assert receipt.startswith("YY")
    page.screenshot(path=str(ARTIFACTS / "portal-receipt-390.png"), full_page=True)

    objection = closeout.objection_by_receipt(receipt)
    closeout.answer_objection(actor=world.users["office_admin"], objection=objection, action="dismiss",
                              answer="已现场复核，该排口为雨水口，水质达标。")
    page.get_by_role("link", name="凭回执编号查询答复").click()
    page.get_by_label("回执编号").fill(receipt)
    page.get_by_role("button", name="查询").click()
    expect(page.locator("#objection-status")).to_have_text("异议不成立")
    expect(page.locator("#objection-answer")).to_contain_text("雨水口")
    assert "13712345678" not in page.content()
    assert not outside, f"requests left 127.0.0.1: {outside}"
