"""`rectify tick`: the clock of 一月一调度一督办. Safe to run any number of times.

Each step is idempotent on its own: rounds are unique per office and month, warnings and
reminders carry unique keys, statuses are recomputed from the record. A tick that crashes half-way
leaves whole steps done or not done, and the next tick finishes the rest without repeating any.
"""

from __future__ import annotations

import datetime as dt
import logging
from itertools import islice

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from rectify.accountability import services as accountability
from rectify.closeout import services as closeout
from rectify.core.notify import notify
from rectify.core.workdays import add_workdays, nth_workday_of_month, workdays_between
from rectify.dispatch import services as dispatch
from rectify.dispatch.models import DispatchRound, ProgressReport, ReportStatus, RoundStatus
from rectify.ledger.models import Campaign, DeadlineKind, Task, TaskStatus
from rectify.ledger.progress import ProgressStatus
from rectify.orgs.models import Role, Unit, User
from rectify.reports import deadlines as report_deadlines
from rectify.supervision import services as supervision
from rectify.supervision.models import Escalation, EscalationStatus, StatusSnapshot, Trigger

log = logging.getLogger(__name__)
NOT_IN = [ReportStatus.PENDING, ReportStatus.DRAFT, ReportStatus.RETURNED]


def tick(*, today: dt.date | None = None) -> dict[str, int]:
    today = today or timezone.localdate()
    done: dict[str, int] = {}
    done["rounds_opened"], done["rounds_closed"] = open_due_rounds(today)
    done["statuses_changed"] = supervision.refresh_statuses(today=today)
    done["warnings"] = raise_warnings(today)
    done["reminders"] = send_reminders(today) + closeout.remind_due(today)
    done["files_swept"] = sweep_leftovers()
    return done


def sweep_leftovers() -> int:
    """Uploads previewed and never confirmed (imports, plan drafts) and half-written evidence files
    from interrupted writes: gone after a day and an hour respectively, even if no upload follows."""
    from rectify.evidence.store import EvidenceStore
    from rectify.ledger.excel_views import PENDING
    from rectify.planparse.views import DRAFTS

    return PENDING.sweep() + DRAFTS.sweep() + EvidenceStore().sweep_incoming()


def offices() -> list[Unit]:
    """Offices that run campaigns (a city office; several in a province-wide install)."""
    return list(Unit.objects.filter(pk__in=Campaign.objects.values("office_id")))


def open_due_rounds(today: dt.date) -> tuple[int, int]:
    opened = closed = 0
    period = f"{today:%Y-%m}"
    open_day = nth_workday_of_month(today.year, today.month, settings.DISPATCH_OPEN_WORKDAY)
    if today < open_day:
        return 0, 0
    for office in offices():
        # Last month's round ends when this month's opens.
        for old in DispatchRound.objects.filter(office=office, status=RoundStatus.OPEN, period__lt=period):
            dispatch.close_round(actor=None, rnd=old, today=today)
            closed += 1
        # Opened late (a new install mid-month, a server that was down): units still get the
        # full number of work days to report.
        due = add_workdays(max(open_day, today), settings.DISPATCH_DUE_WORKDAYS)
        rnd, created = dispatch.open_round(actor=None, office=office, period=period, due_date=due)
        opened += int(created)
        reporters = User.objects.filter(role=Role.REPORTER, is_active=True,
                                        unit__in=rnd.reports.values("unit_id")).distinct()
        notify(users=reporters, kind="round_opened", title=f"{rnd.title}已开启，请于 {rnd.due_date:%m月%d日} 前报送",
               url="/dispatch/", key=f"round_opened:{rnd.pk}")
    return opened, closed


def raise_warnings(today: dt.date) -> int:
    raised = raise_status_warnings(today)
    horizon = add_workdays(today, settings.WARN_DEADLINE_WORKDAYS)
    near = (Task.objects.exclude(status=TaskStatus.CLOSED)
            .filter(deadline_kind__in=[DeadlineKind.BY_DATE, DeadlineKind.IMMEDIATE],
                    deadline__gte=today, deadline__lte=horizon)
            .exclude(actual_percent__gte=100))
    for task in near.iterator(chunk_size=500):
        left = workdays_between(today, task.deadline)
        raised += bool(supervision.auto_warning(
            task=task, trigger=Trigger.DEADLINE_NEAR, key=f"deadline_near:{task.pk}:{task.deadline}",
            reason=f"距整改时限（{task.deadline:%Y年%m月%d日}）仅剩 {left} 个工作日，任务尚未完成。"))
    # Lagging in the two latest closed rounds.
    last_two = list(DispatchRound.objects.filter(status=RoundStatus.CLOSED).order_by("-period")
                    .values_list("pk", "period")[:2])
    if len(last_two) == 2:
        (latest, period), (previous, _) = last_two
        twice = (StatusSnapshot.objects.filter(round_id=latest, status="lagging")
                 .filter(task__snapshots__round_id=previous, task__snapshots__status="lagging")
                 .select_related("task"))
        for snap in twice:
            raised += bool(supervision.auto_warning(
                task=snap.task, trigger=Trigger.LAGGING_TWICE, key=f"lagging_twice:{snap.task_id}:{period}",
                reason="连续两轮调度进度滞后于序时进度。"))
    # Reports still missing after the due date.
    missing = (ProgressReport.objects.filter(round__status=RoundStatus.OPEN, round__due_date__lt=today,
                                             status__in=NOT_IN).select_related("task", "unit", "round"))
    for report in missing.iterator(chunk_size=500):
        raised += bool(supervision.auto_warning(
            task=report.task, trigger=Trigger.REPORT_MISSING, key=f"report_missing:{report.pk}",
            reason=f"{report.round.title}报送截止（{report.round.due_date:%m月%d日}）已过，{report.unit.name}尚未报送。",
            target_unit=report.unit, rnd=report.round))
    return raised


