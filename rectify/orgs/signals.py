"""Login, logout and failed logins go to the audit record (等保: 安全审计)."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    from rectify.orgs.services import register_login_success

    register_login_success(user=user)
    if request is not None and hasattr(request, "session"):
        import time

        from rectify.core.middleware import client_ip
        from rectify.orgs.sessions import session_started
        from rectify.orgs.twofactor import has_totp, totp_required

        request.session["login_at"] = time.time()
        request.session["last_activity"] = time.time()
        # The second factor (orgs/twofactor.py): a login that did not pass the code step of an
        # account holding an authenticator (the Django admin's login form, any other login path) is
        # ended by orgs.middleware.SecondFactorMiddleware; an account whose role requires one and
        # holds none is sent to enrol before anything else.
        if has_totp(user):
            if not getattr(request, "second_factor_passed", False):
                request.session["totp_missing"] = True
        elif totp_required(user):
            request.session["totp_enrol"] = True
        session_started(user=user, session_key=request.session.session_key or "",
                        user_agent=request.META.get("HTTP_USER_AGENT", ""), ip=client_ip(request))


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    from rectify.orgs.services import record_logout

    if user is not None:
        record_logout(user=user)
    if request is not None and hasattr(request, "session"):
        from rectify.orgs.sessions import session_closed

        session_closed(request.session.session_key)


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    from rectify.orgs.services import register_login_failure

    register_login_failure(username=credentials.get("username", ""), reason="password")
