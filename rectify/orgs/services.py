"""Every way a unit, a user account, a leader's area or an API token changes, and the login
bookkeeping. Each function checks permission, validates, writes and records its audit event in
one transaction.

**actor=None is system set-up only.** ``rectify createadmin``, ``rectify demo``, the test
fixtures and data migrations create the first units and accounts before anyone exists to act;
they pass ``actor=None`` and the record names the system. Every page, API call and operator
command passes a real account (a view's ``request.user`` is never None), and that account must
hold the permission: an account manager (``orgs.scope.manages_accounts``: the system administrator
系统管理员, and the office administrator unless ``OFFICE_ADMIN_MANAGES_ACCOUNTS`` is off) over units
and accounts in their own tree (``Unit.objects.actionable_by(actor, "manage")``,
``User.objects.actionable_by(actor, "manage")``). Locks, unlocks and password resets ask
``manages_credentials`` instead, which adds the security administrator (安全管理员) over the same
accounts (``User.objects.actionable_by(actor, "credentials")``): 三员分立, SECURITY.md #12.

**Separation of duties.** Nobody changes their own role, unit or active flag, unlocks their own
account or resets their own password through these services: another administrator does, and the
record shows who.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import secrets
import string

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone

from rectify.core.audit import lock_chain, record_event
from rectify.core.roles import ADMIN_ROLES, SEPARATED_ROLES
from rectify.core.sm3 import sm3_hex
from rectify.orgs.models import (
    ApiToken,
    Category,
    LeaderAssignment,
    PasswordHistory,
    Role,
    Unit,
    UnitKind,
    User,
    refresh_counties,
)
from rectify.orgs.passwords import GuessablePasswordValidator
from rectify.orgs.scope import manages_accounts, manages_credentials, unit_within

SYSTEM = "系统（初始化）"  # actor_name of set-up writes (actor=None)


class _Unset(enum.Enum):
    UNSET = "unset"


UNSET = _Unset.UNSET  # "leave this field as it is" in update services


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


# --- permission helpers -----------------------------------------------------------------------


def _is_system(actor) -> bool:
    return actor is None


def _require_manager(actor) -> None:
    if not manages_accounts(actor):
        raise PermissionDenied("只有系统管理员（或整改办管理员）可以管理单位和账户。")


def _require_units(actor, *units: Unit) -> None:
    """Each unit lies in the actor's tree (system set-up passes)."""
    if _is_system(actor):
        return
    _require_manager(actor)
    wanted = {u.pk for u in units}
    found = set(Unit.objects.actionable_by(actor, "manage").filter(pk__in=wanted).values_list("pk", flat=True))
    if found != wanted:
        raise PermissionDenied("该单位不在您管理的范围内。")


def _require_account(actor, user: User, *, setup: bool = False) -> None:
    """The actor manages this account (an office administrator over their tree and the leaders).
    ``actor=None`` passes only where system set-up needs it (``setup``): creating accounts and
    giving leaders their areas; never for roles, deactivation, resets or unlocks."""
    if _is_system(actor):
        if setup:
            return
        raise PermissionDenied("该操作须由具名的管理员账户办理。")
    _require_manager(actor)
    if not User.objects.actionable_by(actor, "manage").filter(pk=user.pk).exists():
        raise PermissionDenied("该账户不在您管理的范围内。")


def _require_credentials(actor, user: User) -> None:
    """The actor may lock, unlock or reset the password of this account: an account manager or the
    security administrator over it. Never system set-up."""
    if _is_system(actor):
        raise PermissionDenied("该操作须由具名的管理员账户办理。")
    if not manages_credentials(actor):
        raise PermissionDenied("只有系统管理员或安全管理员可以锁定、解锁账户或重置密码。")
    if not User.objects.actionable_by(actor, "credentials").filter(pk=user.pk).exists():
        raise PermissionDenied("该账户不在您管理的范围内。")


def may_act_on_separated(actor, role: str, *, credentials: bool = False) -> bool:
    """Whether ``actor`` may act on an account holding ``role``: an account of the three separated
    duties (系统管理员, 安全管理员, 安全审计员) only a system administrator creates, edits, grants or
    switches off; its lock, unlock and password reset also the security administrator. System
    set-up (actor=None) creates the first ones."""
    if actor is None or role not in SEPARATED_ROLES:
        return True
    return actor.role == Role.SYSTEM_ADMIN or (credentials and actor.role == Role.SECURITY_ADMIN)


