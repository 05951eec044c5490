"""Administration writes are services on the record (issue 7, item 3): units and their tree paths,
accounts and roles, leader areas, API tokens, calendar years, document numbers, and the operator
commands that may (and may not) change data.

Each service writes the events its docstring names — with the real actor and before/after — and
refuses actors outside its permission: an office administrator of another tree, a reporter, a
leader, office staff.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.utils import timezone

from rectify.cli import main as rectify
from rectify.cli import manage_refusal
from rectify.core.models import CalendarDay, CalendarYear, DocumentNumber, Event
from rectify.core.numbers import allocate_number
from rectify.core.workdays import enter_year, parse_calendar_text, record_migration_seed
from rectify.ledger import services as ledger
from rectify.ledger.models import DeadlineKind, Task
from rectify.orgs.models import ApiToken, Category, LeaderAssignment, Role, Unit, UnitKind, User
from rectify.orgs.services import (
    SYSTEM,
    assign_leader_area,
    create_unit,
    create_user,
    issue_api_token,
    move_unit,
    remove_leader_area,
    reset_password,
    revoke_api_token,
    set_user_active,
    unlock_user,
    update_unit,
    update_user,
    user_for_token,
)
from rectify.supervision.models import Rung, Trigger
from rectify.supervision.services import auto_warning, issue_escalation
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
REFUSED_PERSONAS = ["office_staff", "reporter_a", "leader_a", "auditor"]


class Recorder:
    """The events appended since it was created."""

    def __init__(self):
        self.mark = Event.objects.order_by("-seq").values_list("seq", flat=True).first() or 0

    @property
    def events(self) -> list[Event]:
        return list(Event.objects.filter(seq__gt=self.mark).order_by("seq"))

    def actions(self) -> list[str]:
        return [e.action for e in self.events]

    def one(self, action: str) -> Event:
        events = self.events
        assert [e.action for e in events] == [action], [e.action for e in events]
        return events[0]


@pytest.fixture
def other_office(world):
    """Another city's office, its own tree, with its own administrator."""
    unit = create_unit(actor=None, name="另一市整改办", kind=UnitKind.OFFICE)
    admin = create_user(actor=None, username="other_admin", password=PASSWORD, role=Role.OFFICE_ADMIN, unit=unit,
                        must_change_password=False)
    return unit, admin


def refused_actors(world, other_office) -> dict[str, User]:
    return {p: world.users[p] for p in REFUSED_PERSONAS} | {"other_office_admin": other_office[1]}


# ---- units -------------------------------------------------------------------------------------


def test_create_unit_records_the_new_unit(world):
    admin = world.users["office_admin"]
    rec = Recorder()
    town = create_unit(actor=admin, name="零陵区生态环境分局", kind=UnitKind.DEPARTMENT, parent=world.county_a,
                       aliases="零陵分局， 分局,分局")
    event = rec.one("unit_created")
    assert event.actor_id == admin.pk and event.object_id == str(town.pk)
    assert event.after["parent"] == "零陵区" and event.after["path"] == town.path
    assert town.path == f"{world.county_a.path}{town.pk:05d}." and town.aliases == "零陵分局,分局"


def test_system_setup_writes_are_on_the_record_as_the_system(world):
    event = Event.objects.get(action="unit_created", object_id=str(world.county_a.pk))
    assert event.actor_id is None and event.actor_name == SYSTEM
    created = Event.objects.filter(action="user_created", object_id=str(world.users["office_admin"].pk)).get()
    assert created.actor_name == SYSTEM
    assert Event.objects.filter(action="leader_area_assigned", object_id=str(world.users["leader_a"].pk)).exists()


@pytest.mark.parametrize("code, ok", [("431102", True), ("", True), ("43110", False), ("4311022", False),
                                      ("4311a2", False), ("４３１１０２", False)])
def test_region_code_is_six_digits(world, code, ok):
    def make():
        return create_unit(actor=world.users["office_admin"], name="测试县", kind=UnitKind.COUNTY, parent=world.office,
                           region_code=code)
    if ok:
        assert make().region_code == code
    else:
        with pytest.raises(ValidationError) as exc:
            make()
        assert "region_code" in exc.value.message_dict


