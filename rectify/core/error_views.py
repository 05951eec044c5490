"""Chinese error pages in the site's layout (等保 check 24): each shows the request id that the log
line of the same request carries, so that a user's screenshot leads the operator to the log. The
500 page is rendered without the site's context processors: it must not need the database."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string


def _request_id(request) -> str:
    return getattr(request, "request_id", "-")


def permission_denied(request, exception=None):
    # The services' refusals are written for the user ("只有整改办可以组织回头看。"): say which rule.
    detail = str(exception) if exception is not None and str(exception) else ""
    return render(request, "core/error.html", {"status": 403, "detail": detail, "request_id": _request_id(request)},
                  status=403)


def page_not_found(request, exception=None):
    # Missing and forbidden look the same (scope): never echo the exception's text.
    return render(request, "core/error.html", {"status": 404, "request_id": _request_id(request)}, status=404)


def bad_request(request, exception=None):
    return render(request, "core/error.html", {"status": 400, "request_id": _request_id(request)}, status=400)


def server_error(request):
    return HttpResponse(render_to_string("core/error_500.html", {"request_id": _request_id(request)}), status=500)
