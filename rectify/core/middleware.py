"""Request-wide security: response headers, the client address seen by the audit record, and a
request id that the error pages show and every log line of the request carries."""

from __future__ import annotations

import secrets

from django.conf import settings

from rectify.core.audit import current_ip
from rectify.core.headers import CSP
from rectify.core.request_id import current_request_id


def client_ip(request) -> str:
    # Behind a reverse proxy the deployment sets RECTIFY_TRUST_X_FORWARDED_FOR; otherwise trust only the socket.
    if getattr(settings, "TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            # The last entry is the one our proxy appended; earlier ones are whatever the client sent.
            return forwarded.split(",")[-1].strip()[:64]
    return request.META.get("REMOTE_ADDR", "")


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = secrets.token_hex(6)
        token = current_ip.set(client_ip(request))
        id_token = current_request_id.set(request.request_id)
        try:
            response = self.get_response(request)
        finally:
            current_ip.reset(token)
            current_request_id.reset(id_token)
        response.setdefault("X-Request-ID", request.request_id)
        if not request.path.startswith("/api/v1/docs"):
            response.setdefault("Content-Security-Policy", CSP)
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response
