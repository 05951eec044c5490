"""Every way a campaign, task or measure changes. Each function checks permission, validates,
writes and records its audit event in one transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from rectify.core.audit import record_event
from rectify.ledger.models import (
    Campaign,
    CloseoutStage,
    DeadlineKind,
    Measure,
    Task,
    TaskStatus,
    TaskUnit,
    UnitRole,
)
from rectify.ledger.scope import can_create_tasks, may_run_campaign_for
from rectify.ledger.workflows import TASK_FLOW
from rectify.orgs.models import Category, Unit, User

# From publication on, what the public saw and what is filed must not change underneath them.
FROZEN_STAGES = frozenset({CloseoutStage.IN_NOTICE, CloseoutStage.ACCEPTED, CloseoutStage.VERIFIED,
                           CloseoutStage.FILED})


class StaleVersionError(Exception):
    """Someone else saved the task since this editor loaded it (版本冲突)."""

    def __init__(self, task: Task, expected: int, by: str = "", at: dt.datetime | None = None):
        self.task, self.expected = task, expected
        when = f"于 {timezone.localtime(at):%Y-%m-%d %H:%M:%S} " if at else ""
        who = f"已被 {by} {when}修改" if by else "已被他人修改"
        super().__init__(f"保存失败：任务 {task.code} 在您打开编辑后{who}（当前版本 {task.version}，"
                         f"您编辑的是版本 {expected}）。为避免覆盖他人的修改，请刷新页面查看最新内容后重新编辑。")


@dataclass
class MeasureInput:
    text: str
    owner_unit: Unit | None = None
    due_date: dt.date | None = None
    done: bool = False
    id: int | None = None
    done_at: dt.date | None = None  # when it was completed; defaults to today


@dataclass
class TaskInput:
    code: str
    title: str
    problem: str = ""
    target: str = ""
    inspection_number: str = ""
    category: str = Category.OTHER
    responsible_units: list[Unit] = field(default_factory=list)  # the first is the primary one
    lead_supervisor: Unit | None = None
    co_supervisors: list[Unit] = field(default_factory=list)
    acceptance_unit: Unit | None = None  # defaults to the lead supervisor
    leader: User | None = None
    deadline_kind: str = ""
    deadline: dt.date | None = None
    start_date: dt.date | None = None
    progress_note: str = ""
    completion_note: str = ""
    measures: list[MeasureInput] | None = None  # None leaves the measures as they are


def missing_essentials(task: Task) -> list[str]:
    """What keeps a task from being "四清楚" (problem, measures, responsible unit, deadline clear).

    Uses prefetched ``task_units`` and ``measures`` where the caller has them; a list row's
    ``measure_count`` (``selectors.with_list_data``) stands for the measures, since a measure's
    text is stored stripped and never blank (``_validate``, ``_write_measures``).
    """
    missing = []
    if not (task.problem or "").strip():
        missing.append("问题不清楚：未填写问题描述")
    if getattr(task, "measure_count", None) is not None:
        has_measures = task.measure_count > 0
    else:
        has_measures = any((m.text or "").strip() for m in task.measures.all())
    if not has_measures:
        missing.append("措施不清楚：至少需要一条整改措施")
    if not any(tu.role == UnitRole.RESPONSIBLE for tu in task.task_units.all()):
        missing.append("责任不清楚：未指定主体责任单位")
    if not task.deadline_kind:
        missing.append("时限不清楚：未选择整改时限类型（立行立改/限期整改/长期坚持）")
    elif task.deadline_kind == DeadlineKind.BY_DATE and not task.deadline:
        missing.append("时限不清楚：限期整改须填写完成日期")
    return missing


def snapshot(task: Task) -> dict:
    """The task as the audit record keeps it (before/after)."""
    units: dict[str, list[str]] = {}
    for tu in task.task_units.select_related("unit").order_by("role", "ordinal"):
        units.setdefault(tu.role, []).append(tu.unit.name)
    return {
        "code": task.code, "inspection_number": task.inspection_number, "title": task.title,
        "problem": task.problem, "target": task.target, "category": task.category,
        "leader": task.leader.display_name if task.leader_id else None,
        "deadline_kind": task.deadline_kind, "deadline": task.deadline, "start_date": task.start_date,
        "progress_note": task.progress_note, "completion_note": task.completion_note, "status": task.status,
        "version": task.version, "units": units,
        "measures": [{"text": m.text, "owner": m.owner_unit.name if m.owner_unit_id else None, "due": m.due_date,
                      "done": m.done} for m in task.measures.select_related("owner_unit")],
    }


def _validate(data: TaskInput, *, campaign: Campaign, task_id: int | None) -> None:
    errors: dict[str, list[str]] = {}

    def err(name, message):
        errors.setdefault(name, []).append(message)

    if not data.code.strip():
        err("code", "任务编号不能为空。")
    elif Task.objects.filter(campaign=campaign, code=data.code.strip()).exclude(pk=task_id).exists():
        err("code", f"任务编号 {data.code} 在批次「{campaign.name}」中已存在。")
    if not data.title.strip():
        err("title", "问题/任务名称不能为空。")
    if data.category not in Category.values:
        err("category", f"未知的问题类别：{data.category}")
    if data.deadline_kind and data.deadline_kind not in DeadlineKind.values:
        err("deadline_kind", f"未知的整改时限类型：{data.deadline_kind}")
    if data.deadline_kind == DeadlineKind.BY_DATE and not data.deadline:
        err("deadline", "限期整改须填写整改时限日期。")
    if data.deadline and data.start_date and data.start_date > data.deadline:
        err("start_date", "开始日期不能晚于整改时限。")
    if len(set(u.pk for u in data.responsible_units)) != len(data.responsible_units):
        err("responsible_units", "主体责任单位有重复。")
    if data.lead_supervisor and data.lead_supervisor in data.co_supervisors:
        err("co_supervisors", "配合督导单位不能与牵头督导单位相同。")
    if data.leader is not None and data.leader.role != "leader":
        err("leader", "责任领导须为市领导账户。")
    for i, m in enumerate(data.measures or [], start=1):
        if not m.text.strip():
            err("measures", f"第 {i} 条措施内容为空。")
    if errors:
        raise ValidationError(errors)


def _write_units(task: Task, data: TaskInput, *, new: bool = False) -> None:
    if not new:
        task.task_units.all().delete()
    rows = [TaskUnit(task=task, unit=u, role=UnitRole.RESPONSIBLE, is_primary=(i == 0), ordinal=i)
            for i, u in enumerate(data.responsible_units)]
    if data.lead_supervisor:
        rows.append(TaskUnit(task=task, unit=data.lead_supervisor, role=UnitRole.LEAD_SUPERVISOR, is_primary=True))
    rows += [TaskUnit(task=task, unit=u, role=UnitRole.CO_SUPERVISOR, ordinal=i)
             for i, u in enumerate(data.co_supervisors) if u != data.lead_supervisor]
    acceptance = data.acceptance_unit or data.lead_supervisor
    if acceptance:
        rows.append(TaskUnit(task=task, unit=acceptance, role=UnitRole.ACCEPTANCE, is_primary=True))
    TaskUnit.objects.bulk_create(rows)


def _write_measures(task: Task, measures: list[MeasureInput], *, new: bool = False) -> None:
    if new:
        Measure.objects.bulk_create(
            Measure(task=task, ordinal=i, text=m.text.strip(), owner_unit=m.owner_unit, due_date=m.due_date,
                    done=m.done, done_at=(m.done_at or timezone.localdate()) if m.done else None)
            for i, m in enumerate(measures, start=1))
        return
    existing = {m.pk: m for m in task.measures.all()}
    keep = set()
    for ordinal, item in enumerate(measures, start=1):
        measure = existing.get(item.id) if item.id else None
        if measure is None:
            measure = Measure(task=task)
        measure.ordinal = ordinal
        measure.text = item.text.strip()
        measure.owner_unit = item.owner_unit
        measure.due_date = item.due_date
        if item.done:
            measure.done_at = item.done_at or measure.done_at or timezone.localdate()
        else:
            measure.done_at = None
        measure.done = item.done
        measure.save()
        keep.add(measure.pk)
    task.measures.exclude(pk__in=keep).delete()


def _apply(task: Task, data: TaskInput) -> None:
    task.code = data.code.strip()
    task.inspection_number = data.inspection_number.strip()
    task.title = data.title.strip()
    task.problem = data.problem.strip()
    task.target = data.target.strip()
    task.category = data.category
    task.leader = data.leader
    task.deadline_kind = data.deadline_kind
    task.deadline = data.deadline
    task.start_date = data.start_date or task.start_date or task.campaign.feedback_date
    task.progress_note = data.progress_note.strip()
    task.completion_note = data.completion_note.strip()


def _refresh_status(task: Task) -> None:
    """Draft ⇄ in rectification follows "四清楚" (the task table's system steps)."""
    if task.status not in (TaskStatus.DRAFT, TaskStatus.ACTIVE):
        return
    action = "lose_essentials" if missing_essentials(task) else "complete_essentials"
    rule = TASK_FLOW.rule(task.status, action)
    if rule is not None:
        task.status = rule.target


def move_task(*, task: Task, action: str) -> str:
    """Take one of the task table's steps on a locked task, as the consequence of another app's
    recorded act (a close-out step, a look-back rebound). Returns the new status; the caller saves
    and records its own event, which names this step."""
    rule = TASK_FLOW.system_rule(task, action)
    task.status = rule.target
    return rule.target


def require_campaign_access(actor: User, campaign: Campaign) -> None:
    """The actor may add tasks to this campaign (new tasks, Excel import, plan import)."""
    if not Campaign.objects.actionable_by(actor, "add_task").filter(pk=campaign.pk).exists():
        raise PermissionDenied("您无权在该整改批次中新增任务。")


def create_campaign(*, actor: User, code: str, name: str, kind: str, office: Unit | None = None,
                    feedback_date: dt.date | None = None, description: str = "") -> Campaign:
    """Open a new batch of tasks (新建整改批次)."""
    if not can_create_tasks(actor):
        raise PermissionDenied("只有整改办可以新建整改批次。")
    office = office or actor.unit
    if not may_run_campaign_for(actor, office):
        raise PermissionDenied("不能为其他整改办新建批次。")
    if Campaign.objects.filter(code=code).exists():
        raise ValidationError({"code": [f"批次编号 {code} 已存在。"]})
    with transaction.atomic():
        campaign = Campaign.objects.create(code=code, name=name, kind=kind, office=office,
                                           feedback_date=feedback_date, description=description)
        record_event(actor=actor, action="campaign_created", obj=campaign, summary=f"新建整改批次「{name}」",
                     after={"code": code, "name": name, "kind": kind, "office": office.name})
    return campaign


def create_task(*, actor: User, campaign: Campaign, data: TaskInput, source: str = "") -> Task:
    """Add a task to the ledger (新增整改任务). It stays a draft until it is 四清楚."""
    require_campaign_access(actor, campaign)
    _validate(data, campaign=campaign, task_id=None)
    with transaction.atomic():
        task = Task(campaign=campaign)
        _apply(task, data)
        task.save()
        _write_units(task, data, new=True)
        _write_measures(task, data.measures or [], new=True)
        _refresh_status(task)
        task.save(update_fields=["status"])
        record_event(actor=actor, action="task_created", obj=task,
                     summary=f"新增整改任务 {task.code}" + (f"（来源：{source}）" if source else ""),
                     after=snapshot(task))
    return task


def update_task(*, actor: User, task: Task, expected_version: int, data: TaskInput, source: str = "") -> Task:
    """Edit a task. Refused with :class:`StaleVersionError` when someone saved in between."""
    from rectify.core.models import Event

    with transaction.atomic():
        locked = Task.objects.editable_by(actor).select_for_update().filter(pk=task.pk).first()
        if locked is None:
            raise PermissionDenied("您无权修改该任务。")
        if locked.status == TaskStatus.CLOSED or locked.closeout_stage in FROZEN_STAGES:
            raise ValidationError(f"任务 {locked.code} 处于「{locked.get_closeout_stage_display() or locked.get_status_display()}」"
                                  "阶段，内容已随公示冻结，不能修改；如需修改，请先将销号申请退回整改。")
        if locked.version != expected_version:
            last = (Event.objects.filter(object_type="ledger.task", object_id=str(locked.pk))
                    .order_by("-seq").values("actor_name", "created_at").first()) or {}
            raise StaleVersionError(locked, expected_version, last.get("actor_name", ""), last.get("created_at"))
        _validate(data, campaign=locked.campaign, task_id=locked.pk)
        before = snapshot(locked)
        _apply(locked, data)
        _write_units(locked, data)
        if data.measures is not None:
            _write_measures(locked, data.measures)
        _refresh_status(locked)
        locked.version += 1
        locked.save()
        after = snapshot(locked)
        changed = [k for k in after if k not in {"version"} and after[k] != before[k]]
        record_event(actor=actor, action="task_updated", obj=locked,
                     summary=f"修改整改任务 {locked.code}：" + ("、".join(FIELD_LABELS.get(k, k) for k in changed) or "无字段变化")
                     + (f"（来源：{source}）" if source else ""),
                     before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    return locked


def add_measure(*, actor: User, task: Task, expected_version: int, measure: MeasureInput) -> Measure:
    """Append one measure to a task (API convenience; the edit form saves measures with the task)."""
    data = task_input_from(task)
    data.measures = [*data.measures, measure]
    updated = update_task(actor=actor, task=task, expected_version=expected_version, data=data)
    return updated.measures.order_by("-ordinal").first()


def update_measure(*, actor: User, measure: Measure, expected_version: int, text: str | None = None,
                   owner_unit: Unit | None = None, due_date: dt.date | None = None, done: bool | None = None) -> Measure:
    data = task_input_from(measure.task)
    for item in data.measures:
        if item.id == measure.pk:
            item.text = text if text is not None else item.text
            item.owner_unit = owner_unit if owner_unit is not None else item.owner_unit
            item.due_date = due_date if due_date is not None else item.due_date
            item.done = done if done is not None else item.done
    update_task(actor=actor, task=measure.task, expected_version=expected_version, data=data)
    return Measure.objects.get(pk=measure.pk)


def task_input_from(task: Task, *, prefetched: bool = False) -> TaskInput:
    """The current state of a task as an input, for partial updates.

    With ``prefetched=True`` the task's ``task_units`` (with ``unit``) and ``measures`` (with
    ``owner_unit``) come from the caller's ``prefetch_related`` and nothing is queried: the Excel
    import compares every task a file touches this way.
    """
    if prefetched:
        units = sorted(task.task_units.all(), key=lambda tu: (tu.ordinal, tu.id))
        measures = sorted(task.measures.all(), key=lambda m: (m.ordinal, m.id))
    else:
        units = list(task.task_units.select_related("unit").order_by("ordinal", "id"))
        measures = list(task.measures.select_related("owner_unit").order_by("ordinal", "id"))

    def of(role):
        return [tu.unit for tu in units if tu.role == role]  # in (ordinal, id) order

    lead = of(UnitRole.LEAD_SUPERVISOR)
    acceptance = of(UnitRole.ACCEPTANCE)
    return TaskInput(
        code=task.code, title=task.title, problem=task.problem, target=task.target,
        inspection_number=task.inspection_number, category=task.category,
        responsible_units=of(UnitRole.RESPONSIBLE),
        lead_supervisor=lead[0] if lead else None, co_supervisors=of(UnitRole.CO_SUPERVISOR),
        acceptance_unit=acceptance[0] if acceptance else None, leader=task.leader,
        deadline_kind=task.deadline_kind, deadline=task.deadline, start_date=task.start_date,
        progress_note=task.progress_note, completion_note=task.completion_note,
        measures=[MeasureInput(id=m.pk, text=m.text, owner_unit=m.owner_unit, due_date=m.due_date, done=m.done,
                               done_at=m.done_at)
                  for m in measures],
    )


FIELD_LABELS = {
    "code": "任务编号", "inspection_number": "督察问题编号", "title": "问题/任务名称", "problem": "问题描述",
    "target": "整改目标", "category": "问题类别", "leader": "责任领导", "deadline_kind": "时限类型",
    "deadline": "整改时限", "start_date": "开始日期", "progress_note": "整改进展", "completion_note": "完成情况",
    "status": "状态", "units": "责任/督导单位", "measures": "整改措施",
}