def test_unit_validation(world):
    admin = world.users["office_admin"]
    for kwargs, field in [({"name": "零陵区", "kind": UnitKind.COUNTY}, "name"),
                          ({"name": "新单位", "kind": "planet"}, "kind"),
                          ({"name": "新部门", "kind": UnitKind.DEPARTMENT, "region_code": "431100"}, "region_code"),
                          ({"name": " ", "kind": UnitKind.DEPARTMENT}, "name")]:
        with pytest.raises(ValidationError) as exc:
            create_unit(actor=admin, parent=world.office, **kwargs)
        assert field in exc.value.message_dict


def test_unit_writes_refused_outside_permission(world, other_office):
    for name, actor in refused_actors(world, other_office).items():
        with pytest.raises(PermissionDenied):
            create_unit(actor=actor, name=f"{name}的单位", kind=UnitKind.DEPARTMENT, parent=world.office)
        with pytest.raises(PermissionDenied):
            update_unit(actor=actor, unit=world.county_a, short_name="零陵")
        with pytest.raises(PermissionDenied):
            move_unit(actor=actor, unit=world.county_a, parent=world.dept_env)
    with pytest.raises(PermissionDenied):  # a root (a new tree) is system set-up only
        create_unit(actor=world.users["office_admin"], name="平行整改办", kind=UnitKind.OFFICE)
    with pytest.raises(PermissionDenied):  # into a tree the actor does not manage
        move_unit(actor=world.users["office_admin"], unit=world.county_a, parent=other_office[0])
    assert not Event.objects.filter(action__in=["unit_updated", "unit_moved"]).exists()


def test_update_unit_records_only_what_changed(world):
    admin = world.users["office_admin"]
    rec = Recorder()
    update_unit(actor=admin, unit=world.county_a, short_name="零陵", region_code="431102", sort_order=5)
    event = rec.one("unit_updated")
    assert event.actor_id == admin.pk
    assert event.before == {"short_name": "", "sort_order": 0} and event.after == {"short_name": "零陵", "sort_order": 5}
    world.county_a.refresh_from_db()
    assert world.county_a.short_name == "零陵"

    rec = Recorder()
    update_unit(actor=admin, unit=world.county_a, short_name="零陵")  # no change, no event
    assert rec.events == []
    with pytest.raises(ValidationError):
        update_unit(actor=admin, unit=world.county_a, region_code="4311")


def test_an_admin_cannot_deactivate_their_own_office(world):
    with pytest.raises(PermissionDenied):
        update_unit(actor=world.users["office_admin"], unit=world.office, is_active=False)
    rec = Recorder()
    update_unit(actor=world.users["office_admin"], unit=world.discipline, is_active=False)
    assert rec.one("unit_updated").after == {"is_active": False}


@pytest.fixture
def province(world):
    """The city office put under a province office (system set-up), with a second city beside it."""
    province = create_unit(actor=None, name="省整改办", kind=UnitKind.OFFICE)
    move_unit(actor=None, unit=world.office, parent=province)
    city_b = create_unit(actor=None, name="乙市整改办", kind=UnitKind.OFFICE, parent=province)
    province_admin = create_user(actor=None, username="prov_admin", password=PASSWORD, role=Role.OFFICE_ADMIN,
                                 unit=province, must_change_password=False)
    city_b_admin = create_user(actor=None, username="b_admin", password=PASSWORD, role=Role.OFFICE_ADMIN,
                               unit=city_b, must_change_password=False)
    for unit in (world.office, world.county_a, world.county_b):
        unit.refresh_from_db()
    return province, city_b, province_admin, city_b_admin


def test_moving_a_subtree_rewrites_every_descendant_path(world, province):
    prov, city_b, province_admin, _ = province
    # The earlier move of the whole city (system set-up) carried every unit along.
    for unit in Unit.objects.exclude(pk__in=[prov.pk, city_b.pk]):
        assert unit.path.startswith(prov.path), unit
    town = create_unit(actor=None, name="零陵区某镇", kind=UnitKind.DEPARTMENT, parent=world.county_a)
    village = create_unit(actor=None, name="零陵区某镇某村", kind=UnitKind.DEPARTMENT, parent=town)

    rec = Recorder()
    move_unit(actor=province_admin, unit=world.county_a, parent=city_b)
    event = rec.one("unit_moved")
    assert event.actor_id == province_admin.pk
    assert event.before["parent"] == world.office.name and event.after["parent"] == city_b.name
    assert event.after["units_repathed"] == 3
    world.county_a.refresh_from_db()
    town.refresh_from_db()
    village.refresh_from_db()
    assert world.county_a.parent_id == city_b.pk
    assert world.county_a.path == f"{city_b.path}{world.county_a.pk:05d}."
    assert town.path == f"{world.county_a.path}{town.pk:05d}."
    assert village.path == f"{town.path}{village.pk:05d}."
    assert event.after["path"] == world.county_a.path and event.before["path"] != world.county_a.path


