from django.urls import path

from rectify.closeout import views

app_name = "closeout"
urlpatterns = [
    path("<int:pk>/", views.detail, name="detail"),
    path("tasks/<int:task_id>/assess/", views.assess, name="assess"),
]
