from django.urls import path

from rectify.orgs import admin_views, security_views, views

app_name = "orgs"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.password_change, name="password_change"),
    # 账号与单位管理 (rectify/orgs/admin_views.py)
    path("admin/users/", admin_views.user_list, name="admin_users"),
    path("admin/users/new/", admin_views.user_create, name="admin_user_create"),
    path("admin/users/<int:pk>/", admin_views.user_detail, name="admin_user"),
    path("admin/users/<int:pk>/lock/", admin_views.user_lock, name="admin_user_lock"),
    path("admin/users/<int:pk>/unlock/", admin_views.user_unlock, name="admin_user_unlock"),
    path("admin/users/<int:pk>/active/", admin_views.user_set_active, name="admin_user_active"),
    path("admin/users/<int:pk>/reset-password/", admin_views.user_reset_password, name="admin_user_reset"),
    path("admin/security/", admin_views.security_policy, name="admin_security"),
    path("admin/units/", admin_views.unit_tree, name="admin_units"),
    path("admin/units/new/", admin_views.unit_create, name="admin_unit_create"),
    path("admin/units/<int:pk>/", admin_views.unit_edit, name="admin_unit"),
    path("admin/units/<int:pk>/move/", admin_views.unit_move, name="admin_unit_move"),
    path("admin/leaders/", admin_views.leader_list, name="admin_leaders"),
    path("admin/leaders/<int:pk>/", admin_views.leader_detail, name="admin_leader"),
    path("admin/areas/<int:pk>/remove/", admin_views.leader_area_remove, name="admin_area_remove"),
    path("admin/tokens/", admin_views.token_list, name="admin_tokens"),
    path("admin/tokens/<int:pk>/revoke/", admin_views.token_revoke, name="admin_token_revoke"),
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
