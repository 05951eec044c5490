"""`rectify demo`: the demo city of 永州市 with its county-level units, one account per role and a
ledger of at least 32 tasks, a few of them deliberately not yet 四清楚."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate

from rectify.cli import main
from rectify.demo import DEMO_PASSWORD, build_demo, demo_exists, print_accounts
from rectify.ledger.models import Campaign, DeadlineKind, Task, TaskStatus
from rectify.ledger.services import missing_essentials
from rectify.orgs.models import Category, LeaderAssignment, Role, Unit, UnitKind, User

COUNTY_CODES = {
    "零陵区": "431102", "冷水滩区": "431103", "祁阳市": "431181", "东安县": "431122", "双牌县": "431123",
    "道县": "431124", "江永县": "431125", "宁远县": "431126", "蓝山县": "431127", "新田县": "431128",
    "江华瑶族自治县": "431129", "回龙圩管理区": "", "金洞管理区": "", "永州经济技术开发区": "",
}


@pytest.fixture
def demo(db):
    assert not demo_exists()
    build_demo()
    assert demo_exists()


def test_the_city_has_its_fourteen_county_level_units_with_official_codes(demo):
    counties = {u.name: u for u in Unit.objects.filter(kind=UnitKind.COUNTY)}
    assert {name: u.region_code for name, u in counties.items()} == COUNTY_CODES
    office = Unit.objects.get(kind=UnitKind.OFFICE)
    assert office.short_name == "市整改办"
    assert all(u.parent_id == office.pk for u in counties.values())
    assert "零陵区人民政府" in counties["零陵区"].names()
    assert Unit.objects.filter(kind=UnitKind.DEPARTMENT).count() >= 15
    assert Unit.objects.filter(kind=UnitKind.DISCIPLINE, name="市纪委监委").exists()


def test_every_role_has_a_demo_account_that_logs_in_with_the_shared_password(demo):
    assert set(User.objects.values_list("role", flat=True)) == set(Role.values)
    assert not User.objects.filter(is_demo=False).exists()
    assert not User.objects.filter(must_change_password=True).exists()
    for username in ["admin", "staff", "sthj", "zjj", "lingling", "lingling_sh", "qiyang", "leader", "jiwei",
                     "auditor", "renda", "sysadmin", "secadmin"]:
        assert authenticate(username=username, password=DEMO_PASSWORD) is not None, username


def test_leaders_cover_all_counties_and_the_demo_leader_has_mines(demo):
    covered = set(LeaderAssignment.objects.filter(county__isnull=False).values_list("county__name", flat=True))
    assert covered == set(COUNTY_CODES)
    leader = User.objects.get(username="leader")
    assert {a.county.name for a in leader.assignments.filter(county__isnull=False)} == {"零陵区", "冷水滩区"}
    assert leader.assignments.filter(sector=Category.MINES).exists()
    assert User.objects.filter(role=Role.LEADER).count() >= 5


def test_the_ledger_has_a_realistic_mix_of_tasks_and_a_few_drafts(demo):
    campaign = Campaign.objects.get()
    assert campaign.feedback_date.isoformat() == "2021-07-16"
    tasks = list(Task.objects.prefetch_related("measures", "task_units"))
    assert len(tasks) >= 32
    assert {t.category for t in tasks} == set(Category.values)
    kinds = [t.deadline_kind for t in tasks]
    assert kinds.count(DeadlineKind.LONG_TERM) >= 5 and DeadlineKind.IMMEDIATE in kinds
    drafts = [t for t in tasks if t.status == TaskStatus.DRAFT]
    assert 2 <= len(drafts) <= 4
    assert all(missing_essentials(t) for t in drafts)
    assert sum(1 for t in tasks if t.completion_note) >= 5


def test_a_completed_task_goes_through_the_real_close_out_and_waits_on_an_objection(demo):
    from rectify.closeout.models import Closeout, CloseoutStatus, ObjectionStatus
    from rectify.core.models import Event

    record = Closeout.objects.get(task__code="ZY2-06")
    assert record.status == CloseoutStatus.IN_NOTICE and record.notice_number
    assert record.assessments.count() == 1
    assert record.objections.get().status == ObjectionStatus.OPEN  # blocks 受理 until answered
    actions = set(Event.objects.filter(object_type="ledger.task", object_id=str(record.task_id))
                  .values_list("action", flat=True))
    assert {"closeout_self_assessed", "closeout_applied", "closeout_notice_published"} <= actions
    # The rest were closed before the installation went live, and the record says so.
    historical = Event.objects.filter(action="task_closed_demo")
    assert historical.exists() and all("历史档案" in e.summary for e in historical)


def test_the_audit_chain_verifies_and_accounts_print(demo, capsys):
    assert main(["verify"]) == 0
    assert capsys.readouterr().out.startswith("OK: ")
    print_accounts()
    out = capsys.readouterr().out
    assert "lingling_sh" in out and DEMO_PASSWORD in out
    assert "演示数据仅供体验，切勿用于生产环境" in out


def test_the_plan_targets_carry_five_years_of_values(demo):
    from rectify.indicators.models import Indicator, Measurement
    from rectify.indicators.selectors import counties, standings

    inds = list(Indicator.objects.select_related("office", "county"))
    assert len(inds) == 6 and {i.scope for i in inds} == {"city", "each_county"}
    air = next(i for i in inds if i.scope == "each_county")
    assert Measurement.objects.filter(indicator=air).count() == 11 * 5
    standing = standings(inds, counties())
    assert standing[air.pk].period == "2025" and standing[air.pk].met == 11 and standing[air.pk].no_data == 3


def test_the_supervision_board_shows_a_warning_on_every_overdue_task(demo):
    """Issue 14: about ten red tasks and an empty board. The demo ends with tick's warnings."""
    from django.test import Client

    from rectify.supervision.models import Escalation, Rung, Trigger

    overdue = set(Task.objects.filter(progress_status="overdue").values_list("pk", flat=True))
    assert len(overdue) >= 5
    warned = set(Escalation.objects.filter(rung=Rung.WARNING, trigger=Trigger.OVERDUE).values_list("task_id", flat=True))
    assert warned == overdue
    assert not Task.objects.exclude(status=TaskStatus.CLOSED).filter(progress_status="").exists()
    client = Client()
    client.force_login(User.objects.get(username="admin"))
    page = client.get("/supervision/").content.decode()
    assert page.count("预警") >= len(overdue)
