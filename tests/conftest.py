"""Named personas and a small city, shared by the tests.

The world: the city office (市整改办) with two counties (零陵区, 祁阳市), two departments
(市生态环境局, 市住房和城乡建设局) and the discipline commission; one user per role; one campaign
with a task of each county.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.test import Client

from rectify.ledger import services as ledger
from rectify.ledger.models import Campaign, DeadlineKind, Task
from rectify.orgs.models import Category, Role, Unit, UnitKind, User
from rectify.orgs.services import assign_leader_area, create_unit, create_user

PASSWORD = "Test@Passw0rd-2026"


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    # Hashing strength is not what these tests are about; PBKDF2 at full cost makes them slow.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def no_required_second_factor(settings):
    # Production requires office administrators to enrol a TOTP authenticator at login; the fixture
    # accounts would all be sent to enrolment. tests/test_twofactor.py turns it on per test.
    settings.TOTP_REQUIRED_ROLES = []
    # Tests sign the same account in from many clients; the cap of concurrent sessions would end the
    # earlier ones. tests/test_twofactor.py tests the cap.
    settings.MAX_SESSIONS_PER_USER = 0


@pytest.fixture(autouse=True)
def no_head_log(settings):
    # Test databases are rolled back or flushed between tests, so one head log for the whole run
    # would hold heads that no later database reaches. tests/test_head_log.py turns it on per test.
    settings.AUDIT_HEAD_LOG = None


@pytest.fixture(autouse=True)
def fresh_cache(request):
    # Rate limits live in the shared cache (the database by default); each test starts with none
    # spent. Tests without database access have no cache to clear.
    if {"db", "transactional_db"} & set(request.fixturenames) or request.node.get_closest_marker(
            "django_db"):
        from django.core.cache import cache

        request.getfixturevalue("transactional_db" if "transactional_db" in request.fixturenames else "db")
        cache.clear()
        from django.core.cache import caches

        caches["board"].clear()  # per-process memory: a test's figures never serve the next test
    yield


@pytest.fixture(autouse=True)
def calendar_rechecked_on_writes_only(monkeypatch):
    # The official calendar is cached per process and re-stamped every CHECK_SECONDS to notice
    # other processes' entries. In a test those 30 s could run out between a warm-up request and
    # the measured one, adding a query that pinned counts would take for a query per row. This
    # process's own writes still invalidate it; each test starts cold (its transaction is gone).
    from rectify.core import workdays

    workdays.invalidate()
    monkeypatch.setattr(workdays, "CHECK_SECONDS", float("inf"))
    yield
    workdays.invalidate()


@dataclass
class World:
    office: Unit
    county_a: Unit
    county_b: Unit
    dept_env: Unit
    dept_housing: Unit
    discipline: Unit
    users: dict[str, User]
    campaign: Campaign
    task_a: Task
    task_b: Task

    def client(self, persona: str) -> Client:
        client = Client()
        client.force_login(self.users[persona])
        return client


def make_world() -> World:
    # System set-up (actor=None): the record shows each unit, as it does in a real install.
    office = create_unit(actor=None, name="测试市整改办", kind=UnitKind.OFFICE)
    county_a = create_unit(actor=None, name="零陵区", kind=UnitKind.COUNTY, county_kind="区", region_code="431102",
                           parent=office, aliases="零陵区人民政府")
    county_b = create_unit(actor=None, name="祁阳市", kind=UnitKind.COUNTY, county_kind="县级市", region_code="431181",
                           parent=office)
    dept_env = create_unit(actor=None, name="市生态环境局", kind=UnitKind.DEPARTMENT, parent=office,
                           short_name="生态环境局")
    dept_housing = create_unit(actor=None, name="市住房和城乡建设局", kind=UnitKind.DEPARTMENT, parent=office,
                               short_name="住建局")
    discipline = create_unit(actor=None, name="市纪委监委", kind=UnitKind.DISCIPLINE, parent=office)

    def user(username, role, unit, name):
        return create_user(actor=None, username=username, password=PASSWORD, role=role, unit=unit,
                           display_name=name, must_change_password=False)

    users = {
        "office_admin": user("admin1", Role.OFFICE_ADMIN, office, "办公室管理员"),
        "office_staff": user("staff1", Role.OFFICE_STAFF, office, "办公室干部"),
        "lead_env": user("env1", Role.SUPERVISOR, dept_env, "环保局督导员"),
        "lead_housing": user("housing1", Role.SUPERVISOR, dept_housing, "住建局督导员"),
        "reporter_a": user("rep_a", Role.REPORTER, county_a, "零陵填报员"),
        "reviewer_a": user("rev_a", Role.REVIEWER, county_a, "零陵审核员"),
        "reporter_b": user("rep_b", Role.REPORTER, county_b, "祁阳填报员"),
        "leader_a": user("leader_a", Role.LEADER, None, "包零陵市领导"),
        "discipline": user("jw1", Role.DISCIPLINE, discipline, "纪委干部"),
        "auditor": user("audit1", Role.AUDITOR, office, "安全审计员"),
    }
    assign_leader_area(actor=None, leader=users["leader_a"], county=county_a)
    campaign = ledger.create_campaign(actor=users["office_admin"], code="T-2021", name="第二轮中央生态环境保护督察反馈问题",
                                      kind="central", feedback_date=dt.date(2021, 7, 16))

    def task(code, county, lead, title):
        return ledger.create_task(actor=users["office_admin"], campaign=campaign, data=ledger.TaskInput(
            code=code, title=title, problem=f"{title}的问题描述。", target="按期整改到位", category=Category.WATER,
            responsible_units=[county], lead_supervisor=lead, deadline_kind=DeadlineKind.BY_DATE,
            deadline=dt.date(2026, 12, 31), start_date=dt.date(2021, 7, 16), measures=[ledger.MeasureInput(text="制定整改方案"),
                                                      ledger.MeasureInput(text="完成管网建设")]))

    task_a = task("T-01", county_a, dept_env, "零陵区城区污水管网建设滞后")
    task_b = task("T-02", county_b, dept_housing, "祁阳市垃圾填埋场渗滤液超标")
    return World(office, county_a, county_b, dept_env, dept_housing, discipline, users, campaign, task_a, task_b)


@pytest.fixture
def world(db) -> World:
    return make_world()


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium through Playwright (browser tests call tests.browser.require_chromium first)."""
    from playwright.sync_api import sync_playwright

    from tests.browser import ARGS, CHROMIUM

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def round_due(period: str) -> dt.date:
    """The latest due date a round of ``period`` may have (dispatch.services.check_round_dates):
    tests that want nothing late use it."""
    from rectify.dispatch.services import ROUND_DUE_MONTHS_AFTER

    year, month = map(int, period.split("-"))
    after = year * 12 + month - 1 + ROUND_DUE_MONTHS_AFTER + 1
    return dt.date(after // 12, after % 12 + 1, 1) - dt.timedelta(days=1)
