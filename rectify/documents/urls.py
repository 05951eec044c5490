from django.urls import path

from rectify.documents import views

app_name = "documents"
urlpatterns = [
    path("escalations/<int:pk>/notice.docx", views.escalation_docx, name="escalation_docx"),
    path("rounds/<int:pk>/bulletin.docx", views.bulletin_docx, name="bulletin_docx"),
    path("rounds/<int:pk>/bulletin.xlsx", views.bulletin_xlsx, name="bulletin_xlsx"),
]
