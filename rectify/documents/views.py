"""Downloads of generated documents: escalation notices, the monthly bulletin, the close-out's
documents and the look-back report. Thin."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from rectify.closeout.models import Closeout, LookBack
from rectify.core.ratelimit import throttled
from rectify.dispatch.models import RoundStatus
from rectify.dispatch.selectors import get_round_for_user
from rectify.documents import closeout_docs
from rectify.documents.bulletin import check_bulletin_access, generate_bulletin
from rectify.documents.escalation_doc import generate_escalation_docx
from rectify.supervision.models import Escalation

CONTENT_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _attachment(data: bytes, filename: str, fmt: str) -> HttpResponse:
    response = HttpResponse(data, content_type=CONTENT_TYPES[fmt])
    # RFC 6266 / RFC 5987: an ASCII fallback name plus filename*=utf-8''… for the Chinese one.
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@throttled("document", methods=("GET",))
def escalation_docx(request, pk: int):
    escalation = (Escalation.objects.visible_to(request.user).select_related("task", "target_unit")
                  .filter(pk=pk).first())
    if escalation is None:  # missing and not allowed look the same
        raise Http404(_("督办措施不存在或无权查看"))
    data, filename = generate_escalation_docx(actor=request.user, escalation=escalation)
    return _attachment(data, filename, "docx")


def _bulletin(request, pk: int, fmt: str):
    rnd = get_round_for_user(request.user, pk)
    check_bulletin_access(rnd, request.user)  # units that see the round still may not get the office's bulletin
    if rnd.status != RoundStatus.CLOSED:
        messages.error(request, _("%(round)s尚未结束，月度调度通报须在结束本轮调度后生成。") % {"round": rnd.title})
        return redirect("dispatch:round_detail", pk=rnd.pk)
    data, filename = generate_bulletin(actor=request.user, rnd=rnd, fmt=fmt)
    return _attachment(data, filename, fmt)


@login_required
@throttled("document", methods=("GET",))
def bulletin_docx(request, pk: int):
    return _bulletin(request, pk, "docx")


@login_required
@throttled("document", methods=("GET",))
def bulletin_xlsx(request, pk: int):
    return _bulletin(request, pk, "xlsx")


# ---- close-out documents and the look-back report ---------------------------------------------


def _not_yet(request, message: str) -> HttpResponse:
    """A document whose step has not been taken: back to the page the link was on, with the reason;
    without a page to go back to, 409 with the reason (never an empty file)."""
    back = request.META.get("HTTP_REFERER", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()},
                                                 require_https=request.is_secure()):
        messages.error(request, message)
        return redirect(back)
    return HttpResponse(message, status=409, content_type="text/plain; charset=utf-8")


def _not_yet_message(kind: str, closeout: Closeout) -> str:
    texts = {
        "application": _("%(task)s的销号申请尚未提交初审申请（当前：%(stage)s），销号申请表须在初审申请后生成。"),
        "notice": _("%(task)s的销号申请尚未发布整改情况公示（当前：%(stage)s），公示文件须在发布公示后生成。"),
        "verification": _("%(task)s的销号申请尚未核查（当前：%(stage)s），核查意见须在核查后生成。"),
        "filing": _("%(task)s的销号申请尚未备案（当前：%(stage)s），备案表须在备案后生成。"),
    }
    return texts[kind] % {"task": closeout.task.code, "stage": closeout.get_status_display()}


@login_required
@throttled("document", methods=("GET",))
def closeout_document(request, pk: int, kind: str):
    closeout = Closeout.objects.visible_to(request.user).select_related("task").filter(pk=pk).first()
    if closeout is None:  # missing and not allowed look the same
        raise Http404(_("销号申请不存在或无权查看"))
    if not closeout_docs.availability(kind, closeout):
        return _not_yet(request, _not_yet_message(kind, closeout))
    data, filename = closeout_docs.GENERATORS[kind](closeout, actor=request.user)
    return _attachment(data, filename, "docx")


@login_required
@throttled("document", methods=("GET",))
def lookback_report(request, pk: int, fmt: str):
    lookback = LookBack.objects.visible_to(request.user).filter(pk=pk).first()
    if lookback is None:
        raise Http404(_("回头看不存在或无权查看"))
    generate = closeout_docs.lookback_report_docx if fmt == "docx" else closeout_docs.lookback_report_xlsx
    data, filename = generate(lookback, actor=request.user)
    return _attachment(data, filename, fmt)
