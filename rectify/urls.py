from django.urls import include, path

from rectify.api.api import api


def home(request):
    """Each role's landing page (rectify/dashboard/views.py: home)."""
    from rectify.dashboard.views import home as landing

    return landing(request)


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
    path("disclosure/", include("rectify.disclosure.urls")),
    path("gongkai/", include("rectify.disclosure.portal_urls")),
    path("indicators/", include("rectify.indicators.urls")),
    path("board/", include("rectify.dashboard.urls")),
    path("audit/", include("rectify.core.audit_urls")),
    path("jobs/", include("rectify.jobs.urls")),
    path("reports/", include("rectify.reports.urls")),
    path("reserve/", include("rectify.reserve.urls")),
    path("api/v1/", api.urls),
    # Django admin is not mounted (it would write around the services and the audit chain): /admin/ is
    # a 404. Administration is /accounts/admin/ (rectify/orgs/admin_views.py).
]

# Chinese error pages with the request id (rectify/core/error_views.py).
handler400 = "rectify.core.error_views.bad_request"
handler403 = "rectify.core.error_views.permission_denied"
handler404 = "rectify.core.error_views.page_not_found"
handler500 = "rectify.core.error_views.server_error"
