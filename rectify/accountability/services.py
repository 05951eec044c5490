"""Every way an accountability case changes (追责问责): designation of case handlers, opening and
proposing cases, the investigation (persons, notes, evidence, findings), the one transition service
over ``CASE_FLOW``, and the handlers of the lower apps' hooks that propose cases automatically.

Nothing here writes a task, a report, an escalation or a close-out: a case never closes, pauses or
replaces the task's rectification (避免以问责代替整改). Events are recorded on the case itself, never on
a task's timeline, and carry no person's name (the record keeps a keyed hash instead).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from rectify.accountability import scope
from rectify.accountability.models import (
    EDITABLE_STATES,
    FINISHED_STATES,
    AccountabilityCase,
    CaseFile,
    CaseHandler,
    CaseKind,
    CaseLead,
    CaseNote,
    CaseSource,
    CaseStatus,
    CaseTask,
    CaseUnit,
    FileKind,
    NoteKind,
    Outcome,
    PersonConcerned,
)
from rectify.accountability.workflows import CASE_FLOW, NEEDS_REASON
from rectify.core.audit import lock_chain, record_event
from rectify.core.crypto import lookup_hash
from rectify.core.notify import notify
from rectify.core.numbers import allocate_number
from rectify.core.roles import Role, is_office
from rectify.core.sm3 import sm3_hex
from rectify.ledger.models import Task, UnitRole
from rectify.orgs.models import Unit, UnitKind, User
from rectify.orgs.scope import unit_within

S = CaseStatus
MAX_TEXT = 4000
MAX_TITLE = 200
MAX_TASKS = 50
MAX_PERSONS = 50
MAX_NOTES = 500
MAX_FILES = 50
MAX_FILES_BYTES = 200 * 1024 * 1024
CONCERNABLE = (UnitKind.COUNTY, UnitKind.DEPARTMENT)
REFERRAL_KIND = "referral"  # 问题线索移交函, registered with core.numbers in apps.py


class StaleCaseError(Exception):
    def __init__(self, case: AccountabilityCase):
        self.case = case
        super().__init__(f"操作失败：该案件已被他人处理（当前状态：{case.get_status_display()}）。请刷新页面后再操作。")


def _text(value: str, field: str, label: str, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: [f"请填写{label}。"]})
    if len(value) > limit:
        raise ValidationError({field: [f"{label}不能超过 {limit} 字。"]})
    if "\x00" in value:
        raise ValidationError({field: [f"{label}含有不可见的非法字符。"]})
    return value


# --- case handlers (案件承办人) ----------------------------------------------------------------


def grant_case_handler(*, actor: User, user: User) -> CaseHandler:
    """An office administrator designates an office user of its tree as a case handler."""
    if not scope.manages_handlers(actor):
        raise PermissionDenied("只有整改办管理员可以指定案件承办人。")
    if user.pk == actor.pk:
        raise PermissionDenied("不能为自己指定案件承办权限，请由另一位管理员办理。")
    if not is_office(user) or not user.is_active or not unit_within(user.unit, actor.unit):
        raise ValidationError("案件承办人须为本整改办（或下级整改办）在用的工作人员账户。")
    with transaction.atomic():
        handler, created = CaseHandler.objects.get_or_create(user=user, defaults={
            "granted_by": actor, "granted_at": timezone.now()})
        if created:
            record_event(actor=actor, action="case_handler_granted", obj=user,
                         summary=f"指定 {user.username} 为追责问责案件承办人", after={"user": user.username})
    return handler


def revoke_case_handler(*, actor: User, user: User) -> None:
    if not scope.manages_handlers(actor):
        raise PermissionDenied("只有整改办管理员可以取消案件承办人。")
    if not unit_within(user.unit, actor.unit):
        raise Http404("用户不存在或无权操作。")
    with transaction.atomic():
        deleted, _ = CaseHandler.objects.filter(user=user).delete()
        if deleted:
            record_event(actor=actor, action="case_handler_revoked", obj=user,
                         summary=f"取消 {user.username} 的追责问责案件承办人资格", before={"user": user.username})


def handler_users(office: Unit):
    """Case handlers whose office is ``office`` or above it (who is told about a case)."""
    ids = [int(p) for p in office.path.split(".") if p]
    return User.objects.filter(is_active=True, case_handler__isnull=False, unit__in=ids)


def _unit_users(unit: Unit | None, roles: Sequence[str]):
    if unit is None:
        return User.objects.none()
    return User.objects.filter(is_active=True, role__in=roles, unit=unit)


# --- numbers ---------------------------------------------------------------------------------


def _case_number() -> str:
    """案件编号 ZZ-2026-001 (an internal file number, not a 发文字号), counted per year under the chain
    lock (serialises concurrent openings)."""
    lock_chain()
    year = timezone.localdate().year
    taken = AccountabilityCase.objects.filter(number__startswith=f"ZZ-{year}-").count()
    return f"ZZ-{year}-{taken + 1:03d}"


def _referral_number(case: AccountabilityCase, actor: User) -> str:
    """移交编号 整改办移〔2026〕N号 from the one document-number register (core.numbers): one per case,
    kept if the commission returns the referral and the office refers it again."""
    return allocate_number(kind=REFERRAL_KIND, year=timezone.localdate().year, object_type=case._meta.label_lower,
                           object_id=case.pk, actor=actor)


# --- opening ---------------------------------------------------------------------------------


def _responsible_units(tasks: list[Task]) -> list[Unit]:
    seen: dict[int, Unit] = {}
    for task in tasks:
        for tu in task.task_units.all():
            if tu.role == UnitRole.RESPONSIBLE:
                seen.setdefault(tu.unit_id, tu.unit)
    return list(seen.values())


def _lead_of(task: Task) -> Unit | None:
    return next((tu.unit for tu in task.task_units.all() if tu.role == UnitRole.LEAD_SUPERVISOR), None)


def _check_units(units: list[Unit], lead_unit: Unit | None) -> None:
    wrong = [u.name for u in units if u.kind not in CONCERNABLE]
    if wrong:
        raise ValidationError({"units": [f"涉及单位须为县市区或市直部门（{'、'.join(wrong)}不是）。"]})
    if lead_unit is not None:
        if lead_unit.kind in (UnitKind.OFFICE, UnitKind.DISCIPLINE):
            raise ValidationError({"lead_unit": ["牵头调查单位须为牵头督导单位（市直部门或县市区）。"]})
        clash = [u.name for u in units if unit_within(lead_unit, u) or unit_within(u, lead_unit)]
        if clash:
            raise ValidationError({"lead_unit": [f"牵头调查单位不能是被调查的单位（{'、'.join(clash)}），请另行指定。"]})


def _visible_tasks(actor: User, task_ids: list[int]) -> list[Task]:
    if not task_ids:
        raise ValidationError({"tasks": ["请至少关联一项整改任务。"]})
    if len(set(task_ids)) > MAX_TASKS:
        raise ValidationError({"tasks": [f"一个案件最多关联 {MAX_TASKS} 项任务。"]})
    tasks = list(Task.objects.visible_to(actor).filter(pk__in=set(task_ids))
                 .select_related("campaign", "campaign__office").prefetch_related("task_units__unit"))
    if len(tasks) != len(set(task_ids)):
        raise ValidationError({"tasks": ["有关联任务不存在或不在您的范围内。"]})
    offices = {t.campaign.office_id for t in tasks}
    if len(offices) > 1:
        raise ValidationError({"tasks": ["关联任务须属于同一整改办的整改批次。"]})
    return sorted(tasks, key=lambda t: (t.campaign_id, t.code))


def open_case(*, actor: User, task_ids: list[int], kind: str, title: str, facts: str,
              lead_unit: Unit | None = None, investigation_due: dt.date | None = None,
              unit_ids: list[int] | None = None) -> AccountabilityCase:
    """立案: a case handler opens a case on tasks of its office and names the lead unit that
    investigates; a lead supervising unit opens one on tasks it leads and investigates it itself."""
    tasks = _visible_tasks(actor, task_ids)
    if not all(scope.may_open_on(actor, t) for t in tasks):
        raise PermissionDenied("只有案件承办人或该任务的牵头督导单位可以对其立案追责。")
    by_handler = scope.is_case_handler(actor)
    if kind not in CaseKind.values:
        raise ValidationError({"kind": ["请选择问题类型。"]})
    title = _text(title, "title", "案由", limit=MAX_TITLE)
    facts = _text(facts, "facts", "问题线索")
    if not by_handler:
        lead_unit = actor.unit
    if lead_unit is None:
        raise ValidationError({"lead_unit": ["请指定牵头调查单位。"]})
    if investigation_due is None or investigation_due < timezone.localdate():
        raise ValidationError({"investigation_due": ["请填写不早于今天的调查时限。"]})
    units = (list(Unit.objects.filter(pk__in=unit_ids)) if unit_ids else _responsible_units(tasks))
    if unit_ids and len(units) != len(set(unit_ids)):
        raise ValidationError({"units": ["有涉及单位不存在。"]})
    _check_units(units, lead_unit)
    office = tasks[0].campaign.office
    source = CaseSource.OFFICE if by_handler else CaseSource.LEAD_UNIT
    with transaction.atomic():
        now = timezone.now()
        case = AccountabilityCase.objects.create(
            number=_case_number(), office=office, kind=kind, source=source, title=title, facts=facts,
            status=S.OPENED, lead_unit=lead_unit, investigation_due=investigation_due, created_by=actor,
            created_at=now, opened_at=now)
        CaseTask.objects.bulk_create(CaseTask(case=case, task=t) for t in tasks)
        CaseUnit.objects.bulk_create(CaseUnit(case=case, unit=u) for u in units)
        CaseLead.objects.create(case=case, source=source, task=tasks[0], summary=facts, created_at=now)
        record_event(actor=actor, action="case_opened", obj=case, unit=actor.unit,
                     summary=f"立案（{CaseKind(kind).label}，{CaseSource(source).label}）：关联任务 {len(tasks)} 项，"
                             f"牵头调查单位{lead_unit.name}，调查时限 {investigation_due:%Y-%m-%d}",
                     after={"number": case.number, "kind": kind, "source": source, "tasks": [t.pk for t in tasks],
                            "units": [u.pk for u in units], "lead_unit": lead_unit.pk,
                            "investigation_due": investigation_due})
    transaction.on_commit(lambda: _notify(case, "opened"))
    return case


def propose_case(*, source: str, task: Task, kind: str, summary: str, key: str) -> AccountabilityCase:
    """追责建议 raised by the software (a rebound, a listed supervision or interview, a failed 核查).

    A task with a proposal still waiting for 立案 gets the new lead added to it rather than a second
    case; the same trigger (``key``) is recorded once however often it fires.
    """
    with transaction.atomic():
        existing = CaseLead.objects.filter(key=key).select_related("case").first()
        if existing is not None:
            return existing.case
        task = (Task.objects.select_related("campaign", "campaign__office").prefetch_related("task_units__unit")
                .get(pk=task.pk))
        now = timezone.now()
        summary = summary.strip()[:MAX_TEXT]
        case = (AccountabilityCase.objects.select_for_update()
                .filter(status=S.PROPOSED, task_links__task=task).order_by("pk").first())
        if case is not None:
            CaseLead.objects.create(case=case, source=source, task=task, summary=summary, key=key, created_at=now)
            record_event(action="case_lead_added", actor_name="系统（追责建议）", obj=case, unit=case.office,
                         summary=f"新增线索：{CaseSource(source).label}", after={"source": source, "key": key})
            return case
        units = [u for u in _responsible_units([task]) if u.kind in CONCERNABLE]
        lead = _lead_of(task)
        if lead is not None and any(unit_within(lead, u) or unit_within(u, lead) for u in units):
            lead = None
        case = AccountabilityCase.objects.create(
            number=_case_number(), office=task.campaign.office, kind=kind, source=source,
            title=f"{task.code} {CaseSource(source).label}：{task.title}"[:MAX_TITLE], facts=summary,
            status=S.PROPOSED, lead_unit=lead, created_at=now)
        CaseTask.objects.create(case=case, task=task)
        CaseUnit.objects.bulk_create(CaseUnit(case=case, unit=u) for u in units)
        CaseLead.objects.create(case=case, source=source, task=task, summary=summary, key=key, created_at=now)
        record_event(action="case_proposed", actor_name="系统（追责建议）", obj=case, unit=case.office,
                     summary=f"提出追责问责建议（{CaseSource(source).label}，{CaseKind(kind).label}）",
                     after={"number": case.number, "source": source, "kind": kind, "task": task.pk, "key": key,
                            "units": [u.pk for u in units]})
    transaction.on_commit(lambda: _notify(case, "proposed"))
    return case


# Handlers of the lower apps' hooks (registered in apps.py). Each returns the case, so the caller
# can record that its finding went to accountability.

def on_rebound(*, check) -> AccountabilityCase:
    return propose_case(source=CaseSource.REBOUND, task=check.task, kind=CaseKind.SUPERFICIAL,
                        key=f"rebound:{check.pk}",
                        summary=f"回头看「{check.lookback.title}」复查发现问题反弹：{check.statement}")


def on_escalation(*, escalation) -> AccountabilityCase | None:
    sources = {"listed": CaseSource.LISTED, "interview": CaseSource.INTERVIEW}
    if escalation.rung not in sources:
        return None
    return propose_case(source=sources[escalation.rung], task=escalation.task, kind=CaseKind.NEGLIGENCE,
                        key=f"escalation:{escalation.pk}",
                        summary=f"{escalation.get_rung_display()}（{escalation.doc_number}），对象{escalation.target_unit.name}："
                                f"{escalation.reason}")


def on_verification_failed(*, closeout) -> AccountabilityCase:
    opinion = closeout.verification_opinion or closeout.return_reason
    return propose_case(source=CaseSource.VERIFY_FAILED, task=closeout.task, kind=CaseKind.FALSE_REPORT,
                        key=f"verify_fail:{closeout.pk}",
                        summary=f"第 {closeout.attempt} 次销号申请经核查，报称的整改完成情况不实：{opinion}")


# --- the case while it is prepared and investigated ------------------------------------------


def _locked_case(actor: User, case: AccountabilityCase) -> AccountabilityCase:
    # of=("self",): the lead unit and the commission may be empty (an outer join PostgreSQL cannot lock)
    locked = (AccountabilityCase.objects.visible_to(actor).select_for_update(of=("self",))
              .select_related("office", "lead_unit", "commission").filter(pk=case.pk).first())
    if locked is None:
        raise Http404("案件不存在或无权操作。")  # missing and not allowed look the same
    return locked


def _check_version(case: AccountabilityCase, expected_version: int | None) -> None:
    if expected_version is not None and case.version != expected_version:
        raise StaleCaseError(case)


def update_case(*, actor: User, case: AccountabilityCase, expected_version: int | None, kind: str, title: str,
                facts: str, task_ids: list[int], unit_ids: list[int], lead_unit: Unit | None,
                investigation_due: dt.date | None) -> AccountabilityCase:
    """The handler corrects a case before the investigation starts: type, 案由, facts, tasks, units,
    lead unit and deadline."""
    if kind not in CaseKind.values:
        raise ValidationError({"kind": ["请选择问题类型。"]})
    title = _text(title, "title", "案由", limit=MAX_TITLE)
    facts = _text(facts, "facts", "问题线索")
    with transaction.atomic():
        locked = _locked_case(actor, case)
        _check_version(locked, expected_version)
        if not scope.handles(actor, locked):
            raise PermissionDenied("只有案件承办人可以修改案件信息。")
        if locked.status not in (S.PROPOSED, S.OPENED):
            raise ValidationError(f"案件处于「{locked.get_status_display()}」阶段，不能再修改基本信息。")
        tasks = _visible_tasks(actor, task_ids)
        if tasks[0].campaign.office_id != locked.office_id:
            raise ValidationError({"tasks": ["关联任务须属于本案件所属整改办的整改批次。"]})
        units = list(Unit.objects.filter(pk__in=set(unit_ids)))
        person_units = set(locked.persons.values_list("unit_id", flat=True))
        if person_units - {u.pk for u in units}:
            raise ValidationError({"units": ["涉及人员所在单位须保留在涉及单位中。"]})
        if investigation_due is not None and investigation_due < timezone.localdate():
            raise ValidationError({"investigation_due": ["调查时限不能早于今天。"]})
        if locked.status == S.OPENED and (lead_unit is None or investigation_due is None):
            raise ValidationError({"lead_unit": ["已立案的案件须有牵头调查单位和调查时限。"]})
        _check_units(units, lead_unit)
        before = _snapshot(locked)
        locked.kind, locked.title, locked.facts = kind, title, facts
        locked.lead_unit, locked.investigation_due = lead_unit, investigation_due
        locked.version += 1
        locked.save()
        CaseTask.objects.filter(case=locked).exclude(task__in=tasks).delete()
        have = set(CaseTask.objects.filter(case=locked).values_list("task_id", flat=True))
        CaseTask.objects.bulk_create(CaseTask(case=locked, task=t) for t in tasks if t.pk not in have)
        CaseUnit.objects.filter(case=locked).exclude(unit__in=units).delete()
        have = set(CaseUnit.objects.filter(case=locked).values_list("unit_id", flat=True))
        CaseUnit.objects.bulk_create(CaseUnit(case=locked, unit=u) for u in units if u.pk not in have)
        record_event(actor=actor, action="case_updated", obj=locked, unit=actor.unit, summary="修改案件基本信息",
                     before=before, after=_snapshot(locked))
    return locked


def _snapshot(case: AccountabilityCase) -> dict:
    return {"kind": case.kind, "title": case.title, "facts": case.facts, "lead_unit": case.lead_unit_id,
            "investigation_due": case.investigation_due,
            "tasks": sorted(CaseTask.objects.filter(case=case).values_list("task_id", flat=True)),
            "units": sorted(CaseUnit.objects.filter(case=case).values_list("unit_id", flat=True))}


def save_findings(*, actor: User, case: AccountabilityCase, expected_version: int | None, findings: str,
                  recommendation: str) -> AccountabilityCase:
    """The lead unit writes what its investigation established and what it recommends (the body of
    the 追责建议报告); saved as often as needed until the report is submitted."""
    findings = _text(findings, "findings", "调查认定的事实", required=False)
    recommendation = _text(recommendation, "recommendation", "追责问责建议", required=False)
    with transaction.atomic():
        locked = _locked_case(actor, case)
        _check_version(locked, expected_version)
        if locked.status != S.INVESTIGATING or not scope.investigates(actor, locked):
            raise PermissionDenied("只有调查中的牵头调查单位可以填写调查结论。")
        before = {"findings": locked.findings, "recommendation": locked.recommendation}
        locked.findings, locked.recommendation = findings, recommendation
        locked.version += 1
        locked.save(update_fields=["findings", "recommendation", "version"])
        record_event(actor=actor, action="case_findings_saved", obj=locked, unit=actor.unit,
                     summary="保存调查结论和追责问责建议",
                     before={k: sm3_hex(v.encode()) for k, v in before.items()},
                     after={"findings": sm3_hex(findings.encode()), "recommendation": sm3_hex(recommendation.encode())})
    return locked


def _may_edit_people(actor: User, case: AccountabilityCase) -> bool:
    if case.status not in EDITABLE_STATES:
        return False
    return scope.handles(actor, case) or (case.status == S.INVESTIGATING and scope.investigates(actor, case))


def add_person(*, actor: User, case: AccountabilityCase, name: str, post: str, unit: Unit) -> PersonConcerned:
    """涉及人员: name and post stored SM4-encrypted; their unit becomes a unit concerned (and so never
    sees the case). The record keeps a keyed hash of the name, not the name."""
    name = _text(name, "name", "姓名", limit=50)
    post = _text(post, "post", "职务", required=False, limit=100)
    with transaction.atomic():
        locked = _locked_case(actor, case)
        if not _may_edit_people(actor, locked):
            raise PermissionDenied("当前不能添加涉及人员。")
        if locked.persons.count() >= MAX_PERSONS:
            raise ValidationError(f"一个案件最多登记 {MAX_PERSONS} 名涉及人员。")
        _check_units([unit], locked.lead_unit)
        person = PersonConcerned.objects.create(
            case=locked, name=name, post=post, unit=unit, added_by=actor, added_at=timezone.now(),
            name_hash=lookup_hash(name, context="accountability.person.name"))
        CaseUnit.objects.get_or_create(case=locked, unit=unit)
        locked.version += 1
        locked.save(update_fields=["version"])
        record_event(actor=actor, action="case_person_added", obj=locked, unit=actor.unit,
                     summary=f"登记涉及人员 1 名（{unit.name}）",
                     after={"person": person.pk, "unit": unit.pk, "name_hash": person.name_hash})
    return person


def remove_person(*, actor: User, person: PersonConcerned) -> None:
    with transaction.atomic():
        locked = _locked_case(actor, person.case)
        if not _may_edit_people(actor, locked):
            raise PermissionDenied("当前不能移除涉及人员。")
        deleted, _ = PersonConcerned.objects.filter(pk=person.pk, case=locked).delete()
        if not deleted:
            raise Http404("人员不存在。")
        locked.version += 1
        locked.save(update_fields=["version"])
        record_event(actor=actor, action="case_person_removed", obj=locked, unit=actor.unit,
                     summary="移除涉及人员 1 名", before={"person": person.pk, "name_hash": person.name_hash})


def _note_kind(actor: User, case: AccountabilityCase) -> str | None:
    if case.status == S.INVESTIGATING and scope.investigates(actor, case):
        return NoteKind.INVESTIGATION
    if case.status in (S.ACCEPTED, S.DECIDED) and scope.commission_of(actor, case):
        return NoteKind.HANDLING
    if case.status not in FINISHED_STATES and scope.handles(actor, case):
        return NoteKind.OFFICE
    return None


def add_note(*, actor: User, case: AccountabilityCase, text: str) -> CaseNote:
    """A dated record: the lead unit's 调查记录, the commission's 办理情况, the handler's 工作记录."""
    text = _text(text, "text", "记录内容")
    with transaction.atomic():
        locked = _locked_case(actor, case)
        kind = _note_kind(actor, locked)
        if kind is None:
            raise PermissionDenied("当前不能为该案件添加记录。")
        if locked.notes.count() >= MAX_NOTES:
            raise ValidationError("该案件的记录已达上限。")
        note = CaseNote.objects.create(case=locked, kind=kind, text=text, author=actor, author_unit=actor.unit,
                                       created_at=timezone.now())
        # The record proves the note unchanged by its digest; the text itself stays on the case.
        record_event(actor=actor, action="case_note_added", obj=locked, unit=actor.unit,
                     summary=f"添加{NoteKind(kind).label}（{len(text)} 字）",
                     after={"note": note.pk, "kind": kind, "sm3": sm3_hex(text.encode())})
    return note


