from django.urls import path

from rectify.assessment import views

app_name = "assessment"
urlpatterns = [
    path("help/", views.help_list, name="help_list"),
    path("help/<int:pk>/", views.help_detail, name="help"),
    path("help/<int:pk>/step/", views.help_step, name="help_step"),
    path("reports/<int:report_id>/help/", views.help_new, name="help_new"),
    path("visits/", views.visits, name="visits"),
    path("visits/<int:pk>/", views.visit_detail, name="visit"),
    path("visits/<int:pk>/step/", views.visit_step, name="visit_step"),
    path("follow-ups/<int:pk>/", views.follow_up, name="follow_up"),
    path("results/", views.results, name="results"),
    path("results/<int:pk>/", views.result_detail, name="result"),
    path("results/<int:pk>/step/", views.result_step, name="result_step"),
    path("results/<int:pk>/units/<int:unit_id>/", views.result_unit, name="result_unit"),
    path("results/<int:pk>/result.xlsx", views.result_xlsx, name="result_xlsx"),
    path("results/<int:pk>/result.docx", views.result_docx, name="result_docx"),
    path("schemes/new/", views.scheme_edit, name="scheme_new"),
    path("schemes/<int:pk>/", views.scheme_edit, name="scheme"),
]
