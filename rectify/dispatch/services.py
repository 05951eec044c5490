"""Every way a round or a progress report changes (一月一调度)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone

from rectify.core.audit import record_event
from rectify.dispatch import hooks, scope
from rectify.dispatch.models import DispatchRound, Evidence, ProgressReport, ReportStatus, RoundStatus
from rectify.dispatch.workflows import EDITABLE, REPORT_FLOW, ROUND_FLOW
from rectify.ledger.models import Measure, Task, TaskStatus, TaskUnit, UnitRole
from rectify.ledger.scope import may_run_campaign_for
from rectify.orgs.models import Role, Unit, User
from rectify.orgs.scope import in_tree

S = ReportStatus
__all__ = ["EDITABLE", "REPORT_FLOW", "ROUND_FLOW", "open_round", "close_round", "transition", "attach_evidence",
           "evidence_for_download", "remove_evidence", "StaleReportError"]


class StaleReportError(Exception):
    def __init__(self, report: ProgressReport):
        self.report = report
        super().__init__(f"保存失败：该报送已被他人更新（当前状态：{report.get_status_display()}）。请刷新页面后重试。")


def _round_title(period: str) -> str:
    year, month = period.split("-")
    return f"{year}年{int(month)}月调度"


ROUND_MONTHS_BACK = 36  # a round may be opened late, for a month up to three years past
ROUND_MONTHS_AHEAD = 2  # or early, for next month and the one after
ROUND_DUE_MONTHS_AFTER = 3  # its due date falls in its month or within three months after it
# ... or in the month before (a round prepared ahead, or a test's "due yesterday" on the 1st)


def check_round_dates(period: str, due_date: dt.date, *, today: dt.date | None = None) -> None:
    """A round's month and due date must be ones an office could mean (a round "9999-12" was
    accepted): raises ValidationError with the field and a Chinese reason."""
    import re

    today = today or timezone.localdate()
    if not isinstance(period, str) or not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period):
        raise ValidationError({"period": ["调度月份应写作“年-月”，如 2026-11。"]})
    year, month = map(int, period.split("-"))
    index, now = year * 12 + month - 1, today.year * 12 + today.month - 1
    if not now - ROUND_MONTHS_BACK <= index <= now + ROUND_MONTHS_AHEAD:
        raise ValidationError({"period": [f"调度月份 {period} 超出可开启的范围（前 {ROUND_MONTHS_BACK} 个月至后 "
                                          f"{ROUND_MONTHS_AHEAD} 个月）。"]})
    first = (dt.date(year, month, 1) - dt.timedelta(days=1)).replace(day=1)
    last_index = index + ROUND_DUE_MONTHS_AFTER + 1
    limit = dt.date(last_index // 12, last_index % 12 + 1, 1) - dt.timedelta(days=1)
    if not first <= due_date <= limit:
        raise ValidationError({"due_date": [f"报送截止日期应在 {first:%Y-%m-%d} 至 {limit:%Y-%m-%d} 之间。"]})


def open_round(*, actor: User | None, office: Unit, period: str, due_date: dt.date,
               require_unit_review: bool | None = None) -> tuple[DispatchRound, bool]:
    """Open the month's round and give every open task a report slot per responsible unit.

    Idempotent: a second call for the same office and month returns the existing round
    (``created`` False) — the unique constraint makes that hold under concurrency too.
    """
    if actor is not None and not may_run_campaign_for(actor, office):
        raise PermissionDenied("只有整改办可以开启调度轮次。")
    check_round_dates(period, due_date)
    existing = DispatchRound.objects.filter(office=office, period=period).first()
    if existing:
        return existing, False
    if require_unit_review is None:
        require_unit_review = getattr(settings, "DISPATCH_REQUIRE_UNIT_REVIEW", True)
    try:
        with transaction.atomic():
            rnd = DispatchRound.objects.create(
                office=office, period=period, title=_round_title(period), opened_at=timezone.now(),
                opened_by=actor, due_date=due_date, require_unit_review=require_unit_review)
            # Every task of the office's tree not yet filed (已销号) owes a report per responsible unit.
            links = (TaskUnit.objects.filter(in_tree("task__campaign__office", office), role=UnitRole.RESPONSIBLE)
                     .exclude(task__status=TaskStatus.CLOSED).values_list("task_id", "unit_id"))
            slots = [ProgressReport(round=rnd, task_id=task_id, unit_id=unit_id) for task_id, unit_id in links]
            ProgressReport.objects.bulk_create(slots, batch_size=2000)
            record_event(actor=actor, action="round_opened", obj=rnd, unit=office,
                         actor_name="" if actor else "系统（定时任务）",
                         summary=f"开启{rnd.title}，截止 {due_date:%Y-%m-%d}，共 {len(slots)} 个报送任务",
                         after={"period": period, "due_date": due_date, "slots": len(slots),
                                "require_unit_review": require_unit_review})
    except IntegrityError:
        return DispatchRound.objects.get(office=office, period=period), False
    return rnd, True


def close_round(*, actor: User | None, rnd: DispatchRound, today: dt.date | None = None) -> DispatchRound:
    """结束调度轮次: no new reports; the ``round_closed`` hook keeps each task's status at its end.

    ``actor`` None is tick ending last month's round. Closing a closed round is refused for a
    person and a no-op for tick (which may run twice).
    """
    with transaction.atomic():
        locked = DispatchRound.objects.select_for_update().select_related("office").get(pk=rnd.pk)
        if actor is None:
            if locked.status != RoundStatus.OPEN:
                return locked
            rule = ROUND_FLOW.system_rule(locked, "close_on_schedule")
        else:
            if not DispatchRound.objects.visible_to(actor).filter(pk=rnd.pk).exists():
                raise Http404("调度轮次不存在或无权查看。")
            rule = ROUND_FLOW.authorise(actor, locked, "close")
        locked.status, locked.closed_at = rule.target, timezone.now()
        locked.save(update_fields=["status", "closed_at"])
        missing = locked.reports.filter(status__in=[S.PENDING, S.DRAFT]).count()
        hooks.round_closed(rnd=locked, today=today)
        record_event(actor=actor, action=ROUND_FLOW.event_of(rule), obj=locked, unit=locked.office,
                     actor_name="" if actor else "系统（定时任务）",
                     summary=f"结束{locked.title}，未报送 {missing} 项",
                     before={"status": RoundStatus.OPEN}, after={"status": locked.status})
    return locked


def transition(*, actor: User, report: ProgressReport, action: str, expected_version: int | None = None,
               changes: dict | None = None, reason: str = "", judged_unable: bool = False) -> ProgressReport:
    """Move a report through :data:`REPORT_FLOW` (one locked row, one event on the task timeline)."""
    changes = changes or {}
    with transaction.atomic():
        locked = (ProgressReport.objects.visible_to(actor).select_for_update()
                  .select_related("round", "task", "unit").filter(pk=report.pk).first())
        if locked is None:
            raise Http404("报送不存在或无权操作。")  # missing and not allowed look the same
        if expected_version is not None and locked.version != expected_version:
            raise StaleReportError(locked)
        rule = REPORT_FLOW.authorise(actor, locked, action)
        new_state = rule.target
        # A closed round takes no first reports; a report returned for correction can still be
        # corrected and resubmitted, and reviews and decisions go on.
        if locked.round.status != RoundStatus.OPEN and action in {"save", "submit"} and locked.status != S.RETURNED:
            raise ValidationError("该调度轮次已结束，不能再报送。")
        if action == "submit" and not locked.round.require_unit_review:
            new_state = REPORT_FLOW.rule(new_state, "skip_review").target
        before = {"status": locked.status}
        now = timezone.now()
        if action in {"save", "submit"}:
            _apply_content(locked, changes)
            locked.author = actor
        if action == "submit":
            _require_content(locked)
            if locked.submitted_at is None:
                # Timeliness is judged by the first submission: a report sent on time and returned
                # for correction after the due date was still reported on time.
                locked.late = timezone.localdate() > locked.round.due_date
            locked.submitted_at = now
        if action == "approve":
            if locked.author_id == actor.pk:
                raise PermissionDenied("不能审核自己填报的报送（三员分立：不得自审）。")
            locked.reviewed_by = actor
        if action in {"send_back", "return"}:
            if not reason.strip():
                raise ValidationError("退回须填写原因。")
            locked.return_reason = reason.strip()
        if action in {"accept", "return"}:
            locked.decided_by, locked.decided_at = actor, now
        if action == "accept":
            locked.judged_unable = judged_unable
            locked.return_reason = ""
            _complete_measures(locked)
        locked.status = new_state
        locked.version += 1
        locked.save()
        summary = (f"{locked.round.title}·{locked.unit.name}：{rule.label}进展报送"
                   + (f"（进度 {locked.percent}%）" if action in {"submit", "accept"} and locked.percent is not None else "")
                   + (f"，原因：{locked.return_reason}" if action in {"send_back", "return"} else "")
                   + ("，逾期报送" if action == "submit" and locked.late else "")
                   + ("，牵头单位判断无法按期完成" if action == "accept" and judged_unable else ""))
        record_event(actor=actor, action=REPORT_FLOW.event_of(rule), object_type="ledger.task", object_id=locked.task_id,
                     object_label=str(locked.task)[:300], summary=summary, before=before,
                     after={"status": new_state, "report": locked.pk, "round": locked.round.period})
        if action == "accept":
            hooks.report_accepted(report=locked)
    _notify_after(locked, action)
    return locked


def _apply_content(report: ProgressReport, changes: dict) -> None:
    for name in ("progress_text", "difficulties", "next_steps", "public_summary"):
        if name in changes:
            setattr(report, name, (changes[name] or "").strip())
    if "percent" in changes:
        value = changes["percent"]
        if value is not None and not 0 <= int(value) <= 100:
            raise ValidationError({"percent": ["完成进度须在 0–100 之间。"]})
        report.percent = value
    if "measures_completed" in changes:
        ids = [m.pk if hasattr(m, "pk") else int(m) for m in changes["measures_completed"]]
        valid = set(Measure.objects.filter(task=report.task, pk__in=ids).values_list("pk", flat=True))
        if len(valid) != len(set(ids)):
            raise ValidationError({"measures_completed": ["所选措施不属于该任务。"]})
        report.save()
        report.measures_completed.set(valid)


def _require_content(report: ProgressReport) -> None:
    errors = {}
    if not report.progress_text:
        errors["progress_text"] = ["请填写本月进展。"]
    if report.percent is None and not report.measures_completed.exists():
        errors["percent"] = ["请填写完成进度，或勾选已完成的措施。"]
    if errors:
        raise ValidationError(errors)


def _complete_measures(report: ProgressReport) -> None:
    ids = list(report.measures_completed.filter(done=False).values_list("pk", flat=True))
    if ids:
        Measure.objects.filter(pk__in=ids).update(done=True, done_at=timezone.localdate())
        # The task changed: bump its version so an editor's stale form cannot undo this.
        Task.objects.filter(pk=report.task_id).update(version=F("version") + 1)


def _notify_after(report: ProgressReport, action: str) -> None:
    from rectify.core.notify import notify

    url = f"/dispatch/reports/{report.pk}/"
    if action == "send_back" or action == "return":
        writers = User.objects.filter(role=Role.REPORTER, unit=report.unit, is_active=True)
        notify(users=writers, kind="report_returned", title=f"报送被退回：{report.task.code}",
               body=report.return_reason, url=url, key=f"returned:{report.pk}:{report.version}")
    elif action == "submit" and report.status == S.AWAITING_REVIEW:
        reviewers = User.objects.filter(role=Role.REVIEWER, unit=report.unit, is_active=True)
        notify(users=reviewers, kind="report_to_review", title=f"待审核报送：{report.task.code}", url=url,
               key=f"review:{report.pk}:{report.version}")
    elif action in {"submit", "approve"} and report.status == S.SUBMITTED:
        # The report now waits for the lead supervising unit's decision (采纳/退回): remind its people.
        leads = TaskUnit.objects.filter(task_id=report.task_id, role=UnitRole.LEAD_SUPERVISOR).values("unit_id")
        deciders = User.objects.filter(role=Role.SUPERVISOR, unit__in=leads, is_active=True)
        notify(users=deciders, kind="report_to_decide", title=f"待采纳报送：{report.task.code}（{report.unit.name}）",
               body=f"{report.round.title}的进展报送待牵头督导单位审核（采纳或退回）。", url=url,
               key=f"decide:{report.pk}:{report.version}")


def attach_evidence(*, actor: User, report: ProgressReport, name: str, fileobj) -> Evidence:
    """Check an uploaded file by content, store it by digest and attach it (佐证材料)."""
    from django.db.models import Count, Sum

    from rectify.evidence.exif import photo_warnings
    from rectify.evidence.inspect import check_report_total, inspect_upload
    from rectify.evidence.store import EvidenceStore

    inspected = inspect_upload(name, fileobj)
    store = EvidenceStore()
    with transaction.atomic():
        locked = (ProgressReport.objects.visible_to(actor).select_for_update()
                  .select_related("task", "task__campaign", "round", "unit").filter(pk=report.pk).first())
        if locked is None:
            raise Http404("报送不存在或无权操作。")
        # Checked on the locked row: a report submitted meanwhile no longer takes files.
        if not scope.writes_report(actor, locked) or locked.status not in EDITABLE:
            raise PermissionDenied("当前不能为该报送上传佐证材料。")
        attached = locked.evidence.aggregate(total=Sum("size"), files=Count("pk"))
        check_report_total((attached["total"] or 0) + inspected.size, files=attached["files"] + 1)
        meta = inspected.exif
        warnings = []
        if inspected.kind == "photo":
            location = ((locked.task.latitude, locked.task.longitude)
                        if locked.task.latitude is not None and locked.task.longitude is not None else None)
            warnings = photo_warnings(meta, measure_start=_measure_start(locked), task_location=location)
        evidence = Evidence.objects.create(
            report=locked, digest=inspected.digest, extension=inspected.extension, size=inspected.size,
            mime=inspected.mime, kind=inspected.kind, original_name=inspected.original_name[:200],
            taken_at=getattr(meta, "taken_at", None), latitude=getattr(meta, "latitude", None),
            longitude=getattr(meta, "longitude", None), warnings=warnings, uploaded_by=actor)
        record_event(actor=actor, action="evidence_attached", object_type="ledger.task", object_id=locked.task_id,
                     object_label=str(locked.task)[:300],
                     summary=f"{locked.round.title}·{locked.unit.name}：上传佐证材料「{evidence.original_name}」"
                             + (f"（{'；'.join(warnings)}）" if warnings else ""),
                     after={"report": locked.pk, "evidence": evidence.pk, "sm3": inspected.digest,
                            "size": inspected.size, "mime": inspected.mime})
        # The file is written last, so a failure above leaves no file behind.
        store.save(inspected, fileobj)
    return evidence


def evidence_for_download(*, actor: User, evidence: Evidence, channel: str = ""):
    """Re-check the stored file against its digest and record the download; returns its path."""
    from rectify.evidence.store import EvidenceStore

    store = EvidenceStore()
    if not store.verify(evidence.digest, evidence.extension):
        raise Http404("文件缺失或已被改动，请联系管理员。")
    with transaction.atomic():
        record_event(actor=actor, action="evidence_downloaded", object_type="dispatch.evidence",
                     object_id=evidence.pk, summary=f"下载佐证材料「{evidence.original_name}」{channel}")
    return store.path(evidence.digest, evidence.extension)


def _measure_start(report: ProgressReport) -> dt.date | None:
    return report.task.start_date or report.task.campaign.feedback_date


def remove_evidence(*, actor: User, evidence: Evidence) -> None:
    with transaction.atomic():
        report = (ProgressReport.objects.visible_to(actor).select_for_update()
                  .filter(pk=evidence.report_id).select_related("unit").first())
        if report is None:
            raise Http404("文件不存在或无权操作。")
        if not scope.writes_report(actor, report) or report.status not in EDITABLE:
            raise PermissionDenied("当前不能删除该佐证材料。")
        record_event(actor=actor, action="evidence_removed", object_type="ledger.task", object_id=report.task_id,
                     summary=f"删除佐证材料「{evidence.original_name}」", before={"sm3": evidence.digest},
                     after={"report": report.pk})
        evidence.delete()

        def drop_file_if_unused():
            # Content-addressed: another report may hold the same file.
            if not Evidence.objects.filter(digest=evidence.digest).exists():
                from rectify.evidence.store import EvidenceStore

                EvidenceStore().delete(evidence.digest, evidence.extension)

        transaction.on_commit(drop_file_if_unused)
