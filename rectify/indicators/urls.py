from django.urls import path

from rectify.indicators import views

app_name = "indicators"
urlpatterns = [
    path("", views.indicator_list, name="list"),
    path("new/", views.indicator_create, name="create"),
    path("<int:pk>/", views.indicator_detail, name="detail"),
    path("<int:pk>/edit/", views.indicator_edit, name="edit"),
    path("<int:pk>/values/", views.measurement_add, name="measurement_add"),
    path("<int:pk>/import/", views.measurement_import, name="import"),
]
