from django.contrib import admin
from django.shortcuts import redirect
from django.urls import include, path

from rectify.api.api import api

admin.site.site_header = "督察整改调度平台 · 系统配置"
admin.site.site_title = "督察整改调度平台"


def home(request):
    """Each role's landing page: the discipline commission's is its case workspace (it has no ledger)."""
    if getattr(request.user, "role", "") == "discipline":
        return redirect("accountability:workspace")
    return redirect("ledger:task_list")


urlpatterns = [
    path("", home),
    path("accounts/", include("rectify.orgs.urls")),
    path("ledger/", include("rectify.ledger.urls")),
    path("calendar/", include("rectify.core.urls")),
    path("inbox/", include("rectify.core.inbox_urls")),
    path("dispatch/", include("rectify.dispatch.urls")),
    path("supervision/", include("rectify.supervision.urls")),
    path("closeout/", include("rectify.closeout.urls")),
    path("documents/", include("rectify.documents.urls")),
    path("plans/", include("rectify.planparse.urls")),
    path("accountability/", include("rectify.accountability.urls")),
    path("assessment/", include("rectify.assessment.urls")),
    path("jobs/", include("rectify.jobs.urls")),
    path("reports/", include("rectify.reports.urls")),
    path("reserve/", include("rectify.reserve.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]
