"""Units (单位), users, roles and leader assignments (市领导包县市区督导)."""

from __future__ import annotations

import re

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.lookups import Lookup, StartsWith
from django.utils.translation import gettext_lazy as _

from rectify.core.crypto import EncryptedTextField
from rectify.core.roles import OFFICE_ROLES, Role

__all__ = ["OFFICE_ROLES", "Role", "Unit", "UnitKind", "Category", "User", "LeaderAssignment", "ApiToken",
           "TotpDevice", "RecoveryCode", "UserSession"]


class UnitKind(models.TextChoices):
    OFFICE = "office", _("整改办")
    COUNTY = "county", _("县市区")
    DEPARTMENT = "department", _("市直部门")
    DISCIPLINE = "discipline", _("纪委监委")


class Category(models.TextChoices):
    """Problem category of a task (问题类别)."""

    WATER = "water", _("水污染防治")
    AIR = "air", _("大气污染防治")
    SOIL = "soil", _("土壤污染防治")
    HEAVY_METALS = "heavy_metals", _("重金属污染")
    MINES = "mines", _("矿山生态")
    RURAL_NONPOINT = "rural_nonpoint", _("农业农村面源污染")
    BIODIVERSITY = "biodiversity_ecology", _("生物多样性与生态保护")
    INFRASTRUCTURE = "infrastructure", _("环境基础设施")
    INDUSTRIAL_PARKS = "industrial_parks", _("工业园区")
    MECHANISMS = "mechanisms_thinking", _("思想认识与机制建设")
    OTHER = "other", _("其他")


class UnitQuerySet(models.QuerySet):
    def subtree(self, unit: Unit) -> UnitQuerySet:
        """This unit and everything under it (tree upkeep; user-facing reads use visible_to)."""
        from rectify.orgs.scope import in_tree

        return self.filter(in_tree("", unit))

    def visible_to(self, user) -> UnitQuerySet:
        from rectify.orgs.scope import visible_units

        return visible_units(self, user)

    def actionable_by(self, user, action: str) -> UnitQuerySet:
        from rectify.orgs.scope import actionable_units

        return actionable_units(self, user, action)


class Unit(models.Model):
    """A node of the organisation tree. ``path`` is a materialised path ("0001.0007.") so that
    "this unit and everything under it" is one indexed prefix match."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    short_name = models.CharField(_("简称"), max_length=50, blank=True)
    aliases = models.CharField(_("别名"), max_length=300, blank=True, help_text=_("以逗号分隔；导入时用于匹配单位名称"))
    kind = models.CharField(_("类型"), max_length=20, choices=UnitKind.choices)
    county_kind = models.CharField(_("区划类型"), max_length=20, blank=True, help_text=_("县、县级市、区、管理区、经开区"))
    region_code = models.CharField(_("行政区划代码"), max_length=6, blank=True, help_text="GB/T 2260")
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
                               verbose_name=_("上级单位"))
    path = models.CharField(max_length=255, db_index=True, editable=False)
    # 所属县市区: the nearest county-level unit at or above this one, kept with the path (save() for a
    # new unit, orgs.services.move_unit and a change of kind for a subtree). The battle map counts
    # a task for the county of each of its responsible units from it (dashboard.facts).
    county = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                               editable=False)
    sort_order = models.IntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    objects = UnitQuerySet.as_manager()

    class Meta:
        ordering = ["sort_order", "id"]
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        # the unit pickers' first 301 in their order (a kind's units, or all by kind): read from the
        # index and stopped, not every unit of a province sorted (5,560 units: 7 → 0.2 ms)
        indexes = [models.Index(fields=["kind", "sort_order", "id"], name="unit_kind_order_idx")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        """A new row's path follows from its parent and its id. Moving an existing unit (a new
        parent) re-paths its whole subtree: that is ``orgs.services.move_unit``'s job alone, so a
        plain save() that would change the parent is refused rather than leaving stale paths."""
        if self.pk is not None and self.path and self.parent_id != self.parent_in_path():
            raise ValueError("单位的上级只能通过 rectify.orgs.services.move_unit 变更（须重算整棵子树的路径）。")
        super().save(*args, **kwargs)
        if not self.path:
            parent_path = Unit.objects.get(pk=self.parent_id).path if self.parent_id else ""
            self.path = f"{parent_path}{self.pk:05d}."
            Unit.objects.filter(pk=self.pk).update(path=self.path)
            refresh_counties(self)

    def parent_in_path(self) -> int | None:
        """The parent's id as the materialised path records it (no query)."""
        parts = self.path.rstrip(".").split(".")
        return int(parts[-2]) if len(parts) > 1 else None

    def names(self) -> list[str]:
        """Every name an import may use for this unit."""
        extra = [a.strip() for a in self.aliases.replace("，", ",").split(",") if a.strip()]
        return [n for n in [self.name, self.short_name, *extra] if n]


