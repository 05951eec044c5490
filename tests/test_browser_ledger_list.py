"""Browser test (Playwright + Debian's Chromium) of the ledger list built for hundreds of tasks: at
1920×1080 a 50-row page shows at least 25 tasks without scrolling, one line each (≤ 40 px), the header
stays in view when scrolling, dates never wrap; on a 390 px phone the first task is on the first screen
(the filters start collapsed); the filter bar, the column settings and a saved filter work by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from rectify.ledger.models import Measure, Task, TaskUnit, UnitRole
from tests.browser import ARTIFACTS, require_chromium
from tests.conftest import PASSWORD, make_world

pytestmark = [pytest.mark.browser]
sync_api = require_chromium()

TITLES = ["城区黑臭水体整治不到位，部分排口雨污混流", "乡镇污水处理厂进水浓度偏低、管网覆盖率不足",
          "畜禽养殖污染治理滞后", "非法采砂破坏河道岸线生态，整改后复绿面积不达标且存在反弹风险",
          "工业园区污水集中处理设施建设滞后", "垃圾填埋场渗滤液超标排放", "矿山生态修复进度缓慢",
          "饮用水水源保护区内违规建筑未拆除", "秸秆露天焚烧屡禁不止", "自然保护区核心区小水电清理退出不彻底"]
COLOURS = ["red", "yellow", "blue", "", "", "yellow"]
STATUS = {"red": "overdue", "yellow": "lagging", "blue": "on_schedule", "": "on_schedule"}


def fill_ledger(world, count: int) -> None:
    """``count`` tasks of two counties with the warning colours, deadlines and titles of a real ledger."""
    tasks = Task.objects.bulk_create(
        Task(campaign=world.campaign, code=f"ZY2-{n + 10:03d}", title=TITLES[n % len(TITLES)] + ("" if n < 10 else f"（{n}）"),
             problem="问题描述", category=["water", "air", "soil", "mines", "biodiversity_ecology"][n % 5], leader=world.users["leader_a"],
             deadline_kind="by_date", deadline=dt.date(2026, 3, 31) + dt.timedelta(days=17 * n), status="active",
             progress_status=STATUS[COLOURS[n % len(COLOURS)]], warning_colour=COLOURS[n % len(COLOURS)],
             expected_percent=60, actual_percent=(n * 7) % 100, status_reasons=["按序时进度计算"])
        for n in range(count))
    TaskUnit.objects.bulk_create(
        TaskUnit(task=t, unit=unit, role=role, is_primary=True) for n, t in enumerate(tasks) for unit, role in (
            (world.county_a if n % 2 else world.county_b, UnitRole.RESPONSIBLE),
            (world.dept_env if n % 3 else world.dept_housing, UnitRole.LEAD_SUPERVISOR)))
    Measure.objects.bulk_create(Measure(task=t, ordinal=k, text=f"措施{k}", owner_unit=world.county_a, done=k == 1)
                                for t in tasks for k in (1, 2, 3))


@pytest.fixture
def site(live_server, transactional_db):
    world = make_world()
    fill_ledger(world, 58)
    return live_server.url, world


def log_in(browser, base, username, *, viewport):
    context = browser.new_context(locale="zh-CN", viewport=viewport)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/accounts/login" not in url)
    return page


ROW_BOXES = """() => [...document.querySelectorAll('#task-table tbody tr')].map(r => {
    const b = r.getBoundingClientRect(); return {top: b.top, bottom: b.bottom, height: b.height}; })"""


def test_a_full_screen_shows_at_least_25_tasks(browser, site):
    base, world = site
    page = log_in(browser, base, "admin1", viewport={"width": 1920, "height": 1080})
    page.goto(f"{base}/ledger/?per_page=50")
    rows = page.evaluate(ROW_BOXES)
    assert len(rows) == 50
    visible = [r for r in rows if r["top"] >= 0 and r["bottom"] <= 1080]
    heights = sorted(r["height"] for r in rows)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ledger-1920.png"))
    print(f"1920×1080: {len(visible)} rows in view, row height {heights[0]:.1f}–{heights[-1]:.1f} px")
    assert len(visible) >= 25, len(visible)
    assert heights[-1] <= 40, heights
    # content uses the width of the screen, not a 1,280 px column
    assert page.evaluate("() => document.getElementById('task-table').getBoundingClientRect().width") >= 1850
    # one line per task: dates never wrap, a long title ends in an ellipsis and is whole in its tooltip
    dates = page.evaluate("""() => [...document.querySelectorAll('#task-table td.c-date')].map(
        td => td.getClientRects()[0].height)""")
    assert dates and max(dates) <= 40
    assert page.evaluate("""() => [...document.querySelectorAll('#task-table td.c-date time')].every(
        t => /^\\d{4}-\\d{2}-\\d{2}$/.test(t.textContent))""")
    long_title = page.locator("#task-table td.c-title a", has_text="非法采砂").first
    assert long_title.get_attribute("title").startswith(TITLES[3])
    # the campaign is a column of its own, not a line under every title
    assert page.locator("#task-table td.c-title .muted").count() == 0
    # default order: worst warning first, then the nearest deadline
    colours = page.evaluate("""() => [...document.querySelectorAll('#task-table td.c-progress .badge')].map(
        b => (b.className.match(/colour-(\\w+)/) || [])[1])""")
    order = {"red": 0, "yellow": 1, "blue": 2, "none": 3}
    assert [order[c] for c in colours] == sorted(order[c] for c in colours)

    # the header stays in view after scrolling down the page
    page.evaluate("() => window.scrollTo(0, 600)")
    page.wait_for_function("() => window.scrollY >= 500")
    assert page.evaluate(ROW_BOXES)[0]["bottom"] < 0  # the first rows have gone up
    header = page.evaluate("() => document.querySelector('#task-table thead th').getBoundingClientRect().top")
    assert 0 <= header <= 2, header
    assert page.locator("#task-table thead th.c-title").is_visible()
    page.screenshot(path=str(ARTIFACTS / "ledger-1920-scrolled.png"))


def test_filters_columns_and_a_saved_filter_by_hand(browser, site):
    base, world = site
    page = log_in(browser, base, "admin1", viewport={"width": 1600, "height": 1000})
    page.goto(f"{base}/ledger/")
    assert page.locator("#filter-panel").get_attribute("open") is None  # collapsed: one line
    assert "未设条件" in page.locator("#active-filters").inner_text()
    page.locator("#filter-panel summary").click()
    page.screenshot(path=str(ARTIFACTS / "ledger-filters-open.png"))
    page.locator("#id_warning_colour").select_option("red")
    page.get_by_label("县市区").select_option(str(world.county_b.pk))
    page.get_by_role("button", name="筛选").click()
    summary = page.locator("#active-filters").inner_text()
    assert "预警：红色预警" in summary and "县市区：祁阳市" in summary
    red = page.locator("#task-table tbody tr").count()
    assert red == Task.objects.filter(warning_colour="red", task_units__unit=world.county_b).count() > 0

    page.locator("#save-filter summary").click()
    page.get_by_label("筛选名称").fill("祁阳红色预警")
    page.get_by_role("button", name="保存", exact=True).click()
    assert "已保存筛选" in page.locator(".messages").inner_text()
    page.goto(f"{base}/ledger/")
    page.get_by_role("link", name="祁阳红色预警").click()
    assert page.locator("#task-table tbody tr").count() == red

    page.locator("#column-settings summary").click()
    page.screenshot(path=str(ARTIFACTS / "ledger-column-settings.png"))
    page.get_by_role("checkbox", name="整改批次").uncheck()
    page.get_by_label("两行（显示更多文字）").check()
    page.get_by_role("button", name="保存设置").click()
    assert page.locator("#task-table thead th", has_text="整改批次").count() == 0
    assert "two-line" in page.locator("#task-table").get_attribute("class")
    assert page.locator("#task-table tbody tr").count() == red  # back on the same filter
    page.screenshot(path=str(ARTIFACTS / "ledger-two-line.png"))


def test_on_a_phone_the_first_task_is_on_the_first_screen(browser, site):
    base, world = site
    page = log_in(browser, base, "admin1", viewport={"width": 390, "height": 844})
    page.goto(f"{base}/ledger/")
    assert page.locator("#filter-panel").get_attribute("open") is None
    first = page.evaluate(ROW_BOXES)[0]
    page.screenshot(path=str(ARTIFACTS / "ledger-390.png"))
    print(f"390×844: first task row at {first['top']:.0f}–{first['bottom']:.0f} px")
    assert 0 <= first["top"] and first["bottom"] <= 844, first
    assert page.evaluate("document.documentElement.scrollWidth") <= 395  # no sideways scrolling
