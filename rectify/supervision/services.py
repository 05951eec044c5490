"""Derived progress status upkeep and the escalation ladder (督办)."""

from __future__ import annotations

import datetime as dt
import json

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from rectify.core.audit import record_event
from rectify.core.numbers import allocate_number, number_in_use
from rectify.dispatch.models import DispatchRound, ProgressReport, ReportStatus
from rectify.ledger.models import Task, TaskStatus, TaskUnit, UnitRole
from rectify.orgs.models import Role, Unit, User
from rectify.supervision import hooks, scope
from rectify.supervision.models import (
    LADDER,
    Escalation,
    ReplyFile,
    Rung,
    StatusFlip,
    StatusSnapshot,
    Trigger,
)
from rectify.supervision.status import StatusInput, derive_status
from rectify.supervision.workflows import ESCALATION_FLOW


def _with_status_inputs(qs: QuerySet, today: dt.date) -> QuerySet:
    """The facts read per task in SQL; the accepted reports per unit are read per chunk
    (:func:`_unit_percents`)."""
    due_passed = ProgressReport.objects.filter(task=OuterRef("pk"), round__due_date__lt=today)
    return qs.select_related("campaign").annotate(
        report_due_passed=Exists(due_passed),
        n_measures=Count("measures", distinct=True),
        n_done=Count("measures", filter=Q(measures__done=True), distinct=True),
    )


