from django.urls import path

from rectify.dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("", views.board, name="board"),
    path("data.json", views.board_data, name="data"),
    path("geo/<str:code>.json", views.region_geo, name="geo"),
    path("work/", views.work, name="work"),
]
