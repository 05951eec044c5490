from django.urls import path

from rectify.core import audit_views as views

app_name = "audit"
urlpatterns = [
    path("", views.event_list, name="list"),
    path("events/<int:seq>/", views.event_detail, name="event"),
    path("verify/", views.verify_page, name="verify"),
    path("verify/run/", views.verify_run, name="verify_run"),
]