def _unit_percents(task_ids: list[int]) -> dict[int, tuple[int | None, bool, int]]:
    """Actual progress of shared tasks (docs/progress-status.md, "several responsible units"):
    task id → (percent, judged unable, units averaged).

    Each responsible unit's latest accepted report counts once; a unit that has none counts 0 once
    any unit of the task has one; the task's percent is the mean, rounded down. Units that reported
    without being responsible (any more) count too. Judged unable when the latest accepted report
    of any unit says so. Two queries per chunk, whatever the number of reports.
    """
    latest = (_latest_accepted_per_unit(ProgressReport.objects.filter(task_id__in=task_ids))
              .values_list("task_id", "unit_id", "percent", "judged_unable"))
    reported: dict[int, dict[int, tuple[int, bool]]] = {}
    for task_id, unit_id, percent, unable in latest:
        reported.setdefault(task_id, {})[unit_id] = (percent or 0, bool(unable))
    if not reported:
        return {}
    responsible: dict[int, set[int]] = {}
    for task_id, unit_id in TaskUnit.objects.filter(task_id__in=list(reported), role=UnitRole.RESPONSIBLE).values_list(
            "task_id", "unit_id"):
        responsible.setdefault(task_id, set()).add(unit_id)
    out = {}
    for task_id, by_unit in reported.items():
        units = responsible.get(task_id, set()) | set(by_unit)
        total = sum(by_unit.get(u, (0, False))[0] for u in units)
        out[task_id] = (total // len(units), any(unable for _, unable in by_unit.values()), len(units))
    return out


def _latest_accepted_per_unit(reports: QuerySet) -> QuerySet:
    """Of these accepted reports, each (task, unit)'s latest (by decision time, then id)."""
    newer = ProgressReport.objects.filter(task=OuterRef("task"), unit=OuterRef("unit"), status=ReportStatus.ACCEPTED).filter(
        Q(decided_at__gt=OuterRef("decided_at")) | Q(decided_at=OuterRef("decided_at"), pk__gt=OuterRef("pk")))
    return reports.filter(status=ReportStatus.ACCEPTED).exclude(Exists(newer))


def judged_unable_tasks() -> QuerySet:
    """Ids of tasks the lead supervising unit judged unable to finish in time: the latest accepted
    report of one of their units says so (for a subquery)."""
    return _latest_accepted_per_unit(ProgressReport.objects.filter(judged_unable=True)).values("task_id")


def _previous_colours(task_ids: list[int], *, before_period: str | None = None) -> dict[int, str]:
    """Colour of each task at the end of the latest closed round (before ``before_period``)."""
    earlier = StatusSnapshot.objects.filter(task=OuterRef("task"), round__status="closed")
    if before_period:
        earlier = earlier.filter(round__period__lt=before_period)
    latest = earlier.order_by("-round__period").values("pk")[:1]
    rows = StatusSnapshot.objects.filter(task_id__in=task_ids, pk=Subquery(latest)).values_list("task_id", "colour")
    return dict(rows)


def _compute(task: Task, today: dt.date, previous: str | None,
             reported: tuple[int | None, bool, int] = (None, False, 0)):
    from rectify.core.workdays import workdays_between

    remaining = None
    if task.deadline and task.deadline >= today:
        remaining = workdays_between(today, task.deadline)
    percent, unable, units = reported
    # The schedule starts at the task's own start date (set when it leaves draft), never the
    # campaign's feedback date: a 2027 task entered today is not behind a 2021 line.
    return derive_status(StatusInput(
        today=today, closed=task.status == TaskStatus.CLOSED, deadline_kind=task.deadline_kind,
        deadline=task.deadline, start=task.start_date,
        reported_percent=percent, reporting_units=max(units, 1), measures_total=task.n_measures,
        measures_done=task.n_done, judged_unable=unable, previous_colour=previous,
        days_to_deadline_workdays=remaining, report_due_passed=bool(task.report_due_passed)))


FIELDS = ["progress_status", "warning_colour", "expected_percent", "actual_percent", "status_reasons",
          "status_computed_on"]


def refresh_statuses(*, tasks: QuerySet | None = None, today: dt.date | None = None, batch: int = 1000,
                     closing: DispatchRound | None = None) -> int:
    """Recompute the derived status of tasks (all by default). Returns how many changed.

    Status depends on the date, so tick runs this daily; acceptance of a report runs it for one task.
    "Two yellows in a row become a red" is a judgement between rounds: it is made when a round
    closes (``closing``), against the round before; between closings only a red earned that way
    carries over, so a task does not turn red the day after a yellow round ends.
    """
    today = today or timezone.localdate()
    qs = _with_status_inputs(tasks if tasks is not None else Task.objects.all(), today).order_by("pk")
    changed = 0
    ids = list(qs.values_list("pk", flat=True))
    for start in range(0, len(ids), batch):
        chunk = list(qs.filter(pk__in=ids[start:start + batch]))
        if closing is not None:
            previous = _previous_colours([t.pk for t in chunk], before_period=closing.period)
        else:
            previous = {k: v for k, v in _previous_colours([t.pk for t in chunk]).items() if v == "red"}
        dirty, flips = [], []
        reported = _unit_percents([t.pk for t in chunk])
        for task in chunk:
            result = _compute(task, today, previous.get(task.pk), reported.get(task.pk, (None, False, 0)))
            values = (str(result.status), str(result.colour), result.expected_percent, result.actual_percent,
                      list(result.reasons), today)
            if tuple(getattr(task, f) for f in FIELDS[:-1]) != values[:-1] or task.status_computed_on != today:
                # The first computation (a new task, on save) is not a change of status: no flip.
                if task.progress_status and (task.progress_status, task.warning_colour) != values[:2]:
                    flips.append(StatusFlip(task=task, at=timezone.now(), computed_on=today,
                                            old_status=task.progress_status, new_status=values[0],
                                            old_colour=task.warning_colour, new_colour=values[1],
                                            reasons=values[4], round=closing))
                for name, value in zip(FIELDS, values, strict=True):
                    setattr(task, name, value)
                dirty.append(task)
        with transaction.atomic():
            _write_statuses(dirty)
            _record_flips(flips)
        changed += len(dirty)
    return changed


def _record_flips(flips: list[StatusFlip]) -> None:
    """Each change of derived status or colour is a row and an event on the task's timeline
    (appended in one take of the chain lock: an import of thousands of tasks computes them all)."""
    from rectify.core.audit import append_events

    if not flips:
        return
    StatusFlip.objects.bulk_create(flips, batch_size=1000)
    append_events({"action": "status_flipped", "actor_name": "系统（状态计算）", "object_type": "ledger.task",
                   "object_id": flip.task_id, "object_label": str(flip.task)[:300],
                   "summary": f"进度状态变化：{flip.describe()}",
                   "before": {"status": flip.old_status, "colour": flip.old_colour},
                   "after": {"status": flip.new_status, "colour": flip.new_colour, "flip": flip.pk,
                             "computed_on": flip.computed_on}} for flip in flips)


def _write_statuses(tasks: list[Task]) -> None:
    """One parameterised UPDATE per task, sent as a batch: Django's bulk_update builds a CASE per
    row and field, which took ~40 s for 10,000 tasks; this takes well under a second."""
    if not tasks:
        return
    table = Task._meta.db_table
    columns = [Task._meta.get_field(f).column for f in FIELDS]
    sql = f"UPDATE {table} SET " + ", ".join(f"{c} = %s" for c in columns) + " WHERE id = %s"
    rows = [(t.progress_status, t.warning_colour, t.expected_percent, t.actual_percent,
             json.dumps(t.status_reasons, ensure_ascii=False), t.status_computed_on, t.pk) for t in tasks]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def refresh_task_status(*, task: Task, today: dt.date | None = None) -> Task:
    refresh_statuses(tasks=Task.objects.filter(pk=task.pk), today=today)
    return Task.objects.get(pk=task.pk)


def on_tasks_saved(*, task_ids: list[int], today: dt.date | None = None) -> None:
    """ledger.tasks_saved: a new or edited task (one from the form, thousands from an import) shows
    its derived status at once, not after the next tick."""
    for start in range(0, len(task_ids), 1000):
        refresh_statuses(tasks=Task.objects.filter(pk__in=task_ids[start:start + 1000]), today=today)


def status_of_new_task(*, task, measures_total: int, measures_done: int, today: dt.date) -> dict:
    """ledger.new_task_status: what :func:`refresh_statuses` would compute for a task just
    inserted — no reports, no earlier round's colour — from its own fields, without a query."""
    from types import SimpleNamespace

    facts = SimpleNamespace(status=task.status, deadline_kind=task.deadline_kind, deadline=task.deadline,
                            start_date=task.start_date, n_measures=measures_total, n_done=measures_done,
                            report_due_passed=False)
    result = _compute(facts, today, None)  # type: ignore[arg-type]
    return {"progress_status": str(result.status), "warning_colour": str(result.colour),
            "expected_percent": result.expected_percent, "actual_percent": result.actual_percent,
            "status_reasons": list(result.reasons), "status_computed_on": today}


def on_report_accepted(*, report: ProgressReport) -> None:
    """dispatch.report_accepted: the task's derived status follows its newest accepted report."""
    refresh_task_status(task=report.task)


def on_round_closed(*, rnd: DispatchRound, today: dt.date | None = None) -> None:
    """dispatch.round_closed: keep each task's status as it stood at the round's end."""
    snapshot_round(rnd=rnd, today=today)


def snapshot_round(*, rnd: DispatchRound, today: dt.date | None = None) -> int:
    """Judge each task of a closed round against the round before, and keep that status (idempotent)."""
    existing = set(StatusSnapshot.objects.filter(round=rnd).values_list("task_id", flat=True))
    task_ids = set(rnd.reports.values_list("task_id", flat=True)) - existing
    if not task_ids:
        return 0
    refresh_statuses(tasks=Task.objects.filter(pk__in=task_ids), today=today, closing=rnd)
    rows = [StatusSnapshot(round=rnd, task_id=t.pk, status=t.progress_status, colour=t.warning_colour,
                           expected_percent=t.expected_percent, actual_percent=t.actual_percent)
            for t in Task.objects.filter(pk__in=task_ids).only(*FIELDS, "id")]
    StatusSnapshot.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    return len(rows)


def highest_rung(task: Task) -> int:
    rungs = set(task.escalations.values_list("rung", flat=True))
    return max((LADDER.index(r) for r in rungs), default=-1)


def issue_escalation(*, actor: User, task: Task, rung: str, reason: str, target_unit: Unit,
                     reply_due: dt.date | None, skip_reason: str = "", doc_number: str = "") -> Escalation:
    """Issue the next rung of the ladder (通报、督办、挂牌督办、约谈、区域限批).

    Rungs go in order; skipping one needs a stated reason, which the record keeps.
    """
    if not scope.issues_on(actor, task):
        raise PermissionDenied("您无权对该任务发起督办。")
    if rung not in LADDER:
        raise ValidationError({"rung": ["未知的督办措施。"]})
    if rung == Rung.WARNING:
        raise ValidationError({"rung": ["预警由系统按规则自动发出；人工督办从“通报”开始。"]})
    errors: dict[str, list[str]] = {}
    if not reason.strip():
        errors["reason"] = ["请填写督办事由。"]
    if not task.task_units.filter(unit=target_unit).exists():
        errors["target_unit"] = ["督办对象须为该任务的责任或督导单位。"]
    if rung != Rung.WARNING and reply_due is None:
        errors["reply_due"] = ["请填写回复期限。"]
    if reply_due and reply_due < timezone.localdate():
        errors["reply_due"] = ["回复期限不能早于今天。"]
    if doc_number.strip() and number_in_use(doc_number):
        errors["doc_number"] = [f"发文字号 {doc_number.strip()} 已由系统编发给其他文书。"]
    # 预警 is raised automatically and is not a step the office must climb by hand: the manual
    # ladder starts at 通报 whether or not a warning came first.
    current = max(highest_rung(task), 0)
    wanted = LADDER.index(rung)
    skipped = [str(Rung(r).label) for r in LADDER[current + 1:wanted]]
    if skipped and not skip_reason.strip():
        errors["skip_reason"] = [f"越级督办须说明理由（跳过：{'、'.join(skipped)}）。"]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        esc = Escalation.objects.create(
            task=task, rung=rung, reason=reason.strip(), target_unit=target_unit, reply_due=reply_due,
            skip_reason=skip_reason.strip() if skipped else "", doc_number=doc_number.strip(), issued_by=actor,
            issuing_unit=actor.unit, issued_at=timezone.now(), trigger=Trigger.MANUAL)
        if not esc.doc_number:
            esc.doc_number = _allocate_doc_number(esc, actor=actor)
            esc.save(update_fields=["doc_number"])
        record_event(actor=actor, action="escalation_issued", object_type="ledger.task", object_id=task.pk,
                     object_label=str(task)[:300],
                     summary=f"对{target_unit.name}发出{esc.get_rung_display()}（{esc.doc_number}）"
                             + (f"，回复期限 {reply_due:%Y-%m-%d}" if reply_due else "")
                             + (f"；越级（跳过{'、'.join(skipped)}），理由：{esc.skip_reason}" if skipped else ""),
                     after={"escalation": esc.pk, "rung": rung, "target": target_unit.name, "reply_due": reply_due,
                            "skipped": skipped, "skip_reason": esc.skip_reason})
        hooks.escalation_issued(escalation=esc)
    _notify_target(esc)
    return esc


def _allocate_doc_number(esc: Escalation, *, actor: User | None = None, actor_name: str = "") -> str:
    """The notice's 发文字号 from the one register (core.numbers): per word and local calendar year."""
    return allocate_number(kind=esc.rung, year=timezone.localtime(esc.issued_at).year,
                           object_type="supervision.escalation", object_id=esc.pk, actor=actor,
                           actor_name=actor_name)


def _notify_target(esc: Escalation) -> None:
    from rectify.core.notify import notify

    users = User.objects.filter(role__in=[Role.REPORTER, Role.REVIEWER], unit=esc.target_unit, is_active=True)
    notify(users=users, kind="escalation_received", title=f"收到{esc.get_rung_display()}：{esc.task.code}",
           body=esc.reason, url=f"/supervision/escalations/{esc.pk}/", key=f"escalation:{esc.pk}")


def auto_warning(*, task: Task, trigger: str, key: str, reason: str, rnd: DispatchRound | None = None,
                 target_unit: Unit | None = None) -> Escalation | None:
    """A warning (预警) raised by tick. Returns None when this key was already raised."""
    if Escalation.objects.filter(dedupe_key=key).exists():
        return None
    if target_unit is None:
        link = task.task_units.filter(role="responsible").order_by("ordinal").first()
        if link is None:
            return None
        target_unit = link.unit
    try:
        with transaction.atomic():
            esc = Escalation.objects.create(
                task=task, rung=Rung.WARNING, trigger=trigger, reason=reason, target_unit=target_unit,
                issued_at=timezone.now(), dedupe_key=key, round=rnd)
            esc.doc_number = _allocate_doc_number(esc, actor_name="系统（定时任务）")
            esc.save(update_fields=["doc_number"])
            record_event(action="warning_raised", actor_name="系统（定时任务）", object_type="ledger.task",
                         object_id=task.pk, object_label=str(task)[:300],
                         summary=f"自动预警：{Trigger(trigger).label}——{reason}", after={"escalation": esc.pk, "key": key})
    except IntegrityError:
        return None
    _notify_target(esc)
    return esc


MAX_REPLY_FILES = 10


def reply_escalation(*, actor: User, escalation: Escalation, text: str, files=()) -> Escalation:
    """The target unit answers (回复督办), with the evidence the document asks for: each file is
    checked by content before anything is written, and stored only once the reply is recorded."""
    from rectify.evidence.inspect import check_report_total, inspect_upload

    files = list(files)
    if len(files) > MAX_REPLY_FILES:
        raise ValidationError({"files": [f"每次回复最多上传 {MAX_REPLY_FILES} 个材料。"]})
    inspected = []
    for name, fileobj in files:
        try:
            inspected.append((inspect_upload(name, fileobj), fileobj))
        except Exception as exc:  # EvidenceRejected carries the Chinese reason
            raise ValidationError({"files": [f"{name}：{exc}"]}) from exc
    check_report_total(sum(item.size for item, _ in inspected))
    return _move(actor=actor, escalation=escalation, action="reply", text=text.strip(), inspected=inspected)


def close_escalation(*, actor: User, escalation: Escalation) -> Escalation:
    """The issuer's side closes it (办结)."""
    return _move(actor=actor, escalation=escalation, action="close")


def _move(*, actor: User, escalation: Escalation, action: str, text: str = "", inspected=()) -> Escalation:
    """The one transition service of :data:`ESCALATION_FLOW`: lock, ask the table, write, record."""
    with transaction.atomic():
        locked = (Escalation.objects.visible_to(actor).select_for_update()
                  .select_related("task", "task__campaign", "target_unit").filter(pk=escalation.pk).first())
        if locked is None:
            raise Http404("督办不存在或无权操作。")  # missing and not allowed look the same
        rule = ESCALATION_FLOW.authorise(actor, locked, action)
        if action == "reply" and not text:
            raise ValidationError({"reply_text": ["请填写回复内容。"]})
        before = {"status": locked.status}
        locked.status = rule.target
        summary = f"{locked.get_rung_display()}（{locked.doc_number}）"
        if action == "reply":
            locked.reply_text, locked.replied_by, locked.replied_at = text, actor, timezone.now()
            late = locked.reply_due and timezone.localdate() > locked.reply_due
            summary = f"{locked.target_unit.name}回复{summary}" + ("，逾期回复" if late else "")
        else:
            summary = f"办结{summary}"
        locked.save()
        stored = [ReplyFile.objects.create(
            escalation=locked, digest=item.digest, extension=item.extension, size=item.size, mime=item.mime,
            kind=item.kind, original_name=item.original_name[:200], uploaded_by=actor,
            taken_at=getattr(item.exif, "taken_at", None), latitude=getattr(item.exif, "latitude", None),
            longitude=getattr(item.exif, "longitude", None)) for item, _ in inspected]
        if stored:
            summary += f"，附材料 {len(stored)} 个（{'、'.join(f.original_name for f in stored)}）"
        record_event(actor=actor, action=ESCALATION_FLOW.event_of(rule), object_type="ledger.task",
                     object_id=locked.task_id, object_label=str(locked.task)[:300], summary=summary[:2000],
                     before=before, after={"escalation": locked.pk, "status": locked.status,
                                           "files": [{"name": f.original_name, "sm3": f.digest} for f in stored]})
        if action == "reply":
            _notify_issuer(locked)
        if inspected:
            from rectify.evidence.store import EvidenceStore

            store = EvidenceStore()
            for item, fileobj in inspected:  # written last: a failure above leaves no file behind
                store.save(item, fileobj)
    escalation.refresh_from_db()
    return escalation


def reply_file_for_download(*, actor: User, stored: ReplyFile) -> str:
    """Re-check a reply's file against its digest and record the download; returns its path."""
    from rectify.evidence.store import EvidenceStore

    store = EvidenceStore()
    if not store.verify(stored.digest, stored.extension):
        raise Http404("文件缺失或已被改动，请联系管理员。")
    with transaction.atomic():
        record_event(actor=actor, action="evidence_downloaded", object_type="supervision.replyfile",
                     object_id=stored.pk, summary=f"下载督办回复材料「{stored.original_name}」")
    return store.path(stored.digest, stored.extension)


def _notify_issuer(esc: Escalation) -> None:
    """The unit that issued the escalation (the office for tick's warnings) learns it was answered."""
    from rectify.core.notify import notify

    unit_id = esc.issuing_unit_id or esc.task.campaign.office_id
    users = User.objects.filter(Q(unit_id=unit_id, role__in=[Role.OFFICE_ADMIN, Role.OFFICE_STAFF, Role.SUPERVISOR])
                                | Q(pk=esc.issued_by_id), is_active=True)
    notify(users=users, kind="escalation_answered",
           title=f"{esc.target_unit.name}已回复{esc.get_rung_display()}：{esc.task.code}",
           body=esc.reply_text[:500], url=f"/supervision/escalations/{esc.pk}/",
           key=f"escalation_answered:{esc.pk}:{esc.replied_at:%Y%m%d%H%M%S%f}")