def raise_status_warnings(today: dt.date) -> int:
    """预警, the first rung of the ladder, on every task past its deadline (逾期, as refresh_statuses
    has just stored it) and every task the lead supervising unit judged unable to finish in time
    (研判无法按期完成: the latest accepted report of one of its units says so, the ``unable`` rule of
    docs/progress-status.md). Once per task and deadline, so a new deadline (延期) warns again;
    the keys already raised are read per 500 tasks, not per task."""
    unable = supervision.judged_unable_tasks()
    pending = (Task.objects.exclude(status=TaskStatus.CLOSED)
               .filter(Q(progress_status=ProgressStatus.OVERDUE, deadline__isnull=False) | Q(pk__in=unable))
               .order_by("pk"))
    raised = 0
    stream = pending.iterator(chunk_size=500)
    while chunk := list(islice(stream, 500)):
        wanted = {}
        for task in chunk:
            if task.progress_status == ProgressStatus.OVERDUE and task.deadline:
                late = (today - task.deadline).days
                wanted[f"overdue:{task.pk}:{task.deadline}"] = (task, Trigger.OVERDUE, (
                    f"已超过整改时限（{task.deadline:%Y年%m月%d日}）{late} 天，任务尚未完成销号。"))
            else:
                wanted[f"unable:{task.pk}:{task.deadline or task.deadline_kind}"] = (task, Trigger.UNABLE, (
                    "牵头督导单位研判该任务无法按期完成"
                    + (f"（整改时限 {task.deadline:%Y年%m月%d日}）" if task.deadline else "")
                    + "，请责任单位采取措施加快整改。"))
        done = set(Escalation.objects.filter(dedupe_key__in=list(wanted)).values_list("dedupe_key", flat=True))
        for key, (task, trigger, reason) in wanted.items():
            if key not in done:
                raised += bool(supervision.auto_warning(task=task, trigger=trigger, key=key, reason=reason))
    return raised


def send_reminders(today: dt.date) -> int:
    sent = 0
    for rnd in DispatchRound.objects.filter(status=RoundStatus.OPEN, due_date__gte=today):
        if workdays_between(today, rnd.due_date) > settings.REMIND_DUE_WORKDAYS:
            continue
        units = rnd.reports.filter(status__in=NOT_IN).values("unit_id")
        users = User.objects.filter(role=Role.REPORTER, is_active=True, unit__in=units)
        sent += notify(users=users, kind="report_due", title=f"{rnd.title}将于 {rnd.due_date:%m月%d日} 截止，请尽快报送",
                       url="/dispatch/", key=f"report_due:{rnd.pk}")
    soon = add_workdays(today, settings.REMIND_DUE_WORKDAYS)
    for esc in Escalation.objects.filter(status=EscalationStatus.OPEN, reply_due__isnull=False,
                                         reply_due__lte=soon).select_related("task", "target_unit"):
        users = User.objects.filter(role__in=[Role.REPORTER, Role.REVIEWER], unit=esc.target_unit, is_active=True)
        sent += notify(users=users, kind="reply_due", title=f"{esc.get_rung_display()}（{esc.doc_number}）回复期限 "
                       f"{esc.reply_due:%m月%d日}", url=f"/supervision/escalations/{esc.pk}/", key=f"reply_due:{esc.pk}")
    sent += accountability.remind_due(today)  # 调查时限 and 办理时限 of accountability cases
    sent += report_deadlines.remind_due(today)  # the 6-month report: 30, 10, 3 work days before
    return sent


def tick_loop(interval_minutes: int, *, keep_going=lambda: True) -> None:  # pragma: no cover - `rectify serve`
    """Run tick now and then every ``interval_minutes`` while ``keep_going()``; a failed tick is
    logged and retried at the next turn. One line per run on stdout, so that an operator (and a
    test) can see that exactly one loop runs."""
    import os
    import time

    from django.db import close_old_connections

    while keep_going():
        try:
            close_old_connections()
            done = tick()
            print(f"[tick] pid={os.getpid()} " + " ".join(f"{k}={v}" for k, v in done.items()), flush=True)
        except Exception:  # noqa: BLE001 — keep serving; the next tick retries
            log.exception("tick failed")
        finally:
            close_old_connections()
        deadline = time.monotonic() + interval_minutes * 60
        while keep_going() and time.monotonic() < deadline:
            time.sleep(min(2.0, max(0.0, deadline - time.monotonic())))


def run_forever(interval_minutes: int) -> None:  # pragma: no cover - exercised by `rectify serve`
    """Background thread for the single-process server (waitress); the multi-process server runs
    the same loop in one process of its own (``rectify tick --every``), never once per worker."""
    import threading

    threading.Thread(target=tick_loop, args=(interval_minutes,), name="rectify-tick", daemon=True).start()
