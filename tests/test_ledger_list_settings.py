"""The ledger list's own settings (台账列表): columns and row height remembered per user, saved filters
(the two built-in ones and the user's own), the default order (worst warning, then nearest deadline),
and a list GET that writes nothing and reads the settings in one query."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rectify.core.models import Event
from rectify.ledger.models import ListPreference, Task, TaskUnit, UnitRole
from tests.test_get_writes_nothing import writes_in


def headers(html: str) -> list[str]:
    thead = html.split('id="task-table"', 1)[1].split("</thead>", 1)[0]
    return [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r'<th scope="col"[^>]*>(.*?)</th>', thead)]


def codes(html: str) -> list[str]:
    body = html.split('id="task-table"', 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<td class="c-code"[^>]*><a [^>]*>([^<]+)</a>', body)


def add_task(world, code, *, county, colour="", status="on_schedule", deadline=None, kind="by_date"):
    task = Task.objects.create(campaign=world.campaign, code=code, title=f"任务{code}", status="active",
                               deadline_kind=kind, deadline=deadline, warning_colour=colour, progress_status=status)
    TaskUnit.objects.create(task=task, unit=county, role=UnitRole.RESPONSIBLE, is_primary=True)
    return task


# --- columns and rows ---------------------------------------------------------------------------


def test_column_choice_is_saved_for_the_user_and_applied(world):
    admin = world.client("office_admin")
    before = headers(admin.get("/ledger/").content.decode())
    assert "整改批次" in before and "牵头督导单位" in before and "最近更新" not in before  # the default set

    response = admin.post("/ledger/list/view/", {"columns": ["deadline", "progress", "updated"], "rows": "two",
                                                 "back": "status=active&page=3"})
    assert response.status_code == 302 and response["Location"] == "/ledger/?status=active"
    page = admin.get("/ledger/").content.decode()
    assert headers(page) == ["任务编号", "问题/任务名称", "整改时限", "进度（实际/序时）", "最近更新"]
    assert 'class="list ledger sticky-head two-line"' in page
    assert 'class="c-campaign"' not in page and 'class="c-unit"' not in page  # cells go with their header
    # remembered: a new session of the same user, not another user
    again = world.client("office_admin").get("/ledger/").content.decode()
    assert headers(again)[2:] == ["整改时限", "进度（实际/序时）", "最近更新"]
    assert headers(world.client("office_staff").get("/ledger/").content.decode()) == before
    event = Event.objects.get(action="ledger_list_view_saved")
    assert event.after == {"columns": ["deadline", "progress", "updated"], "two_line": True}


def test_with_every_column_unticked_only_code_and_title_remain(world):
    admin = world.client("office_admin")
    admin.post("/ledger/list/filters/", {"name": "红色", "back": "warning_colour=red"})  # makes the row
    assert headers(admin.get("/ledger/").content.decode())[2:4] == ["整改批次", "类别"]  # still the default set
    admin.post("/ledger/list/view/", {"rows": "one"})
    assert headers(admin.get("/ledger/").content.decode()) == ["任务编号", "问题/任务名称"]


def test_headers_sort_the_list(world):
    add_task(world, "A-EARLY", county=world.county_a, deadline=dt.date(2025, 1, 1))
    add_task(world, "A-LATE", county=world.county_a, deadline=dt.date(2030, 1, 1))
    admin = world.client("office_admin")
    page = admin.get(f"/ledger/?county={world.county_a.pk}").content.decode()
    link = re.search(r'aria-sort="none"><a class="sort" href="([^"]+)">整改时限</a>', page).group(1)
    assert link == f"?county={world.county_a.pk}&amp;sort=deadline"
    by_deadline = admin.get("/ledger/" + link.replace("&amp;", "&")).content.decode()
    assert codes(by_deadline)[0] == "A-EARLY" and codes(by_deadline)[-1] == "A-LATE"
    assert f'aria-sort="ascending"><a class="sort" href="?county={world.county_a.pk}&amp;sort=-deadline">' in by_deadline
    assert codes(admin.get(f"/ledger/?county={world.county_a.pk}&sort=-deadline").content.decode())[0] == "A-LATE"


def test_an_unknown_column_is_refused_and_nothing_is_saved(world):
    admin = world.client("office_admin")
    response = admin.post("/ledger/list/view/", {"columns": ["deadline", "password"], "rows": "one"}, follow=True)
    assert "没有这一列：password" in response.content.decode()
    assert not ListPreference.objects.exists() and not Event.objects.filter(action="ledger_list_view_saved").exists()


def test_settings_change_only_by_post(world):
    admin = world.client("office_admin")
    for url in ("/ledger/list/view/", "/ledger/list/filters/", "/ledger/list/filters/delete/"):
        assert admin.get(url).status_code == 405
    assert not ListPreference.objects.exists()


# --- saved filters ------------------------------------------------------------------------------


def test_a_saved_filter_is_stored_and_applied(world):
    add_task(world, "Q-LAG", county=world.county_b, colour="yellow", status="lagging", deadline=dt.date(2026, 5, 1))
    add_task(world, "A-LAG", county=world.county_a, colour="yellow", status="lagging", deadline=dt.date(2026, 5, 1))
    admin = world.client("office_admin")
    query = f"county={world.county_b.pk}&progress_status=lagging&page=4&next=//evil.example"
    response = admin.post("/ledger/list/filters/", {"name": " 祁阳  滞后 ", "back": query})
    assert response["Location"] == f"/ledger/?county={world.county_b.pk}&progress_status=lagging"
    stored = ListPreference.objects.get(user=world.users["office_admin"]).saved_filters
    assert stored == [{"name": "祁阳 滞后", "query": f"county={world.county_b.pk}&progress_status=lagging"}]

    page = admin.get("/ledger/").content.decode()
    link = re.search(r'<a href="\?([^"]+)">祁阳 滞后</a>', page)
    assert link, "the saved filter is offered on the list"
    applied = admin.get("/ledger/?" + link.group(1).replace("&amp;", "&")).content.decode()
    assert codes(applied) == ["Q-LAG"]
    assert 'class="chip active"' in applied and "县市区：祁阳市；进度状态：滞后" in applied  # the one-line summary
    # others don't see it
    assert "祁阳 滞后" not in world.client("office_staff").get("/ledger/").content.decode()

    # the same name replaces; delete removes
    admin.post("/ledger/list/filters/", {"name": "祁阳 滞后", "back": "warning_colour=red"})
    assert ListPreference.objects.get().saved_filters == [{"name": "祁阳 滞后", "query": "warning_colour=red"}]
    admin.post("/ledger/list/filters/delete/", {"name": "祁阳 滞后", "back": ""})
    assert ListPreference.objects.get().saved_filters == []
    assert [e.action for e in Event.objects.filter(action__startswith="ledger_filter_").order_by("seq")] == [
        "ledger_filter_saved", "ledger_filter_saved", "ledger_filter_deleted"]


@pytest.mark.parametrize(("name", "query", "message"), [
    ("", "status=active", "请填写筛选名称"),
    ("长" * 31, "status=active", "筛选名称最多 30 个字"),
    ("我的逾期", "status=active", "系统内置的筛选"),
    ("空的", "page=2&evil=1", "当前没有筛选条件"),
])
def test_a_bad_saved_filter_is_refused_with_a_reason(world, name, query, message):
    response = world.client("office_admin").post("/ledger/list/filters/", {"name": name, "back": query}, follow=True)
    assert message in response.content.decode()
    assert not ListPreference.objects.exists()


def test_the_built_in_filters(world):
    add_task(world, "A-OVER", county=world.county_a, colour="red", status="overdue", deadline=dt.date(2025, 1, 1))
    add_task(world, "A-LAG", county=world.county_a, colour="yellow", status="lagging", deadline=dt.date(2026, 9, 1))
    add_task(world, "B-LAG", county=world.county_b, colour="yellow", status="lagging", deadline=dt.date(2026, 9, 1))
    b_lag_led = add_task(world, "B-LAG2", county=world.county_b, colour="yellow", status="lagging",
                         deadline=dt.date(2026, 9, 1))
    Task.objects.filter(pk=b_lag_led.pk).update(leader=world.users["leader_a"])  # the leader sees it: owns it
    page = world.client("office_admin").get("/ledger/").content.decode()
    assert '<a href="?progress_status=overdue">我的逾期</a>' in page
    assert '<a href="?progress_status=lagging&amp;my_counties=1">我负责县区的滞后任务</a>' in page

    assert codes(world.client("office_admin").get("/ledger/?progress_status=overdue").content.decode()) == ["A-OVER"]
    # the office answers for every county it sees
    office = codes(world.client("office_admin").get("/ledger/?progress_status=lagging&my_counties=1").content.decode())
    assert sorted(office) == ["A-LAG", "B-LAG", "B-LAG2"]
    # 包零陵 leader: 零陵区's lagging tasks, not the 祁阳 task they see as its responsible leader
    leader = world.client("leader_a").get("/ledger/?progress_status=lagging&my_counties=1").content.decode()
    assert codes(leader) == ["A-LAG"]
    assert "B-LAG2" in codes(world.client("leader_a").get("/ledger/?progress_status=lagging").content.decode())
    # a county's reporter: their own county
    assert codes(world.client("reporter_b").get("/ledger/?progress_status=lagging&my_counties=1")
                 .content.decode()) == ["B-LAG", "B-LAG2"]


# --- order, reads ------------------------------------------------------------------------------


def test_default_order_is_worst_warning_then_nearest_deadline(world):
    Task.objects.all().delete()
    add_task(world, "N-1", county=world.county_a, deadline=dt.date(2026, 1, 1))
    add_task(world, "B-2", county=world.county_a, colour="blue", deadline=dt.date(2026, 8, 1))
    add_task(world, "R-2", county=world.county_a, colour="red", status="overdue", deadline=dt.date(2025, 9, 1))
    add_task(world, "Y-1", county=world.county_a, colour="yellow", status="lagging", deadline=dt.date(2026, 2, 1))
    add_task(world, "R-1", county=world.county_a, colour="red", status="overdue", deadline=dt.date(2025, 3, 1))
    add_task(world, "R-L", county=world.county_a, colour="red", status="lagging", kind="long_term")  # no deadline
    add_task(world, "B-1", county=world.county_a, colour="blue", deadline=dt.date(2026, 7, 1))
    page = world.client("office_admin").get("/ledger/").content.decode()
    assert codes(page) == ["R-1", "R-2", "R-L", "Y-1", "B-1", "B-2", "N-1"]
    assert codes(world.client("office_admin").get("/ledger/?sort=code").content.decode())[0] == "B-1"
    # dates are compact and never wrap; a long-term task says so
    assert '<time datetime="2025-03-01">2025-03-01</time>' in page and "长期坚持" in page


def test_a_list_get_writes_nothing_and_reads_the_settings_in_one_query(world):
    admin = world.client("office_admin")
    admin.get("/ledger/")  # the session's idle timer may be refreshed once
    with CaptureQueriesContext(connection) as ctx:
        assert admin.get("/ledger/?sort=code").status_code == 200
    assert writes_in(ctx.captured_queries) == []
    assert not ListPreference.objects.exists()  # no row made for a reader who never saved anything
    assert sum('"ledger_listpreference"' in q["sql"] for q in ctx.captured_queries) == 1

    admin.post("/ledger/list/filters/", {"name": "红色", "back": "warning_colour=red"})
    admin.post("/ledger/list/view/", {"columns": ["deadline"], "rows": "one"})
    with CaptureQueriesContext(connection) as ctx:
        page = admin.get("/ledger/").content.decode()
    assert writes_in(ctx.captured_queries) == []
    assert sum('"ledger_listpreference"' in q["sql"] for q in ctx.captured_queries) == 1
    assert ">红色</a>" in page and headers(page)[2:] == ["整改时限"]
