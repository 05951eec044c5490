from django.urls import path

from rectify.closeout import views

app_name = "closeout"
urlpatterns = [
    path("", views.closeout_list, name="list"),
    path("bulk/", views.bulk, name="bulk"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/step/", views.step, name="step"),
    path("<int:pk>/checks/", views.record_check, name="record_check"),
    path("<int:pk>/files/", views.upload, name="upload"),
    path("files/<int:pk>/", views.file_download, name="file"),
    path("lookbacks/checks/<int:pk>/files/", views.lookback_upload, name="lookback_upload"),
    path("lookbacks/files/<int:pk>/", views.lookback_file_download, name="lookback_file"),
    path("objections/<int:pk>/answer/", views.answer, name="answer"),
    path("tasks/<int:task_id>/assess/", views.assess, name="assess"),
    path("policy/<int:campaign_id>/", views.policy, name="policy"),
    path("lookbacks/", views.lookback_list, name="lookbacks"),
    path("lookbacks/<int:pk>/", views.lookback_detail, name="lookback"),
    path("lookbacks/checks/<int:pk>/result/", views.lookback_result, name="lookback_result"),
]