class PathUnder(Lookup):
    """The lookup ``under`` of a unit's path, given a prefix: the unit lies in the subtree whose
    path it is (orgs.scope.in_tree writes every tree test with it). On SQLite a ``GLOB 'prefix*'``:
    its ``LIKE`` ignores case, so the path's binary index cannot serve a ``LIKE`` prefix and every
    unit's path was read (5,560 at 100,000 tasks: 0.26 ms a test against 0.04 ms by the index).
    Elsewhere Django's ``startswith`` (PostgreSQL's pattern-ops index serves its ``LIKE``). The
    same rows either way: paths are digits and dots, and GLOB's own wildcards are escaped all the
    same."""

    lookup_name = "under"

    def as_sql(self, compiler, connection):
        return compiler.compile(StartsWith(self.lhs, self.rhs))

    def as_sqlite(self, compiler, connection):
        if not isinstance(self.rhs, str):  # an expression: as startswith
            return self.as_sql(compiler, connection)
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} GLOB %s", [*params, re.sub(r"([*?\[])", r"[\1]", self.rhs) + "*"]


Unit._meta.get_field("path").register_lookup(PathUnder)


def refresh_counties(root: Unit) -> int:
    """Set ``county`` (the nearest county-level unit at or above) for ``root`` and everything under
    it, from the materialised paths; returns how many changed. Called wherever a path or a kind
    changes: a new unit, a move, a unit becoming or ceasing to be a county."""
    ancestor_ids = [int(part) for part in root.path.rstrip(".").split(".")[:-1] if part]
    rows = list(Unit.objects.subtree(root).values_list("pk", "path", "kind", "county_id"))
    kinds = {row[0]: row[2] for row in rows}
    kinds.update(Unit.objects.filter(pk__in=ancestor_ids).values_list("pk", "kind"))
    changed = []
    for pk, path, _kind, county_id in rows:
        nearest = None
        for part in reversed(path.rstrip(".").split(".")):
            if kinds.get(int(part)) == UnitKind.COUNTY:
                nearest = int(part)
                break
        if nearest != county_id:
            changed.append((nearest, pk))
    if changed:
        from django.db import connection

        with connection.cursor() as cursor:  # one prepared statement for the subtree
            cursor.executemany("UPDATE orgs_unit SET county_id = %s WHERE id = %s", changed)
    if root.pk in {pk for _, pk in changed}:
        root.county_id = next(c for c, pk in changed if pk == root.pk)
    return len(changed)


class UserQuerySet(models.QuerySet):
    def visible_to(self, user) -> UserQuerySet:
        from rectify.orgs.scope import visible_users

        return visible_users(self, user)

    def actionable_by(self, user, action: str) -> UserQuerySet:
        from rectify.orgs.scope import actionable_users

        return actionable_users(self, user, action)


class AccountManager(UserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    pass


class User(AbstractUser):
    display_name = models.CharField(_("姓名"), max_length=50, blank=True)
    title = models.CharField(_("职务"), max_length=100, blank=True)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="users",
                             verbose_name=_("所属单位"))
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, blank=True)
    must_change_password = models.BooleanField(_("须修改初始密码"), default=True)
    password_changed_at = models.DateTimeField(_("密码修改时间"), null=True, blank=True)
    failed_logins = models.PositiveIntegerField(_("连续登录失败次数"), default=0)
    locked_until = models.DateTimeField(_("锁定至"), null=True, blank=True)
    is_demo = models.BooleanField(_("演示账户"), default=False)

    objects = AccountManager()  # type: ignore[misc]  # AbstractUser declares a plain UserManager

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_office(self) -> bool:
        return self.role in OFFICE_ROLES


