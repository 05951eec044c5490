"""The board (挂图作战, the office's and the leaders' landing page) shows the 6-month report's countdown
(reports, through the dashboard.board_panels hook) and the project reserve per county and stage."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rectify.core.workdays import add_workdays
from rectify.reports.models import add_months
from rectify.reports.services import set_received_date
from rectify.reserve import services as reserve
from tests.test_reserve import _make


def _received_for_due(due: dt.date) -> dt.date:
    """A received date whose 6-month due date is ``due`` (or the nearest day after it)."""
    day = due - dt.timedelta(days=200)
    while add_months(day, 6) < due:
        day += dt.timedelta(days=1)
    return day


def _countdown(page: str) -> str:
    m = re.search(r'<section class="card" id="report-countdown">(.*?)</section>', page, re.S)
    assert m, "no countdown on the board"
    return m.group(1)


def test_the_board_counts_down_to_the_report_and_turns_red_within_ten_work_days(world):
    admin = world.users["office_admin"]
    today = timezone.localdate()
    assert 'id="report-countdown"' not in world.client("office_admin").get("/board/").content.decode()
    received = _received_for_due(add_workdays(today, 25))
    set_received_date(actor=admin, campaign=world.campaign, received=received)
    section = _countdown(world.client("office_admin").get("/board/").content.decode())
    due = add_months(received, 6)
    assert f"{due:%Y年%m月%d日}" in section and "个工作日" in section and "msg-error" not in section
    assert f'href="/reports/campaigns/{world.campaign.pk}/"' in section
    # within 10 work days: red
    received = _received_for_due(add_workdays(today, 8))
    set_received_date(actor=admin, campaign=world.campaign, received=received)
    section = _countdown(world.client("office_admin").get("/board/").content.decode())
    m = re.search(r'data-workdays="(-?\d+)"', section)
    assert m and 0 < int(m.group(1)) <= 10 and "msg-error" in section
    # past the due date: red, and said so
    set_received_date(actor=admin, campaign=world.campaign, received=today - dt.timedelta(days=200))
    section = _countdown(world.client("office_admin").get("/board/").content.decode())
    assert "已超过报送期限" in section and "msg-error" in section
    # a city leader who sees the campaign's tasks reads the countdown, without the office's page link
    leader = _countdown(world.client("leader_a").get("/board/").content.decode())
    assert "已超过报送期限" in leader and "/reports/campaigns/" not in leader
    # long past (after 60 days) it leaves the board; the 整改报告 page keeps it
    set_received_date(actor=admin, campaign=world.campaign, received=today - dt.timedelta(days=400))
    assert 'id="report-countdown"' not in world.client("office_admin").get("/board/").content.decode()


def _reserve_table(page: str) -> dict[str, dict[str, str]]:
    m = re.search(r'<table class="list" id="reserve-table">(.*?)</table>', page, re.S)
    assert m, "no reserve table on the board"
    rows = {}
    for county, cells in re.findall(r'<tr data-county="[^"]*"><td>([^<]+)</td>(.*?)</tr>', m.group(1), re.S):
        rows[county] = {stage: re.sub(r"<[^>]+>", " ", text).split()
                        for stage, text in re.findall(r'<td data-stage="(\w+)">(.*?)</td>', cells, re.S)}
    return rows


def test_the_board_shows_the_reserve_per_county_and_stage_in_the_users_scope(world):
    admin = world.users["office_admin"]
    _make(world, "P-01")
    _make(world, "P-02", total_investment=Decimal("800"), annual_investment=Decimal("100"),
          funding={"local": Decimal("800")})
    moved = _make(world, "P-03")
    reserve.transition(actor=admin, project=moved, action="prepare")
    _make(world, "P-04", county=world.county_b)
    table = _reserve_table(world.client("office_admin").get("/board/").content.decode())
    a, b = table[world.county_a.name], table[world.county_b.name]
    assert a["reserve"] == ["2", "2000.00"] and a["preparation"] == ["1", "1200.00"] and a["construction"] == ["—"]
    assert a["all"] == ["3", "3200.00"] and b["reserve"] == ["1", "1200.00"]
    # the leader of county A sees its county's projects only
    leader = _reserve_table(world.client("leader_a").get("/board/").content.decode())
    assert list(leader) == [world.county_a.name]


def test_the_boards_reserve_table_costs_the_same_queries_at_2_and_20_projects(world):
    client = world.client("office_admin")
    _make(world, "P-00")
    client.get("/board/")

    def count() -> int:
        caches["board"].clear()  # the figures themselves, not the chain-head cache in front of them
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/board/").status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for i in range(1, 20):
        _make(world, f"P-{i:02d}", county=world.county_b if i % 2 else world.county_a)
    assert count() == few
