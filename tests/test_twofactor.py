"""Second factor, sessions and API tokens (SECURITY.md checks 4, 5, 7, 22), through HTTP.

TOTP codes are computed from the authenticator's secret as a phone would (pyotp, the time now), so
each test goes through the real pages: set-up, login, the code step, the session and token pages.
"""

from __future__ import annotations

import datetime as dt
import re
import time

import pyotp
import pytest
from django.test import Client
from django.utils import timezone

from rectify.core.models import Event
from rectify.orgs.models import ApiToken, TotpDevice, User, UserSession
from tests.conftest import PASSWORD

LOGIN = "/accounts/login/"
VERIFY = "/accounts/2fa/"
SETUP = "/accounts/2fa/setup/"


def login(username: str, *, agent: str = "测试浏览器") -> tuple[Client, object]:
    client = Client(HTTP_USER_AGENT=agent)
    return client, client.post(LOGIN, {"username": username, "password": PASSWORD})


def signed_in(client: Client) -> bool:
    return client.get("/ledger/").status_code == 200


def code_for(user: User, offset_steps: int = 0) -> str:
    secret = TotpDevice.objects.get(user=user).secret
    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)


def enrol(client: Client, user: User) -> list[str]:
    assert client.post(SETUP).status_code == 302
    page = client.get(SETUP).content.decode()
    secret = TotpDevice.objects.get(user=user).secret
    assert " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)) in page  # typed by hand when no camera
    assert "<svg" in page  # the QR code
    response = client.post("/accounts/2fa/setup/confirm/", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    codes = re.findall(r"<code>([a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4})</code>", response.content.decode())
    assert len(codes) == 10
    return codes


def test_check_05_enrol_then_login_needs_the_code_and_recovery_codes_work_once(world):
    user = world.users["reporter_a"]
    client, response = login(user.username)
    assert response.status_code == 302 and signed_in(client)
    codes = enrol(client, user)
    device = TotpDevice.objects.get(user=user)
    assert device.confirmed_at is not None
    # the secret is SM4-encrypted at rest: the raw column is not the secret
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM orgs_totpdevice WHERE id = %s", [device.pk])
        raw = cursor.fetchone()[0]
    assert raw.startswith("sm4gcm:") and device.secret not in raw
    assert Event.objects.filter(action="totp_enrolled", object_id=str(user.pk)).exists()

    # the password alone no longer signs in
    fresh, response = login(user.username)
    assert response.status_code == 302 and response["Location"] == VERIFY
    assert not signed_in(fresh)
    # a wrong code is refused (and recorded)
    response = fresh.post(VERIFY, {"code": "000000" if code_for(user) != "000000" else "111111"})
    assert response.status_code == 200 and "不正确" in response.content.decode()
    assert not signed_in(fresh)
    assert Event.objects.filter(action="totp_failed", object_id=str(user.pk), success=False).exists()
    # a recovery code works once
    response = fresh.post(VERIFY, {"code": codes[0].upper()})
    assert response.status_code == 302 and signed_in(fresh)
    assert Event.objects.filter(action="recovery_code_used", object_id=str(user.pk)).exists()
    again, _ = login(user.username)
    assert again.post(VERIFY, {"code": codes[0]}).status_code == 200
    assert not signed_in(again)
    # the current code works, once: a replay within the same step is refused
    # the code of the enrolment's step was used to confirm it; the next step's (one step of clock
    # drift is allowed) has not been
    code = code_for(user, 1)
    assert again.post(VERIFY, {"code": code}).status_code == 302 and signed_in(again)
    assert Event.objects.filter(action="totp_verified", object_id=str(user.pk)).exists()
    replay, _ = login(user.username)
    assert replay.post(VERIFY, {"code": code}).status_code == 200
    assert not signed_in(replay)


def test_check_05_a_required_role_is_sent_to_enrol_before_anything_else(world, settings):
    settings.TOTP_REQUIRED_ROLES = ["office_admin", "security_admin"]
    admin = world.users["office_admin"]
    client, response = login(admin.username)
    assert response.status_code == 302
    response = client.get("/ledger/")
    assert response.status_code == 302 and response["Location"].startswith(SETUP)
    assert client.get("/api/v1/tasks").status_code == 403
    assert "须启用动态口令" in client.get(SETUP).content.decode()
    enrol(client, admin)
    assert signed_in(client)
    # a role not in the list is not asked
    other, _ = login(world.users["reporter_a"].username)
    assert signed_in(other)


def test_a_login_that_skipped_the_code_step_is_ended(world):
    """Any other login path (the Django admin's form, a forgotten view) signs in without the code
    step; the next request ends that session."""
    user = world.users["reporter_a"]
    client, _ = login(user.username)
    enrol(client, user)
    other = Client()
    other.force_login(user)
    response = other.get("/ledger/")
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert not signed_in(other)


def test_wrong_codes_are_rate_limited(world, settings):
    settings.TOTP_MAX_ATTEMPTS = 3
    user = world.users["reporter_a"]
    client, _ = login(user.username)
    enrol(client, user)
    fresh, _ = login(user.username)
    wrong = "000000" if code_for(user) != "000000" else "111111"
    for _ in range(3):
        assert fresh.post(VERIFY, {"code": wrong}).status_code == 200
    assert fresh.post(VERIFY, {"code": code_for(user, 1)}).status_code == 429  # even a right one now
    assert not signed_in(fresh)


def test_the_pending_step_expires_and_needs_the_password(world):
    user = world.users["reporter_a"]
    assert Client().get(VERIFY).status_code == 302  # nothing pending: back to the login
    client, _ = login(user.username)
    enrol(client, user)
    fresh, _ = login(user.username)
    session = fresh.session
    session["pending_2fa"]["at"] -= 600
    session.save()
    response = fresh.post(VERIFY, {"code": code_for(user, 1)})
    assert response.status_code == 302 and response["Location"] == LOGIN


def test_security_admin_resets_a_users_second_factor(world, settings):
    user, admin = world.users["reporter_a"], world.users["office_admin"]
    client, _ = login(user.username)
    enrol(client, user)
    manager, _ = login(admin.username)
    page = manager.get(f"/accounts/users/{user.pk}/security/")
    assert page.status_code == 200 and "已启用" in page.content.decode()
    # the user cannot reset it for themselves; another user of the county sees no such page
    assert client.get(f"/accounts/users/{user.pk}/security/").status_code == 403
    assert client.post(f"/accounts/users/{user.pk}/2fa/reset/").status_code == 404
    assert manager.post(f"/accounts/users/{user.pk}/2fa/reset/").status_code == 302
    assert not TotpDevice.objects.filter(user=user).exists()
    assert Event.objects.filter(action="totp_reset", object_id=str(user.pk), actor_id=admin.pk).exists()
    assert not signed_in(client)  # the reset ended the user's sessions
    again, response = login(user.username)
    assert response["Location"] != VERIFY and signed_in(again)


def test_check_07_sessions_are_listed_and_ended(world):
    user = world.users["reporter_a"]
    first, _ = login(user.username, agent="Firefox 办公室")
    second, _ = login(user.username, agent="Chrome 家里")
    page = first.get("/accounts/sessions/").content.decode()
    assert "Firefox 办公室" in page and "Chrome 家里" in page and "当前会话" in page
    other = UserSession.objects.get(user=user, user_agent="Chrome 家里")
    assert first.post(f"/accounts/sessions/{other.pk}/end/").status_code == 302
    assert not signed_in(second)  # the ended session's cookie no longer works
    assert signed_in(first)
    assert Event.objects.filter(action="session_ended", object_id=str(user.pk)).exists()
    # somebody else's session is not theirs to end (404), but the office administrator may
    third, _ = login(user.username, agent="Edge")
    row = UserSession.objects.get(user=user, user_agent="Edge")
    outsider, _ = login(world.users["reporter_b"].username)
    assert outsider.post(f"/accounts/sessions/{row.pk}/end/").status_code == 404
    assert signed_in(third)
    manager, _ = login(world.users["office_admin"].username)
    assert "Edge" in manager.get(f"/accounts/users/{user.pk}/security/").content.decode()
    assert manager.post(f"/accounts/sessions/{row.pk}/end/").status_code == 302
    assert not signed_in(third)


def test_logout_forgets_the_session_row(world):
    user = world.users["reporter_a"]
    client, _ = login(user.username)
    assert UserSession.objects.filter(user=user).count() == 1
    client.post("/accounts/logout/")
    assert UserSession.objects.filter(user=user).count() == 0


def test_check_07_the_cap_on_concurrent_sessions_ends_the_oldest(world, settings):
    settings.MAX_SESSIONS_PER_USER = 2
    user = world.users["reporter_a"]
    oldest, _ = login(user.username, agent="一")
    middle, _ = login(user.username, agent="二")
    assert signed_in(oldest) and signed_in(middle)
    newest, _ = login(user.username, agent="三")
    assert not signed_in(oldest)
    assert signed_in(middle) and signed_in(newest)
    assert Event.objects.filter(action="session_ended_cap", object_id=str(user.pk)).count() == 1
    assert sorted(UserSession.objects.filter(user=user).values_list("user_agent", flat=True)) == ["三", "二"]


# --- API tokens -----------------------------------------------------------------------------------


def _issue(client: Client, name: str = "数据对接", days: int = 30) -> str:
    response = client.post("/accounts/tokens/", {"name": name, "days": days})
    assert response.status_code == 200
    return re.search(r'<code class="token">(rk_[^<]+)</code>', response.content.decode()).group(1)


def _api(key: str) -> int:
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}").get("/api/v1/tasks").status_code


