from django.urls import path

from rectify.reserve import views

app_name = "reserve"

urlpatterns = [
    path("", views.project_list, name="list"),
    path("new/", views.project_new, name="new"),
    path("import/", views.project_import, name="import"),
    path("export.xlsx", views.project_export, name="export"),
    path("<int:pk>/", views.project_detail, name="detail"),
    path("<int:pk>/edit/", views.project_edit, name="edit"),
    path("<int:pk>/progress/", views.project_progress, name="progress"),
    path("<int:pk>/performance/", views.project_performance, name="performance"),
    path("<int:pk>/stage/<slug:action>/", views.project_transition, name="transition"),
    path("evidence/<int:pk>/", views.evidence_file, name="evidence"),
]
