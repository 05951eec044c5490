"""Office administration in the UI (账号与单位管理, /accounts/admin/) through HTTP, and the separation
of duties (三员分立, SECURITY.md #12): the system administrator manages accounts but approves no
report and acts on no workflow; the security administrator locks, unlocks and resets but creates
nothing; the auditor changes nothing. Django admin stays closed."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import Client

from rectify.core.models import Event
from rectify.dispatch import services as dispatch
from rectify.dispatch.models import ProgressReport, ReportStatus
from rectify.ledger import services as ledger
from rectify.ledger.models import Task
from rectify.orgs import services
from rectify.orgs.models import ApiToken, LeaderAssignment, Role, Unit, UnitKind, User
from tests.conftest import PASSWORD

ADMIN = "/accounts/admin"


@pytest.fixture
def admins(world):
    """The 三员: a system administrator and a security administrator of the city office (the auditor
    is a persona of the world already)."""
    sysadmin = services.create_user(actor=None, username="sysadmin1", password=PASSWORD, role=Role.SYSTEM_ADMIN,
                                    unit=world.office, display_name="系统管理员", must_change_password=False)
    secadmin = services.create_user(actor=None, username="secadmin1", password=PASSWORD, role=Role.SECURITY_ADMIN,
                                    unit=world.office, display_name="安全管理员", must_change_password=False)
    world.users["system_admin"] = sysadmin
    world.users["security_admin"] = secadmin
    return world


def login(username: str, password: str) -> tuple[Client, int]:
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": password})
    return client, response.status_code


def temporary_password_of(response) -> str:
    match = re.search(r'<code class="secret">([^<]+)</code>', response.content.decode())
    assert match, response.content.decode()[:2000]
    return match.group(1).replace("&amp;", "&").replace("&#x27;", "'").replace("&quot;", '"')


# --- Django admin stays closed --------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/admin/", "/admin/login/", "/admin/orgs/user/"])
def test_django_admin_is_not_mounted(world, path):
    assert Client().get(path).status_code == 404
    assert world.client("office_admin").get(path).status_code == 404


# --- accounts -------------------------------------------------------------------------------------


def test_system_admin_creates_an_account_that_logs_in_and_must_change_its_password(admins):
    client = admins.client("system_admin")
    page = client.get(f"{ADMIN}/users/new/")
    assert page.status_code == 200 and "新增账户" in page.content.decode()
    response = client.post(f"{ADMIN}/users/new/", {"username": "lingling2", "display_name": "零陵新填报员",
                                                   "title": "联络员", "role": Role.REPORTER,
                                                   "unit": admins.county_a.pk})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    temporary = temporary_password_of(response)
    created = User.objects.get(username="lingling2")
    assert created.role == Role.REPORTER and created.unit == admins.county_a and created.must_change_password
    event = Event.objects.get(action="user_created", object_id=str(created.pk))
    assert event.actor_name == "sysadmin1"
    # the new account logs in with the temporary password and is sent to change it first
    user_client, status = login("lingling2", temporary)
    assert status == 302
    forced = user_client.get("/ledger/")
    assert forced.status_code == 302 and forced["Location"].startswith("/accounts/password/")
    changed = user_client.post("/accounts/password/", {"old_password": temporary, "new_password1": "Xiang#River-2031",
                                                       "new_password2": "Xiang#River-2031"})
    assert changed.status_code == 302
    assert user_client.get("/ledger/").status_code == 200


def test_a_duplicate_username_gets_a_chinese_error_and_nothing_is_written(admins):
    before = User.objects.count()
    response = admins.client("system_admin").post(f"{ADMIN}/users/new/", {
        "username": "rep_a", "role": Role.REPORTER, "unit": admins.county_a.pk})
    assert response.status_code == 200
    assert "用户名 rep_a 已存在。" in response.content.decode()
    assert User.objects.count() == before
    # an office role outside an office: the service's own message, on the form
    response = admins.client("system_admin").post(f"{ADMIN}/users/new/", {
        "username": "newstaff", "role": Role.OFFICE_STAFF, "unit": admins.county_a.pk})
    assert "整改办角色的账户须属于整改办。" in response.content.decode()
    assert User.objects.count() == before


def test_user_list_filters_by_unit_role_state_and_search(admins):
    client = admins.client("system_admin")
    services.lock_user(actor=admins.users["system_admin"], user=admins.users["reporter_b"])

    def names(query: str) -> set[str]:
        response = client.get(f"{ADMIN}/users/?{query}")
        assert response.status_code == 200
        return set(re.findall(r'/accounts/admin/users/\d+/">([^<]+)</a>', response.content.decode()))

    everyone = names("")
    assert {"admin1", "rep_a", "rep_b", "leader_a", "audit1", "sysadmin1"} <= everyone
    assert names(f"unit={admins.county_a.pk}") == {"rep_a", "rev_a"}
    assert names("role=reviewer") == {"rev_a"}
    assert names("state=locked") == {"rep_b"}
    assert "rep_b" not in names("state=active")
    assert names("q=零陵") == {"rep_a", "rev_a", "leader_a"}  # 零陵填报员, 零陵审核员, 包零陵市领导
    assert client.get(f"{ADMIN}/users/?q={'x' * 51}").status_code == 200  # too long: ignored, not an error


def test_edit_changes_role_and_records_it(admins):
    reporter = admins.users["reporter_a"]
    response = admins.client("system_admin").post(f"{ADMIN}/users/{reporter.pk}/", {
        "display_name": "零陵审核员二", "title": "", "role": Role.REVIEWER, "unit": admins.county_a.pk})
    assert response.status_code == 302
    reporter.refresh_from_db()
    assert reporter.role == Role.REVIEWER and reporter.display_name == "零陵审核员二"
    assert Event.objects.filter(action="user_role_changed", object_id=str(reporter.pk)).exists()


def test_lock_refuses_login_and_ends_the_open_session_until_unlocked(admins):
    reporter = admins.users["reporter_a"]
    open_session = admins.client("reporter_a")
    assert open_session.get("/ledger/").status_code == 200
    response = admins.client("system_admin").post(f"{ADMIN}/users/{reporter.pk}/lock/", {"reason": "疑似口令泄露"})
    assert response.status_code == 302
    _, status = login("rep_a", PASSWORD)
    assert status == 200  # the login form again: refused
    assert open_session.get("/ledger/").status_code == 302  # the session no longer authenticates
    assert Event.objects.filter(action="account_locked_by_admin", object_id=str(reporter.pk)).exists()
    page = admins.client("system_admin").get(f"{ADMIN}/users/{reporter.pk}/").content.decode()
    assert "由管理员锁定" in page
    assert admins.client("system_admin").post(f"{ADMIN}/users/{reporter.pk}/unlock/").status_code == 302
    _, status = login("rep_a", PASSWORD)
    assert status == 302


def test_reset_shows_a_temporary_password_once_that_must_be_changed(admins):
    reporter = admins.users["reporter_a"]
    client = admins.client("system_admin")
    assert client.get(f"{ADMIN}/users/{reporter.pk}/reset-password/").status_code == 405  # POST only
    response = client.post(f"{ADMIN}/users/{reporter.pk}/reset-password/")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    temporary = temporary_password_of(response)
    assert temporary not in client.get(f"{ADMIN}/users/{reporter.pk}/").content.decode()  # shown once
    _, status = login("rep_a", PASSWORD)
    assert status == 200  # the old password is gone
    user_client, status = login("rep_a", temporary)
    assert status == 302
    assert user_client.get("/dispatch/")["Location"].startswith("/accounts/password/")


def test_deactivate_and_reactivate(admins):
    reporter = admins.users["reporter_b"]
    client = admins.client("system_admin")
    assert client.post(f"{ADMIN}/users/{reporter.pk}/active/", {"active": "0"}).status_code == 302
    reporter.refresh_from_db()
    assert not reporter.is_active
    _, status = login("rep_b", PASSWORD)
    assert status == 200
    again = client.post(f"{ADMIN}/users/{reporter.pk}/active/", {"active": "0"}, follow=True)
    assert "已是停用状态" in again.content.decode()  # the service's message, shown as it is
    assert client.post(f"{ADMIN}/users/{reporter.pk}/active/", {"active": "1"}).status_code == 302
    _, status = login("rep_b", PASSWORD)
    assert status == 302


def test_nobody_locks_or_deactivates_themselves(admins):
    me = admins.users["system_admin"]
    client = admins.client("system_admin")
    assert client.post(f"{ADMIN}/users/{me.pk}/lock/").status_code == 403
    assert client.post(f"{ADMIN}/users/{me.pk}/active/", {"active": "0"}).status_code == 403
    me.refresh_from_db()
    assert me.is_active and not me.locked_until


# --- units ----------------------------------------------------------------------------------------


def test_unit_tree_shows_codes_and_aliases_and_units_are_created_and_moved(admins):
    client = admins.client("system_admin")
    tree = client.get(f"{ADMIN}/units/").content.decode()
    assert "431102" in tree and "零陵区人民政府" in tree and "431181" in tree
    response = client.post(f"{ADMIN}/units/new/", {
        "parent": admins.office.pk, "name": "东安县", "short_name": "东安", "aliases": "东安县人民政府，东安",
        "kind": UnitKind.COUNTY, "county_kind": "县", "region_code": "431122", "sort_order": 5, "is_active": "on"})
    assert response.status_code == 302, response.content.decode()[:3000]
    dongan = Unit.objects.get(name="东安县")
    assert dongan.parent == admins.office and dongan.region_code == "431122" and dongan.aliases == "东安县人民政府,东安"
    # a bad code: the service's message on the field, nothing written
    bad = client.post(f"{ADMIN}/units/new/", {"parent": admins.office.pk, "name": "双牌县", "kind": UnitKind.COUNTY,
                                               "region_code": "43１１23", "sort_order": 0})
    assert "行政区划代码须为 6 位数字" in bad.content.decode() and not Unit.objects.filter(name="双牌县").exists()
    # edit
    response = client.post(f"{ADMIN}/units/{dongan.pk}/", {
        "name": "东安县", "short_name": "东安", "aliases": "东安", "kind": UnitKind.COUNTY, "county_kind": "县",
        "region_code": "431122", "sort_order": 6, "is_active": "on"})
    assert response.status_code == 302
    # move a department under the new county: its accounts follow
    env = admins.dept_env
    response = client.post(f"{ADMIN}/units/{env.pk}/move/", {"parent": dongan.pk})
    assert response.status_code == 302
    env.refresh_from_db()
    assert env.parent_id == dongan.pk and env.path.startswith(dongan.path)
    # a unit under itself is refused with the service's reason
    loop = client.post(f"{ADMIN}/units/{dongan.pk}/move/", {"parent": env.pk})
    assert loop.status_code == 200 and "不能把「东安县」移到它自己或其下级单位" in loop.content.decode()
    dongan.refresh_from_db()
    assert dongan.parent_id == admins.office.pk
    assert Event.objects.filter(action="unit_moved").count() == 1


# --- leader areas ---------------------------------------------------------------------------------


def test_leader_areas_are_added_and_removed(admins):
    leader = admins.users["leader_a"]
    client = admins.client("system_admin")
    listing = client.get(f"{ADMIN}/leaders/").content.decode()
    assert "包零陵市领导" in listing and "零陵区" in listing
    assert client.post(f"{ADMIN}/leaders/{leader.pk}/", {"county": admins.county_b.pk}).status_code == 302
    assert client.post(f"{ADMIN}/leaders/{leader.pk}/", {"sector": "air"}).status_code == 302
    assert set(LeaderAssignment.objects.filter(leader=leader).values_list("county__name", "sector")) == {
        ("零陵区", ""), ("祁阳市", ""), (None, "air")}
    both = client.post(f"{ADMIN}/leaders/{leader.pk}/", {"county": admins.county_b.pk, "sector": "water"})
    assert "二者选一" in both.content.decode()
    again = client.post(f"{ADMIN}/leaders/{leader.pk}/", {"county": admins.county_b.pk})
    assert "已包县市区 祁阳市" in again.content.decode()
    area = LeaderAssignment.objects.get(leader=leader, county=admins.county_b)
    assert client.post(f"{ADMIN}/areas/{area.pk}/remove/").status_code == 302
    assert not LeaderAssignment.objects.filter(pk=area.pk).exists()
    assert Event.objects.filter(action="leader_area_removed", object_id=str(leader.pk)).exists()
    # not a leader: 404
    assert client.get(f"{ADMIN}/leaders/{admins.users['reporter_a'].pk}/").status_code == 404


# --- API tokens -----------------------------------------------------------------------------------


def test_token_revoked_on_the_page_is_refused_by_the_api(admins):
    holder = admins.users["reporter_a"]
    key = services.issue_api_token(actor=holder, user=holder, name="数据对接")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.get("/api/v1/tasks").status_code == 200
    client = admins.client("system_admin")
    listing = client.get(f"{ADMIN}/tokens/").content.decode()
    assert "数据对接" in listing and "rep_a" in listing
    token = ApiToken.objects.get(user=holder)
    assert client.post(f"{ADMIN}/tokens/{token.pk}/revoke/").status_code == 302
    assert api.get("/api/v1/tasks").status_code == 401
    assert "已吊销" in client.get(f"{ADMIN}/tokens/?state=revoked").content.decode()
    again = client.post(f"{ADMIN}/tokens/{token.pk}/revoke/", follow=True)
    assert "已吊销" in again.content.decode()


# --- who may: 三员分立 -------------------------------------------------------------------------------

WRITES = ["/users/new/", "/users/{u}/", "/users/{u}/lock/", "/users/{u}/unlock/", "/users/{u}/active/",
          "/users/{u}/reset-password/", "/units/new/", "/units/{unit}/", "/units/{unit}/move/", "/leaders/{leader}/",
          "/areas/{area}/remove/", "/tokens/{token}/revoke/"]
PAGES = ["/users/", "/units/", "/leaders/", "/tokens/", "/security/"]


def _fill(world, template: str) -> str:
    holder = world.users["reporter_a"]
    token = ApiToken.objects.filter(user=holder).first()
    if token is None:
        services.issue_api_token(actor=holder, user=holder, name="t")
        token = ApiToken.objects.get(user=holder)
    return ADMIN + template.format(u=holder.pk, unit=world.county_a.pk, leader=world.users["leader_a"].pk,
                                   area=LeaderAssignment.objects.filter(leader=world.users["leader_a"]).first().pk,
                                   token=token.pk)


@pytest.mark.parametrize("persona", ["auditor", "office_staff", "reporter_a", "lead_env", "leader_a", "discipline"])
def test_other_roles_are_refused_every_page_and_change(admins, persona):
    client = admins.client(persona)
    pages, writes = [_fill(admins, t) for t in PAGES], [_fill(admins, t) for t in WRITES]
    before = Event.objects.count()
    for url in pages:
        assert client.get(url).status_code == 403, (persona, url)
    for url in writes:
        assert client.post(url, {"active": "0", "parent": admins.office.pk, "sector": "air",
                                                     "name": "x", "kind": "county", "role": "reporter",
                                     "username": "zz"}).status_code == 403, (persona, url)
    assert Event.objects.count() == before  # nothing happened
    assert not User.objects.filter(username="zz").exists() and not Unit.objects.filter(name="x").exists()


def test_check_12_the_auditor_cannot_change_accounts_through_the_services(admins):
    auditor = admins.users["auditor"]
    reporter = admins.users["reporter_a"]
    for call in (lambda: services.lock_user(actor=auditor, user=reporter),
                 lambda: services.unlock_user(actor=auditor, user=reporter),
                 lambda: services.reset_password(actor=auditor, user=reporter),
                 lambda: services.set_user_active(actor=auditor, user=reporter, active=False),
                 lambda: services.update_user(actor=auditor, user=reporter, role=Role.OFFICE_ADMIN),
                 lambda: services.create_user(actor=auditor, username="a2", password=PASSWORD, role=Role.AUDITOR,
                                              unit=admins.office),
                 lambda: services.create_unit(actor=auditor, name="审计处", kind=UnitKind.DEPARTMENT,
                                              parent=admins.office)):
        with pytest.raises(PermissionDenied):
            call()
    # and the record itself is read-only to the auditor: no route writes it
    assert admins.client("auditor").get("/audit/").status_code == 200


def test_security_admin_unlocks_and_resets_but_creates_nothing(admins):
    client = admins.client("security_admin")
    reporter = admins.users["reporter_a"]
    for _ in range(5):
        login("rep_a", "wrong-password")
    reporter.refresh_from_db()
    assert reporter.locked_until is not None
    page = client.get(f"{ADMIN}/users/{reporter.pk}/").content.decode()
    assert "解除锁定" in page and "停用" not in page and 'name="role"' not in page  # no account editing
    assert client.post(f"{ADMIN}/users/{reporter.pk}/unlock/").status_code == 302
    _, status = login("rep_a", PASSWORD)
    assert status == 302
    assert client.post(f"{ADMIN}/users/{reporter.pk}/reset-password/").status_code == 200
    policy = client.get(f"{ADMIN}/security/").content.decode()
    assert "连续 5 次失败锁定 15 分钟" in policy and "尚未修改初始密码或临时密码的账户：1 个" in policy
    # account management is not theirs
    assert client.get(f"{ADMIN}/users/new/").status_code == 403
    assert client.post(f"{ADMIN}/users/{reporter.pk}/", {"role": "office_admin", "unit": admins.office.pk}
                       ).status_code == 403
    assert client.post(f"{ADMIN}/users/{reporter.pk}/active/", {"active": "0"}).status_code == 403
    assert client.get(f"{ADMIN}/units/").status_code == 403
    assert client.get(f"{ADMIN}/tokens/").status_code == 403
    with pytest.raises(PermissionDenied):
        services.update_user(actor=admins.users["security_admin"], user=reporter, role=Role.OFFICE_ADMIN)
    # nor tasks: no ledger page, and the service refuses
    assert client.get("/ledger/tasks/new/").status_code in (403, 404)
    before = Task.objects.count()
    response = client.post("/ledger/tasks/new/", {"code": "X-1", "title": "越权新增"})
    assert response.status_code in (403, 404) and Task.objects.count() == before
    with pytest.raises(PermissionDenied):
        ledger.create_task(actor=admins.users["security_admin"], campaign=admins.campaign, data=ledger.TaskInput(
            code="X-2", title="越权", problem="p", responsible_units=[admins.county_a], deadline_kind="long_term"))
    # the security part of the record, nothing else
    actions = set(Event.objects.visible_to(admins.users["security_admin"]).values_list("action", flat=True))
    assert {"account_unlocked", "login_failed", "password_reset"} <= actions
    assert not actions & {"task_created", "unit_created", "campaign_created"}


def test_check_12_system_admin_cannot_approve_a_report_or_act_on_a_workflow(admins):
    sysadmin = admins.users["system_admin"]
    rnd, _ = dispatch.open_round(actor=admins.users["office_admin"], office=admins.office, period="2026-11",
                                 due_date=dt.date(2026, 12, 10), require_unit_review=False)
    report = ProgressReport.objects.get(round=rnd, task=admins.task_a)
    report = dispatch.transition(actor=admins.users["reporter_a"], report=report, action="submit",
                                 expected_version=report.version,
                                 changes={"progress_text": "完成截污管网 3 公里。", "percent": 40})
    assert report.status == ReportStatus.SUBMITTED
    with pytest.raises((PermissionDenied, Http404)):
        dispatch.transition(actor=sysadmin, report=report, action="accept", expected_version=report.version)
    client = admins.client("system_admin")
    response = client.post(f"/dispatch/reports/{report.pk}/", {"action": "accept", "version": report.version})
    assert response.status_code in (403, 404)
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED
    with pytest.raises(PermissionDenied):
        dispatch.open_round(actor=sysadmin, office=admins.office, period="2026-12", due_date=dt.date(2027, 1, 10))
    assert client.get("/ledger/tasks/new/").status_code in (403, 404)
    assert client.get(f"/ledger/tasks/{admins.task_a.pk}/").status_code == 404
    # no part of the audit record either: only the auditor (and the office, and security) read it
    assert client.get("/audit/").status_code == 404
    assert not Event.objects.visible_to(sysadmin).exists()
    # lands on the administration pages, not the ledger
    assert Client().get("/").status_code == 302
    assert client.get("/")["Location"] == f"{ADMIN}/users/"


def test_strict_separation_takes_account_management_from_the_office_admin(admins, settings):
    reporter = admins.users["reporter_a"]
    assert admins.client("office_admin").get(f"{ADMIN}/users/").status_code == 200  # the default
    settings.OFFICE_ADMIN_MANAGES_ACCOUNTS = False
    client = admins.client("office_admin")
    assert client.get(f"{ADMIN}/users/").status_code == 403
    assert client.post(f"{ADMIN}/users/{reporter.pk}/lock/").status_code == 403
    with pytest.raises(PermissionDenied):
        services.set_user_active(actor=admins.users["office_admin"], user=reporter, active=False)
    # the system administrator still can
    assert admins.client("system_admin").post(f"{ADMIN}/users/{reporter.pk}/lock/").status_code == 302


def test_a_sub_office_administrator_manages_only_its_own_tree(admins):
    """A county-level office (县整改办) under the city office with its own system administrator: the city's
    accounts, units and tokens are 404 to it, its own county works."""
    county_office = services.create_unit(actor=None, name="零陵区整改办", kind=UnitKind.OFFICE, parent=admins.county_a)
    local_admin = services.create_user(actor=None, username="ll_sys", password=PASSWORD, role=Role.SYSTEM_ADMIN,
                                       unit=county_office, must_change_password=False)
    local_staff = services.create_user(actor=None, username="ll_staff", password=PASSWORD, role=Role.OFFICE_STAFF,
                                       unit=county_office, must_change_password=False)
    client = Client()
    client.force_login(local_admin)
    listing = client.get(f"{ADMIN}/users/").content.decode()
    assert "ll_staff" in listing and "rep_a" not in listing and "admin1" not in listing
    city_reporter = admins.users["reporter_a"]
    assert client.get(f"{ADMIN}/users/{city_reporter.pk}/").status_code == 404
    assert client.post(f"{ADMIN}/users/{city_reporter.pk}/lock/").status_code == 404
    assert client.post(f"{ADMIN}/users/{city_reporter.pk}/reset-password/").status_code == 404
    assert client.get(f"{ADMIN}/units/{admins.county_b.pk}/").status_code == 404
    assert client.post(f"{ADMIN}/units/new/", {"parent": admins.office.pk, "name": "越权单位", "kind": "department",
                                               "sort_order": 0}).status_code == 200  # not a choice: form error
    assert not Unit.objects.filter(name="越权单位").exists()
    key = services.issue_api_token(actor=city_reporter, user=city_reporter, name="城区对接")
    token = ApiToken.objects.get(prefix=key[3:11])
    assert "城区对接" not in client.get(f"{ADMIN}/tokens/").content.decode()
    assert client.post(f"{ADMIN}/tokens/{token.pk}/revoke/").status_code == 404
    # its own staff: yes
    assert client.post(f"{ADMIN}/users/{local_staff.pk}/lock/").status_code == 302
    city_reporter.refresh_from_db()
    assert not city_reporter.locked_until


def test_createadmin_can_create_the_system_administrator_first(db, monkeypatch, capsys):
    """A strict 三员分立 install starts with a system administrator, who then creates the rest."""
    from rectify.cli import main as rectify

    monkeypatch.setenv("RECTIFY_ADMIN_PASSWORD", PASSWORD)
    assert rectify(["createadmin", "sys", "--system", "--office", "某市整改办"]) == 0
    assert "已创建系统管理员 sys" in capsys.readouterr().out
    sysadmin = User.objects.get(username="sys")
    assert sysadmin.role == Role.SYSTEM_ADMIN and sysadmin.unit.name == "某市整改办"
    staff = services.create_user(actor=sysadmin, username="chief", password=PASSWORD, role=Role.OFFICE_ADMIN,
                                 unit=sysadmin.unit)
    assert staff.must_change_password


def test_the_administrators_see_no_business_rows(admins):
    """Every model with a scope (``objects.visible_to``) outside accounts and units gives the system and
    security administrators nothing, with a round of reports and a published result in the world."""
    from django.apps import apps

    dispatch.open_round(actor=admins.users["office_admin"], office=admins.office, period="2026-11",
                        due_date=dt.date(2026, 12, 10))
    assert Task.objects.visible_to(admins.users["office_admin"]).exists()  # the rows exist for the office
    own = {"orgs", "core"}  # accounts and units (theirs to manage); the record and calendar (own rules)
    checked = []
    for model in apps.get_models():
        manager = getattr(model, "objects", None)
        if model._meta.app_label in own or not hasattr(manager, "visible_to"):
            continue
        for persona in ("system_admin", "security_admin"):
            assert not manager.visible_to(admins.users[persona]).exists(), (persona, model._meta.label)
        checked.append(model._meta.label)
    assert {"ledger.Task", "dispatch.ProgressReport", "ledger.Campaign"} <= set(checked)


def test_only_the_system_admin_makes_or_changes_the_three_separated_accounts(admins):
    """The office administrator manages accounts by default, but not those of the 三员: it cannot create
    an auditor or a security administrator, turn a reporter into one, edit, switch off, lock or reset
    them. The system administrator can; the security administrator unlocks and resets them."""
    office_admin, sysadmin = admins.users["office_admin"], admins.users["system_admin"]
    auditor, reporter = admins.users["auditor"], admins.users["reporter_a"]
    client = admins.client("office_admin")
    form = client.get(f"{ADMIN}/users/new/").content.decode()
    assert 'value="auditor"' not in form and 'value="system_admin"' not in form and 'value="reporter"' in form
    response = client.post(f"{ADMIN}/users/new/", {"username": "audit2", "role": Role.AUDITOR, "unit": admins.office.pk})
    assert response.status_code == 200 and not User.objects.filter(username="audit2").exists()
    for call in (lambda: services.create_user(actor=office_admin, username="sec2", password=PASSWORD,
                                              role=Role.SECURITY_ADMIN, unit=admins.office),
                 lambda: services.update_user(actor=office_admin, user=reporter, role=Role.AUDITOR,
                                              unit=admins.office),
                 lambda: services.update_user(actor=office_admin, user=auditor, display_name="改名"),
                 lambda: services.set_user_active(actor=office_admin, user=auditor, active=False),
                 lambda: services.lock_user(actor=office_admin, user=sysadmin),
                 lambda: services.reset_password(actor=office_admin, user=auditor)):
        with pytest.raises(PermissionDenied, match="三员分立"):
            call()
    page = client.get(f"{ADMIN}/users/{auditor.pk}/").content.decode()
    assert "只能由系统管理员变更" in page and "重置密码" not in page and 'name="role"' not in page
    assert client.post(f"{ADMIN}/users/{auditor.pk}/active/", {"active": "0"}).status_code == 403
    assert client.post(f"{ADMIN}/users/{auditor.pk}/reset-password/").status_code == 403
    auditor.refresh_from_db()
    assert auditor.is_active and auditor.display_name == "安全审计员"
    # the system administrator can; the security administrator unlocks and resets
    sys_client = admins.client("system_admin")
    assert sys_client.post(f"{ADMIN}/users/new/", {"username": "audit2", "role": Role.AUDITOR,
                                                   "unit": admins.office.pk}).status_code == 200
    assert User.objects.get(username="audit2").role == Role.AUDITOR
    assert sys_client.post(f"{ADMIN}/users/{auditor.pk}/lock/").status_code == 302
    sec_client = admins.client("security_admin")
    assert sec_client.post(f"{ADMIN}/users/{auditor.pk}/unlock/").status_code == 302
    assert sec_client.post(f"{ADMIN}/users/{auditor.pk}/reset-password/").status_code == 200
    with pytest.raises(PermissionDenied):  # editing stays the system administrator's
        services.update_user(actor=admins.users["security_admin"], user=auditor, display_name="改名")
    services.set_user_active(actor=sysadmin, user=admins.users["security_admin"], active=False)
