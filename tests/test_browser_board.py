"""Browser tests (Playwright + Debian's Chromium) of the battle map on the demo city: one shape per
county-level unit with a code, a click on a county opens the ledger filtered to it, each role's
landing page, the wall screen with its token, and no request leaving 127.0.0.1."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest

from rectify.dashboard.geo import load_region_geojson
from rectify.orgs.models import Unit, UnitKind
from tests.browser import ARTIFACTS, require_chromium

pytestmark = [pytest.mark.browser]
sync_api = require_chromium()
expect = sync_api.expect

LOCAL = {"127.0.0.1", "localhost"}


@pytest.fixture
def demo_site(live_server, transactional_db):
    from rectify.demo import build_demo

    build_demo()
    return live_server.url


def open_page(browser, *, viewport=None):
    context = browser.new_context(locale="zh-CN", viewport=viewport or {"width": 1400, "height": 1000})
    context.set_default_timeout(15_000)
    hosts: list[str] = []
    context.on("request", lambda request: hosts.append(request.url))
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    return page, hosts


def log_in(browser, base, username):
    from rectify.demo import DEMO_PASSWORD

    page, hosts = open_page(browser)
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/accounts/login" not in url)
    return page, hosts


def assert_local(hosts):
    away = [u for u in hosts if not u.startswith(("data:", "blob:")) and urlsplit(u).hostname not in LOCAL]
    assert not away, f"requests left 127.0.0.1: {away}"


def map_option(page):
    page.wait_for_selector("#board[data-map-ready='1']")
    return json.loads(page.evaluate("""() => {
        const chart = echarts.getInstanceByDom(document.getElementById('map-chart'));
        const option = chart.getOption();
        return JSON.stringify({data: option.series[0].data.filter(d => d.county).map(d => ({name: d.name, value: d.value,
                                                                      county: d.county.name})),
                               map: option.series[0].map, shapes: echarts.getMap(option.series[0].map)
                               .geoJSON.features.map(f => f.properties.code)});
    }"""))


def test_map_board_click_and_wall(browser, demo_site):
    base = demo_site
    office, hosts = log_in(browser, base, "admin")
    office.wait_for_url(f"{base}/board/")
    option = map_option(office)
    counties = dict(Unit.objects.filter(kind=UnitKind.COUNTY).exclude(region_code="").values_list("region_code", "name"))
    features = [f["properties"]["code"] for f in load_region_geojson("431100")["features"]]
    assert sorted(option["shapes"]) == sorted(features) == sorted(counties)  # one shape per county, by code
    assert sorted(d["name"] for d in option["data"]) == sorted(counties)
    assert {d["name"]: d["county"] for d in option["data"]} == counties
    ARTIFACTS.mkdir(exist_ok=True)
    office.screenshot(path=str(ARTIFACTS / "board-office.png"), full_page=True)

    # another measure recolours the map; the address keeps it
    office.select_option("#measure", "closeout_share")
    expect(office).to_have_url(re.compile(r"measure=closeout_share"))

    # a click on 零陵区 (431102) opens the ledger filtered to it
    point = office.evaluate("""() => {
        const chart = echarts.getInstanceByDom(document.getElementById('map-chart'));
        const f = echarts.getMap('rectify-region').geoJSON.features.find(f => f.properties.code === '431102');
        let ring = f.geometry.coordinates[0];
        if (f.geometry.type === 'MultiPolygon') { ring = ring[0]; }
        const lng = ring.reduce((s, p) => s + p[0], 0) / ring.length, lat = ring.reduce((s, p) => s + p[1], 0) / ring.length;
        const px = chart.convertToPixel({seriesIndex: 0}, [lng, lat]);
        const box = document.getElementById('map-chart').getBoundingClientRect();
        return [box.left + px[0], box.top + px[1]];
    }""")
    office.mouse.click(point[0], point[1])
    lingling = Unit.objects.get(name="零陵区")
    office.wait_for_url(re.compile(rf"/ledger/\?county={lingling.pk}$"))
    expect(office.get_by_label("县市区")).to_have_value(str(lingling.pk))
    shown = office.locator("#result-count").inner_text()
    from rectify.ledger.selectors import TaskFilter, task_queryset
    from rectify.orgs.models import User

    expected = task_queryset(User.objects.get(username="admin"), TaskFilter(county=lingling.pk)).count()
    assert f"共 {expected} 条任务" in shown

    # the office issues a display token; the wall opens without a login, dark, and refreshes itself
    office.goto(f"{base}/board/displays/")
    office.get_by_label("用途").fill("二楼会议室大屏")
    office.get_by_role("button", name="签发大屏令牌").click()
    link = office.locator("#new-link code").inner_text()
    wall, wall_hosts = open_page(browser, viewport={"width": 1920, "height": 1080})
    wall.goto(link)
    assert "/accounts/login" not in wall.url
    option = map_option(wall)
    assert len(option["data"]) == len(counties)
    assert wall.evaluate("() => document.documentElement.scrollHeight") <= 1080  # one screen, no scrolling
    background = wall.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(11, 22, 34)"
    with wall.expect_response(lambda r: r.url.endswith("/data.json") and r.status == 200, timeout=70_000):
        pass  # the next refresh
    wall.screenshot(path=str(ARTIFACTS / "wall-screen.png"))
    office.goto(f"{base}/board/displays/")
    office.get_by_role("button", name="吊销").click()
    expect(office.locator(".messages")).to_contain_text("已吊销")
    assert wall.goto(link).status == 404
    assert_local(hosts + wall_hosts)


LANDING = [
    ("admin", "/board/", "#map-chart"),
    ("leader", "/board/", "#led-tasks"),
    ("sthj", "/board/work/", "#work-reports"),
    ("lingling", "/board/work/", "#work-escalations"),
    ("jiwei", "/accountability/", "main h1"),
    ("auditor", "/audit/", "#events"),
]


def test_each_role_lands_on_its_page(browser, demo_site):
    base = demo_site
    for username, path, marker in LANDING:
        page, hosts = log_in(browser, base, username)
        page.wait_for_url(f"{base}{path}")
        expect(page.locator(marker).first).to_be_visible()
        if username == "leader":  # 唐志远 包零陵区、冷水滩区: two counties on the map, no other
            option = map_option(page)
            assert sorted(d["county"] for d in option["data"]) == ["冷水滩区", "零陵区"]
            expect(page.locator("#limited-note")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / f"landing-{username}.png"), full_page=True)
        assert_local(hosts)
        page.context.close()
