"""Scoped reads of jobs: one ``get_job_for_user`` (404 for missing and forbidden alike)."""

from __future__ import annotations

from django.http import Http404

from rectify.jobs.models import Job


def get_job_for_user(user, pk: int) -> Job:
    job = Job.objects.visible_to(user).filter(pk=pk).first()
    if job is None:
        raise Http404("后台任务不存在或无权查看。")
    return job


def recent_jobs(user, limit: int = 30) -> list[Job]:
    return list(Job.objects.visible_to(user).order_by("-id")[:limit])
