from django.urls import path

from rectify.orgs import security_views, views

app_name = "orgs"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.password_change, name="password_change"),
    # second factor, sessions and the holder's own API tokens (orgs/security_views.py)
    path("2fa/", security_views.totp_verify, name="totp_verify"),
    path("2fa/setup/", security_views.totp_setup, name="totp_setup"),
    path("2fa/setup/confirm/", security_views.totp_confirm, name="totp_confirm"),
    path("sessions/", security_views.session_list, name="sessions"),
    path("sessions/<int:pk>/end/", security_views.session_end, name="session_end"),
    path("users/<int:pk>/security/", security_views.user_security, name="user_security"),
    path("users/<int:pk>/2fa/reset/", security_views.user_totp_reset, name="user_totp_reset"),
    path("tokens/", security_views.token_list, name="tokens"),
    path("tokens/<int:pk>/revoke/", security_views.token_revoke, name="token_revoke"),
]
