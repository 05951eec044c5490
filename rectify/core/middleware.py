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


JSON_MAX_INTEGER = 2**53 - 1  # the largest integer JSON readers agree on; ids are bounded tighter by the API's schemas
JSON_MAX_TEXT = 100_000  # characters in one JSON string; each field's own limit is the API's and the model's


def _json_fault(value) -> str | None:
    """Why a parsed JSON body is refused before any view reads it, or None."""
    if isinstance(value, str):
        if "\x00" in value:
            return "请求中含有空字符（NUL，\\u0000），系统未接收。请检查提交的文字。"
        if len(value) > JSON_MAX_TEXT:
            return f"请求中的文字过长（超过 {JSON_MAX_TEXT} 字），系统未接收。"
    elif isinstance(value, bool):
        return None
    elif isinstance(value, int):
        if abs(value) > JSON_MAX_INTEGER:
            return "请求中的数值超出范围，系统未接收。"
    elif isinstance(value, dict):
        return next((f for k, v in value.items() if (f := _json_fault(k) or _json_fault(v))), None)
    elif isinstance(value, list):
        return next((f for v in value if (f := _json_fault(v))), None)
    return None


def _refuse_bad_input(request):
    """Refuse, before any view reads it, input no field can hold: a NUL character in the query
    string or a form body (HTTP 400), and in a JSON body a NUL, a string over JSON_MAX_TEXT or an
    integer past JSON_MAX_INTEGER (HTTP 422). PostgreSQL can neither store nor compare a NUL and
    SQLite cannot bind an integer past 2**63: both were 500s. Multipart bodies are left to the
    forms: file contents hold NULs."""
    from urllib.parse import unquote_to_bytes

    from django.http import HttpResponse, JsonResponse

    status, message = 400, "请求中含有空字符（NUL，\\u0000），系统未接收。请检查提交的文字。"
    if b"\x00" in unquote_to_bytes(request.META.get("QUERY_STRING", "")):
        pass
    elif request.method not in ("POST", "PUT", "PATCH"):
        return None
    elif request.content_type == "application/x-www-form-urlencoded":
        if b"%00" not in request.body:
            return None
    elif request.content_type == "application/json" and request.path.startswith("/api/"):
        import json

        try:
            fault = _json_fault(json.loads(request.body))
        except ValueError:
            return None  # not JSON: the API's own parser answers
        if fault is None:
            return None
        status, message = 422, fault
    else:
        return None
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": message}, status=status,
                                              json_dumps_params={"ensure_ascii": False})
    else:
        response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    response["X-Request-ID"] = request.request_id
    return response


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = secrets.token_hex(6)
        refused = _refuse_oversized_body(request) or _refuse_bad_input(request)
        if refused is not None:
            return refused
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
