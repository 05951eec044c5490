"""The job's table (后台任务): queued → running → succeeded / failed; the owner may run it again.

A run that stopped without finishing (the worker was killed) is found by its silent heartbeat and
marked failed (``interrupt``, by the software) before it is queued again.
"""

from __future__ import annotations

from rectify.core.workflow import SYSTEM, Transition, Workflow
from rectify.jobs import scope
from rectify.jobs.models import JobStatus

Q, R, OK, FAIL = JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUCCEEDED, JobStatus.FAILED

JOB = Workflow(
    "job", label="后台任务", states=JobStatus.choices,
    roles={"owner": scope.is_owner},
    transitions=[
        Transition(Q, "start", R, SYSTEM, "开始运行", "job_started"),
        Transition(R, "finish", OK, SYSTEM, "完成", "job_finished"),
        Transition(R, "fail", FAIL, SYSTEM, "失败", "job_failed"),
        Transition(R, "interrupt", FAIL, SYSTEM, "中断", "job_interrupted"),
        Transition(FAIL, "rerun", Q, "owner", "重新运行", "job_rerun"),
        Transition(OK, "rerun", Q, "owner", "重新运行", "job_rerun"),
    ],
)
