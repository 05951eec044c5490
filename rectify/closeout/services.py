"""Every way a close-out, an objection or a look-back changes (销号、异议、回头看).

Each function checks permission through ``closeout/scope.py`` and the tables of
``closeout/workflows.py``, validates, writes and records its event on the task's timeline in one
transaction; reminders go out after the commit.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import secrets
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.http import Http404
from django.utils import timezone

from rectify.closeout import hooks, scope
from rectify.closeout.models import (
    OPEN_STATUSES,
    AssessmentItem,
    CheckRecord,
    CheckResult,
    Closeout,
    CloseoutFile,
    CloseoutPolicy,
    CloseoutStatus,
    FileStage,
    LookBack,
    LookBackCheck,
    LookBackFile,
    Objection,
    ObjectionStatus,
    Pick,
    SelfAssessment,
    Standard,
    Verdict,
    Verifier,
)
from rectify.closeout.workflows import BULK_ACTIONS, CLOSEOUT_FLOW, LOOKBACK_CHECK_FLOW, OBJECTION_FLOW
from rectify.core.audit import record_event
from rectify.core.crypto import lookup_hash
from rectify.core.notify import notify
from rectify.core.numbers import allocate_number
from rectify.core.roles import OFFICE_ROLES, Role
from rectify.core.sm3 import sm3_hex
from rectify.core.workdays import add_workdays
from rectify.dispatch.models import ProgressReport, ReportStatus
from rectify.ledger.models import Campaign, CloseoutStage, DeadlineKind, Task, TaskStatus, UnitRole
from rectify.ledger.services import move_task
from rectify.orgs.models import Unit, User
from rectify.orgs.scope import unit_within
from rectify.supervision.services import refresh_task_status

C = CloseoutStatus
MAX_TEXT = 2000
MAX_OBJECTION = 2000


class StaleCloseoutError(Exception):
    def __init__(self, closeout: Closeout):
        self.closeout = closeout
        super().__init__(f"操作失败：该销号申请已被他人处理（当前状态：{closeout.get_status_display()}）。"
                         "请刷新页面查看最新情况后再操作。")


# --- policy -----------------------------------------------------------------------------------


def policy_for(campaign: Campaign) -> CloseoutPolicy:
    """The campaign's procedure; the defaults (5 work days, no on-site rule, the acceptance unit
    verifies) until the office saves its own. Reading writes nothing."""
    cached = getattr(campaign, "_closeout_policy", None)
    if cached is None:
        cached = CloseoutPolicy.objects.filter(campaign=campaign).first() or CloseoutPolicy(campaign=campaign)
        campaign._closeout_policy = cached  # type: ignore[attr-defined]
    return cached


def set_policy(*, actor: User, campaign: Campaign, notice_workdays: int, onsite_required: bool,
               verifier: str) -> CloseoutPolicy:
    """整改办 sets how a campaign closes its tasks (公示期、是否现场核查、核查单位)."""
    if not Campaign.objects.actionable_by(actor, "add_task").filter(pk=campaign.pk).exists():
        raise PermissionDenied("只有整改办可以设置销号程序。")
    errors = {}
    if not 1 <= int(notice_workdays) <= 30:
        errors["notice_workdays"] = ["公示期应为 1–30 个工作日。"]
    if verifier not in Verifier.values:
        errors["verifier"] = ["未知的核查单位。"]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        policy, _ = CloseoutPolicy.objects.select_for_update().get_or_create(campaign=campaign)
        before = {"notice_workdays": policy.notice_workdays, "onsite_required": policy.onsite_required,
                  "verifier": policy.verifier}
        policy.notice_workdays, policy.onsite_required, policy.verifier = int(notice_workdays), onsite_required, verifier
        policy.save()
        after = {"notice_workdays": policy.notice_workdays, "onsite_required": policy.onsite_required,
                 "verifier": policy.verifier}
        record_event(actor=actor, action="closeout_policy_set", obj=campaign,
                     summary=f"设置「{campaign.name}」销号程序：公示 {policy.notice_workdays} 个工作日，"
                             f"{'须' if onsite_required else '不强制'}现场核查，核查单位：{policy.get_verifier_display()}",
                     before=before, after=after)
    campaign._closeout_policy = policy  # type: ignore[attr-defined]
    return policy


# --- eligibility and 初审 ----------------------------------------------------------------------


def responsible_units(task: Task) -> list[Unit]:
    return [tu.unit for tu in task.task_units.all() if tu.role == UnitRole.RESPONSIBLE]


def eligibility(task: Task) -> list[str]:
    """Why this task cannot start a close-out now (empty when it can): every measure done and each
    responsible unit's latest report accepted (初审的前提)."""
    reasons = []
    if task.status != TaskStatus.ACTIVE:
        reasons.append(f"任务状态为「{task.get_status_display()}」，只有整改中的任务可以申请销号。")
    measures = list(task.measures.all())
    if not measures:
        reasons.append("任务没有整改措施。")
    undone = [m for m in measures if not m.done]
    if undone:
        reasons.append(f"尚有 {len(undone)} 项整改措施未完成（第 {'、'.join(str(m.ordinal) for m in undone[:5])} 项）。")
    reported = (ProgressReport.objects.filter(task=task).exclude(status=ReportStatus.PENDING)
                .order_by("unit_id", "-round__period", "-id").values("unit_id", "unit__name", "status"))
    latest: dict[int, dict] = {}
    for row in reported:
        latest.setdefault(row["unit_id"], row)
    for unit in responsible_units(task):
        last = latest.get(unit.pk)
        if last is None:
            reasons.append(f"{unit.name}尚无进展报送。")
        elif last["status"] != ReportStatus.ACCEPTED:
            reasons.append(f"{unit.name}最近一次进展报送尚未被采纳。")
    return reasons