def test_a_moved_county_leaves_the_first_office_s_ledger(world, province):
    prov, city_b, province_admin, city_b_admin = province
    campaign = ledger.create_campaign(actor=province_admin, code="P-2026", name="省级督察反馈问题", kind="provincial")
    task = ledger.create_task(actor=province_admin, campaign=campaign, data=ledger.TaskInput(
        code="P-01", title="零陵区饮用水源地整治", problem="问题。", target="目标", category=Category.WATER,
        responsible_units=[world.county_a], deadline_kind=DeadlineKind.BY_DATE, deadline=dt.date(2027, 6, 30),
        measures=[ledger.MeasureInput(text="整治")]))
    city_a_admin, reporter = world.users["office_admin"], world.users["reporter_a"]
    assert Task.objects.visible_to(city_a_admin).filter(pk=task.pk).exists()
    assert not Task.objects.visible_to(city_b_admin).filter(pk=task.pk).exists()
    assert Unit.objects.actionable_by(city_a_admin, "manage").filter(pk=world.county_a.pk).exists()
    assert User.objects.actionable_by(city_a_admin, "manage").filter(pk=reporter.pk).exists()

    move_unit(actor=province_admin, unit=world.county_a, parent=city_b)

    assert not Task.objects.visible_to(city_a_admin).filter(pk=task.pk).exists()
    assert Task.objects.visible_to(city_b_admin).filter(pk=task.pk).exists()
    assert Task.objects.visible_to(User.objects.get(pk=reporter.pk)).filter(pk=task.pk).exists()
    assert not Unit.objects.actionable_by(city_a_admin, "manage").filter(pk=world.county_a.pk).exists()
    assert not User.objects.actionable_by(city_a_admin, "manage").filter(pk=reporter.pk).exists()
    with pytest.raises(PermissionDenied):  # its accounts are no longer the first office's to manage
        set_user_active(actor=city_a_admin, user=reporter, active=False)


def test_a_unit_cannot_move_under_itself_or_its_descendants(world):
    town = create_unit(actor=None, name="零陵区某镇", kind=UnitKind.DEPARTMENT, parent=world.county_a)
    admin = world.users["office_admin"]
    for parent in (world.county_a, town):
        with pytest.raises(ValidationError):
            move_unit(actor=admin, unit=world.county_a, parent=parent)
    with pytest.raises(ValidationError):
        move_unit(actor=None, unit=world.office, parent=town)
    with pytest.raises(ValidationError):  # already there
        move_unit(actor=admin, unit=world.county_a, parent=world.office)
    assert not Event.objects.filter(action="unit_moved").exists()


def test_save_refuses_a_move_that_would_leave_stale_paths(world):
    unit = Unit.objects.get(pk=world.county_a.pk)
    unit.parent = world.dept_env
    with pytest.raises(ValueError, match="move_unit"):
        unit.save()
    unit = Unit.objects.get(pk=world.county_a.pk)
    unit.short_name = "零陵"
    unit.save()  # other fields save as usual


# ---- users and roles ---------------------------------------------------------------------------


def test_create_user_checks_the_actor(world, other_office):
    admin = world.users["office_admin"]
    rec = Recorder()
    user = create_user(actor=admin, username="rep_a2", password=PASSWORD, role=Role.REPORTER, unit=world.county_a)
    event = rec.one("user_created")
    assert event.actor_id == admin.pk and event.after["role"] == Role.REPORTER and event.after["unit"] == "零陵区"
    assert "password" not in json.dumps(event.after) and user.must_change_password
    for name, actor in refused_actors(world, other_office).items():
        with pytest.raises(PermissionDenied):
            create_user(actor=actor, username=f"x_{name}", password=PASSWORD, role=Role.REPORTER, unit=world.county_a)
    with pytest.raises(ValidationError):
        create_user(actor=admin, username="rep_a2", password=PASSWORD, role=Role.REPORTER, unit=world.county_a)
    with pytest.raises(ValidationError):  # only leaders belong to no unit
        create_user(actor=admin, username="nounit", password=PASSWORD, role=Role.REPORTER, unit=None)
    with pytest.raises(ValidationError):  # office roles belong to the office
        create_user(actor=admin, username="fake_admin", password=PASSWORD, role=Role.OFFICE_ADMIN, unit=world.county_a)