def attach_file(*, actor: User, case: AccountabilityCase, name: str, fileobj, note: str = "") -> CaseFile:
    """调查证据 (lead unit, handler) or 办理材料 (commission), checked by content and kept by SM3 digest."""
    from django.db.models import Sum

    from rectify.evidence.inspect import check_report_total, inspect_upload
    from rectify.evidence.store import EvidenceStore

    note = _text(note, "note", "说明", required=False, limit=200)
    inspected = inspect_upload(name, fileobj)
    with transaction.atomic():
        locked = _locked_case(actor, case)
        kind = _note_kind(actor, locked)
        if kind is None:
            raise PermissionDenied("当前不能为该案件上传材料。")
        if locked.files.count() >= MAX_FILES:
            raise ValidationError(f"每个案件最多上传 {MAX_FILES} 个材料。")
        check_report_total((locked.files.aggregate(total=Sum("size"))["total"] or 0) + inspected.size,
                           max_bytes=MAX_FILES_BYTES)
        file_kind = FileKind.HANDLING if kind == NoteKind.HANDLING else FileKind.EVIDENCE
        stored = _store(locked, inspected, file_kind=file_kind, note=note, actor=actor)
        record_event(actor=actor, action="case_file_attached", obj=locked, unit=actor.unit,
                     summary=f"上传{FileKind(file_kind).label}「{stored.original_name}」",
                     after={"file": stored.pk, "sm3": inspected.digest, "size": inspected.size})
        EvidenceStore().save(inspected, fileobj)  # last: a failure above leaves no file behind
    return stored


