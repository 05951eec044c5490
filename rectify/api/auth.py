from ninja.security import HttpBearer

from rectify.orgs.services import user_for_token


class TokenAuth(HttpBearer):
    """``Authorization: Bearer rk_…`` — tokens are issued with `rectify token USERNAME`."""

    def authenticate(self, request, token):
        user = user_for_token(token)
        if user is None:
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
            user = user_for_token(key.strip()) if scheme.lower() == "bearer" and key.strip() else None
            if user is None:
                return JsonResponse({"detail": "令牌无效或已失效"}, status=401)
            request.user = user
            return view(request, *args, **kwargs)
        return redirect_to_login(request.get_full_path())

    return wrapped
