from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from rectify.core.middleware import client_ip
from rectify.core.ratelimit import hit, spent
from rectify.orgs import services
from rectify.orgs.forms import LoginForm, PasswordChangeForm


class LoginView(auth_views.LoginView):
    template_name = "orgs/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        # Per-address limit on FAILED logins (SECURITY.md #4), beside the per-account lockout
        # (orgs.services). Successes never count, so a whole office behind one NAT address logs in
        # each morning; the count lives in the shared cache, so it holds across server processes.
        key = f"login-failures:{client_ip(request)}"
        window = settings.LOGIN_RATE_WINDOW_SECONDS
        if spent(key) >= settings.LOGIN_RATE_LIMIT:
            return render(request, "orgs/login.html", {"form": self.get_form(), "rate_limited": True,
                                                       "window_minutes": max(1, window // 60)}, status=429)
        response = super().post(request, *args, **kwargs)
        if response.status_code != 302:  # the form came back: a failed attempt
            hit(key, limit=settings.LOGIN_RATE_LIMIT, window_seconds=window)
        return response


    def form_valid(self, form):
        # An account holding an authenticator is not signed in yet: the password step is kept in
        # the (anonymous) session for a few minutes and the code step follows (orgs/security_views.py).
        from rectify.orgs.twofactor import has_totp

        user = form.get_user()
        if has_totp(user):
            import time

            self.request.session["pending_2fa"] = {"user": user.pk, "at": time.time(),
                                                   "backend": user.backend, "next": self.get_success_url()}
            return redirect("orgs:totp_verify")
        return super().form_valid(form)


class LogoutView(auth_views.LogoutView):
    pass


@login_required
def password_change(request):
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_password(user=request.user, new_password=form.cleaned_data["new_password1"])
        except ValidationError as exc:
            form.add_error("new_password1", exc)
        else:
            old_key = request.session.session_key
            update_session_auth_hash(request, request.user)
            from rectify.orgs.sessions import session_key_changed

            session_key_changed(old_key, request.session.session_key)
            messages.success(request, _("密码已修改。"))
            target = request.GET.get("next") or "/"
            if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
                target = "/"
            return redirect(target)
    forced = services.password_expired(request.user)
    return render(request, "orgs/password_change.html", {"form": form, "forced": forced})
