from django.urls import path

from rectify.planparse import views

app_name = "planparse"
urlpatterns = [
    path("", views.plan_upload, name="upload"),
    path("<str:token>/", views.plan_preview, name="preview"),
]