def _lock_task(task: Task) -> Task:
    return (Task.objects.select_for_update().select_related("campaign").prefetch_related("task_units__unit", "measures")
            .get(pk=task.pk))


def assessing_units(actor: User, task: Task) -> list[Unit]:
    """The task's responsible units this reviewer speaks for."""
    return [u for u in responsible_units(task) if unit_within(u, actor.unit)]


def submit_self_assessment(*, actor: User, task: Task, items: dict[str, tuple[str, str]],
                           completion_summary: str = "") -> SelfAssessment:
    """初审自评: a responsible unit's reviewer assesses the task against the three standards
    (达到 / 不适用, with a statement each). The first assessment starts the close-out."""
    task = Task.objects.visible_to(actor).filter(pk=task.pk).first() or _not_found()
    errors: dict[str, list[str]] = {}
    for standard in Standard.values:
        verdict, statement = items.get(standard, ("", ""))
        if verdict not in Verdict.values:
            errors[standard] = [f"请选择「{str(Standard(standard).label)}」的自评结论（达到或不适用）。"]
        elif not (statement or "").strip():
            errors[standard] = [f"请填写「{str(Standard(standard).label)}」的说明。"]
        elif len(statement) > MAX_TEXT:
            errors[standard] = [f"「{str(Standard(standard).label)}」的说明不能超过 {MAX_TEXT} 字。"]
    if not errors and not any(items[s][0] == Verdict.MET for s in Standard.values):
        errors["__all__"] = ["三项销号标准不能都“不适用”。"]
    if len(completion_summary) > MAX_TEXT:
        errors["completion_summary"] = [f"整改完成情况不能超过 {MAX_TEXT} 字。"]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = _lock_task(task)
        closeout = Closeout.objects.select_for_update().filter(task=locked, status__in=OPEN_STATUSES).first()
        probe = closeout or Closeout(task=locked, status=C.SELF_ASSESSING)
        if not scope.assesses(actor, probe):
            raise PermissionDenied("只有该任务责任单位的审核员可以进行初审自评。")
        if closeout is None:
            reasons = eligibility(locked)
            if reasons:
                raise ValidationError(reasons)
            closeout = _start(actor=actor, task=locked)
        elif closeout.status != C.SELF_ASSESSING:
            raise ValidationError(f"销号申请已处于「{closeout.get_status_display()}」阶段，不能再修改自评。")
        units = assessing_units(actor, locked)
        unit = next((u for u in units if u.pk == actor.unit_id), units[0])
        assessment, created = SelfAssessment.objects.update_or_create(
            closeout=closeout, unit=unit, defaults={"assessor": actor, "assessed_at": timezone.now(),
                                                    "completion_summary": completion_summary.strip()})
        assessment.items.all().delete()
        AssessmentItem.objects.bulk_create(
            AssessmentItem(assessment=assessment, standard=s, verdict=items[s][0], statement=items[s][1].strip())
            for s in Standard.values)
        closeout.completion_summary = _combined_summary(closeout)
        closeout.version += 1
        closeout.save()
        record_event(actor=actor, action="closeout_self_assessed", object_type="ledger.task", object_id=locked.pk,
                     object_label=str(locked)[:300],
                     summary=f"{unit.name}完成销号初审自评：" + "，".join(
                         f"{str(Standard(s).label)}{str(Verdict(items[s][0]).label)}" for s in Standard.values),
                     after={"closeout": closeout.pk, "unit": unit.name,
                            "items": {s: {"verdict": items[s][0], "statement": items[s][1].strip()}
                                      for s in Standard.values}})
    return assessment


def _combined_summary(closeout: Closeout) -> str:
    """整改完成情况 of the attempt: each responsible unit's own words, named when there are several."""
    parts = [(a.unit.name, a.completion_summary) for a in closeout.assessments.select_related("unit")
             if a.completion_summary]
    if len(parts) == 1:
        return parts[0][1]
    return "\n".join(f"{name}：{text}" for name, text in parts)


def _start(*, actor: User, task: Task) -> Closeout:
    attempt = (Closeout.objects.filter(task=task).aggregate(n=Max("attempt"))["n"] or 0) + 1
    try:
        with transaction.atomic():
            policy = policy_for(task.campaign)
            closeout = Closeout.objects.create(
                task=task, attempt=attempt, started_by=actor, started_at=timezone.now(),
                notice_workdays=policy.notice_workdays, onsite_required=policy.onsite_required,
                verifier=policy.verifier)
    except IntegrityError as exc:  # a concurrent start won
        raise ValidationError("该任务已有进行中的销号申请，请刷新页面。") from exc
    move_task(task=task, action="start_closeout")
    task.closeout_stage = CloseoutStage.SELF_ASSESSING
    task.version += 1
    task.save(update_fields=["status", "closeout_stage", "version", "updated_at"])
    record_event(actor=actor, action="closeout_started", object_type="ledger.task", object_id=task.pk,
                 object_label=str(task)[:300], summary=f"发起销号（第 {attempt} 次），进入初审自评",
                 after={"closeout": closeout.pk, "attempt": attempt, "status": C.SELF_ASSESSING})
    return closeout


def _not_found():
    raise Http404("对象不存在或无权查看。")


def missing_assessments(closeout: Closeout) -> list[Unit]:
    done = set(closeout.assessments.values_list("unit_id", flat=True))
    return [u for u in responsible_units(closeout.task) if u.pk not in done]


