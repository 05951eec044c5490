"""Job pages: my jobs, one job with its progress (htmx polls a fragment), its result, run again. Thin."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rectify.jobs import runner, selectors, services
from rectify.jobs.models import JobStatus
from rectify.jobs.registry import KINDS
from rectify.jobs.workflows import JOB


def _context(request, job) -> dict:
    progress = runner.read_progress(job)
    kind = KINDS.get(job.kind)
    return {"job": job, "progress": progress, "kind": kind,
            "back_url": kind.back_url(job) if kind and kind.back_url else "",
            "done": job.status in {JobStatus.SUCCEEDED, JobStatus.FAILED},
            "interrupted": job.status == JobStatus.RUNNING and not progress["alive"],
            "can_rerun": bool(JOB.available(request.user, job)),
            "has_result": runner.result_file(job) is not None}


@login_required
def job_list(request):
    return render(request, "jobs/job_list.html", {"jobs": selectors.recent_jobs(request.user)})


@login_required
def job_detail(request, pk: int):
    job = selectors.get_job_for_user(request.user, pk)
    return render(request, "jobs/job_detail.html", _context(request, job))


@login_required
def job_progress(request, pk: int):
    job = selectors.get_job_for_user(request.user, pk)
    return render(request, "jobs/_progress.html", _context(request, job))


@login_required
def job_download(request, pk: int):
    job = selectors.get_job_for_user(request.user, pk)
    kind = KINDS.get(job.kind)
    if kind is None or not kind.allowed(request.user, job.params):
        raise Http404(_("后台任务不存在或无权查看。"))
    path = runner.result_file(job)
    if path is None:
        raise Http404(_("该任务没有可下载的结果。"))
    services.record_download(actor=request.user, job=job)
    response = FileResponse(open(path, "rb"), as_attachment=True, filename=job.result_name)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def job_rerun(request, pk: int):
    job = selectors.get_job_for_user(request.user, pk)
    try:
        if job.status == JobStatus.RUNNING:
            services.recover_job(actor=request.user, job=job)
        else:
            services.rerun_job(actor=request.user, job=job)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, "；".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, _("已重新排队，稍后开始运行。"))
    return redirect("jobs:detail", pk=job.pk)
