from django.urls import path

from rectify.core import inbox_views as views

app_name = "inbox"
urlpatterns = [
    path("", views.inbox, name="list"),
    path("<int:pk>/", views.open_notification, name="open"),
    path("read-all/", views.mark_all_read, name="read_all"),
]
