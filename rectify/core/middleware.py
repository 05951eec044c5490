"""Request-wide security: response headers and session timeouts (等保 2.0 身份鉴别)."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse

from rectify.core.audit import current_ip

# Everything the UI needs is vendored; nothing may load from elsewhere.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
)


def client_ip(request) -> str:
    # Behind a reverse proxy the deployment sets RECTIFY_TRUST_X_FORWARDED_FOR; otherwise trust only the socket.
    if getattr(settings, "TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "")


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_ip.set(client_ip(request))
        try:
            response = self.get_response(request)
        finally:
            current_ip.reset(token)
        if not request.path.startswith("/api/v1/docs"):
            response.setdefault("Content-Security-Policy", CSP)
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response


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
                from rectify.orgs.services import record_session_timeout

                record_session_timeout(user=user)
                logout(request)
                messages.info(request, "由于长时间未操作，您已自动退出登录，请重新登录。")
                if request.path.startswith("/api/"):
                    return self.get_response(request)
                return redirect(f"{reverse('orgs:login')}?next={request.path}")
            request.session["last_activity"] = now
            request.session.setdefault("login_at", now)
        return self.get_response(request)