def _require_separated(actor, *roles: str, credentials: bool = False) -> None:
    for role in roles:
        if not may_act_on_separated(actor, role, credentials=credentials):
            raise PermissionDenied("系统管理员、安全管理员、安全审计员的账户只能由系统管理员管理"
                                   + ("，锁定、解锁和重置密码也可由安全管理员办理" if credentials else "")
                                   + "（三员分立）。")


def _not_self(actor, user: User, what: str) -> None:
    if actor is not None and actor.pk == user.pk:
        raise PermissionDenied(f"不能{what}，须由其他管理员办理（职责分离）。")


def _actor_name(actor) -> str:
    return SYSTEM if actor is None else ""


# --- units ------------------------------------------------------------------------------------

REGION_CODE = re.compile(r"[0-9]{6}")  # ASCII digits only (\d also matches full-width ones)


def unit_record(unit: Unit) -> dict:
    """The unit as the audit record keeps it (before/after)."""
    return {
        "name": unit.name, "short_name": unit.short_name, "aliases": unit.aliases, "kind": unit.kind,
        "county_kind": unit.county_kind, "region_code": unit.region_code,
        "parent": unit.parent.name if unit.parent is not None else None, "parent_id": unit.parent_id, "path": unit.path,
        "sort_order": unit.sort_order, "is_active": unit.is_active,
    }


def _normalise_aliases(aliases: str) -> str:
    parts = [a.strip() for a in aliases.replace("，", ",").split(",") if a.strip()]
    return ",".join(dict.fromkeys(parts))