def test_a_role_change_is_its_own_event(world):
    admin, user = world.users["office_admin"], world.users["reporter_a"]
    rec = Recorder()
    update_user(actor=admin, user=user, role=Role.REVIEWER)
    event = rec.one("user_role_changed")
    assert event.actor_id == admin.pk and event.object_id == str(user.pk)
    assert "角色变更 reporter → reviewer" in event.summary
    assert event.before == {"role": "reporter"} and event.after == {"role": "reviewer"}
    assert User.objects.get(pk=user.pk).role == Role.REVIEWER

    rec = Recorder()
    update_user(actor=admin, user=user, display_name="零陵新填报员", title="科员")
    event = rec.one("user_updated")
    assert event.before["display_name"] == "零陵填报员" and event.after["title"] == "科员"

    rec = Recorder()  # both at once: two events, each saying what it is
    update_user(actor=admin, user=user, unit=world.county_b, role=Role.REPORTER)
    assert rec.actions() == ["user_updated", "user_role_changed"]
    assert rec.events[0].before["unit"] == "零陵区" and rec.events[0].after["unit"] == "祁阳市"


def test_account_writes_refused_outside_permission(world, other_office):
    target = world.users["reporter_a"]
    for actor in refused_actors(world, other_office).values():
        for call in (lambda a: update_user(actor=a, user=target, role=Role.REVIEWER),
                     lambda a: set_user_active(actor=a, user=target, active=False),
                     lambda a: reset_password(actor=a, user=target),
                     lambda a: unlock_user(actor=a, user=target)):
            with pytest.raises(PermissionDenied):
                call(actor)
    with pytest.raises(PermissionDenied):  # a new unit outside the actor's tree
        update_user(actor=world.users["office_admin"], user=target, unit=other_office[0])
    for call in (lambda: update_user(actor=None, user=target, role=Role.REVIEWER),  # not set-up work
                 lambda: set_user_active(actor=None, user=target, active=False),
                 lambda: reset_password(actor=None, user=target), lambda: unlock_user(actor=None, user=target)):
        with pytest.raises(PermissionDenied):
            call()
    assert not Event.objects.filter(action__in=["user_updated", "user_role_changed", "user_deactivated",
                                                "password_reset", "account_unlocked"]).exists()


def test_separation_of_duties_nobody_changes_their_own_permissions(world):
    admin = world.users["office_admin"]
    with pytest.raises(PermissionDenied):
        update_user(actor=admin, user=admin, role=Role.OFFICE_STAFF)
    with pytest.raises(PermissionDenied):
        update_user(actor=admin, user=admin, unit=world.county_a)
    with pytest.raises(PermissionDenied):
        set_user_active(actor=admin, user=admin, active=False)
    with pytest.raises(PermissionDenied):
        reset_password(actor=admin, user=admin)
    with pytest.raises(PermissionDenied):
        unlock_user(actor=admin, user=admin)
    update_user(actor=admin, user=admin, title="主任")  # their own name and title are fine
    assert User.objects.get(pk=admin.pk).role == Role.OFFICE_ADMIN


def test_deactivation_ends_access_and_is_reversible(world):
    admin, user = world.users["office_admin"], world.users["reporter_a"]
    client = world.client("reporter_a")
    assert client.get("/ledger/").status_code == 200
    rec = Recorder()
    set_user_active(actor=admin, user=user, active=False)
    event = rec.one("user_deactivated")
    assert event.actor_id == admin.pk and event.before == {"is_active": True} and event.after == {"is_active": False}
    assert client.get("/ledger/").status_code == 302  # the open session no longer works
    assert not Client().login(username="rep_a", password=PASSWORD)
    with pytest.raises(ValidationError):
        set_user_active(actor=admin, user=user, active=False)
    rec = Recorder()
    set_user_active(actor=admin, user=user, active=True)
    rec.one("user_reactivated")
    assert Client().login(username="rep_a", password=PASSWORD)


