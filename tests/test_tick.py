"""`rectify tick` is idempotent: twice in a row, or after a crash half-way, nothing is doubled."""

from __future__ import annotations

import datetime as dt

import pytest

from rectify import tick as tick_module
from rectify.cli import main as rectify
from rectify.core.models import Notification
from rectify.core.workdays import nth_workday_of_month
from rectify.dispatch.models import DispatchRound, ProgressReport
from rectify.ledger.models import Task
from rectify.supervision import services as supervision
from rectify.supervision.models import Escalation

DAY = dt.date(2026, 11, 2)  # Monday, the first work day of November 2026


def counts():
    return (DispatchRound.objects.count(), ProgressReport.objects.count(), Escalation.objects.count(),
            Notification.objects.count())


@pytest.fixture
def near_deadline(world):
    # T-01 is due within 15 work days of DAY and not finished.
    Task.objects.filter(pk=world.task_a.pk).update(deadline=DAY + dt.timedelta(days=10))
    return world


def test_round_opens_on_the_configured_work_day(world, settings):
    settings.DISPATCH_OPEN_WORKDAY = 2
    assert tick_module.tick(today=DAY)["rounds_opened"] == 0
    assert tick_module.tick(today=DAY + dt.timedelta(days=1))["rounds_opened"] == 1
    rnd = DispatchRound.objects.get()
    assert rnd.period == "2026-11" and rnd.reports.count() == 2
    assert rnd.due_date == dt.date(2026, 11, 10)  # 5 work days after Tuesday 3 November
    assert Notification.objects.filter(user=world.users["reporter_a"], kind="round_opened").count() == 1


def test_opening_day_counts_official_work_days(db):
    # National Day week: the first work day of October 2025 is Thursday the 9th.
    assert nth_workday_of_month(2025, 10, 1) == dt.date(2025, 10, 9)


def test_running_twice_changes_nothing(near_deadline):
    first = tick_module.tick(today=DAY)
    assert first["rounds_opened"] == 1 and first["warnings"] == 1
    before = counts()
    second = tick_module.tick(today=DAY)
    assert counts() == before
    assert second["rounds_opened"] == 0 and second["warnings"] == 0 and second["reminders"] == 0


def test_a_crash_half_way_is_finished_by_the_next_run(near_deadline, monkeypatch):
    world = near_deadline
    Task.objects.filter(pk=world.task_b.pk).update(deadline=DAY + dt.timedelta(days=12))
    real = supervision.auto_warning
    calls = {"n": 0}

    def crash_on_second(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("power cut")
        return real(**kwargs)

    monkeypatch.setattr(supervision, "auto_warning", crash_on_second)
    with pytest.raises(RuntimeError):
        tick_module.tick(today=DAY)
    assert DispatchRound.objects.count() == 1 and Escalation.objects.count() == 1
    monkeypatch.setattr(supervision, "auto_warning", real)
    tick_module.tick(today=DAY)
    tick_module.tick(today=DAY)
    assert DispatchRound.objects.count() == 1
    keys = list(Escalation.objects.values_list("dedupe_key", flat=True))
    assert len(keys) == len(set(keys)) == 2
    assert Notification.objects.filter(kind="escalation_received").count() == Notification.objects.filter(
        kind="escalation_received").values("user", "key").distinct().count()


def test_missing_reports_after_the_due_date_raise_one_warning_each(world):
    tick_module.tick(today=DAY)
    rnd = DispatchRound.objects.get()
    after_due = rnd.due_date + dt.timedelta(days=1)
    tick_module.tick(today=after_due)
    tick_module.tick(today=after_due + dt.timedelta(days=1))
    missing = Escalation.objects.filter(trigger="report_missing")
    assert missing.count() == 2
    assert set(missing.values_list("target_unit__name", flat=True)) == {"零陵区", "祁阳市"}


def test_reminder_three_work_days_before_the_due_date(world):
    tick_module.tick(today=DAY)
    rnd = DispatchRound.objects.get()  # due 2026-11-09
    tick_module.tick(today=dt.date(2026, 11, 3))  # 4 work days before: no reminder yet
    assert not Notification.objects.filter(kind="report_due").exists()
    tick_module.tick(today=dt.date(2026, 11, 4))
    tick_module.tick(today=dt.date(2026, 11, 5))
    due = Notification.objects.filter(kind="report_due")
    assert set(due.values_list("user__username", flat=True)) == {"rep_a", "rep_b"} and due.count() == 2
    assert rnd.due_date == dt.date(2026, 11, 9)


def test_next_month_closes_the_last_round_and_lagging_twice_warns(world):
    # T-01 runs from 2025-01-01 to 2026-12-31 and reports nothing: it lags in every round.
    Task.objects.filter(pk=world.task_a.pk).update(start_date=dt.date(2025, 1, 1))
    Task.objects.filter(pk=world.task_b.pk).update(deadline_kind="long_term")  # long-term tasks never "lag"
    for day in [dt.date(2026, 9, 1), dt.date(2026, 10, 9), DAY]:
        tick_module.tick(today=day)
    assert DispatchRound.objects.filter(status="closed").count() == 2
    lagging = Escalation.objects.filter(trigger="lagging_twice")
    assert list(lagging.values_list("task__code", flat=True)) == ["T-01"]


def test_tick_command_prints_a_summary(world, capsys):
    assert rectify(["tick", "--date", DAY.isoformat()]) == 0
    assert "开启调度轮次 1" in capsys.readouterr().out


def test_reminders_are_mailed_when_smtp_is_configured(world, settings, mailoutbox, django_capture_on_commit_callbacks):
    settings.EMAIL_HOST = "smtp.intranet.example"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    world.users["reporter_a"].email = "lingling@example.gov.cn"
    world.users["reporter_a"].save()
    with django_capture_on_commit_callbacks(execute=True):
        tick_module.tick(today=DAY)
    assert [m.to for m in mailoutbox] == [["lingling@example.gov.cn"]]
    assert "2026年11月调度已开启" in mailoutbox[0].subject


def test_no_mail_without_smtp(world, settings, mailoutbox, django_capture_on_commit_callbacks):
    settings.EMAIL_HOST = ""
    world.users["reporter_a"].email = "lingling@example.gov.cn"
    world.users["reporter_a"].save()
    with django_capture_on_commit_callbacks(execute=True):
        tick_module.tick(today=DAY)
    assert mailoutbox == [] and Notification.objects.filter(kind="round_opened").count() == 2


def test_tick_sweeps_abandoned_uploads_and_half_written_files(world, settings, tmp_path):
    import os
    import time

    settings.UPLOAD_DIR, settings.MEDIA_ROOT = str(tmp_path / "uploads"), str(tmp_path / "files")
    old = time.time() - 2 * 24 * 3600
    leftovers = [tmp_path / "uploads" / "imports" / "abandoned.xlsx", tmp_path / "uploads" / "plans" / "draft.json",
                 tmp_path / "files" / "evidence" / "ab" / "cd" / ".incoming-x1y2"]
    fresh = tmp_path / "files" / "evidence" / "ab" / "cd" / ".incoming-now"  # a write under way right now
    for path in [*leftovers, fresh]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    for path in leftovers:
        os.utime(path, (old, old))
    done = tick_module.tick(today=DAY)
    assert done["files_swept"] == 3
    assert not any(path.exists() for path in leftovers) and fresh.exists()