def _store(case: AccountabilityCase, inspected, *, file_kind: str, note: str, actor: User) -> CaseFile:
    meta = inspected.exif
    return CaseFile.objects.create(
        case=case, file_kind=file_kind, note=note, digest=inspected.digest, extension=inspected.extension,
        size=inspected.size, mime=inspected.mime, kind=inspected.kind, original_name=inspected.original_name[:200],
        taken_at=getattr(meta, "taken_at", None), latitude=getattr(meta, "latitude", None),
        longitude=getattr(meta, "longitude", None), uploaded_by=actor)


def file_for_download(*, actor: User, stored: CaseFile) -> str:
    """Re-check a case file against its digest and record who took it."""
    from rectify.evidence.store import EvidenceStore

    store = EvidenceStore()
    if not store.verify(stored.digest, stored.extension):
        raise Http404("文件缺失或已被改动，请联系管理员。")
    with transaction.atomic():
        record_event(actor=actor, action="case_file_downloaded", obj=stored.case, unit=actor.unit,
                     summary=f"下载案件材料「{stored.original_name}」", after={"file": stored.pk})
    return str(store.path(stored.digest, stored.extension))


# --- the one transition service ------------------------------------------------------------


def transition(*, actor: User, case: AccountabilityCase, action: str, expected_version: int | None = None,
               reason: str = "", opinion: str = "", note: str = "", lead_unit: Unit | None = None,
               investigation_due: dt.date | None = None, commission: Unit | None = None, commission_ref: str = "",
               handling_due: dt.date | None = None, outcome: str = "", detail: str = "",
               person_outcomes: dict[int, tuple[str, str]] | None = None) -> AccountabilityCase:
    """Move a case through :data:`CASE_FLOW`: one locked row, the step's own checks and effects, one
    event on the case. Never touches a task."""
    with transaction.atomic():
        locked = _locked_case(actor, case)
        _check_version(locked, expected_version)
        rule = CASE_FLOW.authorise(actor, locked, action)
        before = {"status": locked.status}
        summary = _apply(actor, locked, action, reason=reason, opinion=opinion, note=note, lead_unit=lead_unit,
                         investigation_due=investigation_due, commission=commission,
                         commission_ref=commission_ref, handling_due=handling_due, outcome=outcome, detail=detail,
                         person_outcomes=person_outcomes)
        locked.status = rule.target
        locked.version += 1
        locked.save()
        record_event(actor=actor, action=CASE_FLOW.event_of(rule), obj=locked, unit=actor.unit,
                     summary=rule.label + (f"：{summary}" if summary else ""), before=before,
                     after={"status": rule.target, **_after_fields(locked, action)})
    transaction.on_commit(lambda: _notify(locked, action))
    return locked


