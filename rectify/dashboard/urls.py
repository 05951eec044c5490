from django.urls import path

from rectify.dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("", views.board, name="board"),
    path("data.json", views.board_data, name="data"),
    path("geo/<str:code>.json", views.region_geo, name="geo"),
    path("work/", views.work, name="work"),
    path("displays/", views.displays, name="displays"),
    path("instructions/", views.instruction_list, name="instructions"),
    path("instructions/new/", views.instruction_new, name="instruction_new"),
    path("instructions/<int:pk>/", views.instruction_detail, name="instruction"),
    path("wall/<str:key>/", views.wall, name="wall"),
    path("wall/<str:key>/data.json", views.wall_data, name="wall_data"),
    path("wall/<str:key>/geo/<str:code>.json", views.wall_geo, name="wall_geo"),
]