# --- evidence files --------------------------------------------------------------------------------

MAX_FILES_BYTES = 200 * 1024 * 1024  # per close-out, all files together
MAX_FILES = 100  # per close-out: each of the standards, at both stages


def attach_closeout_file(*, actor: User, closeout: Closeout, stage: str, standard: str, name: str,
                         fileobj) -> CloseoutFile:
    """佐证材料 for one standard: the responsible unit's during 初审, the verifying unit's during 核查."""
    from django.db.models import Count, Sum

    from rectify.evidence.inspect import check_report_total, inspect_upload
    from rectify.evidence.store import EvidenceStore

    if stage not in FileStage.values or standard not in Standard.values:
        raise ValidationError("未知的环节或销号标准。")
    inspected = inspect_upload(name, fileobj)
    with transaction.atomic():
        locked = _locked_closeout(actor, closeout)
        unit = None
        if stage == FileStage.ASSESSMENT:
            if locked.status != C.SELF_ASSESSING or not scope.assesses(actor, locked):
                raise PermissionDenied("当前不能上传初审自评佐证材料。")
            units = assessing_units(actor, locked.task)
            unit = next((u for u in units if u.pk == actor.unit_id), units[0] if units else None)
        elif locked.status != C.ACCEPTED or not scope.verifies(actor, locked):
            raise PermissionDenied("当前不能上传核查佐证材料。")
        attached = locked.files.aggregate(total=Sum("size"), files=Count("pk"))
        check_report_total((attached["total"] or 0) + inspected.size, files=attached["files"] + 1,
                           max_bytes=MAX_FILES_BYTES, max_files=MAX_FILES)
        meta = inspected.exif
        record = CloseoutFile.objects.create(
            closeout=locked, stage=stage, standard=standard, unit=unit, digest=inspected.digest,
            extension=inspected.extension, size=inspected.size, mime=inspected.mime, kind=inspected.kind,
            original_name=inspected.original_name[:200], taken_at=getattr(meta, "taken_at", None),
            latitude=getattr(meta, "latitude", None), longitude=getattr(meta, "longitude", None), uploaded_by=actor)
        record_event(actor=actor, action="closeout_file_attached", object_type="ledger.task",
                     object_id=locked.task_id, object_label=str(locked.task)[:300],
                     summary=f"{FileStage(stage).label}（{Standard(standard).label}）：上传「{record.original_name}」",
                     after={"closeout": locked.pk, "file": record.pk, "sm3": inspected.digest, "size": inspected.size})
        EvidenceStore().save(inspected, fileobj)  # written last: a failure above leaves no file behind
    return record


def attach_lookback_file(*, actor: User, check: LookBackCheck, name: str, fileobj) -> LookBackFile:
    """佐证材料 of a look-back check, by whoever may record its result, before it is recorded."""
    from rectify.evidence.inspect import inspect_upload
    from rectify.evidence.store import EvidenceStore

    inspected = inspect_upload(name, fileobj)
    with transaction.atomic():
        locked = (LookBackCheck.objects.visible_to(actor).select_for_update().select_related("task", "lookback")
                  .filter(pk=check.pk).first())
        if locked is None:
            raise Http404("复查任务不存在或无权操作。")
        if locked.result != CheckResult.PENDING or not scope.rechecks(actor, locked):
            raise PermissionDenied("当前不能上传复查佐证材料。")
        if locked.files.count() >= 20:
            raise ValidationError("每项复查最多上传 20 个佐证材料。")
        meta = inspected.exif
        record = LookBackFile.objects.create(
            lookback_check=locked, digest=inspected.digest, extension=inspected.extension, size=inspected.size,
            mime=inspected.mime, kind=inspected.kind, original_name=inspected.original_name[:200],
            taken_at=getattr(meta, "taken_at", None), latitude=getattr(meta, "latitude", None),
            longitude=getattr(meta, "longitude", None), uploaded_by=actor)
        record_event(actor=actor, action="lookback_file_attached", object_type="ledger.task", object_id=locked.task_id,
                     object_label=str(locked.task)[:300],
                     summary=f"回头看「{locked.lookback.title}」：上传复查佐证「{record.original_name}」",
                     after={"check": locked.pk, "file": record.pk, "sm3": inspected.digest})
        EvidenceStore().save(inspected, fileobj)
    return record


def file_for_download(*, actor: User, stored) -> str:
    """Re-check a close-out or look-back file against its digest and record the download."""
    from rectify.evidence.store import EvidenceStore

    store = EvidenceStore()
    if not store.verify(stored.digest, stored.extension):
        raise Http404("文件缺失或已被改动，请联系管理员。")
    with transaction.atomic():
        record_event(actor=actor, action="evidence_downloaded", object_type=stored._meta.label_lower,
                     object_id=stored.pk, summary=f"下载佐证材料「{stored.original_name}」")
    return str(store.path(stored.digest, stored.extension))


# --- 核查 records -------------------------------------------------------------------------------


