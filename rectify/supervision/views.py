"""Escalation board, issuing a rung on a task, replying. Thin."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rectify.core.paging import list_page
from rectify.ledger.selectors import get_task_for_user
from rectify.orgs.models import Unit
from rectify.supervision import scope, selectors, services
from rectify.supervision.forms import EscalationForm, ReplyForm
from rectify.supervision.models import LADDER, Escalation, EscalationStatus, Rung
from rectify.supervision.workflows import ESCALATION_FLOW


@login_required
def board(request):
    """督办台账: open ones first, overdue replies at the top."""
    today = timezone.localdate()
    status = request.GET.get("status", "open")
    rung = request.GET.get("rung", "")
    qs = selectors.escalation_board_page(request.user, status=status if status in EscalationStatus.values else "",
                                         rung=rung if rung in LADDER else "", today=today)
    page = list_page(request, qs, 50)
    return render(request, "supervision/board.html", {"page": page, "today": today, "status": status,
                                                      "statuses": EscalationStatus.choices, "rungs": Rung.choices})


@login_required
def issue(request, task_id: int):
    task, _editable = get_task_for_user(request.user, task_id)
    if not scope.issues_on(request.user, task):
        raise Http404(_("无权对该任务发起督办"))
    current = services.highest_rung(task)
    following = LADDER[min(max(current, 0) + 1, len(LADDER) - 1)]  # the manual ladder starts at 通报
    from rectify.core.workdays import add_workdays

    form = EscalationForm(request.POST or None, task=task, initial={
        "rung": following, "reply_due": add_workdays(timezone.localdate(), 10)})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            esc = services.issue_escalation(actor=request.user, task=task, rung=d["rung"], reason=d["reason"],
                                            target_unit=Unit.objects.get(pk=d["target_unit"]),
                                            reply_due=d["reply_due"], skip_reason=d.get("skip_reason") or "")
        except ValidationError as exc:
            for name, errors in (exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]):
                form.add_error(name if name in form.fields else None, errors)
        else:
            messages.success(request, _("已发出%(rung)s（%(number)s）。") % {"rung": esc.get_rung_display(), "number": esc.doc_number})
            return redirect("supervision:detail", pk=esc.pk)
    return render(request, "supervision/issue.html", {
        "task": task, "form": form, "current": Rung(LADDER[current]).label if current >= 0 else "无",
        "next": Rung(following).label if current < len(LADDER) - 1 else None})


def _escalation_for(user, pk: int) -> Escalation:
    esc = Escalation.objects.visible_to(user).select_related("task", "target_unit", "issued_by").filter(pk=pk).first()
    if esc is None:
        raise Http404(_("督办不存在或无权查看"))
    return esc


@login_required
def detail(request, pk: int):
    esc = _escalation_for(request.user, pk)
    form = ReplyForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.reply_escalation(actor=request.user, escalation=esc, text=form.cleaned_data["reply_text"],
                                      files=[(f.name, f) for f in form.cleaned_data["files"]])
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, "；".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, _("已回复。"))
            return redirect("supervision:detail", pk=esc.pk)
    offered = {t.action for t in ESCALATION_FLOW.available(request.user, esc)}
    return render(request, "supervision/detail.html", {
        "esc": esc, "form": form, "can_reply": "reply" in offered, "can_close": "close" in offered,
        "overdue": esc.status == "open" and esc.reply_due and esc.reply_due < timezone.localdate()})


@login_required
@require_POST
def close(request, pk: int):
    esc = _escalation_for(request.user, pk)
    services.close_escalation(actor=request.user, escalation=esc)
    messages.success(request, _("已办结。"))
    return redirect("supervision:detail", pk=pk)


@login_required
def reply_file(request, pk: int, file_pk: int):
    """A reply's file, to whoever may see the escalation; the digest is re-checked first."""
    from rectify.evidence.serve import attachment_response

    esc = _escalation_for(request.user, pk)
    stored = esc.reply_files.filter(pk=file_pk).first()
    if stored is None:
        raise Http404(_("文件不存在或无权查看"))
    path = services.reply_file_for_download(actor=request.user, stored=stored)
    return attachment_response(path, download_name=stored.original_name, mime=stored.mime)
