from django.urls import path

from rectify.dispatch import views

app_name = "dispatch"
urlpatterns = [
    path("", views.round_list, name="round_list"),
    path("rounds/open/", views.round_open, name="round_open"),
    path("rounds/<int:pk>/", views.round_detail, name="round_detail"),
    path("rounds/<int:pk>/close/", views.round_close, name="round_close"),
    path("reports/", views.report_list, name="report_list"),
    path("reports/<int:pk>/", views.report_detail, name="report_detail"),
    path("reports/<int:pk>/evidence/", views.evidence_upload, name="evidence_upload"),
    path("evidence/<int:pk>/", views.evidence_file, name="evidence_file"),
    path("evidence/<int:pk>/thumb/", views.evidence_thumb, name="evidence_thumb"),
    path("evidence/<int:pk>/delete/", views.evidence_delete, name="evidence_delete"),
]
