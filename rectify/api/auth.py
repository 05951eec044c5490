from django.conf import settings
from ninja.errors import HttpError
from ninja.security import HttpBearer

from rectify.core.middleware import client_ip
from rectify.core.ratelimit import hit
from rectify.orgs.services import user_for_token


class TokenAuth(HttpBearer):
    """``Authorization: Bearer rk_…`` — tokens are issued with `rectify token USERNAME` or on the
    holder's page /accounts/tokens/. Refused (401) when unknown, revoked or expired, or when the
    holder is disabled, locked or has a password to change. Failed tokens count per address like
    failed logins (the same window): past the limit a failed token gets HTTP 429. A valid token is
    looked up first and costs no cache read, so the API's query counts stay as they were; guessing a
    256-bit key is hopeless anyway, the limit stops the flood."""

    def authenticate(self, request, token):
        user = user_for_token(token[:200])
        if user is None:
            key = f"token-failures:{client_ip(request)}"
            if not hit(key, limit=settings.API_TOKEN_FAILURE_LIMIT, window_seconds=settings.LOGIN_RATE_WINDOW_SECONDS):
                raise HttpError(429, "令牌验证失败次数过多，请稍后再试。")
            return None
        request.user = user
        return user


def docs_access(view):
    """The API's docs page and OpenAPI schema: for a logged-in user, or for a machine client with a
    valid API token (``Authorization: Bearer …``): code generators cannot log in. Without either, a
    browser is sent to the login page; a wrong token is refused with 401."""
    from functools import wraps

    from django.contrib.auth.views import redirect_to_login
    from django.http import JsonResponse

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, key = header.partition(" ")
            user = user_for_token(key.strip()[:200]) if scheme.lower() == "bearer" and key.strip() else None
            if user is None:  # counted with the API's failed tokens (TokenAuth above)
                if not hit(f"token-failures:{client_ip(request)}", limit=settings.API_TOKEN_FAILURE_LIMIT,
                           window_seconds=settings.LOGIN_RATE_WINDOW_SECONDS):
                    return JsonResponse({"detail": "令牌验证失败次数过多，请稍后再试。"}, status=429)
                return JsonResponse({"detail": "令牌无效或已失效"}, status=401)
            request.user = user
            return view(request, *args, **kwargs)
        return redirect_to_login(request.get_full_path())

    return wrapped
