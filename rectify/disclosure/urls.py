from django.urls import path

from rectify.disclosure import views

app_name = "disclosure"

urlpatterns = [
    path("", views.index, name="index"),
    path("campaigns/<int:pk>/", views.campaign, name="campaign"),
    path("tasks/<int:pk>/", views.task, name="task"),
    path("decide/", views.decide, name="decide"),
    path("head/", views.publish_head, name="publish_head"),
    path("publicists/", views.publicist, name="publicist"),
    path("articles/new/", views.article_new, name="article_new"),
    path("articles/<int:pk>/", views.article, name="article"),
    path("observations/", views.observations, name="observations"),
    path("observations/new/", views.observation_new, name="observation_new"),
    path("observations/<int:pk>/", views.observation, name="observation"),
    path("observations/photos/<int:pk>/", views.observation_photo, name="observation_photo"),
]