def _after_fields(case: AccountabilityCase, action: str) -> dict:
    fields: dict[str, dict] = {
        "open": {"lead_unit": case.lead_unit_id, "investigation_due": case.investigation_due},
        "refer": {"commission": case.commission_id, "referral_number": case.referral_number},
        "accept": {"commission_ref": case.commission_ref, "handling_due": case.handling_due},
        "record_outcome": {"outcome": case.outcome, "detail": case.outcome_detail, "reason": case.outcome_reason},
        "approve_report": {"opinion": case.review_opinion},
    }
    if action in NEEDS_REASON:
        return {"reason": case.returned_reason if action in {"return_report", "return_referral"} else case.refusal_reason}
    if action == "submit_report":
        report = case.files.filter(file_kind=FileKind.REPORT).order_by("-pk").first()
        return {"report": report.pk if report else None, "sm3": report.digest if report else ""}
    return fields.get(action, {})


def _apply(actor: User, case: AccountabilityCase, action: str, *, reason: str, opinion: str, note: str,
           lead_unit: Unit | None, investigation_due: dt.date | None, commission: Unit | None,
           commission_ref: str, handling_due: dt.date | None, outcome: str, detail: str,
           person_outcomes: dict[int, tuple[str, str]] | None) -> str:
    """The step's own checks and effects; returns a phrase for the event's summary."""
    now, today = timezone.now(), timezone.localdate()
    if action in NEEDS_REASON:
        reason = _text(reason, "reason", "理由")
        if action in {"return_report", "return_referral"}:
            case.returned_reason = reason
        else:
            case.refusal_reason = reason
        return reason
    if action == "open":
        lead_unit = lead_unit or case.lead_unit
        if lead_unit is None:
            raise ValidationError({"lead_unit": ["请指定牵头调查单位。"]})
        if investigation_due is None or investigation_due < today:
            raise ValidationError({"investigation_due": ["请填写不早于今天的调查时限。"]})
        _check_units(list(Unit.objects.filter(pk__in=case.unit_links.values("unit_id"))), lead_unit)
        case.lead_unit, case.investigation_due, case.opened_at = lead_unit, investigation_due, now
        return f"牵头调查单位{lead_unit.name}，调查时限 {investigation_due:%Y-%m-%d}"
    if action == "start":
        return ""
    if action == "submit_report":
        if not case.findings.strip() or not case.recommendation.strip():
            raise ValidationError("请先填写调查认定的事实和追责问责建议，再提交报告。")
        stored = _freeze_report(case, actor)
        case.report_submitted_at = now
        return f"「{stored.original_name}」（SM3 {stored.digest[:16]}…）"
    if action == "approve_report":
        case.review_opinion = _text(opinion, "opinion", "审核意见")
        case.reviewed_at = now
        return case.review_opinion
    if action == "refer":
        if commission is None or commission.kind != UnitKind.DISCIPLINE:
            raise ValidationError({"commission": ["请选择接收移交的纪委监委。"]})
        case.referral_note = _text(note, "note", "移交说明", required=False)
        case.commission, case.referred_at = commission, now
        case.referral_number = _referral_number(case, actor)
        return f"{case.referral_number}，移交{commission.name}"
    if action == "accept":
        case.commission_ref = _text(commission_ref, "commission_ref", "受理编号", required=False, limit=60)
        if handling_due is None or handling_due < today:
            raise ValidationError({"handling_due": ["请填写不早于今天的办理时限。"]})
        case.handling_due, case.accepted_at = handling_due, now
        return (f"受理编号 {case.commission_ref}，" if case.commission_ref else "") + f"办理时限 {handling_due:%Y-%m-%d}"
    if action == "record_outcome":
        if outcome not in Outcome.values:
            raise ValidationError({"outcome": ["请选择处理结果。"]})
        case.outcome_detail = _text(detail, "detail", "处理情况")
        case.outcome_reason = _text(reason, "reason", "不予追责理由", required=outcome == Outcome.NONE)
        persons = list(case.persons.all())
        given = person_outcomes or {}
        missing = [p for p in persons if given.get(p.pk, ("", ""))[0] not in Outcome.values]
        if missing:
            raise ValidationError({"person_outcomes": [f"请为每名涉及人员选择处理结果（尚有 {len(missing)} 名未选）。"]})
        for p in persons:
            p.outcome, p.outcome_note = given[p.pk][0], _text(given[p.pk][1], "person_outcomes", "处理情况",
                                                             required=False)
            p.save(update_fields=["outcome", "outcome_note"])
        case.outcome, case.decided_at = outcome, now
        counts = {str(Outcome(o).label): sum(1 for p in persons if p.outcome == o) for o in Outcome.values}
        per_person = "，".join(f"{label} {n} 人" for label, n in counts.items() if n)
        return f"{Outcome(outcome).label}" + (f"（{per_person}）" if per_person else "")
    if action == "close":
        case.closed_at = now
        return ""
    return ""