def record_check(*, actor: User, closeout: Closeout, standard: str, finding: str, onsite: bool,
                 checked_on: dt.date, checkers: str, passed: bool) -> CheckRecord:
    """核查记录 for one standard, by the verifying unit (kept until the verdict)."""
    errors = {}
    if standard not in Standard.values:
        errors["standard"] = ["未知的销号标准。"]
    if not finding.strip() or len(finding) > MAX_TEXT:
        errors["finding"] = [f"请填写核查情况（不超过 {MAX_TEXT} 字）。"]
    if not checkers.strip() or len(checkers) > 200:
        errors["checkers"] = ["请填写核查人员（不超过 200 字）。"]
    if checked_on > timezone.localdate():
        errors["checked_on"] = ["核查日期不能晚于今天。"]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = _locked_closeout(actor, closeout)
        if locked.status != C.ACCEPTED:
            raise ValidationError(f"销号申请处于「{locked.get_status_display()}」阶段，尚不能核查。")
        if not scope.verifies(actor, locked):
            if scope.took_part_in_initial_review(actor, locked):
                raise PermissionDenied("参与初审的人员不能核查同一销号申请（初审与核查须由不同人员负责）。")
            raise PermissionDenied("您不是该任务的核查单位。")
        if locked.accepted_at and checked_on < timezone.localtime(locked.accepted_at).date():
            raise ValidationError({"checked_on": [f"核查日期不能早于受理销号申请的日期（{timezone.localtime(locked.accepted_at):%Y-%m-%d}）。"]})
        record, _ = CheckRecord.objects.update_or_create(closeout=locked, standard=standard, defaults={
            "finding": finding.strip(), "onsite": onsite, "checked_on": checked_on, "checkers": checkers.strip(),
            "passed": passed, "recorded_by": actor, "recorded_at": timezone.now()})
        locked.version += 1
        locked.save(update_fields=["version"])
        record_event(actor=actor, action="closeout_check_recorded", object_type="ledger.task",
                     object_id=locked.task_id, object_label=str(locked.task)[:300],
                     summary=f"核查「{str(Standard(standard).label)}」：{'符合' if passed else '不符合'}销号标准"
                             f"（{'现场' if onsite else '非现场'}核查，{checked_on:%Y-%m-%d}，{checkers.strip()}）",
                     after={"closeout": locked.pk, "standard": standard, "passed": passed, "onsite": onsite,
                            "finding": finding.strip()})
    return record


# --- the one transition service -----------------------------------------------------------------


def _locked_closeout(actor: User, closeout: Closeout) -> Closeout:
    locked = (Closeout.objects.visible_to(actor).select_for_update()
              .select_related("task", "task__campaign").filter(pk=closeout.pk).first())
    if locked is None:
        raise Http404("销号申请不存在或无权操作。")  # missing and not allowed look the same
    return locked


def transition(*, actor: User | None, closeout: Closeout, action: str, expected_version: int | None = None,
               reason: str = "", opinion: str = "", today: dt.date | None = None) -> Closeout:
    """Move a close-out through :data:`CLOSEOUT_FLOW`: one locked row, the task's own step, one event.

    ``actor`` None is a step the software takes (an upheld objection, a look-back rebound); those
    rules are ``SYSTEM`` in the table and need the recorded act that caused them as ``reason``.
    """
    today = today or timezone.localdate()
    with transaction.atomic():
        if actor is None:
            locked = Closeout.objects.select_for_update().select_related("task", "task__campaign").get(pk=closeout.pk)
            rule = CLOSEOUT_FLOW.system_rule(locked, action)
        else:
            locked = _locked_closeout(actor, closeout)
            if expected_version is not None and locked.version != expected_version:
                raise StaleCloseoutError(locked)
            if action in {"verify_pass", "verify_fail"} and scope.took_part_in_initial_review(actor, locked):
                raise PermissionDenied("参与初审的人员不能核查同一销号申请（初审与核查须由不同人员负责）。")
            rule = CLOSEOUT_FLOW.authorise(actor, locked, action)
        task = _lock_task(locked.task)
        before = {"status": locked.status}
        now = timezone.now()
        extra = _apply_step(actor, locked, task, action, reason=reason.strip(), opinion=opinion.strip(), today=today,
                            now=now)
        if rule.target == C.RETURNED:
            locked.returned_by, locked.returned_at, locked.returned_from = actor, now, locked.status
            locked.return_reason = reason.strip()
            move_task(task=task, action="return_to_rectification")
            task.closeout_stage = ""
        elif rule.target == C.FILED:
            move_task(task=task, action="file_closeout")
            task.closeout_stage = CloseoutStage.FILED
        else:
            task.closeout_stage = rule.target
        locked.status = rule.target
        locked.version += 1
        locked.save()
        task.version += 1
        task.save(update_fields=["status", "closeout_stage", "version", "updated_at"])
        record_event(actor=actor, action=CLOSEOUT_FLOW.event_of(rule), object_type="ledger.task", object_id=task.pk,
                     object_label=str(task)[:300], actor_name="" if actor else "系统",
                     summary=f"{rule.label}" + (f"：{extra}" if extra else "")
                             + (f"，原因：{reason.strip()}" if rule.target == C.RETURNED else ""),
                     before=before, after={"closeout": locked.pk, "status": rule.target, "attempt": locked.attempt})
        if rule.target in (C.RETURNED, C.FILED):
            refresh_task_status(task=task, today=today)
        if action == "verify_fail":
            hooks.verification_failed(closeout=locked)
    transaction.on_commit(lambda: _notify_after(locked, rule.target))
    return locked


