"""Downloads of generated documents: escalation notices and the monthly bulletin. Thin."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from rectify.dispatch.models import RoundStatus
from rectify.dispatch.selectors import get_round_for_user
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
def bulletin_docx(request, pk: int):
    return _bulletin(request, pk, "docx")


@login_required
def bulletin_xlsx(request, pk: int):
    return _bulletin(request, pk, "xlsx")
