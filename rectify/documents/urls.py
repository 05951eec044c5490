from django.urls import path

from rectify.documents import views

app_name = "documents"
urlpatterns = [
    path("escalations/<int:pk>/notice.docx", views.escalation_docx, name="escalation_docx"),
    path("rounds/<int:pk>/bulletin.docx", views.bulletin_docx, name="bulletin_docx"),
    path("rounds/<int:pk>/bulletin.xlsx", views.bulletin_xlsx, name="bulletin_xlsx"),
    # the close-out's documents (销号申请表、整改情况公示、核查意见、备案表) and the look-back report
    path("closeouts/<int:pk>/application.docx", views.closeout_document, {"kind": "application"},
         name="closeout_application"),
    path("closeouts/<int:pk>/notice.docx", views.closeout_document, {"kind": "notice"}, name="closeout_notice"),
    path("closeouts/<int:pk>/verification.docx", views.closeout_document, {"kind": "verification"},
         name="closeout_verification"),
    path("closeouts/<int:pk>/filing.docx", views.closeout_document, {"kind": "filing"}, name="closeout_filing"),
    path("lookbacks/<int:pk>/report.docx", views.lookback_report, {"fmt": "docx"}, name="lookback_docx"),
    path("lookbacks/<int:pk>/report.xlsx", views.lookback_report, {"fmt": "xlsx"}, name="lookback_xlsx"),
]