def _apply_step(actor, closeout: Closeout, task: Task, action: str, *, reason: str, opinion: str, today: dt.date,
                now: dt.datetime) -> str:
    """The step's own checks and effects; returns a phrase for the event's summary."""
    if action in {"withdraw", "return", "verify_fail"} and not reason:
        raise ValidationError({"reason": ["请填写退回原因。"]})
    if len(reason) > MAX_TEXT or len(opinion) > MAX_TEXT:
        raise ValidationError(f"原因和意见不能超过 {MAX_TEXT} 字。")
    if action == "apply":
        missing = missing_assessments(closeout)
        if missing:
            raise ValidationError(f"尚待{'、'.join(u.name for u in missing)}完成初审自评，方可申请销号。")
        closeout.applied_by, closeout.applied_at = actor, now
        return "各责任单位初审自评已完成"
    if action == "publish_notice":
        days = closeout.notice_workdays or policy_for(task.campaign).notice_workdays
        closeout.notice_workdays, closeout.notice_start = days, today
        closeout.notice_end = add_workdays(today, days)
        closeout.published_by = actor
        closeout.notice_number = _number("closeout_notice", closeout, actor, today)
        return f"{closeout.notice_number}，公示期 {days} 个工作日，至 {closeout.notice_end:%Y年%m月%d日}"
    if action == "accept_application":
        if closeout.notice_end and today <= closeout.notice_end:
            raise ValidationError(f"公示期至 {closeout.notice_end:%Y年%m月%d日} 截止，期满后方可受理销号申请。")
        unanswered = closeout.objections.filter(status=ObjectionStatus.OPEN).count()
        if unanswered:
            raise ValidationError(f"尚有 {unanswered} 条异议未答复，答复后方可受理销号申请。")
        closeout.accepted_by, closeout.accepted_at = actor, now
        return ""
    if action == "verify_pass":
        checks = {c.standard: c for c in closeout.checks.all()}
        unchecked = [str(Standard(s).label) for s in Standard.values if s not in checks]
        if unchecked:
            raise ValidationError(f"尚未填写「{'、'.join(unchecked)}」的核查记录。")
        failed = [str(Standard(s).label) for s, c in checks.items() if not c.passed]
        if failed:
            raise ValidationError(f"「{'、'.join(failed)}」核查不符合销号标准，不能核查通过。")
        if closeout.onsite_required:
            offsite = [str(Standard(s).label) for s, c in checks.items() if not c.onsite]
            if offsite:
                raise ValidationError(f"本批次要求现场核查：「{'、'.join(offsite)}」尚无现场核查记录。")
        if not opinion:
            raise ValidationError({"opinion": ["请填写核查意见。"]})
        closeout.verified_by, closeout.verified_at, closeout.verification_opinion = actor, now, opinion
        return ""
    if action == "verify_fail":
        closeout.verified_by, closeout.verified_at = actor, now
        closeout.verification_opinion = opinion or reason
        return ""
    if action == "file":
        closeout.filed_by, closeout.filed_at = actor, now
        closeout.filing_number = _number("closeout_filing", closeout, actor, today)
        return f"备案编号 {closeout.filing_number}"
    return ""


def _number(kind: str, closeout: Closeout, actor, today: dt.date) -> str:
    """公示文号 / 备案编号 from the one document-number register (core/numbers.py)."""
    return allocate_number(kind=kind, year=today.year, object_type="closeout.closeout", object_id=closeout.pk,
                           actor=actor, actor_name="" if actor else "系统")


def _notify_after(closeout: Closeout, status: str) -> None:
    task = closeout.task
    url = f"/closeout/{closeout.pk}/"
    units = responsible_units(task)
    if status == C.RETURNED:
        users = User.objects.filter(role__in=[Role.REPORTER, Role.REVIEWER], unit__in=units, is_active=True)
        notify(users=users, kind="closeout_returned", title=f"销号申请被退回整改：{task.code}",
               body=closeout.return_reason, url=url, key=f"closeout_returned:{closeout.pk}")
    elif status == C.FILED:
        users = User.objects.filter(role__in=[Role.REPORTER, Role.REVIEWER], unit__in=units, is_active=True)
        notify(users=users, kind="closeout_filed", title=f"已备案销号：{task.code}（{closeout.filing_number}）",
               url=url, key=f"closeout_filed:{closeout.pk}")
    elif status == C.APPLIED:
        notify(users=_office_users(task), kind="closeout_applied", title=f"销号申请待公示：{task.code}", url=url,
               key=f"closeout_applied:{closeout.pk}:{closeout.version}")
    elif status == C.ACCEPTED:
        verifiers = User.objects.filter(role=Role.SUPERVISOR, unit__in=scope.verifying_units(closeout), is_active=True)
        notify(users=verifiers, kind="closeout_to_verify", title=f"销号申请待核查：{task.code}", url=url,
               key=f"closeout_to_verify:{closeout.pk}")
    elif status == C.VERIFIED:
        notify(users=_office_users(task), kind="closeout_to_file", title=f"核查通过，待备案：{task.code}", url=url,
               key=f"closeout_to_file:{closeout.pk}")


def _office_users(task: Task):
    office = task.campaign.office
    return User.objects.filter(role__in=list(OFFICE_ROLES), is_active=True,
                               unit__in=Unit.objects.filter(pk__in=[int(p) for p in office.path.split(".") if p]))


# --- bulk ----------------------------------------------------------------------------------------


@dataclass
class BulkOutcome:
    closeout_id: int
    task_code: str
    ok: bool
    message: str


def bulk_transition(*, actor: User, closeout_ids: list[int], action: str) -> list[BulkOutcome]:
    """The office moves a selection through 申请 or 备案 together; each task is still checked and
    recorded on its own (one transaction each), and the result says which ones did not move and why."""
    if action not in BULK_ACTIONS:
        raise ValidationError(f"不支持批量执行该操作：{action}")
    if len(closeout_ids) > 1000:
        raise ValidationError("一次最多批量处理 1000 项。")
    outcomes = []
    visible = {c.pk: c for c in Closeout.objects.visible_to(actor).filter(pk__in=closeout_ids).select_related("task")}
    for pk in closeout_ids:
        closeout = visible.get(pk)
        if closeout is None:
            outcomes.append(BulkOutcome(pk, "", False, "不存在或无权操作"))
            continue
        try:
            done = transition(actor=actor, closeout=closeout, action=action)
        except (ValidationError, PermissionDenied, StaleCloseoutError) as exc:
            outcomes.append(BulkOutcome(pk, closeout.task.code, False, "；".join(getattr(exc, "messages", [str(exc)]))))
        else:
            outcomes.append(BulkOutcome(pk, closeout.task.code, True, done.get_status_display()))
    return outcomes