def test_reset_password_sets_a_temporary_password_to_change_at_next_login(world):
    admin, user = world.users["office_admin"], world.users["reporter_a"]
    old_session = world.client("reporter_a")
    rec = Recorder()
    temporary = reset_password(actor=admin, user=user)
    event = rec.one("password_reset")
    assert event.actor_id == admin.pk and event.object_id == str(user.pk) and temporary not in event.summary
    user.refresh_from_db()
    assert user.must_change_password and user.check_password(temporary)
    assert old_session.get("/ledger/").status_code == 302  # sessions of the old password end
    client = Client()
    response = client.post("/accounts/login/", {"username": "rep_a", "password": temporary})
    assert response.status_code == 302
    assert "password" in client.get("/ledger/")["Location"]  # must change it before anything else


def test_unlock_needs_an_account_manager(world, other_office):
    admin, user = world.users["office_admin"], world.users["reporter_a"]
    until = timezone.now() + dt.timedelta(minutes=15)
    User.objects.filter(pk=user.pk).update(locked_until=until, failed_logins=0)
    with pytest.raises(PermissionDenied):
        unlock_user(actor=other_office[1], user=user)
    with pytest.raises(PermissionDenied):
        unlock_user(actor=world.users["office_staff"], user=user)
    rec = Recorder()
    unlock_user(actor=admin, user=user)
    event = rec.one("account_unlocked")
    assert event.actor_id == admin.pk and event.before["locked_until"] and event.after["locked_until"] is None
    assert User.objects.get(pk=user.pk).locked_until is None


# ---- leader assignments ------------------------------------------------------------------------


def test_leader_areas_decide_what_a_leader_sees_and_are_on_the_record(world):
    admin, leader = world.users["office_admin"], world.users["leader_a"]
    assert not Task.objects.visible_to(leader).filter(pk=world.task_b.pk).exists()
    rec = Recorder()
    assignment = assign_leader_area(actor=admin, leader=leader, county=world.county_b)
    event = rec.one("leader_area_assigned")
    assert event.actor_id == admin.pk and event.object_id == str(leader.pk)
    assert event.after["county"] == "祁阳市" and "包县市区 祁阳市" in event.summary
    assert Task.objects.visible_to(leader).filter(pk=world.task_b.pk).exists()

    rec = Recorder()
    sector = assign_leader_area(actor=admin, leader=leader, sector=Category.MINES)
    assert rec.one("leader_area_assigned").after["sector"] == Category.MINES

    rec = Recorder()
    remove_leader_area(actor=admin, assignment=assignment)
    event = rec.one("leader_area_removed")
    assert event.before["county"] == "祁阳市" and event.after is None
    assert not Task.objects.visible_to(leader).filter(pk=world.task_b.pk).exists()
    remove_leader_area(actor=admin, assignment=sector)
    assert LeaderAssignment.objects.filter(leader=leader).count() == 1  # 零陵区 from the fixture


def test_leader_area_validation_and_permission(world, other_office):
    admin, leader = world.users["office_admin"], world.users["leader_a"]
    with pytest.raises(ValidationError):  # already holds it
        assign_leader_area(actor=admin, leader=leader, county=world.county_a)
    with pytest.raises(ValidationError):
        assign_leader_area(actor=admin, leader=world.users["reporter_a"], county=world.county_b)
    with pytest.raises(ValidationError):
        assign_leader_area(actor=admin, leader=leader, county=world.dept_env)
    with pytest.raises(ValidationError):
        assign_leader_area(actor=admin, leader=leader, county=world.county_b, sector=Category.AIR)
    with pytest.raises(ValidationError):
        assign_leader_area(actor=admin, leader=leader)
    for actor in (world.users["reporter_a"], world.users["leader_a"], world.users["office_staff"]):
        with pytest.raises(PermissionDenied):
            assign_leader_area(actor=actor, leader=leader, county=world.county_b)
    with pytest.raises(PermissionDenied):  # the county is not in the other office's tree
        assign_leader_area(actor=other_office[1], leader=leader, county=world.county_b)
    assignment = LeaderAssignment.objects.get(leader=leader)
    with pytest.raises(PermissionDenied):
        remove_leader_area(actor=world.users["reporter_a"], assignment=assignment)


# ---- API tokens --------------------------------------------------------------------------------


def test_token_issued_by_a_manager_names_operator_and_holder(world):
    admin, holder = world.users["office_admin"], world.users["reporter_a"]
    rec = Recorder()
    key = issue_api_token(actor=admin, user=holder, name="数据同步")
    event = rec.one("api_token_issued")
    assert event.actor_id == admin.pk and event.actor_name == "admin1"
    assert event.object_id == str(holder.pk)
    assert event.after["holder"] == "rep_a" and event.after["issued_by"] == "admin1"
    assert "admin1 为 rep_a 签发" in event.summary and key not in json.dumps(event.after)
    assert user_for_token(key) == holder


