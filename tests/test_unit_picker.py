"""The ledger's unit and campaign filters past UNIT_PICKER_LIST_ALL choices (issue 8): a search box
and a short select.

A province's filter form listed every unit, county and department of 200 cities (11,564 options,
most of a 694 KB page at 100,000 tasks). Past the threshold the select lists only the chosen unit
and the units matching the text typed beside it; without JavaScript, Enter sends the text.
"""

from __future__ import annotations

import re

import pytest
from django.test import override_settings

LIST = "/ledger/"


def _select(html: str, name: str) -> str:
    found = re.search(rf'<select name="{name}"[^>]*>.*?</select>', html, re.S)
    assert found, f"no select {name}"
    return found.group(0)


def _codes(html: str) -> set[str]:
    return set(re.findall(r'href="/ledger/tasks/\d+/">(T-\d+)<', html))


def test_a_city_sized_tree_keeps_the_select_of_every_unit(world):
    html = world.client("office_admin").get(LIST).content.decode()
    units = _select(html, "unit")
    for unit in (world.county_a, world.county_b, world.dept_env, world.dept_housing):
        assert f">{unit.name}</option>" in units
    assert 'name="unit_q"' not in html


@override_settings(UNIT_PICKER_LIST_ALL=1)
def test_past_the_threshold_the_select_lists_only_the_chosen_unit(world):
    client = world.client("office_admin")
    html = client.get(LIST).content.decode()
    assert 'name="unit_q"' in html and 'name="county_q"' in html and 'name="lead_q"' in html
    assert re.findall(r"<option[^>]*>", _select(html, "unit")) == ['<option value="" selected>']
    assert "单位较多：在上方输入名称，按回车查找" in html
    # a link naming a unit (the battle map's bars, a saved filter) still shows and applies it
    html = client.get(LIST, {"unit": world.county_b.pk}).content.decode()
    assert f'<option value="{world.county_b.pk}" selected>祁阳市</option>' in _select(html, "unit")
    assert world.county_a.name + "</option>" not in _select(html, "unit")
    assert _codes(html) == {"T-02"}


@override_settings(UNIT_PICKER_LIST_ALL=1)
def test_text_naming_one_unit_filters_by_it(world):
    html = world.client("office_admin").get(LIST, {"unit_q": " 零陵 "}).content.decode()
    assert f'<option value="{world.county_a.pk}" selected>零陵区</option>' in _select(html, "unit")
    assert _codes(html) == {"T-01"}
    assert "涉及单位：零陵区" in html  # the collapsed filter bar's summary
    assert 'value="零陵"' in html  # the text stays in the box


@override_settings(UNIT_PICKER_LIST_ALL=1)
def test_text_naming_several_units_lists_them_and_filters_by_none(world):
    html = world.client("office_admin").get(LIST, {"lead_q": "市"}).content.decode()
    leads = _select(html, "lead")
    assert ">市生态环境局</option>" in leads and ">市住房和城乡建设局</option>" in leads
    assert " selected>市" not in leads
    assert "找到 2 个单位，请在下拉框中选择" in html
    assert '<details id="filter-panel" open>' in html  # the choice is in front of the user
    assert _codes(html) == {"T-01", "T-02"}


@override_settings(UNIT_PICKER_LIST_ALL=1)
def test_text_naming_no_unit_says_so(world):
    html = world.client("office_admin").get(LIST, {"county_q": "<b>不存在</b>" * 10}).content.decode()
    assert "没有名称含“&lt;b&gt;不存在&lt;/b&gt;" in html  # escaped, and cut to 40 characters
    assert "<b>不存在" not in html
    assert _codes(html) == {"T-01", "T-02"}


@override_settings(UNIT_PICKER_LIST_ALL=1)
def test_a_chosen_unit_wins_over_the_text(world):
    html = world.client("office_admin").get(LIST, {"unit": world.county_b.pk, "unit_q": "零陵"}).content.decode()
    units = _select(html, "unit")
    assert f'<option value="{world.county_b.pk}" selected>祁阳市</option>' in units
    assert f'<option value="{world.county_a.pk}">零陵区</option>' in units  # the match, to switch to
    assert _codes(html) == {"T-02"}


@override_settings(UNIT_PICKER_LIST_ALL=1)
@pytest.mark.parametrize("persona", ["reporter_a", "leader_a"])
def test_the_search_box_does_not_widen_anyones_scope(world, persona):
    """Finding a unit by name filters within what the user sees: a reporter of 零陵区 naming 祁阳市
    gets no task of it."""
    html = world.client(persona).get(LIST, {"unit_q": "祁阳"}).content.decode()
    assert "T-02" not in _codes(html)


@override_settings(UNIT_PICKER_LIST_ALL=1)
def test_saved_filters_keep_the_search_text(world):
    from rectify.ledger.list_options import clean_query

    assert clean_query("unit_q=零陵&page=3&evil=1") == "unit_q=%E9%9B%B6%E9%99%B5"


@override_settings(UNIT_PICKER_LIST_ALL=1)
def test_campaigns_past_the_threshold_are_searched_too(world):
    """A province's offices run hundreds of campaigns (800 at 100,000 tasks)."""
    from rectify.ledger.models import Campaign

    Campaign.objects.create(code="T-2022", name="省级生态环境保护督察反馈问题", office=world.office)
    client = world.client("office_admin")
    html = client.get(LIST).content.decode()
    assert re.findall(r"<option[^>]*>", _select(html, "campaign")) == ['<option value="" selected>']
    assert "批次较多：在上方输入名称，按回车查找" in html
    html = client.get(LIST, {"campaign_q": "中央"}).content.decode()
    assert "第二轮中央生态环境保护督察反馈问题</option>" in _select(html, "campaign")
    assert "整改批次：第二轮中央生态环境保护督察反馈问题" in html and _codes(html) == {"T-01", "T-02"}
    html = client.get(LIST, {"campaign_q": "督察"}).content.decode()
    assert "找到 2 个批次，请在下拉框中选择" in html