# --- objections (异议) ----------------------------------------------------------------------------


def _receipt() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out over the phone
    return "YY" + timezone.localdate().strftime("%y%m") + "".join(secrets.choice(alphabet) for _ in range(8))


def objection_open(closeout: Closeout, today: dt.date | None = None) -> bool:
    today = today or timezone.localdate()
    return (closeout.status == C.IN_NOTICE and closeout.notice_start is not None and closeout.notice_end is not None
            and closeout.notice_start <= today <= closeout.notice_end)


def file_objection(*, closeout: Closeout, content: str, name: str = "", phone: str = "", channel: str = "portal",
                   today: dt.date | None = None) -> Objection:
    """A member of the public objects to a close-out notice (异议). Anonymous; contact optional and
    encrypted; the event records neither name nor phone. Rate limits are the caller's (per address)."""
    content, name, phone = content.strip(), name.strip(), phone.strip()
    errors = {}
    if len(content) < 5:
        errors["content"] = ["请写明异议内容（至少 5 个字）。"]
    elif len(content) > MAX_OBJECTION:
        errors["content"] = [f"异议内容不能超过 {MAX_OBJECTION} 字。"]
    if len(name) > 50:
        errors["name"] = ["姓名不能超过 50 字。"]
    if phone and not (6 <= len(phone) <= 20 and all(c.isdigit() or c in "-+ ()" for c in phone)):
        errors["phone"] = ["联系电话格式不正确。"]
    if "\x00" in content + name + phone:
        errors["content"] = ["内容含有不可见的非法字符。"]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = Closeout.objects.select_for_update().select_related("task").filter(pk=closeout.pk).first()
        if locked is None or not objection_open(locked, today):
            raise ValidationError("该销号公示不在公示期内，不能提出异议。")
        for _ in range(5):
            receipt = _receipt()
            if not Objection.objects.filter(receipt=receipt).exists():
                break
        else:  # 32^8 receipts: five collisions in a row mean something else is wrong
            raise ValidationError("暂时无法生成回执编号，请稍后重试。")
        objection = Objection.objects.create(
            closeout=locked, receipt=receipt, content=content, contact_name=name, contact_phone=phone,
            phone_hash=lookup_hash(phone, context="objection.phone"), channel=channel[:20],
            submitted_at=timezone.now())
        record_event(action="objection_filed", actor_name="公众", object_type="ledger.task", object_id=locked.task_id,
                     object_label=str(locked.task)[:300],
                     summary=f"销号公示期间收到异议（回执 {receipt}）",
                     after={"closeout": locked.pk, "objection": objection.pk, "receipt": receipt,
                            "content_sm3": sm3_hex(content.encode()), "with_contact": bool(name or phone)})
    transaction.on_commit(lambda: notify(users=_office_users(locked.task), kind="objection_filed",
                                         title=f"销号公示收到异议：{locked.task.code}", url=f"/closeout/{locked.pk}/",
                                         key=f"objection:{objection.pk}"))
    return objection


def answer_objection(*, actor: User, objection: Objection, action: str, answer: str) -> Objection:
    """整改办 answers an objection: 成立 sends the task back to rectification, 不成立 with the reason."""
    answer = answer.strip()
    with transaction.atomic():
        locked = (Objection.objects.visible_to(actor).select_for_update().select_related("closeout", "closeout__task")
                  .filter(pk=objection.pk).first())
        if locked is None:
            raise Http404("异议不存在或无权操作。")
        rule = OBJECTION_FLOW.authorise(actor, locked, action)
        if not answer or len(answer) > MAX_TEXT:
            raise ValidationError({"answer": [f"请填写答复（不超过 {MAX_TEXT} 字）。"]})
        locked.status, locked.answer, locked.answered_by, locked.answered_at = rule.target, answer, actor, timezone.now()
        locked.save()
        record_event(actor=actor, action=OBJECTION_FLOW.event_of(rule), object_type="ledger.task",
                     object_id=locked.closeout.task_id, object_label=str(locked.closeout.task)[:300],
                     summary=f"答复异议（回执 {locked.receipt}）：{rule.label}。{answer}",
                     after={"closeout": locked.closeout_id, "objection": locked.pk, "status": rule.target})
        if action == "uphold" and locked.closeout.status == C.IN_NOTICE:
            transition(actor=None, closeout=locked.closeout, action="objection_upheld", reason=f"异议成立：{answer}")
    return locked


def objection_by_receipt(receipt: str) -> Objection | None:
    """What a submitter may see with their receipt number: status and answer (no one else's data)."""
    receipt = (receipt or "").strip().upper()
    if not receipt or len(receipt) > 20:
        return None
    return Objection.objects.select_related("closeout__task").filter(receipt=receipt).first()


# --- look-back (回头看) -----------------------------------------------------------------------------


@dataclass
class Draw:
    pool: list[int]
    random: list[int]
    rule: list[int]
    manual: list[int]


def draw_sample(pool: list[int], *, share_percent: int, seed: str) -> list[int]:
    """The random part of a look-back: reproducible from the pool (sorted task ids) and the seed."""
    pool = sorted(pool)
    k = math.ceil(len(pool) * share_percent / 100)
    return sorted(random.Random(f"rectify-lookback:{seed}").sample(pool, k)) if k else []


