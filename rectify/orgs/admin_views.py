"""Administration pages (账号与单位管理, /accounts/admin/): accounts, the unit tree, leader areas
and API tokens. Thin: forms parse, selectors read in the administrator's scope, services
(orgs/services.py) check permission, validate, write and record the event.

Who: the system administrator (系统管理员) and, unless ``OFFICE_ADMIN_MANAGES_ACCOUNTS`` is off, the
office administrator manage everything here (``manages_accounts``); the security administrator
(安全管理员) sees the account list and locks, unlocks and resets passwords (``manages_credentials``).
Everyone else gets 403; an object outside the administrator's tree is 404.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rectify.core.paging import list_page, query_int
from rectify.core.roles import SEPARATED_ROLES
from rectify.core.scope import views_calendar
from rectify.orgs import selectors, services
from rectify.orgs.admin_forms import (
    AreaForm,
    LockForm,
    MoveForm,
    TokenFilterForm,
    UnitForm,
    UserFilterForm,
    UserForm,
    apply_service_errors,
)
from rectify.orgs.models import Role, UnitKind
from rectify.orgs.scope import manages_accounts, manages_credentials

PER_PAGE = 50


def _require_accounts(user) -> None:
    if not manages_accounts(user):
        raise PermissionDenied(_("只有系统管理员可以管理账户、单位、领导分工和令牌。"))


def _require_credentials(user) -> None:
    if not manages_credentials(user):
        raise PermissionDenied(_("只有系统管理员或安全管理员可以进入账号管理。"))


def _menu(user) -> dict:
    return {"can_manage": manages_accounts(user), "can_credentials": manages_credentials(user),
            "can_calendar": views_calendar(user)}


def _grantable_roles(user) -> list[tuple[str, object]]:
    """The roles this administrator may give (the 三员 roles only a system administrator gives)."""
    return [(value, label) for value, label in Role.choices if services.may_act_on_separated(user, value)]


def _no_store(response):
    response["Cache-Control"] = "no-store"
    return response


# --- accounts -----------------------------------------------------------------------------------


@require_GET
@login_required
def user_list(request):
    _require_credentials(request.user)
    units = selectors.units_for_admin(request.user)
    form = UserFilterForm(request.GET or None, units=units)
    data = form.cleaned_data if form.is_valid() else {}
    f = selectors.UserFilter(unit=data.get("unit"), role=data.get("role") or "", state=data.get("state") or "",
                             q=data.get("q") or "")
    page = list_page(request, selectors.users_for_admin(request.user, f), PER_PAGE)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "orgs/admin/user_list.html", {
        "form": form, "page": page, "query": query.urlencode(), "now": timezone.now(), "section": "users",
        **_menu(request.user)})


def _temporary_password_page(request, account, password: str, *, created: bool):
    response = render(request, "orgs/admin/temporary_password.html", {
        "account": account, "password": password, "created": created, "section": "users", **_menu(request.user)})
    return _no_store(response)  # shown once: no copy in a cache or the back button


@require_http_methods(["GET", "POST"])
@login_required
def user_create(request):
    _require_accounts(request.user)
    units = selectors.units_for_admin(request.user)
    form = UserForm(request.POST or None, units=units, creating=True, roles=_grantable_roles(request.user))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        password = services.temporary_password()
        try:
            account = services.create_user(actor=request.user, username=d["username"], password=password,
                                           role=d["role"], unit=d["unit"], display_name=d["display_name"],
                                           title=d["title"], must_change_password=True)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return _temporary_password_page(request, account, password, created=True)
    return render(request, "orgs/admin/user_form.html", {"form": form, "section": "users", **_menu(request.user)})


@require_http_methods(["GET", "POST"])
@login_required
def user_detail(request, pk: int):
    """One account: its profile (editable by an account manager) and the security actions."""
    _require_credentials(request.user)
    account = selectors.get_user_for_admin(request.user, pk)
    # an account of the three separated duties (三员) is the system administrator's to change
    can_edit = manages_accounts(request.user) and services.may_act_on_separated(request.user, account.role)
    can_cred = services.may_act_on_separated(request.user, account.role, credentials=True)
    form = None
    if can_edit:
        units = selectors.units_for_admin(request.user)
        initial = {"display_name": account.display_name, "title": account.title, "role": account.role,
                   "unit": account.unit_id}
        form = UserForm(request.POST or None, units=units, creating=False, initial=initial,
                        roles=_grantable_roles(request.user))
        if request.method == "POST" and form.is_valid():
            d = form.cleaned_data
            try:
                services.update_user(actor=request.user, user=account, display_name=d["display_name"],
                                     title=d["title"], role=d["role"], unit=d["unit"])
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("账户 %(name)s 已保存。") % {"name": account.username})
                return redirect("orgs:admin_user", pk=account.pk)
    elif request.method == "POST":
        raise PermissionDenied(_("您不能修改该账户的信息（三员分立：系统管理员、安全管理员、安全审计员的账户由系统管理员管理）。"))
    return render(request, "orgs/admin/user_detail.html", {
        "account": account, "form": form, "lock_form": LockForm(), "now": timezone.now(),
        "locked": selectors.locked_now(account), "admin_locked": services.admin_locked(account),
        "is_self": account.pk == request.user.pk, "can_edit": can_edit, "can_cred": can_cred,
        "separated": account.role in SEPARATED_ROLES, "section": "users", **_menu(request.user)})


def _account_action(request, pk: int, action):
    """Run one POST action on an account; a refusal the service explains comes back as a message."""
    _require_credentials(request.user)
    account = selectors.get_user_for_admin(request.user, pk)
    try:
        done = action(account)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        if done:
            messages.success(request, done)
    return redirect("orgs:admin_user", pk=account.pk)


@require_POST
@login_required
def user_lock(request, pk: int):
    form = LockForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""

    def act(account):
        services.lock_user(actor=request.user, user=account, reason=reason)
        return _("账户 %(name)s 已锁定，解锁前不能登录。") % {"name": account.username}
    return _account_action(request, pk, act)


@require_POST
@login_required
def user_unlock(request, pk: int):
    def act(account):
        services.unlock_user(actor=request.user, user=account)
        return _("账户 %(name)s 已解除锁定。") % {"name": account.username}
    return _account_action(request, pk, act)


@require_POST
@login_required
def user_set_active(request, pk: int):
    _require_accounts(request.user)
    active = request.POST.get("active") == "1"

    def act(account):
        services.set_user_active(actor=request.user, user=account, active=active)
        return (_("账户 %(name)s 已启用。") if active else _("账户 %(name)s 已停用，不能再登录。")) % {
            "name": account.username}
    return _account_action(request, pk, act)


@require_POST
@login_required
def user_reset_password(request, pk: int):
    _require_credentials(request.user)
    account = selectors.get_user_for_admin(request.user, pk)
    try:
        password = services.reset_password(actor=request.user, user=account)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("orgs:admin_user", pk=account.pk)
    return _temporary_password_page(request, account, password, created=False)


@require_GET
@login_required
def security_policy(request):
    """安全策略: the password, lockout and session settings in force (read-only: they are deployment
    settings, README 'Configuration'), and the accounts that need attention."""
    _require_credentials(request.user)
    accounts = selectors.users_for_admin(request.user, selectors.UserFilter())
    now = timezone.now()
    policy = [
        (_("密码最短长度"), _("%(n)s 位，须含大写字母、小写字母、数字、符号中的 3 类，不得为常见密码或包含用户名")
         % {"n": settings.PASSWORD_MIN_LENGTH}),
        (_("密码有效期"), _("%(n)s 天，到期须修改；不得与最近 %(h)s 次相同") % {
            "n": settings.PASSWORD_EXPIRY_DAYS, "h": settings.PASSWORD_HISTORY}),
        (_("登录失败锁定"), _("连续 %(n)s 次失败锁定 %(m)s 分钟") % {
            "n": settings.LOGIN_MAX_FAILURES, "m": settings.LOGIN_LOCKOUT_MINUTES}),
        (_("同一地址登录失败限制"), _("%(m)s 分钟内 %(n)s 次") % {
            "n": settings.LOGIN_RATE_LIMIT, "m": max(1, settings.LOGIN_RATE_WINDOW_SECONDS // 60)}),
        (_("会话闲置超时"), _("%(n)s 分钟") % {"n": settings.SESSION_IDLE_TIMEOUT_MINUTES}),
        (_("会话最长时间"), _("%(n)s 小时") % {"n": settings.SESSION_ABSOLUTE_HOURS}),
        (_("整改办管理员兼管账户"), _("是") if settings.OFFICE_ADMIN_MANAGES_ACCOUNTS else _("否（严格三员分立）")),
    ]
    return render(request, "orgs/admin/security.html", {
        "policy": policy, "locked": accounts.filter(locked_until__gt=now).count(),
        "pending": accounts.filter(must_change_password=True, is_demo=False, is_active=True).count(),
        "section": "security", **_menu(request.user)})


# --- units --------------------------------------------------------------------------------------


@require_GET
@login_required
def unit_tree(request):
    _require_accounts(request.user)
    return render(request, "orgs/admin/unit_tree.html", {
        "rows": selectors.unit_tree(request.user), "section": "units", **_menu(request.user)})


def _unit_kwargs(d: dict) -> dict:
    return {k: d[k] for k in ("name", "short_name", "aliases", "kind", "county_kind", "region_code", "sort_order",
                              "is_active")}


@require_http_methods(["GET", "POST"])
@login_required
def unit_create(request):
    _require_accounts(request.user)
    units = selectors.units_for_admin(request.user)
    parent = query_int(request.GET.get("parent"))
    initial = {"parent": parent, "kind": UnitKind.COUNTY, "is_active": True, "sort_order": 0}
    form = UnitForm(request.POST or None, units=units, creating=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            unit = services.create_unit(actor=request.user, parent=d["parent"], **_unit_kwargs(d))
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("已新增单位 %(name)s。") % {"name": unit.name})
            return redirect("orgs:admin_units")
    return render(request, "orgs/admin/unit_form.html", {"form": form, "unit": None, "section": "units",
                                                          **_menu(request.user)})


@require_http_methods(["GET", "POST"])
@login_required
def unit_edit(request, pk: int):
    _require_accounts(request.user)
    unit = selectors.get_unit_for_admin(request.user, pk)
    initial = {k: getattr(unit, k) for k in ("name", "short_name", "aliases", "kind", "county_kind", "region_code",
                                             "sort_order", "is_active")}
    form = UnitForm(request.POST or None, creating=False, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_unit(actor=request.user, unit=unit, **_unit_kwargs(form.cleaned_data))
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("单位 %(name)s 已保存。") % {"name": unit.name})
            return redirect("orgs:admin_units")
    return render(request, "orgs/admin/unit_form.html", {"form": form, "unit": unit, "section": "units",
                                                          **_menu(request.user)})


@require_http_methods(["GET", "POST"])
@login_required
def unit_move(request, pk: int):
    _require_accounts(request.user)
    unit = selectors.get_unit_for_admin(request.user, pk)
    form = MoveForm(request.POST or None, units=selectors.units_for_admin(request.user),
                    initial={"parent": unit.parent_id})
    if request.method == "POST" and form.is_valid():
        try:
            services.move_unit(actor=request.user, unit=unit, parent=form.cleaned_data["parent"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("单位 %(name)s 已调整到 %(parent)s 之下。") % {
                "name": unit.name, "parent": form.cleaned_data["parent"].name})
            return redirect("orgs:admin_units")
    return render(request, "orgs/admin/unit_move.html", {"form": form, "unit": unit, "section": "units",
                                                          **_menu(request.user)})


# --- leader areas (包县市区督导 / 分管领域) --------------------------------------------------------


@require_GET
@login_required
def leader_list(request):
    _require_accounts(request.user)
    return render(request, "orgs/admin/leader_list.html", {
        "leaders": selectors.leaders_for_admin(request.user), "section": "leaders", **_menu(request.user)})


def _counties(user):
    return selectors.units_for_admin(user).filter(kind=UnitKind.COUNTY).order_by("sort_order", "id")


@require_http_methods(["GET", "POST"])
@login_required
def leader_detail(request, pk: int):
    _require_accounts(request.user)
    leader = selectors.get_leader_for_admin(request.user, pk)
    form = AreaForm(request.POST or None, counties=_counties(request.user))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.assign_leader_area(actor=request.user, leader=leader, county=d["county"],
                                        sector=d["sector"] or "")
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("已为 %(name)s 新增分工。") % {"name": leader})
            return redirect("orgs:admin_leader", pk=leader.pk)
    areas = [a for a in leader.assignments.select_related("county").order_by("county__sort_order", "county_id",
                                                                              "sector")]
    return render(request, "orgs/admin/leader_detail.html", {
        "leader": leader, "areas": areas, "form": form, "section": "leaders", **_menu(request.user)})


@require_POST
@login_required
def leader_area_remove(request, pk: int):
    _require_accounts(request.user)
    assignment = selectors.get_assignment_for_admin(request.user, pk)
    leader = assignment.leader
    try:
        services.remove_leader_area(actor=request.user, assignment=assignment)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, _("已取消 %(name)s 的该项分工。") % {"name": leader})
    return redirect("orgs:admin_leader", pk=leader.pk)


# --- API tokens -------------------------------------------------------------------------------------


@require_GET
@login_required
def token_list(request):
    _require_accounts(request.user)
    form = TokenFilterForm(request.GET or None)
    state = form.cleaned_data.get("state", "") if form.is_valid() else ""
    page = list_page(request, selectors.tokens_for_admin(request.user, state=state), PER_PAGE)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "orgs/admin/token_list.html", {
        "form": form, "page": page, "query": query.urlencode(), "now": timezone.now(), "section": "tokens",
        **_menu(request.user)})


@require_POST
@login_required
def token_revoke(request, pk: int):
    _require_accounts(request.user)
    token = selectors.get_token_for_user(request.user, pk)
    try:
        services.revoke_api_token(actor=request.user, token=token, channel="网页（账号与单位管理）")
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, _("令牌「%(name)s」已吊销，使用它的调用将被拒绝。") % {"name": token.name})
    return redirect("orgs:admin_tokens")