def test_token_issue_and_revoke_permissions(world, other_office):
    holder = world.users["reporter_a"]
    own = issue_api_token(actor=holder, user=holder, name="本人脚本")  # the holder themselves
    assert Event.objects.filter(action="api_token_issued").latest("seq").actor_id == holder.pk
    for actor in (world.users["reporter_b"], world.users["office_staff"], world.users["leader_a"], other_office[1]):
        with pytest.raises(PermissionDenied):
            issue_api_token(actor=actor, user=holder, name="越权")
    with pytest.raises(PermissionDenied):
        issue_api_token(actor=None, user=holder, name="无操作人")
    token = ApiToken.objects.get(user=holder)
    with pytest.raises(PermissionDenied):
        revoke_api_token(actor=world.users["reporter_b"], token=token)
    rec = Recorder()
    revoke_api_token(actor=world.users["office_admin"], token=token)
    event = rec.one("api_token_revoked")
    assert event.actor_id == world.users["office_admin"].pk and event.after["holder"] == "rep_a"
    assert user_for_token(own) is None
    with pytest.raises(ValidationError):
        revoke_api_token(actor=holder, token=token)


def test_cli_token_acts_as_an_authenticated_operator(world, monkeypatch, capsys):
    monkeypatch.setenv("RECTIFY_OPERATOR_PASSWORD", PASSWORD)
    rec = Recorder()
    assert rectify(["token", "rep_a", "--operator", "admin1", "--name", "同步"]) == 0
    key = capsys.readouterr().out.strip()
    assert user_for_token(key) == world.users["reporter_a"]
    event = rec.one("api_token_issued")
    assert event.actor_id == world.users["office_admin"].pk and "命令行签发，操作系统用户" in event.summary

    # Without --operator the holder issues their own token, after their own password.
    assert rectify(["token", "rep_a"]) == 0
    assert Event.objects.filter(action="api_token_issued").latest("seq").actor_id == world.users["reporter_a"].pk
    capsys.readouterr()

    rec = Recorder()  # another unit's reporter may not issue one for rep_a
    assert rectify(["token", "rep_a", "--operator", "rep_b"]) == 2
    assert "未执行" in capsys.readouterr().err and rec.events == []

    monkeypatch.setenv("RECTIFY_OPERATOR_PASSWORD", "wrong")
    rec = Recorder()
    assert rectify(["token", "rep_a", "--operator", "admin1"]) == 2
    assert rec.actions() == ["login_failed"]  # counts towards the operator's lockout
    assert ApiToken.objects.filter(user=world.users["reporter_a"]).count() == 2


def test_cli_reset_password(world, monkeypatch, capsys):
    monkeypatch.setenv("RECTIFY_OPERATOR_PASSWORD", PASSWORD)
    assert rectify(["reset-password", "rep_a", "--operator", "admin1"]) == 0
    temporary = capsys.readouterr().out.strip().rsplit("：", 1)[1]
    user = User.objects.get(username="rep_a")
    assert user.check_password(temporary) and user.must_change_password
    assert rectify(["reset-password", "rep_b", "--operator", "rep_a"]) == 2


# ---- calendar years ----------------------------------------------------------------------------


def test_entering_a_year_records_day_counts(world):
    admin = world.users["office_admin"]
    first = parse_calendar_text("2030-01-01 元旦 休\n2030-02-02至2030-02-08 春节 休\n2030-02-10 春节调休 班", 2030)
    rec = Recorder()
    enter_year(actor=admin, year=2030, days=first.days)
    event = rec.one("calendar_year_entered")
    assert event.actor_id == admin.pk and event.before is None
    assert (event.after["holidays"], event.after["workdays"]) == (8, 1)

    second = parse_calendar_text("2030-01-01 元旦 休", 2030)
    rec = Recorder()
    enter_year(actor=admin, year=2030, days=second.days, replace=True)
    event = rec.one("calendar_year_entered")
    assert (event.before["holidays"], event.before["workdays"]) == (8, 1)
    assert (event.after["holidays"], event.after["workdays"]) == (1, 0)
    assert "原为放假 8 天，调休上班 1 天" in event.summary
    for persona in ("office_staff", "reporter_a", "leader_a"):
        with pytest.raises(PermissionDenied):
            enter_year(actor=world.users[persona], year=2031, days=parse_calendar_text("2031-01-01 元旦 休", 2031).days)


