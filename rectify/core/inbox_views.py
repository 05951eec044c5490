"""站内提醒: the user's own reminders, newest first; opening one marks it read."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from rectify.core.models import Notification
from rectify.core.notify import mark_read
from rectify.core.paging import list_page


@login_required
def inbox(request):
    qs = Notification.objects.visible_to(request.user)
    if request.GET.get("unread"):
        qs = qs.filter(read_at__isnull=True)
    page = list_page(request, qs, 30)
    return render(request, "core/inbox.html", {"page": page})


@login_required
def open_notification(request, pk: int):
    notice = Notification.objects.visible_to(request.user).filter(pk=pk).first()
    if notice is None:
        raise Http404
    if notice.read_at is None:  # opening it again writes nothing
        mark_read(user=request.user, pk=pk)
    target = notice.url or "/inbox/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/inbox/"
    return redirect(target)


@login_required
@require_POST
def mark_all_read(request):
    mark_read(user=request.user)
    return redirect("inbox:list")
