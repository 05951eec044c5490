"""Running one job inside a worker: claim it, follow its progress, keep its result or its error.

The rules that make a job safe to kill at any moment:

- the kind writes its result to a *part* file (``<id>.<attempt>.part<ext>``); only a finished run
  renames it to the result (``<id>-<attempt><ext>``), in the same step as the Job row records it, so
  a killed run leaves at most a part file, which the next attempt (or ``sweep``) deletes;
- a run that fails keeps the previous attempt's result and records a Chinese message instead;
- database work of a kind is its own transaction (an import is all or nothing), so a killed
  worker's writes are rolled back by the database;
- while a run is alive a thread rewrites its progress file every few seconds (the heartbeat); a
  running job whose heartbeat is older than ``settings.JOB_STALE_SECONDS`` was interrupted, and
  ``interrupt_stale_jobs`` (the worker at start, ``rectify tick``) marks it failed so its owner can
  run it again.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from rectify.core.audit import record_event
from rectify.evidence.hashing import sm3_of_file
from rectify.jobs.models import Job, JobStatus
from rectify.jobs.registry import Outcome, get_kind
from rectify.jobs.workflows import JOB

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 3.0
UNEXPECTED = ("后台任务运行出错（{error}），本次生成的部分已全部丢弃，原有结果保持不变。"
              "请重新运行；如仍失败，请联系系统管理员。")
INTERRUPTED = "运行中断（工作进程已停止），本次未留下任何部分结果，原有结果保持不变。请重新运行。"


class JobFailed(Exception):
    """An expected failure with a message for the owner (no traceback in the log)."""


def jobs_dir() -> Path:
    path = Path(settings.JOBS_DIR)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def progress_path(job: Job) -> Path:
    return jobs_dir() / f"{job.pk}.progress"


def input_path(job: Job, suffix: str = "") -> Path:
    return jobs_dir() / f"{job.pk}.input{suffix}"


def result_file(job: Job) -> Path | None:
    if not job.result_path:
        return None
    path = jobs_dir() / job.result_path
    return path if path.is_file() else None


def _write_progress(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + f".{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def read_progress(job: Job) -> dict[str, Any]:
    """{"percent", "note", "beat" (seconds since the last heartbeat), "alive"} for the page."""
    path = progress_path(job)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        age = max(0.0, time.time() - path.stat().st_mtime)
    except (OSError, ValueError):
        data, age = {}, None
    if data.get("attempt") != job.attempt:
        data = {}
    percent = 100 if job.status == JobStatus.SUCCEEDED else int(data.get("percent", 0))
    alive = job.status != JobStatus.RUNNING or (age is not None and age < settings.JOB_STALE_SECONDS)
    if job.status == JobStatus.RUNNING and age is None and job.started_at is not None:
        alive = (timezone.now() - job.started_at).total_seconds() < settings.JOB_STALE_SECONDS
    return {"percent": max(0, min(100, percent)), "note": str(data.get("note", "")), "beat": age, "alive": alive}


class JobContext:
    """What a kind's ``run`` gets besides the job: progress, the part file, its input file."""

    def __init__(self, job: Job):
        self.job = job
        self._path = progress_path(job)
        self._state = {"attempt": job.attempt, "percent": 0, "note": ""}
        self._last = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._parts: list[Path] = []

    def progress(self, percent: float, note: str = "", *, force: bool = False) -> None:
        now = time.monotonic()
        with self._lock:
            changed = note != self._state["note"]
            self._state.update(percent=int(percent), note=note)
            if force or changed or now - self._last >= 0.5:
                self._last = now
                _write_progress(self._path, dict(self._state))

    def part_path(self, suffix: str) -> Path:
        path = jobs_dir() / f"{self.job.pk}.{self.job.attempt}.part{suffix}"
        self._parts.append(path)
        return path

    def input_path(self, suffix: str = "") -> Path:
        return input_path(self.job, suffix)

    # --- heartbeat --------------------------------------------------------------------------

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            with self._lock:
                _write_progress(self._path, dict(self._state))

    def start_heartbeat(self) -> None:
        self.progress(0, "开始运行", force=True)
        threading.Thread(target=self._beat, name=f"job-{self.job.pk}-heartbeat", daemon=True).start()

    def stop_heartbeat(self) -> None:
        self._stop.set()

    def discard_parts(self) -> None:
        for path in self._parts:
            path.unlink(missing_ok=True)


def _leftovers(job: Job) -> list[Path]:
    return list(jobs_dir().glob(f"{job.pk}.*.part*"))


