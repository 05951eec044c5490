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


def _refuse_oversized_body(request):
    """HTTP 413 for a body declared larger than settings.MAX_REQUEST_BYTES, decided from the header
    alone: the body is never read (a 300 MB upload used to be read in full before the form's check)."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    limit = settings.MAX_REQUEST_BYTES
    if declared.isdigit() and len(declared) < 16 and int(declared) <= limit:
        return None
    from django.http import HttpResponse

    message = f"提交的内容过大（超过 {limit // 1048576} MB），系统未接收。请压缩或拆分文件后重试。"
    response = HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
    response["Connection"] = "close"
    response["X-Request-ID"] = request.request_id
    return response


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = secrets.token_hex(6)
        too_big = _refuse_oversized_body(request)
        if too_big is not None:
            return too_big
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
