"""Login, logout and failed logins go to the audit record (等保: 安全审计)."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    from rectify.orgs.services import register_login_success

    register_login_success(user=user)
    if request is not None and hasattr(request, "session"):
        import time

        request.session["login_at"] = time.time()
        request.session["last_activity"] = time.time()


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    from rectify.orgs.services import record_logout

    if user is not None:
        record_logout(user=user)


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    from rectify.orgs.services import register_login_failure

    register_login_failure(username=credentials.get("username", ""), reason="password")