def pool_digest(pool: list[int]) -> str:
    return sm3_hex(",".join(str(i) for i in sorted(pool)).encode())


def start_lookback(*, actor: User, campaign: Campaign, title: str, share_percent: int, due_date: dt.date,
                   seed: str = "", categories: list[str] | None = None, closed_from: dt.date | None = None,
                   closed_to: dt.date | None = None, manual_task_ids: list[int] | None = None,
                   assigned_unit: Unit | None = None) -> LookBack:
    """Start a 回头看 over a campaign's closed tasks: a random share (seed recorded, so the draw can be
    reproduced and shown to an inspector), plus tasks picked by rule and by hand."""
    if not scope.starts_lookbacks(actor, campaign):
        raise PermissionDenied("只有整改办可以组织回头看。")
    errors = {}
    if not title.strip() or len(title) > 100:
        errors["title"] = ["请填写名称（不超过 100 字）。"]
    if not 0 <= int(share_percent) <= 100:
        errors["share_percent"] = ["随机抽取比例应为 0–100。"]
    if due_date < timezone.localdate():
        errors["due_date"] = ["完成时限不能早于今天。"]
    if seed and (len(seed) > 64 or not seed.isprintable()):
        errors["seed"] = ["随机种子不超过 64 个可见字符。"]
    if errors:
        raise ValidationError(errors)
    seed = seed.strip() or secrets.token_hex(8)
    closed = Task.objects.filter(campaign=campaign, status=TaskStatus.CLOSED)
    pool = sorted(closed.values_list("pk", flat=True))
    picked = {pk: Pick.RANDOM for pk in draw_sample(pool, share_percent=int(share_percent), seed=seed)}
    rule_qs = closed.none()
    if categories or closed_from or closed_to:
        rule_qs = closed
        if categories:
            rule_qs = rule_qs.filter(category__in=categories)
        filings = Closeout.objects.filter(status=C.FILED)
        if closed_from:
            filings = filings.filter(filed_at__date__gte=closed_from)
        if closed_to:
            filings = filings.filter(filed_at__date__lte=closed_to)
        if closed_from or closed_to:
            rule_qs = rule_qs.filter(pk__in=filings.values("task_id"))
    for pk in rule_qs.values_list("pk", flat=True):
        picked.setdefault(pk, Pick.RULE)
    manual = set(manual_task_ids or [])
    outside = manual - set(pool)
    if outside:
        raise ValidationError({"manual": [f"人工指定的任务须为本批次已销号任务（{len(outside)} 项不是）。"]})
    for pk in sorted(manual):
        picked.setdefault(pk, Pick.MANUAL)
    if not picked:
        raise ValidationError("没有选中任何已销号任务：请调整抽取比例、规则或人工指定。")
    tasks = {t.pk: t for t in Task.objects.filter(pk__in=picked).prefetch_related("task_units__unit")}
    with transaction.atomic():
        lookback = LookBack.objects.create(
            campaign=campaign, title=title.strip(), share_percent=int(share_percent), seed=seed, pool_size=len(pool),
            pool_digest=pool_digest(pool), due_date=due_date, created_by=actor, created_at=timezone.now(),
            rule={"categories": categories or [], "closed_from": closed_from and closed_from.isoformat(),
                  "closed_to": closed_to and closed_to.isoformat(), "manual": sorted(manual)})
        checks = [LookBackCheck(lookback=lookback, task_id=pk, picked_by=how, due_date=due_date,
                                assigned_unit=assigned_unit or _default_checker(tasks[pk], campaign))
                  for pk, how in sorted(picked.items())]
        LookBackCheck.objects.bulk_create(checks, batch_size=1000)
        counts = {p: sum(1 for how in picked.values() if how == p) for p in Pick.values}
        record_event(actor=actor, action="lookback_started", obj=lookback, unit=campaign.office,
                     summary=f"组织回头看「{lookback.title}」：已销号 {len(pool)} 项中随机抽取 {counts['random']} 项"
                             f"（比例 {share_percent}%，种子 {seed}），按规则 {counts['rule']} 项，人工指定 {counts['manual']} 项",
                     after={"seed": seed, "share_percent": int(share_percent), "pool_size": len(pool),
                            "pool_sm3": lookback.pool_digest, "picked": {str(k): v for k, v in sorted(picked.items())},
                            "due_date": due_date})
    transaction.on_commit(lambda: _notify_checkers(lookback))
    return lookback


def _default_checker(task: Task, campaign: Campaign) -> Unit:
    links = list(task.task_units.all())
    for role in (UnitRole.LEAD_SUPERVISOR, UnitRole.ACCEPTANCE):
        for tu in links:
            if tu.role == role:
                return tu.unit
    return campaign.office


def _notify_checkers(lookback: LookBack) -> None:
    units = lookback.checks.values("assigned_unit_id")
    users = User.objects.filter(role=Role.SUPERVISOR, unit__in=units, is_active=True)
    notify(users=users, kind="lookback_assigned", title=f"回头看复查任务：{lookback.title}",
           url=f"/closeout/lookbacks/{lookback.pk}/", key=f"lookback:{lookback.pk}")


