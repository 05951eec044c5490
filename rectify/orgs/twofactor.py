"""The second factor (双因素认证, SECURITY.md check 5): TOTP (RFC 6238, 30-second step, 6 digits)
through ``pyotp``, with ten single-use recovery codes.

pyotp rather than django-otp: the project needs one device kind (TOTP) whose secret is kept SM4-encrypted
in its own column, its own login step and its own audit events; django-otp brings a plugin framework,
its own models, admin and middleware for several device kinds, most of which would be bypassed.
pyotp is one small pure-Python module (RFC 4226/6238) with no dependencies.

Every write here is a service: it checks who may do it, writes and records its audit event in one
transaction. A code is accepted once: the device keeps the last accepted time step, and a code of
that step or an earlier one is refused (a replayed code within its 30 seconds included).
"""

from __future__ import annotations

import hmac
import secrets
import time

import pyotp
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from rectify.core.audit import record_event
from rectify.core.sm3 import sm3_hex
from rectify.orgs.models import RecoveryCode, TotpDevice, User
from rectify.orgs.scope import manages_security, security_users

RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper
STEP_SECONDS = 30


def totp_required(user) -> bool:
    """Whether the office requires this account to hold a second factor (demo accounts exempt)."""
    return bool(getattr(user, "role", "") in settings.TOTP_REQUIRED_ROLES and not getattr(user, "is_demo", False))


def has_totp(user) -> bool:
    return TotpDevice.objects.filter(user_id=user.pk, confirmed_at__isnull=False).exists()


def pending_device(user) -> TotpDevice | None:
    """The holder's authenticator being set up (not yet confirmed), read-only."""
    return TotpDevice.objects.visible_to(user).filter(confirmed_at__isnull=True).first()


def provisioning_uri(device: TotpDevice) -> str:
    return pyotp.TOTP(device.secret).provisioning_uri(name=device.user.username, issuer_name=settings.TOTP_ISSUER)


def grouped_secret(device: TotpDevice) -> str:
    """The secret in groups of four, for typing it into an app by hand."""
    return " ".join(device.secret[i:i + 4] for i in range(0, len(device.secret), 4))


def _matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step (previous, current or next: one step of clock drift) whose code ``code`` is."""
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _new_recovery_codes(user: User) -> list[str]:
    """Replace the holder's recovery codes by ten new ones; returns them (shown once)."""
    RecoveryCode.objects.filter(user=user).delete()
    codes, rows = [], []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(12))  # about 59 bits
        code = f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"
        salt = secrets.token_hex(16)
        rows.append(RecoveryCode(user=user, salt=salt, digest=sm3_hex((salt + raw).encode())))
        codes.append(code)
    RecoveryCode.objects.bulk_create(rows)
    return codes


def begin_enrolment(*, user: User) -> TotpDevice:
    """Start setting up an authenticator: a new secret, not counted until confirmed with a code."""
    if not getattr(user, "is_active", False):
        raise PermissionDenied("账户不可用。")
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        existing = TotpDevice.objects.filter(user=locked).first()
        if existing is not None and existing.confirmed_at is not None:
            raise ValidationError("您已启用动态口令。如需更换手机，请联系安全管理员或整改办管理员重置。")
        if existing is not None:
            existing.delete()
        device = TotpDevice.objects.create(user=locked, secret=pyotp.random_base32())
        record_event(actor=user, action="totp_enrolment_started", obj=locked, summary="开始绑定动态口令")
    return device


def confirm_enrolment(*, user: User, code: str) -> list[str]:
    """Confirm the authenticator with a first valid code; returns the ten recovery codes (shown once)."""
    with transaction.atomic():
        device = TotpDevice.objects.select_for_update().filter(user_id=user.pk, confirmed_at__isnull=True).first()
        if device is None:
            raise ValidationError("没有待确认的动态口令，请重新开始绑定。")
        step = _matching_step(device.secret, code)
        if step is None:
            record_event(actor=user, action="totp_enrolment_failed", obj=user, summary="绑定动态口令：验证码错误",
                         success=False)
            raise ValidationError("验证码不正确，请核对手机上显示的 6 位数字（注意手机时间是否准确）。")
        device.confirmed_at = timezone.now()
        device.last_step = step
        device.save(update_fields=["confirmed_at", "last_step"])
        codes = _new_recovery_codes(user)
        record_event(actor=user, action="totp_enrolled", obj=user,
                     summary=f"启用动态口令（生成 {RECOVERY_CODES} 个恢复码）")
    return codes


def verify_second_factor(*, user: User, code: str) -> str | None:
    """Check a login's second step: a TOTP code or a recovery code. Returns "totp" or "recovery" when
    accepted (and records it), None when refused (and records the failure)."""
    code = code.strip()[:32]
    with transaction.atomic():
        device = TotpDevice.objects.select_for_update().filter(user_id=user.pk, confirmed_at__isnull=False).first()
        if device is None:
            return None
        step = _matching_step(device.secret, code)
        if step is not None and step > device.last_step:
            device.last_step = step
            device.save(update_fields=["last_step"])
            record_event(actor=user, action="totp_verified", obj=user, summary="动态口令验证通过")
            return "totp"
        if step is not None:  # right code, already used (or older than the last one used)
            record_event(actor=user, action="totp_failed", obj=user, summary="动态口令验证失败：验证码已使用过",
                         success=False)
            return None
        raw = "".join(c for c in code.lower() if c.isalnum())
        if len(raw) == 12:
            for candidate in RecoveryCode.objects.select_for_update().filter(user_id=user.pk, used_at__isnull=True):
                if hmac.compare_digest(candidate.digest, sm3_hex((candidate.salt + raw).encode())):
                    candidate.used_at = timezone.now()
                    candidate.save(update_fields=["used_at"])
                    left = RecoveryCode.objects.filter(user_id=user.pk, used_at__isnull=True).count()
                    record_event(actor=user, action="recovery_code_used", obj=user,
                                 summary=f"使用恢复码登录（剩余 {left} 个）")
                    return "recovery"
        record_event(actor=user, action="totp_failed", obj=user, summary="动态口令验证失败：验证码错误", success=False)
    return None


def recovery_codes_left(user) -> int:
    return RecoveryCode.objects.visible_to(user).filter(used_at__isnull=True).count()


def reset_totp(*, actor: User, user: User) -> None:
    """A security administrator (or the office administrator over the account) removes a user's
    authenticator and recovery codes (lost phone); the user's sessions end, and if their role requires
    a second factor they must enrol again at the next login. Nobody resets their own."""
    if not manages_security(actor) or not security_users(User.objects.all(), actor).filter(pk=user.pk).exists():
        raise PermissionDenied("只有安全管理员或整改办管理员可以重置该账户的动态口令。")
    if actor.pk == user.pk:
        raise PermissionDenied("不能重置本人的动态口令，请由另一名管理员操作。")
    from rectify.orgs.sessions import end_all_sessions

    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        had = TotpDevice.objects.filter(user=locked).delete()[0]
        RecoveryCode.objects.filter(user=locked).delete()
        if not had:
            raise ValidationError(f"账户 {locked.username} 未启用动态口令。")
        record_event(actor=actor, action="totp_reset", obj=locked,
                     summary=f"{actor.username} 重置 {locked.username} 的动态口令（须重新绑定）",
                     before={"totp": True}, after={"totp": False})
        end_all_sessions(actor=actor, user=locked, reason="重置动态口令")