def _claim(job_id: int, attempt: int) -> Job | None:
    with transaction.atomic():
        job = Job.objects.select_for_update().select_related("owner").filter(pk=job_id).first()
        if job is None or job.attempt != attempt or job.status != JobStatus.QUEUED:
            return None  # an older attempt's queue entry, or already taken
        rule = JOB.system_rule(job, "start")
        job.status = rule.target
        job.started_at = timezone.now()
        job.finished_at = None
        job.save(update_fields=["status", "started_at", "finished_at"])
        record_event(actor=job.owner, action=JOB.event_of(rule), obj=job, summary=f"开始运行后台任务「{job.title}」"
                     f"（第 {job.attempt} 次）", after={"attempt": job.attempt, "kind": job.kind})
    return job


def execute(job_id: int, attempt: int) -> str:
    """The body of the queued task: run one attempt of one job to its end (or its recorded failure)."""
    job = _claim(job_id, attempt)
    if job is None:
        return "skipped"
    for leftover in _leftovers(job):  # what an interrupted attempt left behind
        leftover.unlink(missing_ok=True)
    ctx = JobContext(job)
    ctx.start_heartbeat()
    try:
        kind = get_kind(job.kind)
        if not job.owner.is_active or not kind.allowed(job.owner, job.params):
            raise JobFailed("发起人已无权执行该任务（账号已停用或权限范围已变化），未生成结果。")
        outcome = kind.run(job, ctx)
    except JobFailed as exc:
        ctx.stop_heartbeat()
        ctx.discard_parts()
        _fail(job, str(exc))
        return "failed"
    except Exception as exc:  # anything else: logged with its traceback, told plainly
        ctx.stop_heartbeat()
        ctx.discard_parts()
        log.exception("job %s (%s) failed", job.pk, job.kind)
        _fail(job, UNEXPECTED.format(error=type(exc).__name__))
        return "failed"
    ctx.stop_heartbeat()
    try:
        _finish(job, outcome, ctx)
    except Exception as exc:
        ctx.discard_parts()
        log.exception("job %s (%s) could not be finished", job.pk, job.kind)
        _fail(job, UNEXPECTED.format(error=type(exc).__name__))
        return "failed"
    ctx.progress(100, "已完成", force=True)
    return "succeeded"


def _finish(job: Job, outcome: Outcome, ctx: JobContext) -> None:
    final: Path | None = None
    fields: dict[str, Any] = {}
    if outcome.file is not None:
        data_digest, size = _digest(outcome.file)
        final = jobs_dir() / f"{job.pk}-{job.attempt}{''.join(outcome.file.suffixes[-1:])}"
        os.replace(outcome.file, final)
        fields = {"result_path": final.name, "result_name": outcome.filename[:200] or final.name,
                  "result_size": size, "result_sm3": data_digest}
    ctx.discard_parts()  # any other part files the kind made along the way
    old: Path | None = None
    try:
        with transaction.atomic():
            locked = Job.objects.select_for_update().get(pk=job.pk)
            rule = JOB.system_rule(locked, "finish")
            if fields and locked.result_path and locked.result_path != fields["result_path"]:
                old = jobs_dir() / locked.result_path
            for name, value in fields.items():
                setattr(locked, name, value)
            locked.status = rule.target
            locked.summary = outcome.summary
            locked.error = ""
            locked.finished_at = timezone.now()
            locked.save()
            record_event(actor=job.owner, action=JOB.event_of(rule), obj=locked,
                         summary=f"后台任务「{locked.title}」完成" + (f"：{outcome.summary}" if outcome.summary else ""),
                         after={"attempt": locked.attempt, **({"file": fields["result_name"], "size": fields["result_size"],
                                                               "sm3": fields["result_sm3"]} if fields else {})})
            if old is not None:
                transaction.on_commit(lambda: old.unlink(missing_ok=True))
    except BaseException:
        if final is not None:
            final.unlink(missing_ok=True)
        raise


def _fail(job: Job, message: str, *, action: str = "fail") -> None:
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        rule = JOB.system_rule(locked, action)
        locked.status = rule.target
        locked.error = message[:2000]
        locked.finished_at = timezone.now()
        locked.save(update_fields=["status", "error", "finished_at"])
        record_event(actor=job.owner, action=JOB.event_of(rule), obj=locked, success=False,
                     summary=f"后台任务「{locked.title}」{rule.label}：{message[:200]}",
                     after={"attempt": locked.attempt, "error": message[:500]})


def _digest(path: Path) -> tuple[str, int]:
    return sm3_of_file(path), path.stat().st_size


def interrupt_stale_jobs() -> int:
    """Mark every running job whose heartbeat stopped as interrupted (failed); its owner may rerun it."""
    done = 0
    for job in Job.objects.filter(status=JobStatus.RUNNING).select_related("owner"):
        if read_progress(job)["alive"]:
            continue
        for leftover in _leftovers(job):
            leftover.unlink(missing_ok=True)
        try:
            _fail(job, INTERRUPTED, action="interrupt")
        except Exception:  # someone else got there first (the row is no longer running)
            log.info("job %s: not interrupted", job.pk, exc_info=True)
            continue
        done += 1
    return done