def test_the_package_seed_is_recorded_once(db):
    seeded = Event.objects.filter(action="calendar_seeded")
    assert seeded.count() == 1  # recorded after the migrations that seeded it (system actor)
    event = seeded.get()
    assert event.actor_id is None and "chinese-calendar" in event.actor_name
    assert event.after["years"] == sorted(CalendarYear.objects.values_list("year", flat=True))
    record_migration_seed()  # migrate again: nothing new
    assert seeded.count() == 1

    CalendarDay.objects.all().delete()
    CalendarYear.objects.all().delete()
    record_migration_seed()  # a flushed table is seeded again, and that is recorded too
    assert seeded.count() == 2 and CalendarYear.objects.exists()


# ---- document numbers --------------------------------------------------------------------------


def test_numbers_share_a_sequence_per_word_and_year(db):
    rec = Recorder()
    assert allocate_number(kind="circular", year=2026, object_type="t.doc", object_id=1) == "整改办通〔2026〕1号"
    assert rec.one("document_number_issued").after["number"] == "整改办通〔2026〕1号"
    assert allocate_number(kind="bulletin", year=2026, object_type="t.doc", object_id=2) == "整改办通〔2026〕2号"
    assert allocate_number(kind="supervision", year=2026, object_type="t.doc", object_id=3) == "整改办督〔2026〕1号"
    assert allocate_number(kind="listed", year=2026, object_type="t.doc", object_id=4) == "整改办挂督〔2026〕1号"
    assert allocate_number(kind="circular", year=2027, object_type="t.doc", object_id=5) == "整改办通〔2027〕1号"
    rec = Recorder()
    assert allocate_number(kind="circular", year=2026, object_type="t.doc", object_id=1) == "整改办通〔2026〕1号"
    assert rec.events == []  # the same document again: the same number, nothing new
    with pytest.raises(ValueError):
        allocate_number(kind="memo", year=2026, object_type="t.doc", object_id=6)
    assert DocumentNumber.objects.count() == 5


def test_escalations_and_tick_warnings_take_numbers_from_the_register(world):
    admin = world.users["office_admin"]
    year = timezone.localdate().year
    due = timezone.localdate() + dt.timedelta(days=10)
    warning = auto_warning(task=world.task_a, trigger=Trigger.DEADLINE_NEAR, key="t:1", reason="临近期限")
    assert warning.doc_number == f"整改办预〔{year}〕1号"
    issued = Event.objects.get(action="document_number_issued", object_id=str(warning.pk))
    assert issued.actor_name == "系统（定时任务）"
    rec = Recorder()
    circular = issue_escalation(actor=admin, task=world.task_b, rung=Rung.CIRCULAR, reason="滞后",
                                target_unit=world.county_b, reply_due=due)
    assert rec.actions() == ["document_number_issued", "escalation_issued"]
    assert all(e.actor_id == admin.pk for e in rec.events)
    assert circular.doc_number == f"整改办通〔{year}〕1号"
    assert DocumentNumber.objects.get(number=circular.doc_number).object_id == str(circular.pk)
    with pytest.raises(ValidationError) as exc:  # a typed number may not repeat an issued one
        issue_escalation(actor=admin, task=world.task_a, rung=Rung.CIRCULAR, reason="滞后", target_unit=world.county_a,
                         reply_due=due, doc_number=circular.doc_number)
    assert "doc_number" in exc.value.message_dict


