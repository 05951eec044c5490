from django.urls import path

from rectify.core import calendar_views as views

app_name = "calendar"
urlpatterns = [
    path("", views.calendar_index, name="index"),
    path("enter/", views.calendar_enter, name="enter"),
    path("<int:year>/", views.calendar_year, name="year"),
]