def test_own_tokens_page_issues_with_expiry_and_revokes(world):
    user = world.users["reporter_a"]
    client, _ = login(user.username)
    key = _issue(client, days=30)
    token = ApiToken.objects.get(user=user)
    assert abs((token.expires_at - timezone.now()) - dt.timedelta(days=30)) < dt.timedelta(minutes=1)
    assert _api(key) == 200
    assert "数据对接" in client.get("/accounts/tokens/").content.decode()
    # bounded: a lifetime beyond the maximum is refused with a message, nothing written
    response = client.post("/accounts/tokens/", {"name": "太长", "days": 100000})
    assert response.status_code == 400 and ApiToken.objects.filter(user=user).count() == 1
    # another user cannot revoke it
    outsider, _ = login(world.users["reporter_b"].username)
    assert outsider.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 404
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 302
    assert _api(key) == 401
    assert Event.objects.filter(action="api_token_revoked", object_id=str(user.pk)).exists()


def test_expired_tokens_are_refused(world):
    user = world.users["reporter_a"]
    client, _ = login(user.username)
    key = _issue(client, days=1)
    assert _api(key) == 200
    ApiToken.objects.filter(user=user).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert _api(key) == 401
    assert "已过期" in client.get("/accounts/tokens/").content.decode()


@pytest.mark.parametrize("state", ["locked", "disabled", "password_expired", "must_change"])
def test_tokens_of_locked_disabled_or_expired_password_accounts_are_refused(world, settings, state):
    user = world.users["reporter_a"]
    client, _ = login(user.username)
    key = _issue(client)
    assert _api(key) == 200
    changes = {"locked": {"locked_until": timezone.now() + dt.timedelta(minutes=10)},
               "disabled": {"is_active": False},
               "password_expired": {"password_changed_at": timezone.now() - dt.timedelta(days=400)},
               "must_change": {"must_change_password": True}}[state]
    User.objects.filter(pk=user.pk).update(**changes)
    assert _api(key) == 401


