"""Writes on units, users and sessions. Every function records its audit event."""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from rectify.core.audit import record_event
from rectify.core.sm3 import sm3_hex
from rectify.orgs.models import ApiToken, PasswordHistory, User


def register_login_success(*, user: User) -> None:
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None, last_login=timezone.now())
        record_event(actor=user, action="login", obj=user, summary="登录成功")


def register_login_failure(*, username: str, reason: str = "password") -> None:
    """Count a failed login; the configured number in a row locks the account.

    Unknown usernames are recorded too, under the name typed, so that probing shows up in the
    record; the user is told the same thing either way.
    """
    now = timezone.now()
    with transaction.atomic():
        user = User.objects.select_for_update().filter(username=username).first()
        if user is None:
            record_event(action="login_failed", actor_name=username[:150], object_type="orgs.user",
                         summary="登录失败：用户不存在", success=False)
            return
        if user.locked_until and user.locked_until > now:
            record_event(action="login_refused_locked", obj=user, actor_name=username, unit=user.unit,
                         summary=f"账户锁定期间尝试登录（锁定至 {timezone.localtime(user.locked_until):%H:%M}）",
                         success=False)
            return
        User.objects.filter(pk=user.pk).update(failed_logins=F("failed_logins") + 1)
        user.refresh_from_db(fields=["failed_logins"])
        record_event(action="login_failed", obj=user, actor_name=username, unit=user.unit,
                     summary=f"登录失败：密码错误（连续第 {user.failed_logins} 次）", success=False)
        if user.failed_logins >= settings.LOGIN_MAX_FAILURES:
            until = now + dt.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
            User.objects.filter(pk=user.pk).update(locked_until=until, failed_logins=0)
            record_event(action="account_locked", obj=user, actor_name=username, unit=user.unit,
                         summary=f"连续 {settings.LOGIN_MAX_FAILURES} 次登录失败，账户锁定 "
                                 f"{settings.LOGIN_LOCKOUT_MINUTES} 分钟", success=False)


def record_logout(*, user: User) -> None:
    with transaction.atomic():
        record_event(actor=user, action="logout", obj=user, summary="退出登录")


def record_session_timeout(*, user: User) -> None:
    with transaction.atomic():
        record_event(actor=user, action="session_timeout", obj=user, summary="会话超时自动退出")


def unlock_user(*, actor: User, user: User) -> None:
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(locked_until=None, failed_logins=0)
        record_event(actor=actor, action="account_unlocked", obj=user, summary=f"解除账户锁定：{user.username}")


def password_expired(user: User) -> bool:
    if user.must_change_password and not user.is_demo:
        return True
    days = settings.PASSWORD_EXPIRY_DAYS
    if days and not user.is_demo and user.password_changed_at:
        return timezone.now() - user.password_changed_at > dt.timedelta(days=days)
    return False


def change_password(*, user: User, new_password: str) -> None:
    """Set a new password after the validators (complexity, history) pass."""
    validate_password(new_password, user)
    with transaction.atomic():
        if user.password:
            PasswordHistory.objects.create(user=user, password=user.password)
            stale = user.password_history.values_list("pk", flat=True)[settings.PASSWORD_HISTORY:]
            PasswordHistory.objects.filter(pk__in=list(stale)).delete()
        user.set_password(new_password)
        user.must_change_password = False
        user.password_changed_at = timezone.now()
        user.save(update_fields=["password", "must_change_password", "password_changed_at"])
        record_event(actor=user, action="password_changed", obj=user, summary="修改密码")


def create_user(*, actor: User | None, username: str, password: str, role: str, unit, display_name: str = "",
                title: str = "", is_demo: bool = False, must_change_password: bool = True) -> User:
    """Create a personal account. The initial password must be changed at first login."""
    user = User(username=username, role=role, unit=unit, display_name=display_name, title=title, is_demo=is_demo,
                must_change_password=must_change_password and not is_demo)
    validate_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        user.password_changed_at = timezone.now()
        user.save()
        record_event(actor=actor, action="user_created", obj=user, unit=unit,
                     summary=f"创建用户 {username}（{user.get_role_display()}，{unit or '无单位'}）",
                     after={"username": username, "role": role, "unit": unit.name if unit else None})
    return user


def issue_api_token(*, actor: User, user: User, name: str) -> str:
    """Create a token and return its key once; only its digest is kept."""
    key = "rk_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(user=user, name=name, prefix=key[3:11], digest=sm3_hex(key.encode()))
        record_event(actor=actor, action="api_token_issued", obj=user,
                     summary=f"签发 API 令牌「{name}」（{token.prefix}…）")
    return key


def user_for_token(key: str, *, resolution_seconds: int = 60) -> User | None:
    """The active user of an unrevoked token, or None.

    A read must not write: the token's last use is recorded at most once a minute, like
    the session's idle timer (on SQLite every write takes the one write lock). The UPDATE is sent
    only when the row just read is stale, and is conditional, so that concurrent requests of the
    same minute update it once and the rest match no row.
    """
    token = (ApiToken.objects.select_related("user", "user__unit")
             .filter(digest=sm3_hex(key.encode()), revoked=False).first())
    if token is None or not token.user.is_active:
        return None
    now, resolution = timezone.now(), dt.timedelta(seconds=resolution_seconds)
    if token.last_used_at is None or now - token.last_used_at >= resolution:
        # exclude(… > t) keeps NULL too: "never used or not within the resolution"
        ApiToken.objects.filter(pk=token.pk).exclude(last_used_at__gt=now - resolution).update(last_used_at=now)
    return token.user
