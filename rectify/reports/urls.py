from django.urls import path

from rectify.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    path("campaigns/<int:pk>/", views.campaign_page, name="campaign"),
    path("campaigns/<int:pk>/received/", views.set_received, name="received"),
    path("campaigns/<int:pk>/deadlines/", views.accept_deadlines, name="deadlines"),
    path("campaigns/<int:pk>/narrative/", views.save_narrative, name="narrative"),
    path("campaigns/<int:pk>/generate/", views.generate, name="generate"),
    path("campaigns/<int:pk>/dossier/", views.dossier, name="dossier"),
    path("tasks/<int:pk>/dossier/", views.task_dossier, name="task_dossier"),
]
