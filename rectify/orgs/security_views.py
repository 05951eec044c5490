"""The account's security pages: the login's second step, setting up the authenticator, the list of
signed-in sessions, the holder's own API tokens, and a manager's view of one account's sessions and
second factor. Writes go through orgs.twofactor, orgs.sessions and orgs.services."""

from __future__ import annotations

import time

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_POST

from rectify.core.forms import ZhForm
from rectify.core.middleware import client_ip
from rectify.core.ratelimit import hit, spent
from rectify.orgs import services, sessions, twofactor
from rectify.orgs.models import ApiToken, User, UserSession
from rectify.orgs.scope import manages_security, security_users

PENDING_SECONDS = 300  # the password step counts for five minutes


class CodeForm(ZhForm):
    code = forms.CharField(label="动态口令或恢复码", max_length=32,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                                         "autofocus": True}))


class TokenForm(ZhForm):
    name = forms.CharField(label="用途", max_length=100)
    days = forms.IntegerField(label="有效期（天）", min_value=1, max_value=settings.API_TOKEN_MAX_DAYS,
                              initial=settings.API_TOKEN_DAYS)


def _safe_next(request, target: str | None) -> str:
    target = target or "/"
    return target if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}) else "/"


def _pending_user(request) -> tuple[dict, User] | None:
    pending = request.session.get("pending_2fa")
    if not isinstance(pending, dict) or time.time() - float(pending.get("at", 0)) > PENDING_SECONDS:
        return None
    user = User.objects.filter(pk=pending.get("user"), is_active=True).select_related("unit").first()
    if user is None or (user.locked_until and user.locked_until > timezone.now()):
        return None
    return pending, user


