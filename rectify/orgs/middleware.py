"""Who may use the site right now: forced password change and idle/absolute session timeouts (等保 2.0 身份鉴别)."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse

from rectify.orgs.services import password_expired, record_session_timeout

ACTIVITY_RESOLUTION_SECONDS = 60

EXEMPT_PREFIXES = ("/accounts/", "/static/", "/api/")


class PasswordChangeRequiredMiddleware:
    """An initial or expired password must be changed before anything else (等保: 口令更换)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated and not request.path.startswith(EXEMPT_PREFIXES)
                and password_expired(user)):
            return redirect(f"{reverse('orgs:password_change')}?next={request.path}")
        return self.get_response(request)


class SessionTimeoutMiddleware:
    """End a session idle longer than the configured minutes, or older than the absolute limit."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            last = request.session.get("last_activity")
            started = request.session.get("login_at", now)
            idle_limit = settings.SESSION_IDLE_TIMEOUT_MINUTES * 60
            absolute_limit = settings.SESSION_ABSOLUTE_HOURS * 3600
            if (last is not None and now - last > idle_limit) or now - started > absolute_limit:
                record_session_timeout(user=user)
                logout(request)
                messages.info(request, "由于长时间未操作，您已自动退出登录，请重新登录。")
                if request.path.startswith("/api/"):
                    return self.get_response(request)
                return redirect(f"{reverse('orgs:login')}?next={request.path}")
            # A read must not write: the idle timer is refreshed at most once a minute, so that a
            # page view does not rewrite the session row (on SQLite every write takes the lock).
            # A page's own background poll (htmx, header X-Rectify-Poll: a job's progress) is not the
            # user acting: it neither keeps an idle session alive nor writes (during a long import on
            # SQLite that write would wait for the import's lock).
            poll = request.method == "GET" and request.headers.get("X-Rectify-Poll") == "1"
            if not poll and (last is None or now - last >= ACTIVITY_RESOLUTION_SECONDS):
                request.session["last_activity"] = now
            if "login_at" not in request.session:
                request.session["login_at"] = now
        return self.get_response(request)


# Paths a user who must enrol a second factor can still reach: the enrolment itself, logging out,
# the password form, and static files.
ENROL_EXEMPT = ("/accounts/2fa/setup/", "/accounts/logout/", "/accounts/password/", "/static/")


class SecondFactorMiddleware:
    """Second factor (SECURITY.md check 5), from flags the login set in the session (no query):
    a session of an account holding an authenticator that did not pass the code step is ended; an
    account whose role requires a second factor and holds none enrols before anything else."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            if request.session.get("totp_missing"):
                logout(request)
                messages.info(request, "该账户已启用动态口令，请通过登录页输入密码和动态口令登录。")
                return redirect(reverse("orgs:login"))
            if request.session.get("totp_enrol") and not request.path.startswith(ENROL_EXEMPT):
                if request.path.startswith("/api/"):
                    from django.http import JsonResponse

                    return JsonResponse({"detail": "须先绑定动态口令"}, status=403)
                return redirect(f"{reverse('orgs:totp_setup')}?next={request.path}")
        return self.get_response(request)
