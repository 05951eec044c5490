"""The roles a user account holds (角色). Defined in core so that every app, core included, can
ask "is this an office user?" without importing the organisation app above it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, TypeVar

from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from typing_extensions import TypeIs

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


class Role(models.TextChoices):
    OFFICE_ADMIN = "office_admin", _("整改办管理员")
    OFFICE_STAFF = "office_staff", _("整改办工作人员")
    SUPERVISOR = "supervisor", _("牵头督导单位")
    REPORTER = "reporter", _("责任单位填报员")
    REVIEWER = "reviewer", _("责任单位审核员")
    LEADER = "leader", _("市领导")
    DISCIPLINE = "discipline", _("纪委监委")
    AUDITOR = "auditor", _("安全审计员")
    # 三员分立 (SECURITY.md #12): accounts and units; security settings and lockouts. Neither is an
    # office role: they see no ledger, approve no report and act on no workflow.
    SYSTEM_ADMIN = "system_admin", _("系统管理员")
    SECURITY_ADMIN = "security_admin", _("安全管理员")
    OBSERVER = "observer", _("监督员")  # 人大代表、政协委员、环保志愿者: the public set plus their own observations


OFFICE_ROLES = frozenset({Role.OFFICE_ADMIN, Role.OFFICE_STAFF})
UNIT_ROLES = frozenset({Role.REPORTER, Role.REVIEWER})  # a responsible unit's own people
# The administrators of 三员分立 besides the auditor: they belong to an office unit (whose tree they
# administer) but hold no business role in it.
ADMIN_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN})
# The three separated duties (三员): their accounts are created, changed and switched off by a system
# administrator only, so that a business administrator who also manages accounts cannot make or
# silence the people who watch it.
SEPARATED_ROLES = ADMIN_ROLES | {Role.AUDITOR}


class Actor(Protocol):
    """What scope rules read of a signed-in account (``orgs.User`` satisfies it; core cannot
    import orgs, which sits above it)."""

    pk: Any
    role: str
    unit_id: int | None
    unit: Any
    is_active: bool

    @property
    def is_authenticated(self) -> bool: ...


# Whoever asks: a signed-in account, an anonymous visitor, or nobody (system work).
Viewer: TypeAlias = "Actor | AnonymousUser | None"

QS = TypeVar("QS", bound=QuerySet)  # a scope function returns the queryset type it was given


def is_active_user(user: object) -> TypeIs[Actor]:
    return bool(user is not None and getattr(user, "is_authenticated", False) and getattr(user, "is_active", False)
                and hasattr(user, "role"))


def is_office(user: object) -> TypeIs[Actor]:
    """An active office user attached to an office unit (整改办)."""
    return is_active_user(user) and user.role in OFFICE_ROLES and user.unit_id is not None
