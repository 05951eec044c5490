"""Starting background work and running it again (后台任务): the only writers of ``Job`` besides the
worker's own steps in ``runner``."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404

from rectify.core.audit import record_event
from rectify.jobs import runner
from rectify.jobs.models import Job, JobStatus
from rectify.jobs.registry import get_kind
from rectify.jobs.tasks import run_job
from rectify.jobs.workflows import JOB
from rectify.orgs.models import User


def _enqueue(job: Job) -> None:
    result = run_job.enqueue(job.pk, job.attempt)
    job.task_id = str(result.id)
    job.save(update_fields=["task_id"])


def start_job(*, actor: User, kind: str, title: str, params: dict, input_bytes: bytes | None = None,
              input_suffix: str = "") -> Job:
    """Queue one job for ``actor`` (its owner); a worker runs it. ``input_bytes`` (an uploaded file)
    is kept beside the job until the job is gone."""
    job_kind = get_kind(kind)
    if not job_kind.allowed(actor, params):
        raise PermissionDenied("您无权发起该后台任务。")
    written: Path | None = None
    try:
        with transaction.atomic():
            job = Job.objects.create(kind=kind, title=title[:200], owner=actor, params=params, attempt=1,
                                     status=JobStatus.QUEUED)
            if input_bytes is not None:
                written = runner.input_path(job, input_suffix)
                written.write_bytes(input_bytes)
                written.chmod(0o600)
            _enqueue(job)
            record_event(actor=actor, action="job_requested", obj=job, summary=f"发起后台任务「{job.title}」",
                         after={"kind": kind, "params": params})
    except BaseException:
        if written is not None:
            written.unlink(missing_ok=True)
        raise
    return job


def rerun_job(*, actor: User, job: Job) -> Job:
    """重新运行: a failed (or finished) job is queued again; its current result stays until the new
    attempt succeeds."""
    with transaction.atomic():
        locked = Job.objects.visible_to(actor).select_for_update().filter(pk=job.pk).first()
        if locked is None:
            raise Http404("后台任务不存在或无权查看。")
        rule = JOB.authorise(actor, locked, "rerun")
        if not get_kind(locked.kind).allowed(actor, locked.params):
            raise PermissionDenied("您已无权执行该后台任务。")
        locked.status = rule.target
        locked.attempt += 1
        locked.error = ""
        locked.started_at = None
        locked.finished_at = None
        locked.save()
        _enqueue(locked)
        record_event(actor=actor, action=JOB.event_of(rule), obj=locked,
                     summary=f"重新运行后台任务「{locked.title}」（第 {locked.attempt} 次）", after={"attempt": locked.attempt})
    return locked


def recover_job(*, actor: User, job: Job) -> Job:
    """A running job whose worker died: mark it interrupted, then queue it again (the page's button)."""
    locked = Job.objects.visible_to(actor).filter(pk=job.pk).first()
    if locked is None:
        raise Http404("后台任务不存在或无权查看。")
    if locked.status == JobStatus.RUNNING:
        runner.interrupt_stale_jobs()
        locked.refresh_from_db()
    return rerun_job(actor=actor, job=locked)


def record_download(*, actor: User, job: Job) -> None:
    """A result left the system: who took which file (the evidence and export downloads do the same)."""
    record_event(actor=actor, action="job_result_downloaded", obj=job,
                 summary=f"下载后台任务结果「{job.result_name}」", after={"file": job.result_name, "sm3": job.result_sm3,
                                                                     "size": job.result_size})
