"""Ledger Excel pages: upload → preview (nothing written) → confirm (all or nothing); export.

The uploaded file waits between preview and confirm in the upload stash (``core.stash``, kind
``imports``: ``UPLOAD_DIR/imports``), named by a random token that only the server-side session
knows and that works for its owner alone, so a user cannot point the confirm at another file.
The confirm re-reads the file and refuses if what it would do differs from the preview the user
saw (someone edited a task meanwhile).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from rectify.core.forms import ZhForm
from rectify.core.ratelimit import throttled
from rectify.core.stash import Stash
from rectify.jobs.services import start_job
from rectify.ledger import excel, selectors
from rectify.ledger.forms import TaskFilterForm
from rectify.ledger.jobs import IMPORT
from rectify.ledger.models import Campaign
from rectify.ledger.scope import can_create_tasks
from rectify.ledger.views import _filters_from

PENDING = Stash("imports", suffix=".xlsx", keep=1)  # one pending import per session
SESSION_KEY = "ledger_import"  # {"token": the pending file's, "plan": fingerprint of the preview shown}
DONE_KEY = "ledger_import_done"  # {"job": id, "filename": …} of the last confirmed import
PREVIEW_GOOD_ROWS = 200
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _discard(request) -> None:
    pending = request.session.pop(SESSION_KEY, None)
    if pending:
        PENDING.discard(request, pending.get("token"))


def _importable_campaigns(user):
    return Campaign.objects.actionable_by(user, "add_task").order_by("-feedback_date", "-id")


def _require_office(user) -> None:
    if not can_create_tasks(user):
        raise PermissionDenied(_("只有整改办可以导入台账。"))


class ImportForm(ZhForm):
    campaign = forms.ModelChoiceField(label=_("导入到整改批次"), queryset=None, empty_label=_("请选择整改批次"))
    file = forms.FileField(label=_("台账文件（.xlsx）"), help_text=_("第一行或前几行为表头；支持标题行、两行表头和合并单元格。"))

    def __init__(self, *args, campaigns=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns
        self.fields["file"].widget.attrs["accept"] = ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(_("文件过大（%(size).1f MB），上限为 %(limit)s MB。")
                                        % {"size": upload.size / 1048576, "limit": limit // 1048576})
        if upload.size == 0:
            raise forms.ValidationError(_("文件为空。"))
        return upload


@login_required
@throttled("import")
def import_upload(request):
    _require_office(request.user)
    campaigns = _importable_campaigns(request.user)
    form = ImportForm(request.POST or None, request.FILES or None, campaigns=campaigns,
                      initial={"campaign": request.GET.get("campaign")})
    if request.method == "POST" and form.is_valid():
        _discard(request)
        request.session.pop(DONE_KEY, None)
        upload = form.cleaned_data["file"]
        token = PENDING.put(request, upload, {"campaign": form.cleaned_data["campaign"].pk,
                                              "filename": Path(upload.name).name[:200]})
        request.session[SESSION_KEY] = {"token": token, "plan": ""}
        return redirect("ledger:import_preview")
    return render(request, "ledger/import_upload.html", {"form": form, "max_mb": settings.IMPORT_MAX_BYTES // 1048576})


def _pending_preview(request):
    """The preview of the file waiting in this session, or None (and the session cleared)."""
    try:
        entry = PENDING.get(request, (request.session.get(SESSION_KEY) or {}).get("token"))
    except Http404:  # none, expired, or not this user's
        _discard(request)
        return None
    campaign = _importable_campaigns(request.user).select_related("office").filter(
        pk=entry.meta.get("campaign")).first()
    if campaign is None:
        _discard(request)
        return None
    return excel.parse_workbook(entry.read_bytes(), campaign=campaign, actor=request.user,
                                filename=entry.meta.get("filename", ""))


@login_required
def import_preview(request):
    _require_office(request.user)
    preview = _pending_preview(request)
    if preview is None:
        messages.error(request, _("没有待确认的导入文件（可能已导入、已取消或已过期），请重新上传。"))
        return redirect("ledger:import_upload")
    pending = request.session[SESSION_KEY]
    pending["plan"] = preview.fingerprint()
    pending["ok"] = preview.ok
    request.session.modified = True
    good = [r for r in preview.rows if not r.errors]
    return render(request, "ledger/import_preview.html", {
        "preview": preview, "error_rows": preview.error_rows, "good_rows": good[:PREVIEW_GOOD_ROWS],
        "good_hidden": max(0, len(good) - PREVIEW_GOOD_ROWS), "good_limit": PREVIEW_GOOD_ROWS,
        "warning_rows": sum(1 for r in good if r.warnings),
    })


@login_required
@require_POST
def import_confirm(request):
    """确认导入: start the background job that writes the file (all or nothing) and show its progress.

    The job reads the file again and refuses if what it would do differs from the preview shown
    (its fingerprint is kept in the session when the preview is rendered)."""
    _require_office(request.user)
    pending = request.session.get(SESSION_KEY) or {}
    try:
        entry = PENDING.get(request, pending.get("token"))
    except Http404:
        entry = None
    done = request.session.get(DONE_KEY)
    if entry is None and done:
        # The same confirm sent again (a second click, or back and 确认 again): say so, not an error.
        messages.info(request, _("该文件已导入（「%(file)s」已提交后台导入），未重复提交。") % {"file": done.get("filename", "")})
        return redirect("jobs:detail", pk=done["job"])
    if entry is None or not pending.get("plan"):
        _discard(request)
        messages.error(request, _("没有待确认的导入文件（可能已导入、已取消或已过期），请重新上传。"))
        return redirect("ledger:import_upload")
    if not pending.get("ok"):
        messages.error(request, _("文件有错误，未写入任何数据。请修改文件后重新上传。"))
        return redirect("ledger:import_preview")
    campaign = _importable_campaigns(request.user).filter(pk=entry.meta.get("campaign")).first()
    if campaign is None:
        _discard(request)
        raise PermissionDenied(_("只有整改办可以导入台账。"))
    filename = entry.meta.get("filename", "")
    job = start_job(actor=request.user, kind=IMPORT, title=str(_("导入台账「%(file)s」到%(campaign)s")
                                                               % {"file": filename, "campaign": campaign.name}),
                    params={"campaign": campaign.pk, "filename": filename, "plan": pending["plan"]},
                    input_bytes=entry.read_bytes(), input_suffix=".xlsx")
    _discard(request)
    request.session[DONE_KEY] = {"job": job.pk, "filename": filename}
    messages.info(request, _("已开始在后台导入，全部写入或全部不写；可离开本页，完成后在“我的后台任务”查看结果。"))
    return redirect("jobs:detail", pk=job.pk)


@login_required
@require_POST
def import_cancel(request):
    _require_office(request.user)
    _discard(request)
    messages.info(request, _("已取消导入，上传的文件已删除。"))
    return redirect("ledger:import_upload")


@login_required
@throttled("export", methods=("GET",))
def export_xlsx(request):
    """The ledger list as the user sees it, with the same filters, as a streamed .xlsx."""
    form = TaskFilterForm(request.GET or None, campaigns=selectors.campaigns_for(request.user))
    filters = _filters_from(form)
    # An anonymous temporary file: gone when the response closes it, on every OS.
    out = tempfile.TemporaryFile(dir=excel.scratch_dir(), suffix=".xlsx")
    try:
        excel.export_ledger(user=request.user, filters=filters, target=out)
        out.seek(0)
    except BaseException:
        out.close()
        raise
    return FileResponse(out, as_attachment=True, filename=excel.export_filename(timezone.localdate()),
                        content_type=XLSX)