def totp_verify(request):
    """The login's second step: the 6-digit code of the authenticator, or one recovery code.
    Wrong codes count per pending account (settings.TOTP_MAX_ATTEMPTS) and per address (with failed
    passwords, settings.LOGIN_RATE_LIMIT) in the shared cache; past either, HTTP 429."""
    found = _pending_user(request)
    if found is None:
        if request.method == "POST":  # a GET writes nothing, not even the session
            request.session.pop("pending_2fa", None)
        return redirect("orgs:login")
    pending, user = found
    form = CodeForm(request.POST or None)
    window = settings.LOGIN_RATE_WINDOW_SECONDS
    user_key, ip_key = f"totp-failures:{user.pk}", f"login-failures:{client_ip(request)}"
    if request.method == "POST":
        if spent(user_key) >= settings.TOTP_MAX_ATTEMPTS or spent(ip_key) >= settings.LOGIN_RATE_LIMIT:
            return render(request, "orgs/totp_verify.html", {"form": form, "rate_limited": True,
                                                              "window_minutes": max(1, window // 60)}, status=429)
        if form.is_valid():
            how = twofactor.verify_second_factor(user=user, code=form.cleaned_data["code"])
            if how:
                user.backend = pending["backend"]
                request.second_factor_passed = True
                del request.session["pending_2fa"]
                login(request, user)
                if how == "recovery":
                    messages.warning(request, f"已使用一个恢复码，剩余 {twofactor.recovery_codes_left(user)} 个。"
                                              "恢复码用完前请联系管理员重置动态口令。")
                return redirect(_safe_next(request, pending.get("next")))
            hit(user_key, limit=settings.TOTP_MAX_ATTEMPTS, window_seconds=window)
            hit(ip_key, limit=settings.LOGIN_RATE_LIMIT, window_seconds=window)
            form.add_error("code", "动态口令或恢复码不正确（动态口令每个只能使用一次）。")
    return render(request, "orgs/totp_verify.html", {"form": form})


@login_required
def totp_setup(request):
    """GET: whether the account holds an authenticator; while one is being set up, its QR code and
    secret and the form for the first code. POST: start setting one up (a new secret)."""
    if request.method == "POST":
        try:
            twofactor.begin_enrolment(user=request.user)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, "；".join(getattr(exc, "messages", [str(exc)])))
        return redirect(f"{request.path}?{urlencode({'next': _safe_next(request, request.GET.get('next'))})}")
    device = twofactor.pending_device(request.user)
    context = {"enabled": twofactor.has_totp(request.user), "required": twofactor.totp_required(request.user),
               "device": device, "form": CodeForm(), "next": _safe_next(request, request.GET.get("next")),
               "codes_left": twofactor.recovery_codes_left(request.user)}
    if device is not None:
        import segno
        from django.utils.safestring import mark_safe

        uri = twofactor.provisioning_uri(device)
        context.update(uri=uri, secret=twofactor.grouped_secret(device),
                       qr=mark_safe(segno.make(uri, error="m").svg_inline(scale=4, title="动态口令二维码")))
    return render(request, "orgs/totp_setup.html", context)


@login_required
@require_POST
def totp_confirm(request):
    form = CodeForm(request.POST)
    codes = None
    if form.is_valid():
        try:
            codes = twofactor.confirm_enrolment(user=request.user, code=form.cleaned_data["code"])
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
    if codes is None:
        return redirect(f"{reverse_setup()}?{urlencode({'next': _safe_next(request, request.POST.get('next'))})}")
    request.session.pop("totp_enrol", None)
    return render(request, "orgs/totp_codes.html", {"codes": codes, "next": _safe_next(request, request.POST.get("next"))})


def reverse_setup() -> str:
    from django.urls import reverse

    return reverse("orgs:totp_setup")


@login_required
def session_list(request):
    """The holder's own signed-in sessions."""
    live = sessions.live_sessions(sessions.sessions_of(request.user, request.user),
                                  current_key=request.session.session_key or "")
    return render(request, "orgs/sessions.html", {"sessions": live, "subject": request.user, "own": True,
                                                  "cap": settings.MAX_SESSIONS_PER_USER})


@login_required
@require_POST
def session_end(request, pk: int):
    row = UserSession.objects.visible_to(request.user).filter(pk=pk).select_related("user").first()
    if row is None:
        raise Http404
    try:
        sessions.end_session(actor=request.user, session=row)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, "；".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, "会话已结束。")
    if row.user_id == request.user.pk:
        return redirect("orgs:sessions")
    return redirect("orgs:user_security", pk=row.user_id)


@login_required
def user_security(request, pk: int):
    """A manager's view of one account: its sessions (each can be ended) and its second factor (reset)."""
    if not manages_security(request.user):
        raise PermissionDenied
    subject = security_users(User.objects.all(), request.user).filter(pk=pk).select_related("unit").first()
    if subject is None:
        raise Http404
    live = sessions.live_sessions(sessions.sessions_of(request.user, subject),
                                  current_key=request.session.session_key or "")
    return render(request, "orgs/sessions.html", {"sessions": live, "subject": subject, "own": False,
                                                  "enabled": twofactor.has_totp(subject),
                                                  "cap": settings.MAX_SESSIONS_PER_USER})


@login_required
@require_POST
def user_totp_reset(request, pk: int):
    subject = security_users(User.objects.all(), request.user).filter(pk=pk).first()
    if subject is None or not bool(manages_security(request.user)):  # bool(): no narrowing of request.user
        raise Http404
    try:
        twofactor.reset_totp(actor=request.user, user=subject)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, "；".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, f"已重置 {subject.username} 的动态口令，并结束其全部会话。")
    return redirect("orgs:user_security", pk=pk)


@login_required
def token_list(request):
    """The holder's own API tokens: issue one (its key shown once), see when each expires, revoke."""
    form = TokenForm(request.POST or None)
    key = None
    if request.method == "POST" and form.is_valid():
        try:
            key = services.issue_api_token(actor=request.user, user=request.user, name=form.cleaned_data["name"],
                                           days=form.cleaned_data["days"], channel="本人在“我的 API 令牌”页面签发")
        except (ValidationError, PermissionDenied) as exc:
            form.add_error(None, "；".join(getattr(exc, "messages", [str(exc)])))
        else:
            form = TokenForm()
    tokens = list(ApiToken.objects.visible_to(request.user).filter(user_id=request.user.pk)
                  .order_by("-created_at", "-id"))
    now = timezone.now()
    rows = [{"token": t, "expires_at": services.token_expires_at(t),
             "expired": services.token_expires_at(t) <= now} for t in tokens]
    return render(request, "orgs/tokens.html", {"form": form, "rows": rows, "key": key},
                  status=200 if request.method == "GET" or form.is_valid() or key else 400)


@login_required
@require_POST
def token_revoke(request, pk: int):
    token = ApiToken.objects.visible_to(request.user).filter(pk=pk, user_id=request.user.pk).select_related("user").first()
    if token is None:
        raise Http404
    try:
        services.revoke_api_token(actor=request.user, token=token, channel="本人在“我的 API 令牌”页面吊销")
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, "；".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, f"令牌「{token.name}」已吊销。")
    return redirect("orgs:tokens")