def test_failed_tokens_are_throttled_per_address(world, settings):
    settings.API_TOKEN_FAILURE_LIMIT = 3
    user = world.users["reporter_a"]
    client, _ = login(user.username)
    key = _issue(client)
    for _ in range(3):
        assert _api("rk_not-a-token") == 401
    assert _api("rk_another-guess") == 429
    assert _api(key) == 200  # a valid token is not what the limit is against


def test_disabling_a_user_ends_their_sessions(world):
    from rectify.orgs.services import set_user_active

    user = world.users["reporter_a"]
    client, _ = login(user.username)
    assert UserSession.objects.filter(user=user).count() == 1
    set_user_active(actor=world.users["office_admin"], user=user, active=False)
    assert UserSession.objects.filter(user=user).count() == 0
    assert "结束其 1 个登录会话" in Event.objects.get(action="user_deactivated", object_id=str(user.pk)).summary
    assert not signed_in(client)


def test_the_token_command_chooses_the_lifetime(world, monkeypatch):
    from rectify.cli import main

    user = world.users["reporter_a"]
    monkeypatch.setenv("RECTIFY_OPERATOR_PASSWORD", PASSWORD)
    assert main(["token", user.username, "--name", "对接", "--days", "7"]) == 0
    token = ApiToken.objects.get(user=user)
    assert abs((token.expires_at - timezone.now()) - dt.timedelta(days=7)) < dt.timedelta(minutes=1)
    assert main(["token", user.username, "--days", "9999"]) == 2  # beyond RECTIFY_API_TOKEN_MAX_DAYS


def test_the_keep_typing_relogin_needs_the_code_too(world, settings):
    """A form sent after the session ended comes back with a password prompt (orgs/reauth.py); for an
    account holding an authenticator the password alone does not sign in there either."""
    user = world.users["reporter_a"]
    client, _ = login(user.username)
    enrol(client, user)
    client = Client(enforce_csrf_checks=False)
    form = {"_reauth": "1", "_reauth_username": user.username, "_reauth_password": PASSWORD, "name": "x", "days": "5"}
    response = client.post("/ledger/tasks/new/", form)
    # the view did not run: the page asks for the code again, and no login was recorded
    assert response.status_code == 401 and "请同时输入手机上的 6 位动态口令" in response.content.decode()
    assert not Event.objects.filter(action="login", actor_id=user.pk, seq__gt=_last_seq(user)).exists()
    assert not signed_in(client)
    response = client.post("/ledger/tasks/new/", {**form, "_reauth_code": code_for(user, 1)})
    assert signed_in(client)


def _last_seq(user) -> int:
    """The seq of the user's last login through the code step (enrolment's own session came before)."""
    return Event.objects.filter(action="totp_enrolled", object_id=str(user.pk)).values_list("seq", flat=True).get()


def test_the_api_schema_token_check_is_throttled_too(world, settings):
    settings.API_TOKEN_FAILURE_LIMIT = 2
    bad = Client(HTTP_AUTHORIZATION="Bearer rk_guess")
    assert [bad.get("/api/v1/openapi.json").status_code for _ in range(3)] == [401, 401, 429]