def _validate_unit(unit: Unit) -> None:
    errors: dict[str, list[str]] = {}

    def err(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if not unit.name:
        err("name", "单位名称不能为空。")
    elif Unit.objects.filter(name=unit.name).exclude(pk=unit.pk).exists():
        err("name", f"单位名称「{unit.name}」已存在。")
    if unit.kind not in UnitKind.values:
        err("kind", f"未知的单位类型：{unit.kind}")
    if unit.region_code and not REGION_CODE.fullmatch(unit.region_code):
        err("region_code", "行政区划代码须为 6 位数字（GB/T 2260），或留空。")
    if unit.region_code and unit.kind != UnitKind.COUNTY:
        err("region_code", "只有县市区填写行政区划代码。")
    if unit.county_kind and unit.kind != UnitKind.COUNTY:
        err("county_kind", "只有县市区填写区划类型。")
    for name, limit in (("name", 100), ("short_name", 50), ("aliases", 300), ("county_kind", 20)):
        if len(getattr(unit, name)) > limit:
            err(name, f"不能超过 {limit} 个字。")
    if errors:
        raise ValidationError(errors)


def create_unit(*, actor: User | None, name: str, kind: str, parent: Unit | None = None, short_name: str = "",
                aliases: str = "", county_kind: str = "", region_code: str = "", sort_order: int = 0,
                is_active: bool = True) -> Unit:
    """Add a unit under ``parent`` (新增单位). A unit without a parent (a new tree's root office) is
    system set-up only."""
    if parent is None and not _is_system(actor):
        raise PermissionDenied("只能在您管理的单位之下新增单位。")
    if parent is not None:
        _require_units(actor, parent)
    unit = Unit(name=name.strip(), kind=kind, parent=parent, short_name=short_name.strip(),
                aliases=_normalise_aliases(aliases), county_kind=county_kind.strip(),
                region_code=region_code.strip(), sort_order=sort_order, is_active=is_active)
    _validate_unit(unit)
    with transaction.atomic():
        unit.save()  # the new row's path follows from its parent
        record_event(actor=actor, actor_name=_actor_name(actor), action="unit_created", obj=unit,
                     unit=None if actor else unit,
                     summary=f"新增单位 {unit.name}（{unit.get_kind_display()}，上级：{parent or '无'}）",
                     after=unit_record(unit))
    return unit


def update_unit(*, actor: User | None, unit: Unit, name: str | _Unset = UNSET, short_name: str | _Unset = UNSET,
                aliases: str | _Unset = UNSET, kind: str | _Unset = UNSET, county_kind: str | _Unset = UNSET,
                region_code: str | _Unset = UNSET, sort_order: int | _Unset = UNSET,
                is_active: bool | _Unset = UNSET) -> Unit:
    """Change a unit's own fields (修改单位信息); the parent changes only through :func:`move_unit`.
    An administrator may not deactivate the unit they belong to, or one above it."""
    _require_units(actor, unit)
    changes = {"name": name, "short_name": short_name, "aliases": aliases, "kind": kind,
               "county_kind": county_kind, "region_code": region_code, "sort_order": sort_order,
               "is_active": is_active}
    changes = {k: v for k, v in changes.items() if v is not UNSET}
    for key in ("name", "short_name", "county_kind", "region_code"):
        if key in changes:
            changes[key] = str(changes[key]).strip()
    if "aliases" in changes:
        changes["aliases"] = _normalise_aliases(str(changes["aliases"]))
    with transaction.atomic():
        locked = Unit.objects.select_for_update(of=("self",)).select_related("parent").get(pk=unit.pk)
        if changes.get("is_active") is False and actor is not None and unit_within(actor.unit, locked):
            raise PermissionDenied("不能停用本人所在的单位或其上级单位。")
        before = unit_record(locked)
        for key, value in changes.items():
            setattr(locked, key, value)
        _validate_unit(locked)
        after = unit_record(locked)
        changed = {k: (before[k], after[k]) for k in after if before[k] != after[k]}
        if not changed:
            return locked
        locked.save(update_fields=list(changed))
        if "kind" in changed:
            refresh_counties(locked)  # a unit becoming or ceasing to be a county re-homes its subtree
        record_event(actor=actor, actor_name=_actor_name(actor), action="unit_updated", obj=locked,
                     summary=f"修改单位 {before['name']}：" + "；".join(
                         f"{k} {old!r} → {new!r}" for k, (old, new) in changed.items()),
                     before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    unit.refresh_from_db()
    return locked


def move_unit(*, actor: User | None, unit: Unit, parent: Unit | None) -> Unit:
    """Put a unit (and everything under it) under another parent (调整隶属关系), rewriting the
    materialised path of the whole subtree in one statement. This is the only writer of ``path``
    for an existing unit. Every reader's scope follows at once: "under this office" is a prefix match.

    Refused: a move under the unit itself or one of its descendants; a move out of or into a tree
    the actor does not manage; making a root (a new tree) except at system set-up.
    """
    if parent is None and not _is_system(actor):
        raise PermissionDenied("只有系统初始化可以设立顶级单位。")
    _require_units(actor, *([unit, parent] if parent is not None else [unit]))
    with transaction.atomic():
        lock_chain()  # moves are rare: serialise them with every other write, so two crossing moves cannot race
        locked = Unit.objects.select_related("parent").get(pk=unit.pk)
        target = Unit.objects.get(pk=parent.pk) if parent is not None else None
        if target is not None and unit_within(target, locked):
            raise ValidationError({"parent": [f"不能把「{locked.name}」移到它自己或其下级单位「{target.name}」之下。"]})
        if locked.parent_id == (target.pk if target else None):
            raise ValidationError({"parent": [f"「{locked.name}」已在「{target or '顶级'}」之下。"]})
        old_prefix = locked.path
        new_prefix = f"{target.path if target else ''}{locked.pk:05d}."
        subtree = Unit.objects.subtree(locked)
        longest = max(len(p) for p in subtree.values_list("path", flat=True))
        if longest - len(old_prefix) + len(new_prefix) > (Unit._meta.get_field("path").max_length or 255):
            raise ValidationError({"parent": ["单位层级过深，无法移动。"]})
        before = unit_record(locked)
        count = subtree.count()
        # One UPDATE for the subtree: new prefix + the rest of each path (Substr is 1-based).
        subtree.update(path=Concat(Value(new_prefix), Substr("path", len(old_prefix) + 1)))
        Unit.objects.filter(pk=locked.pk).update(parent=target)
        locked = Unit.objects.select_related("parent").get(pk=locked.pk)
        refresh_counties(locked)
        after = unit_record(locked)
        record_event(actor=actor, actor_name=_actor_name(actor), action="unit_moved", obj=locked,
                     summary=f"调整单位隶属：{locked.name} 由「{before['parent'] or '顶级'}」移至"
                             f"「{after['parent'] or '顶级'}」（含下级单位共 {count} 个）",
                     before={"parent": before["parent"], "parent_id": before["parent_id"], "path": old_prefix},
                     after={"parent": after["parent"], "parent_id": after["parent_id"], "path": new_prefix,
                            "units_repathed": count})
    unit.refresh_from_db()
    return locked


# --- users and roles --------------------------------------------------------------------------


def user_record(user: User) -> dict:
    """The account as the audit record keeps it (before/after): never the password hash."""
    return {"username": user.username, "display_name": user.display_name, "title": user.title,
            "unit": user.unit.name if user.unit is not None else None, "unit_id": user.unit_id, "role": user.role,
            "is_active": user.is_active}


def _validate_account(user: User) -> None:
    errors: dict[str, list[str]] = {}
    if user.role not in Role.values:
        errors["role"] = [f"未知的角色：{user.role}"]
    elif user.unit_id is None and user.role != Role.LEADER:
        errors["unit"] = ["除市领导外，账户须属于一个单位。"]
    if user.role in (Role.OFFICE_ADMIN, Role.OFFICE_STAFF) and user.unit is not None and user.unit.kind != UnitKind.OFFICE:
        errors["unit"] = ["整改办角色的账户须属于整改办。"]
    if user.role in ADMIN_ROLES and user.unit is not None and user.unit.kind != UnitKind.OFFICE:
        errors["unit"] = ["系统管理员、安全管理员的账户须属于整改办（管理其所在单位树）。"]
    if errors:
        raise ValidationError(errors)


def create_user(*, actor: User | None, username: str, password: str, role: str, unit: Unit | None,
                display_name: str = "", title: str = "", is_demo: bool = False,
                must_change_password: bool = True) -> User:
    """Create a personal account (新增账户). The initial password must be changed at first login."""
    if not _is_system(actor):
        _require_manager(actor)
        _require_separated(actor, role)
        if unit is not None:
            _require_units(actor, unit)
    username = username.strip()
    user = User(username=username, role=role, unit=unit, display_name=display_name, title=title, is_demo=is_demo,
                must_change_password=must_change_password and not is_demo)
    if not username:
        raise ValidationError({"username": ["用户名不能为空。"]})
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": [f"用户名 {username} 已存在。"]})
    _validate_account(user)
    validate_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        user.password_changed_at = timezone.now()
        user.save()
        record_event(actor=actor, actor_name=_actor_name(actor), action="user_created", obj=user, unit=unit,
                     summary=f"创建用户 {username}（{user.get_role_display()}，{unit or '无单位'}）",
                     after=user_record(user))
    return user


def update_user(*, actor: User, user: User, display_name: str | _Unset = UNSET,
                title: str | _Unset = UNSET, unit: Unit | None | _Unset = UNSET,
                role: str | _Unset = UNSET) -> User:
    """Change an account's name, title, unit or role (修改账户).

    Records up to two events: ``user_updated`` for name, title and unit, and ``user_role_changed``
    (角色变更 reporter → reviewer) for a role, which is a change of permissions of its own.
    Nobody changes their own unit or role.
    """
    _require_account(actor, user)
    if unit is not UNSET and unit is not None:
        _require_units(actor, unit)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if unit is not UNSET and (unit.pk if unit else None) != locked.unit_id:
            _not_self(actor, locked, "调整本人的所属单位")
        if role is not UNSET and role != locked.role:
            _not_self(actor, locked, "变更本人的角色")
        _require_separated(actor, locked.role, *([role] if role is not UNSET else []))
        before = user_record(locked)
        if display_name is not UNSET:
            locked.display_name = display_name.strip()
        if title is not UNSET:
            locked.title = title.strip()
        if unit is not UNSET:
            locked.unit = unit
        if role is not UNSET:
            locked.role = role
        _validate_account(locked)
        after = user_record(locked)
        profile = [k for k in ("display_name", "title", "unit") if before[k] != after[k]]
        if profile or before["role"] != after["role"]:
            locked.save(update_fields=[f for f in ("display_name", "title", "unit", "role")
                                       if before[f] != after[f]])
        if profile:
            record_event(actor=actor, actor_name=_actor_name(actor), action="user_updated", obj=locked,
                         summary=f"修改账户 {locked.username}：" + "；".join(
                             f"{k} {before[k] or '—'} → {after[k] or '—'}" for k in profile),
                         before={k: before[k] for k in profile} | {"unit_id": before["unit_id"]},
                         after={k: after[k] for k in profile} | {"unit_id": after["unit_id"]})
        if before["role"] != after["role"]:
            record_event(actor=actor, actor_name=_actor_name(actor), action="user_role_changed", obj=locked,
                         summary=f"角色变更 {before['role']} → {after['role']}（{locked.username}："
                                 f"{Role(before['role']).label if before['role'] else '无'} → {locked.get_role_display()}）",
                         before={"role": before["role"]}, after={"role": after["role"]})
    user.refresh_from_db()
    return locked


def set_user_active(*, actor: User, user: User, active: bool) -> User:
    """Deactivate (停用) or reactivate (启用) an account. A deactivated account cannot log in and its
    open sessions are ended (orgs.sessions.end_all_sessions; the auth backend would refuse them at
    their next request anyway); its history stays. Nobody deactivates themselves."""
    _require_account(actor, user)
    if not active:
        _not_self(actor, user, "停用本人账户")
    _require_separated(actor, user.role)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.is_active == active:
            raise ValidationError(f"账户 {locked.username} 已是{'启用' if active else '停用'}状态。")
        locked.is_active = active
        locked.save(update_fields=["is_active"])
        ended = 0
        if not active:  # its sessions end now, not at their next request (SECURITY.md check 7)
            from rectify.orgs.sessions import end_all_sessions

            ended = end_all_sessions(actor=actor, user=locked, reason="停用账户", record=False)
        record_event(actor=actor, actor_name=_actor_name(actor),
                     action="user_reactivated" if active else "user_deactivated", obj=locked,
                     summary=f"{'启用' if active else '停用'}账户 {locked.username}"
                             + (f"，结束其 {ended} 个登录会话" if ended else ""),
                     before={"is_active": not active}, after={"is_active": active})
    user.refresh_from_db()
    return locked


def temporary_password() -> str:
    """A random password that passes the validators: four character classes, 16 characters."""
    alphabet = string.ascii_letters + string.digits + "@#%+=-"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(16))
        if (any(c.islower() for c in candidate) and any(c.isupper() for c in candidate)
                and any(c.isdigit() for c in candidate) and any(not c.isalnum() for c in candidate)):
            try:  # about one in 20,000 draws holds too little of its own between keyboard runs
                GuessablePasswordValidator().validate(candidate)
            except ValidationError:
                continue
            return candidate


def reset_password(*, actor: User, user: User, temporary: str | None = None) -> str:
    """An account manager sets a temporary password (重置密码); the holder must change it at the next
    login. Returns the temporary password, shown once. Changing the password also ends the holder's
    open sessions (Django checks the password hash with each session). The lockout is not lifted:
    that is :func:`unlock_user`, a separate privileged action."""
    _require_credentials(actor, user)
    _not_self(actor, user, "重置本人的密码（本人请使用“修改密码”）")
    _require_separated(actor, user.role, credentials=True)
    password = temporary or temporary_password()
    validate_password(password, user)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.password:
            PasswordHistory.objects.create(user=locked, password=locked.password)
        locked.set_password(password)
        locked.must_change_password = True
        locked.password_changed_at = timezone.now()
        locked.save(update_fields=["password", "must_change_password", "password_changed_at"])
        record_event(actor=actor, action="password_reset", obj=locked,
                     summary=f"重置账户 {locked.username} 的密码（临时密码，下次登录须修改）",
                     after={"must_change_password": True})
    return password


def unlock_user(*, actor: User, user: User) -> None:
    """Lift a lockout (解除锁定) before it runs out. Only an account manager over that account,
    never the locked person themselves."""
    _require_credentials(actor, user)
    _not_self(actor, user, "解除本人账户的锁定")
    _require_separated(actor, user.role, credentials=True)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        before = {"locked_until": locked.locked_until, "failed_logins": locked.failed_logins}
        User.objects.filter(pk=user.pk).update(locked_until=None, failed_logins=0)
        record_event(actor=actor, action="account_unlocked", obj=locked, summary=f"解除账户锁定：{locked.username}",
                     before=before, after={"locked_until": None, "failed_logins": 0})


# An administrator's lock lasts until someone unlocks it (ten years stands for "until unlocked": a
# date every database and timezone conversion can hold).
ADMIN_LOCK = dt.timedelta(days=3650)


def admin_locked(user: User) -> bool:
    """Locked by an administrator (until unlocked), as opposed to a lockout after failed logins."""
    return bool(user.locked_until and user.locked_until - timezone.now() > dt.timedelta(days=365))


def lock_user(*, actor: User, user: User, reason: str = "") -> User:
    """Lock an account until it is unlocked (锁定账户), e.g. while a leak is looked into: it cannot log
    in, and its open sessions stop at their next request (the auth backend refuses a locked account).
    Unlike 停用 it is a security measure, lifted by :func:`unlock_user`."""
    _require_credentials(actor, user)
    _not_self(actor, user, "锁定本人账户")
    _require_separated(actor, user.role, credentials=True)
    reason = reason.strip()
    if len(reason) > 200:
        raise ValidationError({"reason": ["锁定原因不能超过 200 个字。"]})
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if admin_locked(locked):
            raise ValidationError(f"账户 {locked.username} 已被锁定。")
        before = {"locked_until": locked.locked_until, "failed_logins": locked.failed_logins}
        until = timezone.now() + ADMIN_LOCK
        User.objects.filter(pk=locked.pk).update(locked_until=until)
        record_event(actor=actor, action="account_locked_by_admin", obj=locked,
                     summary=f"锁定账户 {locked.username}（至解锁为止）" + (f"：{reason}" if reason else ""),
                     before=before, after={"locked_until": until, "reason": reason or None})
    user.refresh_from_db()
    return user


# --- leader assignments (包县市区督导 / 分管领域) -----------------------------------------------


def _area_label(county: Unit | None, sector: str) -> str:
    return f"包县市区 {county.name}" if county is not None else f"分管领域 {Category(sector).label}"


def assign_leader_area(*, actor: User | None, leader: User, county: Unit | None = None,
                       sector: str = "") -> LeaderAssignment:
    """Give a city leader a county (包县市区) or a sector (分管领域). What a leader sees follows from
    these rows, so each change is on the record under the leader."""
    _require_account(actor, leader, setup=True)
    if county is not None:
        _require_units(actor, county)
    errors: dict[str, list[str]] = {}
    if leader.role != Role.LEADER:
        errors["leader"] = [f"{leader} 不是市领导账户。"]
    if (county is None) == (not sector):
        errors["county"] = ["须且只能指定一个县市区或一个分管领域。"]
    elif county is not None and county.kind != UnitKind.COUNTY:
        errors["county"] = [f"{county.name} 不是县市区。"]
    elif sector and sector not in Category.values:
        errors["sector"] = [f"未知的领域：{sector}"]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        duplicate = LeaderAssignment.objects.filter(leader=leader)
        duplicate = duplicate.filter(county=county) if county is not None else duplicate.filter(sector=sector)
        if duplicate.exists():
            raise ValidationError(f"{leader} 已{_area_label(county, sector)}。")
        assignment = LeaderAssignment.objects.create(leader=leader, county=county, sector=sector)
        area = {"county": county.name if county else None, "county_id": county.pk if county else None,
                "sector": sector or None, "assignment": assignment.pk}
        record_event(actor=actor, actor_name=_actor_name(actor), action="leader_area_assigned", obj=leader,
                     summary=f"市领导 {leader}：新增{_area_label(county, sector)}", after=area)
    return assignment


def remove_leader_area(*, actor: User | None, assignment: LeaderAssignment) -> None:
    """Take a county or sector away from a leader; from then on the leader no longer sees its tasks."""
    leader = assignment.leader
    _require_account(actor, leader, setup=True)
    with transaction.atomic():
        locked = (LeaderAssignment.objects.select_for_update(of=("self",)).select_related("county")
                  .filter(pk=assignment.pk).first())
        if locked is None:
            raise ValidationError("该分工已不存在。")
        area = {"county": locked.county.name if locked.county_id else None, "county_id": locked.county_id,
                "sector": locked.sector or None, "assignment": locked.pk}
        label = _area_label(locked.county, locked.sector)
        locked.delete()
        record_event(actor=actor, actor_name=_actor_name(actor), action="leader_area_removed", obj=leader,
                     summary=f"市领导 {leader}：取消{label}", before=area)


# --- API tokens -------------------------------------------------------------------------------


def _require_token_rights(actor: User, holder: User) -> None:
    """The holder themselves, or an account manager over the holder."""
    if actor is None or not getattr(actor, "is_active", False):
        raise PermissionDenied("签发或吊销 API 令牌须由具名账户操作。")
    if actor.pk != holder.pk:
        _require_account(actor, holder)


def issue_api_token(*, actor: User, user: User, name: str, channel: str = "", days: int | None = None) -> str:
    """Create a token for ``user`` and return its key once; only its SM3 digest is kept.

    The token expires after ``days`` (settings.API_TOKEN_DAYS unless chosen, at most
    settings.API_TOKEN_MAX_DAYS).

    ``actor`` is who really issued it (the holder, or an account manager over the holder), and the
    event names both; ``channel`` says how, e.g. "命令行，操作系统用户 ops".
    """
    _require_token_rights(actor, user)
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": ["请填写令牌用途（不超过 100 个字）。"]})
    if not user.is_active:
        raise ValidationError(f"账户 {user.username} 已停用，不能签发令牌。")
    days = settings.API_TOKEN_DAYS if days is None else days
    if not 1 <= days <= settings.API_TOKEN_MAX_DAYS:
        raise ValidationError({"days": [f"有效期须为 1 至 {settings.API_TOKEN_MAX_DAYS} 天。"]})
    key = "rk_" + secrets.token_urlsafe(32)
    expires_at = timezone.now() + dt.timedelta(days=days)
    with transaction.atomic():
        token = ApiToken.objects.create(user=user, name=name, prefix=key[3:11], digest=sm3_hex(key.encode()),
                                        expires_at=expires_at)
        record_event(actor=actor, action="api_token_issued", obj=user,
                     summary=f"{actor.username} 为 {user.username} 签发 API 令牌「{name}」（{token.prefix}…）"
                             + (f"；{channel}" if channel else ""),
                     after={"token": token.pk, "prefix": token.prefix, "name": name, "holder": user.username,
                            "issued_by": actor.username, "channel": channel or None,
                            "expires_at": expires_at})
    return key


def revoke_api_token(*, actor: User, token: ApiToken, channel: str = "") -> ApiToken:
    """Revoke a token (吊销): at once, every call with it is refused."""
    _require_token_rights(actor, token.user)
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update(of=("self",)).select_related("user").get(pk=token.pk)
        if locked.revoked:
            raise ValidationError(f"令牌「{locked.name}」（{locked.prefix}…）已吊销。")
        locked.revoked = True
        locked.save(update_fields=["revoked"])
        record_event(actor=actor, action="api_token_revoked", obj=locked.user,
                     summary=f"{actor.username} 吊销 {locked.user.username} 的 API 令牌「{locked.name}」"
                             f"（{locked.prefix}…）" + (f"；{channel}" if channel else ""),
                     before={"revoked": False}, after={"token": locked.pk, "prefix": locked.prefix, "revoked": True,
                                                       "holder": locked.user.username})
    token.refresh_from_db()
    return locked


def token_expires_at(token: ApiToken) -> dt.datetime:
    """When a token stops working (tokens from before expiry existed: API_TOKEN_DAYS after issue)."""
    return token.expires_at or token.created_at + dt.timedelta(days=settings.API_TOKEN_DAYS)


def token_refusal(token: ApiToken | None) -> str:
    """Why a token does not sign anyone in ("" when it does): unknown or revoked, expired, or its
    holder disabled, locked or with an initial or expired password to change (SECURITY.md check 7)."""
    now = timezone.now()
    if token is None or token.revoked:
        return "unknown"
    user = token.user
    if token_expires_at(token) <= now:
        return "expired"
    if not user.is_active:
        return "disabled"
    if user.locked_until and user.locked_until > now:
        return "locked"
    if password_expired(user):
        return "password_expired"
    return ""


def user_for_token(key: str, *, resolution_seconds: int = 60) -> User | None:
    """The user of a token that is unrevoked and unexpired, whose account is active, not locked and
    without a password to change; or None.

    A read must not write: the token's last use is recorded at most once a minute, like
    the session's idle timer (on SQLite every write takes the one write lock). The UPDATE is sent
    only when the row just read is stale, and is conditional, so that concurrent requests of the
    same minute update it once and the rest match no row.
    """
    token = (ApiToken.objects.select_related("user", "user__unit")
             .filter(digest=sm3_hex(key.encode()), revoked=False).first())
    if token is None or token_refusal(token):
        return None
    now, resolution = timezone.now(), dt.timedelta(seconds=resolution_seconds)
    if token.last_used_at is None or now - token.last_used_at >= resolution:
        # exclude(… > t) keeps NULL too: "never used or not within the resolution"
        ApiToken.objects.filter(pk=token.pk).exclude(last_used_at__gt=now - resolution).update(last_used_at=now)
    return token.user
