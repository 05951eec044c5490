from django.urls import path

from rectify.accountability import views

app_name = "accountability"
urlpatterns = [
    path("", views.workspace, name="workspace"),
    path("cases/new/", views.case_new, name="case_new"),
    path("cases/<int:pk>/", views.case_detail, name="case"),
    path("cases/<int:pk>/edit/", views.case_edit, name="case_edit"),
    path("cases/<int:pk>/step/", views.case_step, name="case_step"),
    path("cases/<int:pk>/findings/", views.findings, name="findings"),
    path("cases/<int:pk>/persons/", views.person_add, name="person_add"),
    path("cases/<int:pk>/notes/", views.note_add, name="note_add"),
    path("cases/<int:pk>/files/", views.file_upload, name="file_upload"),
    path("cases/<int:pk>/report-draft.docx", views.report_preview, name="report_preview"),
    path("cases/<int:pk>/referral.docx", views.referral_letter, name="referral_letter"),
    path("persons/<int:pk>/remove/", views.person_remove, name="person_remove"),
    path("files/<int:pk>/", views.file_download, name="file"),
    path("handlers/", views.handlers, name="handlers"),
    path("handlers/<int:user_id>/revoke/", views.handler_revoke, name="handler_revoke"),
]
