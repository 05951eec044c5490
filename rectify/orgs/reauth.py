"""Keep what was typed when the session ended (no lost typing).

A form sent after the session had ended (idle or absolute timeout, or the session gone) was
answered with a redirect to the login page, and the text typed into it was lost. This middleware
answers such a POST with a page that keeps every field that was sent (hidden), asks for the
password again and sends the same fields back to the same address. There, once Django's CSRF
check has passed, the user is logged in again (same form, limits and audit as the login page)
and the original view runs as if the session had never ended. Chosen files cannot be kept by a
browser; the page says so.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login as auth_login
from django.shortcuts import render
from django.urls import reverse

from rectify.core.middleware import client_ip
from rectify.core.ratelimit import hit, spent
from rectify.orgs.middleware import EXEMPT_PREFIXES

MARK = "_reauth"
USERNAME = "_reauth_username"
PASSWORD = "_reauth_password"
CODE = "_reauth_code"  # the second factor of an account that holds one (orgs/twofactor.py)
NOT_KEPT = {"csrfmiddlewaretoken", MARK, USERNAME, PASSWORD, CODE}


def _kept(request) -> list[tuple[str, str]]:
    return [(name, value) for name, values in request.POST.lists() if name not in NOT_KEPT for value in values]


def _preview(kept: list[tuple[str, str]]) -> str:
    """The longest text sent, shortened: the user sees that what they wrote is still here."""
    longest = max((value for _, value in kept), key=len, default="")
    return longest if len(longest) <= 80 else longest[:80] + "…"


def _page(request, *, username: str, error: str = "", status: int = 401):
    kept = _kept(request)
    return render(request, "orgs/reauth.html", {
        "kept": kept, "preview": _preview(kept), "username": username, "error": error,
        "files": [f.name for f in request.FILES.values()], "action": request.path}, status=status)


def _passes_csrf(request) -> bool:
    """Only a form our own page sent is kept: the session timeout answers before Django's CSRF check
    runs, and a forged cross-site form must not come back as a genuine page asking for a password."""
    from django.middleware.csrf import CsrfViewMiddleware

    return CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {}) is None  # type: ignore[arg-type]


class KeepTypingMiddleware:
    """Sits before SessionTimeoutMiddleware, so that it sees the redirect an ended session gets."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        watched = request.method == "POST" and not request.path.startswith(EXEMPT_PREFIXES)
        known = ""
        if watched:
            user = getattr(request, "user", None)
            known = user.get_username() if user is not None and user.is_authenticated else ""
        response = self.get_response(request)
        if (watched and response.status_code == 302
                and response.get("Location", "").startswith(reverse("orgs:login")) and _kept(request)
                and _passes_csrf(request)):
            return _page(request, username=known or request.POST.get(USERNAME, ""))
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if (request.method != "POST" or request.path.startswith(EXEMPT_PREFIXES)
                or request.user.is_authenticated or MARK not in request.POST):
            return None
        # Only a request that passed the CSRF check may log anyone in (no login CSRF).
        if not getattr(request, "csrf_processing_done", False):
            return None
        from rectify.orgs.forms import LoginForm

        username = request.POST.get(USERNAME, "")[:150]
        key = f"login-failures:{client_ip(request)}"
        window = settings.LOGIN_RATE_WINDOW_SECONDS
        if spent(key) >= settings.LOGIN_RATE_LIMIT:
            return _page(request, username=username, status=429, error=(
                f"该地址登录尝试过于频繁，请 {max(1, window // 60)} 分钟后再试。您填写的内容仍保留在本页。"))
        form = LoginForm(request, data={"username": username, "password": request.POST.get(PASSWORD, "")})
        if not form.is_valid():
            hit(key, limit=settings.LOGIN_RATE_LIMIT, window_seconds=window)
            return _page(request, username=username,
                         error="；".join(form.non_field_errors()) or "请输入用户名和密码。")
        user = form.get_user()
        from rectify.orgs.twofactor import has_totp, verify_second_factor

        if has_totp(user):
            # The password alone does not sign in an account holding an authenticator, here either.
            code = request.POST.get(CODE, "")[:32]
            if not code or not verify_second_factor(user=user, code=code):
                hit(key, limit=settings.LOGIN_RATE_LIMIT, window_seconds=window)
                return _page(request, username=username, error="该账户已启用动态口令：请同时输入手机上的 6 位动态口令"
                             "（或一个恢复码）。您填写的内容仍保留在本页。")
            request.second_factor_passed = True
        auth_login(request, user)
        post = request.POST.copy()
        for name in (MARK, USERNAME, PASSWORD, CODE):
            post.pop(name, None)
        request.POST = post  # the view sees exactly the form that was first sent
        return None