class AssignmentQuerySet(models.QuerySet):
    def visible_to(self, user) -> AssignmentQuerySet:
        from rectify.orgs.scope import visible_assignments

        return visible_assignments(self, user)


class LeaderAssignment(models.Model):
    """A city leader's area: a county (包县市区) or a sector (分管领域, by task category)."""

    leader = models.ForeignKey(User, on_delete=models.CASCADE, related_name="assignments",
                               limit_choices_to={"role": Role.LEADER})
    county = models.ForeignKey(Unit, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
                               limit_choices_to={"kind": UnitKind.COUNTY})
    sector = models.CharField(max_length=30, choices=Category.choices, blank=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("领导联系分工")
        verbose_name_plural = _("领导联系分工")
        constraints = [
            models.CheckConstraint(condition=models.Q(county__isnull=False) | ~models.Q(sector=""),
                                   name="assignment_has_county_or_sector"),
            # a leader holds a county or a sector once (orgs.services.assign_leader_area)
            models.UniqueConstraint(fields=["leader", "county"], condition=models.Q(county__isnull=False),
                                    name="assignment_unique_county"),
            models.UniqueConstraint(fields=["leader", "sector"], condition=~models.Q(sector=""),
                                    name="assignment_unique_sector"),
        ]

    def __str__(self) -> str:
        return f"{self.leader} → {self.county or self.get_sector_display()}"


class PasswordHistory(models.Model):
    """Earlier password hashes, so the last few cannot be reused (等保: 口令定期更换)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class TokenQuerySet(models.QuerySet):
    def visible_to(self, user) -> TokenQuerySet:
        from rectify.orgs.scope import visible_tokens

        return visible_tokens(self, user)


class ApiToken(models.Model):
    """A machine client's bearer token. Only the SM3 digest of the key is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("用途"), max_length=100)
    prefix = models.CharField(max_length=8, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # Chosen at issue (settings.API_TOKEN_DAYS by default); NULL only for tokens issued before
    # expiry existed, which orgs.services.user_for_token treats as expired API_TOKEN_DAYS after issue.
    expires_at = models.DateTimeField(_("有效期至"), null=True, blank=True)
    revoked = models.BooleanField(default=False)

    objects = TokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")


class SecondFactorQuerySet(models.QuerySet):
    def visible_to(self, user):
        from rectify.orgs.scope import visible_second_factors

        return visible_second_factors(self, user)


class TotpDevice(models.Model):
    """A user's TOTP authenticator (RFC 6238, 30-second step, 6 digits): the second factor.

    The shared secret is SM4-encrypted at rest (core/crypto.py). ``confirmed_at`` is set once the
    holder has typed a first valid code; until then the device does not count. ``last_step`` is the
    time step of the last accepted code, so a code cannot be used twice (nor an older one).
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="totp_device")
    secret = EncryptedTextField(_("密钥"))
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_step = models.BigIntegerField(default=0)

    objects = SecondFactorQuerySet.as_manager()

    class Meta:
        verbose_name = _("动态口令设备")
        verbose_name_plural = _("动态口令设备")


class RecoveryCode(models.Model):
    """A single-use recovery code (恢复码), shown once; only a salted SM3 digest is kept."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    salt = models.CharField(max_length=32)
    digest = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    objects = SecondFactorQuerySet.as_manager()

    class Meta:
        verbose_name = _("恢复码")
        verbose_name_plural = _("恢复码")


class UserSessionQuerySet(models.QuerySet):
    def visible_to(self, user):
        from rectify.orgs.scope import visible_sessions

        return visible_sessions(self, user)


class UserSession(models.Model):
    """One signed-in session of a user (the browser it came from), so that the user and the security
    administrator can see and end sessions, and the number of concurrent sessions can be capped.
    Written at login only; the last activity is read from the session itself (a GET writes nothing)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sessions")
    session_key = models.CharField(max_length=40, unique=True)
    user_agent = models.CharField(_("浏览器"), max_length=300, blank=True)
    ip = models.CharField(_("地址"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("登录时间"), auto_now_add=True)

    objects = UserSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("登录会话")
        verbose_name_plural = _("登录会话")