def record_lookback_result(*, actor: User, check: LookBackCheck, action: str, statement: str,
                           new_deadline: dt.date | None = None) -> LookBackCheck:
    """复查结论: 巩固 (holding), or 反弹 (rebound) — which reopens the task with a new deadline, puts it
    back into dispatch, tells its units, and proposes an accountability case."""
    statement = statement.strip()
    with transaction.atomic():
        locked = (LookBackCheck.objects.visible_to(actor).select_for_update()
                  .select_related("lookback", "lookback__campaign", "task").filter(pk=check.pk).first())
        if locked is None:
            raise Http404("复查任务不存在或无权操作。")
        rule = LOOKBACK_CHECK_FLOW.authorise(actor, locked, action)
        if not statement or len(statement) > MAX_TEXT:
            raise ValidationError({"statement": [f"请填写复查情况（不超过 {MAX_TEXT} 字）。"]})
        if action == "rebound" and (new_deadline is None or new_deadline <= timezone.localdate()):
            raise ValidationError({"new_deadline": ["反弹的任务须设定晚于今天的重新整改时限。"]})
        locked.result, locked.statement = rule.target, statement
        locked.checked_by, locked.checked_at = actor, timezone.now()
        summary = f"回头看「{locked.lookback.title}」复查：{rule.label}。{statement}"
        if action == "rebound":
            assert new_deadline is not None  # validated above
            locked.new_deadline = new_deadline
            locked.reopened, note = _reopen(actor, locked, new_deadline)
            summary += note
            locked.accountability_proposed = True
        locked.save()
        record_event(actor=actor, action=LOOKBACK_CHECK_FLOW.event_of(rule), object_type="ledger.task",
                     object_id=locked.task_id, object_label=str(locked.task)[:300], summary=summary,
                     after={"lookback": locked.lookback_id, "check": locked.pk, "result": rule.target,
                            "new_deadline": new_deadline, "reopened": locked.reopened})
        if action == "rebound":
            proposals = [p for p in hooks.rebound_found(check=locked) if p]
            record_event(actor=actor, action="accountability_proposed", object_type="ledger.task",
                         object_id=locked.task_id, object_label=str(locked.task)[:300],
                         summary="回头看发现问题反弹，提出追责问责建议" + ("（已转追责问责）" if proposals else "（待追责问责受理）"),
                         after={"check": locked.pk, "reason": "lookback_rebound"})
    if action == "rebound":
        transaction.on_commit(lambda: _notify_rebound(locked))
    return locked


def _reopen(actor: User, check: LookBackCheck, new_deadline: dt.date) -> tuple[bool, str]:
    """Reopen the task (已销号 → 整改中); a close-out under way on it is returned first."""
    task = _lock_task(check.task)
    note = ""
    if task.status == TaskStatus.CLOSING:
        current = Closeout.objects.filter(task=task, status__in=OPEN_STATUSES).first()
        if current is not None:
            transition(actor=None, closeout=current, action="rebound", reason="回头看发现反弹")
            task.refresh_from_db()
            note = "；进行中的销号申请已退回"
    reopened = task.status == TaskStatus.CLOSED
    if reopened:
        move_task(task=task, action="reopen")
        note += f"；任务重新整改，时限 {new_deadline:%Y年%m月%d日}"
    elif task.status == TaskStatus.ACTIVE:
        note += f"；任务已在整改中，时限调整为 {new_deadline:%Y年%m月%d日}"
    before = {"status": check.task.status, "deadline": task.deadline}
    task.deadline = new_deadline
    if task.deadline_kind != DeadlineKind.LONG_TERM:
        task.deadline_kind = DeadlineKind.BY_DATE
    task.closeout_stage = ""
    task.version = F("version") + 1
    task.save(update_fields=["status", "deadline", "deadline_kind", "closeout_stage", "version", "updated_at"])
    task.refresh_from_db()
    record_event(actor=actor, action="task_reopened" if reopened else "task_deadline_reset", obj=task,
                 summary=("回头看发现反弹，任务重新打开整改" if reopened else "回头看发现反弹，调整整改时限")
                         + f"，新时限 {new_deadline:%Y年%m月%d日}",
                 before=before, after={"status": task.status, "deadline": new_deadline, "check": check.pk})
    refresh_task_status(task=task)
    return reopened, note


def _notify_rebound(check: LookBackCheck) -> None:
    units = responsible_units(check.task)
    users = User.objects.filter(role__in=[Role.REPORTER, Role.REVIEWER], unit__in=units, is_active=True)
    notify(users=users, kind="task_reopened", title=f"回头看发现反弹，任务重新整改：{check.task.code}",
           body=check.statement, url=f"/ledger/tasks/{check.task_id}/", key=f"rebound:{check.pk}")


# --- tick --------------------------------------------------------------------------------------------


def remind_due(today: dt.date) -> int:
    """Notices whose period has ended (the office may accept), look-back checks due within 3 work days."""
    sent = 0
    for closeout in (Closeout.objects.filter(status=C.IN_NOTICE, notice_end__lt=today)
                     .select_related("task", "task__campaign__office")):
        sent += notify(users=_office_users(closeout.task), kind="notice_ended",
                       title=f"公示期满，可受理销号申请：{closeout.task.code}", url=f"/closeout/{closeout.pk}/",
                       key=f"notice_ended:{closeout.pk}")
    soon = add_workdays(today, 3)
    for check in (LookBackCheck.objects.filter(result=CheckResult.PENDING, due_date__lte=soon)
                  .select_related("task", "lookback")):
        users = User.objects.filter(role=Role.SUPERVISOR, unit=check.assigned_unit_id, is_active=True)
        sent += notify(users=users, kind="lookback_due", title=f"回头看复查将于 {check.due_date:%m月%d日} 到期："
                       f"{check.task.code}", url=f"/closeout/lookbacks/{check.lookback_id}/",
                       key=f"lookback_due:{check.pk}")
    return sent
