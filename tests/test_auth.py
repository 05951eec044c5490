"""Login security of 等保 2.0 level 3: complexity, lockout, idle timeout, forced change, audit."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from rectify.core.models import Event
from rectify.orgs.models import Role, User
from rectify.orgs.services import change_password, create_user
from tests.conftest import PASSWORD

LOGIN = "/accounts/login/"


def login(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password})


@pytest.mark.parametrize("password,ok", [
    ("Short1!", False),                 # too short
    ("alllowercaseletters", False),     # one class
    ("lowercase12345678", False),       # two classes
    ("Lowercase12345678", True),        # three classes
    ("lowercase-1234567", True),        # lower, digit, symbol
    ("Password1234", False),            # in the common-password list
    ("正确 的 长口令 Horse battery 9!", True),  # long passphrases are welcome
    ("A1!" + "x" * 130, False),         # bounded
    # Guessable however dressed up (等保 check 1): common words, l33t, keyboard walks, years, names.
    ("Admin@123456", False),
    ("P@ssw0rd2026", False),
    ("Qwer1234!@#$", False),
    ("1qaz@WSX3edc", False),
    ("Asdf#2026qwer", False),
    ("Rectify@2026!", False),           # the product's name
    ("Yongzhou@2026", False),           # the city's (RECTIFY_PASSWORD_BANNED_WORDS)
    ("Woaini@520520", False),
    ("Changed-Passw0rd-9", True),       # a common word beside one of the user's own is fine
    ("Xiang-Lake@7731", True),
])
def test_check_01_password_complexity(db, password, ok):
    if ok:
        validate_password(password)
    else:
        with pytest.raises(ValidationError):
            validate_password(password)


def test_password_may_not_contain_the_username(db):
    user = User(username="zhangwei")
    with pytest.raises(ValidationError, match="用户名"):
        validate_password("Zhangwei#Lake-77", user)
    validate_password("Zhangwei#Lake-77", User(username="liuyang"))


def test_password_may_not_resemble_the_username(db):
    user = User(username="lingling_reporter")
    with pytest.raises(ValidationError):
        validate_password("Lingling_Reporter1", user)


def test_check_14_successful_login_and_logout_are_recorded(world):
    client = Client()
    response = login(client, "rep_a", PASSWORD)
    assert response.status_code == 302
    client.post("/accounts/logout/")
    actions = list(Event.objects.filter(actor_name="rep_a").values_list("action", flat=True))
    assert actions[-2:] == ["login", "logout"]


def test_check_03_five_failures_lock_the_account_for_fifteen_minutes(world):
    client = Client()
    for _ in range(5):
        assert login(client, "rep_a", "Wrong-Passw0rd").status_code == 200
    user = User.objects.get(username="rep_a")
    assert user.locked_until is not None
    assert dt.timedelta(minutes=14) < user.locked_until - timezone.now() <= dt.timedelta(minutes=15)
    # The right password does not help while locked, and the message is the same as for a bad one.
    refused = login(client, "rep_a", PASSWORD)
    assert refused.status_code == 200 and "_auth_user_id" not in client.session
    unknown = login(Client(), "no_such_user", "Whatever-Passw0rd")
    assert refused.context["form"].non_field_errors() == unknown.context["form"].non_field_errors()
    actions = list(Event.objects.filter(object_id=str(user.pk), object_type="orgs.user")
                   .values_list("action", flat=True))
    assert actions.count("login_failed") == 5
    assert "account_locked" in actions and "login_refused_locked" in actions
    assert Event.objects.filter(action="login_failed", actor_name="no_such_user", success=False).exists()
    # After the lockout has run out, the right password works again.
    User.objects.filter(pk=user.pk).update(locked_until=timezone.now() - dt.timedelta(seconds=1))
    assert login(client, "rep_a", PASSWORD).status_code == 302


def test_a_success_resets_the_failure_count(world):
    client = Client()
    for _ in range(4):
        login(client, "rep_a", "Wrong-Passw0rd")
    assert login(client, "rep_a", PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    for _ in range(4):
        login(client, "rep_a", "Wrong-Passw0rd")
    assert User.objects.get(username="rep_a").locked_until is None


def test_check_06_idle_session_times_out(world, settings):
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 30
    client = Client()
    login(client, "rep_a", PASSWORD)
    assert client.get("/ledger/").status_code == 200
    session = client.session
    session["last_activity"] = time.time() - 31 * 60
    session.save()
    response = client.get("/ledger/")
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert client.get("/ledger/").status_code == 302  # the session is really gone
    assert Event.objects.filter(action="session_timeout", actor_name="rep_a").exists()


def test_active_session_within_the_limit_stays(world):
    client = Client()
    login(client, "rep_a", PASSWORD)
    session = client.session
    session["last_activity"] = time.time() - 29 * 60
    session.save()
    assert client.get("/ledger/").status_code == 200


def test_check_06_absolute_session_lifetime(world, settings):
    client = Client()
    login(client, "rep_a", PASSWORD)
    session = client.session
    session["login_at"] = time.time() - (settings.SESSION_ABSOLUTE_HOURS * 3600 + 1)
    session.save()
    assert client.get("/ledger/").status_code == 302


def test_initial_password_must_be_changed_first(world):
    create_user(actor=None, username="newbie", password="Initial-Passw0rd", role=Role.REPORTER,
                unit=world.county_a, display_name="新用户")
    client = Client()
    assert login(client, "newbie", "Initial-Passw0rd").status_code == 302
    response = client.get("/ledger/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/password/")
    page = client.get("/accounts/password/")
    assert "请先修改初始密码" in page.content.decode()
    bad = client.post("/accounts/password/", {"old_password": "Initial-Passw0rd", "new_password1": "simple",
                                              "new_password2": "simple"})
    assert bad.status_code == 200
    done = client.post("/accounts/password/?next=/ledger/", {
        "old_password": "Initial-Passw0rd", "new_password1": "Changed-Passw0rd-9", "new_password2": "Changed-Passw0rd-9"})
    assert done.status_code == 302 and done["Location"] == "/ledger/"
    assert client.get("/ledger/").status_code == 200
    assert Event.objects.filter(action="password_changed", actor_name="newbie").exists()


def test_check_02_expired_password_must_be_changed(world, settings):
    settings.PASSWORD_EXPIRY_DAYS = 90
    User.objects.filter(username="rep_a").update(password_changed_at=timezone.now() - dt.timedelta(days=91))
    client = Client()
    login(client, "rep_a", PASSWORD)
    assert client.get("/ledger/")["Location"].startswith("/accounts/password/")


def test_check_02_recent_passwords_cannot_be_reused(world):
    user = User.objects.get(username="rep_a")
    change_password(user=user, new_password="Second-Passw0rd-1")
    change_password(user=user, new_password="Third-Passw0rd-1")
    with pytest.raises(ValidationError):
        change_password(user=user, new_password="Second-Passw0rd-1")
    with pytest.raises(ValidationError):
        change_password(user=user, new_password=PASSWORD)


def test_check_07_logout_requires_post_and_ends_the_session(world):
    client = Client()
    login(client, "rep_a", PASSWORD)
    assert client.get("/accounts/logout/").status_code == 405
    client.post("/accounts/logout/")
    assert client.get("/ledger/").status_code == 302


def test_check_08_security_headers(world):
    response = world.client("office_admin").get("/ledger/")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_check_04_login_attempts_are_rate_limited_per_address(world, settings):
    from django.core.cache import cache

    cache.clear()
    settings.LOGIN_RATE_LIMIT = 3
    client = Client(REMOTE_ADDR="10.1.2.3")
    for _ in range(3):
        assert login(client, "someone", "Wrong-Passw0rd").status_code == 200
    limited = login(client, "rep_a", PASSWORD)
    assert limited.status_code == 429 and "过于频繁" in limited.content.decode()
    assert login(Client(REMOTE_ADDR="10.9.9.9"), "rep_a", PASSWORD).status_code == 302  # other addresses unaffected
    cache.clear()


def test_behind_a_proxy_the_address_is_the_one_the_proxy_appended(world, settings):
    settings.LOGIN_RATE_LIMIT = 2
    settings.TRUST_X_FORWARDED_FOR = True
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    for spoofed in ("1.1.1.1", "2.2.2.2"):  # a client writing its own header does not escape the count
        client = Client(HTTP_X_FORWARDED_FOR=f"{spoofed}, 10.5.5.5", **proxy)
        assert login(client, "someone", "Wrong-Passw0rd").status_code == 200
    assert login(Client(HTTP_X_FORWARDED_FOR="3.3.3.3, 10.5.5.5", **proxy), "rep_a", PASSWORD).status_code == 429
    assert login(Client(HTTP_X_FORWARDED_FOR="10.6.6.6", **proxy), "rep_a", PASSWORD).status_code == 302
    settings.TRUST_X_FORWARDED_FOR = False  # directly reachable: the header is ignored
    assert login(Client(HTTP_X_FORWARDED_FOR="10.5.5.5", REMOTE_ADDR="10.7.7.7"), "rep_a", PASSWORD).status_code == 302


def test_successful_logins_from_one_address_never_count(world, settings):
    """A whole office behind one NAT address logs in every morning (issue: 30 logins blocked it)."""
    settings.LOGIN_RATE_LIMIT = 3
    for _ in range(8):
        client = Client(REMOTE_ADDR="10.1.2.4")
        assert login(client, "rep_a", PASSWORD).status_code == 302
    for _ in range(2):
        assert login(Client(REMOTE_ADDR="10.1.2.4"), "someone", "Wrong-Passw0rd").status_code == 200
    assert login(Client(REMOTE_ADDR="10.1.2.4"), "rep_a", PASSWORD).status_code == 302  # 2 failures < 3
