from django.urls import path

from rectify.supervision import views

app_name = "supervision"
urlpatterns = [
    path("", views.board, name="board"),
    path("tasks/<int:task_id>/escalate/", views.issue, name="issue"),
    path("escalations/<int:pk>/", views.detail, name="detail"),
    path("escalations/<int:pk>/close/", views.close, name="close"),
    path("escalations/<int:pk>/files/<int:file_pk>/", views.reply_file, name="reply_file"),
]