def _allocate_in_processes(tmp_path, workers: int, each: int) -> list[str]:
    db = tmp_path / "numbers.sqlite3"
    env = {**os.environ, "RECTIFY_DATA_DIR": str(tmp_path)}
    setup = subprocess.run([sys.executable, "-m", "tests.concurrency_worker", "setup", str(db)], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=180)
    assert setup.returncode == 0, setup.stderr
    procs = [subprocess.Popen([sys.executable, "-m", "tests.concurrency_worker", "numbers", str(db), str(w),
                               str(each)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for w in range(workers)]
    numbers = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        numbers += json.loads(out.strip().splitlines()[-1])
    return numbers


def _allocate_in_threads(workers: int, each: int) -> list[str]:
    barrier, results, errors = threading.Barrier(workers), [], []

    def work(w: int) -> None:
        try:
            barrier.wait()
            for i in range(each):
                results.append(allocate_number(kind="circular" if i % 2 else "bulletin", year=2026,
                                               object_type="test.doc", object_id=f"{w}-{i}"))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(w,)) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_allocation_gives_distinct_numbers(tmp_path):
    """Two issuers at once never take the same number: processes on SQLite (its test database lives
    in memory, so the race runs on a file of its own), threads with their own connections on PostgreSQL."""
    workers, each = 2, 20
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        numbers = _allocate_in_processes(tmp_path, workers, each)
    else:
        numbers = _allocate_in_threads(workers, each)
    assert len(numbers) == len(set(numbers)) == workers * each
    seqs = sorted(int(re.search(r"〕(\d+)号", n).group(1)) for n in numbers)
    assert seqs == list(range(1, workers * each + 1))  # one 通 sequence, no gap, no repeat


# ---- rectify manage and createadmin ------------------------------------------------------------


@pytest.mark.parametrize("command, instead", [
    ("shell", "rectify export"), ("dbshell", "rectify verify"), ("createsuperuser", "rectify createadmin"),
    ("changepassword", "rectify reset-password"), ("loaddata", "rectify import"), ("flush", "rectify createadmin"),
    ("dumpdata", "rectify export"), ("startapp", "rectify --help"),
])
def test_manage_refuses_commands_that_change_data(command, instead, capsys):
    assert rectify(["manage", command]) == 2
    err = capsys.readouterr().err
    assert "已停用" in err and instead in err


def test_manage_runs_maintenance_commands(tmp_path, capsys):
    for rest in (["migrate"], ["showmigrations"], ["check", "--deploy"], ["sqlmigrate", "core", "0001"],
                 ["compilemessages"], ["createcachetable"], ["clearsessions"], ["diffsettings"],
                 ["makemigrations", "--check", "--dry-run"]):
        assert manage_refusal(rest) is None, rest
    assert rectify(["manage", "makemigrations"]) == 2  # writing migrations is not an operator's job
    assert "--check" in capsys.readouterr().err
    assert rectify(["manage"]) == 2
    assert "migrate" in capsys.readouterr().err
    # A real run, in a process of its own (Django closes its connections after a command).
    env = {**os.environ, "RECTIFY_DATA_DIR": str(tmp_path), "DATABASE_URL": ""}
    done = subprocess.run([sys.executable, "-m", "rectify.cli", "manage", "check"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "no issues" in done.stdout, done.stdout + done.stderr


def test_createadmin_goes_through_the_services(db, monkeypatch, capsys):
    monkeypatch.setenv("RECTIFY_ADMIN_PASSWORD", "short")
    assert rectify(["createadmin", "chief"]) == 2
    assert not Unit.objects.exists() and not User.objects.exists()  # a refused password leaves nothing
    monkeypatch.setenv("RECTIFY_ADMIN_PASSWORD", PASSWORD)
    rec = Recorder()
    assert rectify(["createadmin", "chief", "--office", "某市整改办"]) == 0
    assert rec.actions() == ["unit_created", "user_created"]
    assert all(e.actor_id is None and e.actor_name == SYSTEM for e in rec.events)
    assert User.objects.get(username="chief").unit.name == "某市整改办"


def test_a_sub_office_manages_only_the_leaders_of_its_own_counties(world):
    """Leaders belong to no unit: the office whose tree holds a leader's county manages that leader."""
    from rectify.orgs.models import UnitKind, User
    from rectify.orgs.services import create_unit, create_user

    other_office = create_unit(actor=None, name="另一市整改办", kind=UnitKind.OFFICE)
    other_county = create_unit(actor=None, name="另一县", kind=UnitKind.COUNTY, parent=other_office)
    other_admin = create_user(actor=None, username="other_admin", password=PASSWORD, role="office_admin",
                              unit=other_office, display_name="另一市管理员", must_change_password=False)
    other_leader = create_user(actor=None, username="other_leader", password=PASSWORD, role="leader", unit=None,
                               display_name="另一市领导", must_change_password=False)
    from rectify.orgs.models import LeaderAssignment

    LeaderAssignment.objects.create(leader=other_leader, county=other_county)
    ours = set(User.objects.visible_to(world.users["office_admin"]).values_list("username", flat=True))
    theirs = set(User.objects.visible_to(other_admin).values_list("username", flat=True))
    assert "leader_a" in ours and "other_leader" not in ours
    assert "other_leader" in theirs and "leader_a" not in theirs