def _freeze_report(case: AccountabilityCase, actor: User) -> CaseFile:
    """Generate the 追责建议报告 and keep it as submitted, by its digest: what the office reviews and
    the commission receives is exactly this file."""
    from rectify.accountability.report_doc import report_docx, report_filename
    from rectify.evidence.inspect import inspect_upload
    from rectify.evidence.store import EvidenceStore

    data = report_docx(case, submitted_by=actor)
    inspected = inspect_upload(report_filename(case), data)
    stored = _store(case, inspected, file_kind=FileKind.REPORT, note="提交审核时生成", actor=actor)
    EvidenceStore().save(inspected, data)
    return stored


# --- notifications (after commit) ------------------------------------------------------------


def _notify(case: AccountabilityCase, what: str) -> None:
    """Tell whoever must act next. Titles carry the case number only, never a person or a unit."""
    url = f"/accountability/cases/{case.pk}/"
    key = f"case:{case.pk}:{what}:{case.version}"
    supervisors = [Role.SUPERVISOR]
    if what in {"proposed", "submit_report", "return_referral"}:
        titles = {"proposed": "追责问责建议待立案", "submit_report": "追责建议报告待审核",
                  "return_referral": "纪委监委退回移交的案件"}
        notify(users=handler_users(case.office), kind="case_todo", title=f"{titles[what]}：{case.number}", url=url,
               key=key)
    elif what in {"opened", "open", "return_report"}:
        # The lead unit's view of a case ends with its report; its inbox keeps no case number.
        title = "追责问责：有一项调查任务" if what != "return_report" else "追责问责：调查报告被退回补充调查"
        notify(users=_unit_users(case.lead_unit, supervisors), kind="case_todo", title=title, url=url, key=key)
        if what == "opened" and case.source == CaseSource.LEAD_UNIT:
            notify(users=handler_users(case.office), kind="case_todo", title=f"牵头督导单位已立案：{case.number}",
                   url=url, key=key + ":office")
    elif what == "refer":
        notify(users=_unit_users(case.commission, [Role.DISCIPLINE]), kind="case_todo",
               title=f"收到移交的追责问责案件：{case.number}（{case.referral_number}）", url=url, key=key)
    elif what in {"record_outcome", "close"}:
        notify(users=handler_users(case.office), kind="case_done",
               title=f"纪委监委已{'作出处理' if what == 'record_outcome' else '结案'}：{case.number}", url=url, key=key)


def remind_due(today: dt.date) -> int:
    """Investigations and handling due within 3 work days (tick): the lead unit, the commission."""
    from rectify.core.workdays import add_workdays

    soon = add_workdays(today, 3)
    sent = 0
    for case in (AccountabilityCase.objects.filter(status__in=(S.OPENED, S.INVESTIGATING),
                                                   investigation_due__lte=soon).select_related("lead_unit")):
        sent += notify(users=_unit_users(case.lead_unit, [Role.SUPERVISOR]), kind="case_due",
                       title=f"追责问责：调查时限 {case.investigation_due:%m月%d日}",
                       url=f"/accountability/cases/{case.pk}/", key=f"case_due:{case.pk}:{case.investigation_due}")
    for case in (AccountabilityCase.objects.filter(status=S.ACCEPTED, handling_due__lte=soon)
                 .select_related("commission")):
        sent += notify(users=_unit_users(case.commission, [Role.DISCIPLINE]), kind="case_due",
                       title=f"案件办理时限 {case.handling_due:%m月%d日}：{case.number}",
                       url=f"/accountability/cases/{case.pk}/", key=f"case_due:{case.pk}:{case.handling_due}")
    return sent
