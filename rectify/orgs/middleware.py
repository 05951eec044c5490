from django.shortcuts import redirect
from django.urls import reverse

from rectify.orgs.services import password_expired

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
