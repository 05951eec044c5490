"""The one queued task (django-tasks): run an attempt of a job. Everything else is in ``runner``."""

from __future__ import annotations

from django_tasks import task

from rectify.jobs import runner


@task()
def run_job(job_id: int, attempt: int) -> str:
    return runner.execute(job_id, attempt)
