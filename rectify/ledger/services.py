"""Every way a campaign, task or measure changes. Each function checks permission, validates,
writes and records its audit event in one transaction."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import router, transaction
from django.utils import timezone

from rectify.core.audit import record_event
from rectify.core.bulk import gc_paused
from rectify.ledger import hooks, list_options, search, tally
from rectify.ledger.models import (
    Campaign,
    CloseoutStage,
    DeadlineKind,
    ListPreference,
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
    start_date: dt.date | None = None  # None keeps the task's own; a new task gets the day it leaves draft
    progress_note: str = ""
    completion_note: str = ""
    measures: list[MeasureInput] | None = None  # None leaves the measures as they are
    location_name: str = ""  # 位置: where the problem is, in words
    latitude: float | None = None  # 纬度 and 经度 (WGS-84, as phones write them): the far-from-task photo check
    longitude: float | None = None


def missing_essentials(task: Task) -> list[str]:
    """What keeps a task from being "四清楚" (problem, measures, responsible unit, deadline clear).

    Uses prefetched ``task_units`` and ``measures`` where the caller has them; a list row's
    ``measure_count`` (``selectors.with_list_data``) stands for the measures, since a measure's
    text is stored stripped and never blank (``_validate``, ``_write_measures``).
    """
    if getattr(task, "measure_count", None) is not None:
        has_measures = task.measure_count > 0
    else:
        has_measures = any((m.text or "").strip() for m in task.measures.all())
    return _missing(problem=task.problem, has_measures=has_measures,
                    has_responsible=any(tu.role == UnitRole.RESPONSIBLE for tu in task.task_units.all()),
                    deadline_kind=task.deadline_kind, deadline=task.deadline)


def _missing(*, problem: str, has_measures: bool, has_responsible: bool, deadline_kind: str,
             deadline: dt.date | None) -> list[str]:
    """The "四清楚" rule itself, for a saved task (:func:`missing_essentials`) or one about to be
    written in bulk (:func:`write_tasks`)."""
    missing = []
    if not (problem or "").strip():
        missing.append("问题不清楚：未填写问题描述")
    if not has_measures:
        missing.append("措施不清楚：至少需要一条整改措施")
    if not has_responsible:
        missing.append("责任不清楚：未指定主体责任单位")
    if not deadline_kind:
        missing.append("时限不清楚：未选择整改时限类型（立行立改/限期整改/长期坚持）")
    elif deadline_kind == DeadlineKind.BY_DATE and not deadline:
        missing.append("时限不清楚：限期整改须填写完成日期")
    return missing


def snapshot(task: Task) -> dict:
    """The task as the audit record keeps it (before/after)."""
    return _snapshot(task, [(tu.role, tu.unit.name) for tu in task.task_units.select_related("unit")
                            .order_by("role", "ordinal")],
                     [_measure_entry(m) for m in task.measures.select_related("owner_unit")])


def _snapshot(task: Task | _NewTask, units: Iterable[tuple[str, str]], measures: list[dict]) -> dict:
    """:func:`snapshot` from (role, unit name) pairs in (role, ordinal) order and the measures'
    entries (:func:`_measure_entry`) in their order, which a bulk write has in memory."""
    by_role: dict[str, list[str]] = {}
    for role, name in units:
        by_role.setdefault(role, []).append(name)
    return {
        "code": task.code, "inspection_number": task.inspection_number, "title": task.title,
        "problem": task.problem, "target": task.target, "category": task.category,
        "leader": task.leader.display_name if task.leader_id else None,
        "deadline_kind": task.deadline_kind, "deadline": task.deadline, "start_date": task.start_date,
        "progress_note": task.progress_note, "completion_note": task.completion_note, "status": task.status,
        "version": task.version, "units": by_role, "measures": measures,
        "location": [task.location_name, task.latitude, task.longitude],
    }


def _measure_entry(m: Measure) -> dict:
    return {"text": m.text, "owner": m.owner_unit.name if m.owner_unit_id else None, "due": m.due_date,
            "done": m.done}


def _validate(data: TaskInput, *, campaign: Campaign, task_id: int | None) -> None:
    errors = _input_errors(data)
    if data.code.strip() and Task.objects.filter(campaign=campaign, code=data.code.strip()).exclude(pk=task_id).exists():
        errors.setdefault("code", []).append(f"任务编号 {data.code} 在批次「{campaign.name}」中已存在。")
    if errors:
        raise ValidationError(errors)


_CATEGORIES = frozenset(Category.values)
_DEADLINE_KINDS = frozenset(DeadlineKind.values)


def _input_errors(data: TaskInput) -> dict[str, list[str]]:
    """What is wrong with an input on its own (no query): the checks of :func:`_validate` but the
    code's uniqueness."""
    errors: dict[str, list[str]] = {}

    def err(name, message):
        errors.setdefault(name, []).append(message)

    if not data.code.strip():
        err("code", "任务编号不能为空。")
    if not data.title.strip():
        err("title", "问题/任务名称不能为空。")
    if data.category not in _CATEGORIES:
        err("category", f"未知的问题类别：{data.category}")
    if data.deadline_kind and data.deadline_kind not in _DEADLINE_KINDS:
        err("deadline_kind", f"未知的整改时限类型：{data.deadline_kind}")
    if data.deadline_kind == DeadlineKind.BY_DATE and not data.deadline:
        err("deadline", "限期整改须填写整改时限日期。")
    if data.deadline and data.start_date and data.start_date > data.deadline:
        err("start_date", "开始日期不能晚于整改时限。")
    if len(data.location_name.strip()) > 200:
        err("location_name", "位置不能超过 200 个字。")
    if (data.latitude is None) != (data.longitude is None):
        err("latitude", "纬度和经度须同时填写。")
    if data.latitude is not None and not -90 <= data.latitude <= 90:
        err("latitude", "纬度须在 -90 与 90 之间。")
    if data.longitude is not None and not -180 <= data.longitude <= 180:
        err("longitude", "经度须在 -180 与 180 之间。")
    if len(set(u.pk for u in data.responsible_units)) != len(data.responsible_units):
        err("responsible_units", "主体责任单位有重复。")
    if data.lead_supervisor and data.lead_supervisor in data.co_supervisors:
        err("co_supervisors", "配合督导单位不能与牵头督导单位相同。")
    if data.leader is not None and data.leader.role != "leader":
        err("leader", "责任领导须为市领导账户。")
    for i, m in enumerate(data.measures or [], start=1):
        if not m.text.strip():
            err("measures", f"第 {i} 条措施内容为空。")
    return errors


def _write_units(task: Task, data: TaskInput, *, new: bool = False) -> None:
    if not new:
        task.task_units.all().delete()
    TaskUnit.objects.bulk_create(_unit_rows(task, data))


def _unit_rows(task: Task, data: TaskInput) -> list[TaskUnit]:
    """The task's unit roles as ``data`` gives them (unsaved rows)."""
    return [TaskUnit(task=task, unit=u, role=role, is_primary=primary, ordinal=ordinal)
            for u, role, primary, ordinal in _unit_roles(data)]


def _unit_roles(data: TaskInput) -> list[tuple[Unit, str, bool, int]]:
    """(unit, role, is_primary, ordinal) of every unit role ``data`` gives."""
    rows = [(u, UnitRole.RESPONSIBLE.value, i == 0, i) for i, u in enumerate(data.responsible_units)]
    if data.lead_supervisor:
        rows.append((data.lead_supervisor, UnitRole.LEAD_SUPERVISOR.value, True, 0))
    rows += [(u, UnitRole.CO_SUPERVISOR.value, False, i)
             for i, u in enumerate(data.co_supervisors) if u != data.lead_supervisor]
    acceptance = data.acceptance_unit or data.lead_supervisor
    if acceptance:
        rows.append((acceptance, UnitRole.ACCEPTANCE.value, True, 0))
    return rows


def _write_measures(task: Task, measures: list[MeasureInput], *, new: bool = False) -> None:
    existing = {} if new else {m.pk: m for m in task.measures.all()}
    rows = _measure_rows(task, existing, measures)
    if new:
        Measure.objects.bulk_create(rows)
        return
    for measure in rows:
        measure.save()
    task.measures.exclude(pk__in=[m.pk for m in rows]).delete()


def _measure_rows(task: Task, existing: dict[int, Measure], measures: list[MeasureInput]) -> list[Measure]:
    """The task's measures in the order ``measures`` gives them: the ``existing`` row of an item's
    id changed in place (its identity, done date kept), a new unsaved row otherwise."""
    today = timezone.localdate()
    rows = []
    for ordinal, item in enumerate(measures, start=1):
        measure = existing.get(item.id) if item.id else None
        if measure is None:
            measure = Measure(task=task)
        measure.ordinal = ordinal
        measure.text = item.text.strip()
        measure.owner_unit = item.owner_unit
        measure.due_date = item.due_date
        measure.done_at = (item.done_at or measure.done_at or today) if item.done else None
        measure.done = item.done
        rows.append(measure)
    return rows


def _apply(task: Task | _NewTask, data: TaskInput) -> None:
    task.code = data.code.strip()
    task.inspection_number = data.inspection_number.strip()
    task.title = data.title.strip()
    task.problem = data.problem.strip()
    task.target = data.target.strip()
    task.category = data.category
    task.leader = data.leader
    task.deadline_kind = data.deadline_kind
    task.deadline = data.deadline
    task.start_date = data.start_date or task.start_date
    task.progress_note = data.progress_note.strip()
    task.completion_note = data.completion_note.strip()
    task.location_name = data.location_name.strip()
    task.latitude, task.longitude = data.latitude, data.longitude


def _default_start(task: Task | _NewTask, today: dt.date) -> None:
    """A task's schedule (序时进度) starts at its own start date; left blank, it is the day the
    task leaves draft (becomes 四清楚), never the campaign's feedback date; a task that leaves
    draft after its deadline (entered late, already overdue) starts on its deadline."""
    if task.start_date is None and task.status != TaskStatus.DRAFT:
        task.start_date = min(today, task.deadline) if task.deadline else today


def _refresh_status(task: Task) -> None:
    """Draft ⇄ in rectification follows "四清楚" (the task table's system steps)."""
    task.status = _status_for(task.status, missing=bool(missing_essentials(task)))


def _status_for(status: str, *, missing: bool) -> str:
    if status not in (TaskStatus.DRAFT, TaskStatus.ACTIVE):
        return status
    rule = TASK_FLOW.rule(status, "lose_essentials" if missing else "complete_essentials")
    return rule.target if rule is not None else status


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
        _default_start(task, timezone.localdate())
        task.save(update_fields=["status", "start_date"])
        search.write_rows([(task.pk, search.task_grams(task))])
        record_event(actor=actor, action="task_created", obj=task,
                     summary=f"新增整改任务 {task.code}" + (f"（来源：{source}）" if source else ""),
                     after=snapshot(task))
        hooks.tasks_saved(task_ids=[task.pk])
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
        _default_start(locked, timezone.localdate())
        locked.version += 1
        locked.save()
        search.write_rows([(locked.pk, search.task_grams(locked))])
        after = snapshot(locked)
        changed = [k for k in after if k not in {"version"} and after[k] != before[k]]
        record_event(actor=actor, action="task_updated", obj=locked,
                     summary=f"修改整改任务 {locked.code}：" + ("、".join(FIELD_LABELS.get(k, k) for k in changed) or "无字段变化")
                     + (f"（来源：{source}）" if source else ""),
                     before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
        hooks.tasks_saved(task_ids=[locked.pk])
    return locked


# --- Many tasks at once (Excel import, 台账批量导入) ----------------------------------------


@dataclass
class TaskWrite:
    """One task of :func:`write_tasks`: a new task (``task`` None) or an update of ``task`` as the
    caller saw it at ``expected_version``. ``key`` is the caller's handle (a row of a file), handed
    back in :class:`BulkWriteError`."""

    data: TaskInput
    task: Task | None = None
    expected_version: int | None = None
    key: Any = None


class BulkWriteError(Exception):
    """One write of :func:`write_tasks` was refused; nothing was written. ``cause`` is what the
    one-task service would have raised (ValidationError, PermissionDenied, StaleVersionError)."""

    def __init__(self, write: TaskWrite, cause: Exception):
        self.write, self.cause = write, cause
        super().__init__(str(cause))


@dataclass(slots=True)
class _NewTask:
    """A task about to be inserted by :func:`write_tasks`: the fields :func:`_apply` sets and the
    snapshot reads, without a model instance (building 10,000 of those cost more than inserting
    them)."""

    campaign: Campaign
    pk: int | None = None
    code: str = ""
    inspection_number: str = ""
    title: str = ""
    problem: str = ""
    target: str = ""
    category: str = Category.OTHER
    leader: User | None = None
    deadline_kind: str = ""
    deadline: dt.date | None = None
    start_date: dt.date | None = None
    progress_note: str = ""
    completion_note: str = ""
    location_name: str = ""
    latitude: float | None = None
    longitude: float | None = None
    status: str = TaskStatus.DRAFT
    version: int = 1
    # the derived status (hooks.new_task_status), stored with the row
    progress_status: str = ""
    warning_colour: str = ""
    expected_percent: int | None = None
    actual_percent: int | None = None
    status_reasons: list = field(default_factory=list)
    status_computed_on: dt.date | None = None

    @property
    def leader_id(self) -> int | None:
        return self.leader.pk if self.leader is not None else None

    def __str__(self) -> str:
        return f"{self.code} {self.title}"  # as Task's


@dataclass
class _Created:
    """A new task ready to insert: the row, its unit roles and measures as plain tuples, and the
    snapshot its ``task_created`` event records."""

    write: TaskWrite
    task: _NewTask
    units: list[tuple[Unit, str, bool, int]]
    measures: list[tuple[int, str, Unit | None, dt.date | None, bool, dt.date | None]]
    after: dict
    grams: str = ""  # its keyword index row (ledger.search), built aside (write_tasks)


@dataclass
class _Updated:
    write: TaskWrite
    task: Task
    units: list[TaskUnit]
    measures: list[Measure]
    before: dict
    after: dict
    changed: list[str]


BULK_BATCH = 500  # tasks per IN list: bounded on every database

_TASK_COLUMNS = ["id", "campaign_id", "code", "inspection_number", "title", "problem", "target", "category",
                 "leader_id", "deadline_kind", "deadline", "start_date", "progress_note", "completion_note", "status",
                 "version", "created_at", "updated_at", "location_name", "latitude", "longitude", "progress_status",
                 "warning_colour", "expected_percent", "actual_percent", "status_reasons", "status_computed_on"]
_BULK_FIELDS = ["code", "inspection_number", "title", "problem", "target", "category", "leader", "deadline_kind",
                "deadline", "start_date", "progress_note", "completion_note", "status", "version", "updated_at",
                "location_name", "latitude", "longitude"]


@gc_paused
def write_tasks(*, actor: User, campaign: Campaign, writes: list[TaskWrite], source: str = "",
                then: Callable[[int, int], None] | None = None,
                progress: Callable[[int, int], None] | None = None) -> tuple[int, int]:
    """Create and update many tasks of one campaign, all or nothing (批量写入); returns (created, updated).

    The same rules, rows and audit events (``task_created`` / ``task_updated`` with the same
    snapshots) as :func:`create_task` and :func:`update_task` one by one, written in bulk. Every
    input is checked and every new task, unit role, measure and snapshot built before the
    transaction; inside it, one query reads the campaign's codes to check the new ones, and one
    per 500 tasks to update locks them (scope, frozen stage, version) and reads their units and
    measures; new rows go in through
    :mod:`rectify.core.bulk` (COPY / one prepared INSERT), updates with ``bulk_update``, and the
    events with :func:`rectify.core.audit.append_events` under one take of the chain lock; the
    derived statuses follow once it has committed (``tasks_saved``). Raises
    :class:`BulkWriteError` naming the first refused write. ``then(created, updated)`` runs last
    inside the same transaction (the import's own event). ``progress(done, total)`` is told
    half-way, inside the transaction, once the tasks themselves are written (their units,
    measures and events follow), so a background job shows the write under way.
    """
    from rectify.core.audit import append_events, prepare_events
    from rectify.core.bulk import insert_rows, meanwhile, reserve_ids

    require_campaign_access(actor, campaign)
    label = f"（来源：{source}）" if source else ""
    today = timezone.localdate()
    creates: list[_Created] = []
    codes: dict[str, TaskWrite] = {}
    statuses: dict[tuple, dict | None] = {}  # new tasks alike in what their status is derived from
    for write in writes:
        errors = _input_errors(write.data)
        code = write.data.code.strip()
        if write.task is None and code in codes:
            errors.setdefault("code", []).append(f"任务编号 {code} 重复。")
        if errors:
            raise BulkWriteError(write, ValidationError(errors))
        if write.task is None:
            codes[code] = write
            creates.append(_prepare_create(write, campaign, today, statuses))
    updates = [w for w in writes if w.task is not None]
    # The new tasks' events and keyword rows are built before the write lock (the events' ids are
    # filled in once reserved): under the lock only each link is computed. They and the rows carry
    # one time. On PostgreSQL they are built while the transaction below waits on the server's
    # COPYs (core.bulk.meanwhile); elsewhere before it opens.
    now = timezone.now()
    event_rows = [{"actor": actor, "action": "task_created", "object_type": "ledger.task",
                   "object_label": str(c.task)[:300], "summary": f"新增整改任务 {c.task.code}{label}",
                   "after": c.after, "created_at": now} for c in creates]

    def built_aside() -> list:
        for c in creates:
            c.grams = search.task_grams(c.task)
        return prepare_events(event_rows)

    getattr(actor, "unit", None)  # loaded here: the events name the actor's unit, and built_aside runs no query
    aside = meanwhile(built_aside, using=router.db_for_write(Task))
    with transaction.atomic():
        if codes:
            # the campaign's codes in one read of its (campaign, code) index, not a query per 500
            in_use = set(Task.objects.filter(campaign=campaign).values_list("code", flat=True))
            taken = next((code for code in codes if code in in_use), None)
            if taken is not None:
                raise BulkWriteError(codes[taken], ValidationError(
                    {"code": [f"任务编号 {taken} 在批次「{campaign.name}」中已存在。"]}))
        updated = _prepare_updates(actor, updates)
        for c, pk in zip(creates, reserve_ids(Task, len(creates)), strict=True):
            c.task.pk = pk
        with tally.tasks_in_bulk(using=router.db_for_write(Task)):
            insert_rows(Task, _TASK_COLUMNS, (
                (t.pk, campaign.pk, t.code, t.inspection_number, t.title, t.problem, t.target, t.category,
                 t.leader_id, t.deadline_kind, t.deadline, t.start_date, t.progress_note, t.completion_note, t.status,
                 t.version, now, now, t.location_name, t.latitude, t.longitude, t.progress_status, t.warning_colour,
                 t.expected_percent, t.actual_percent, t.status_reasons, t.status_computed_on)
                for t in (c.task for c in creates)))
        if updated:
            _write_updates(updated, now)
        if progress is not None:
            progress(len(writes) // 2, len(writes))
        with contextlib.ExitStack() as around:
            for handler in hooks.bulk_task_units(using=router.db_for_write(TaskUnit)):
                if handler is not None:
                    around.enter_context(handler)
            insert_rows(TaskUnit, ["task_id", "unit_id", "role", "is_primary", "ordinal"],
                        [(c.task.pk, u.pk, role, primary, ordinal)
                         for c in creates for u, role, primary, ordinal in c.units]
                        + [(tu.task_id, tu.unit_id, tu.role, tu.is_primary, tu.ordinal)
                           for p in updated for tu in p.units])
        insert_rows(Measure, ["task_id", "ordinal", "text", "owner_unit_id", "due_date", "done", "done_at"],
                    [(c.task.pk, o, text, owner.pk if owner else None, due, done, done_at)
                     for c in creates for o, text, owner, due, done, done_at in c.measures]
                    + [(m.task_id, m.ordinal, m.text, m.owner_unit_id, m.due_date, m.done, m.done_at)
                       for p in updated for m in p.measures if m.pk is None])
        created_events = dict(zip((id(c.write) for c in creates), aside.result(), strict=True))
        # new tasks' ids were never used (reserve_ids), and a deleted task's row goes with it: no
        # row to replace (20 DELETEs of 500 ids for an import of 10,000)
        search.write_rows_new([(c.task.pk, c.grams) for c in creates])
        search.write_rows([(p.task.pk, search.task_grams(p.task)) for p in updated])
        by_write: dict[int, _Created | _Updated] = {id(c.write): c for c in creates}
        by_write.update((id(p.write), p) for p in updated)
        events: list = []
        for write in writes:
            done = by_write[id(write)]
            if isinstance(done, _Created):
                event = created_events[id(write)]
                event.object_id = str(done.task.pk)
                events.append(event)
            else:
                target = {"object_type": "ledger.task", "object_id": done.task.pk, "object_label": str(done.task)[:300]}
                events.append({"actor": actor, "action": "task_updated", **target,
                               "summary": f"修改整改任务 {done.task.code}："
                                          + ("、".join(FIELD_LABELS.get(k, k) for k in done.changed) or "无字段变化")
                                          + label,
                               "before": {k: done.before[k] for k in done.changed},
                               "after": {k: done.after[k] for k in done.changed}})
        append_events(events)
        if then is not None:
            then(len(creates), len(updated))
    # New tasks went in with their derived status (hooks.new_task_status, computed before the
    # transaction: they have no reports yet). Updated tasks' statuses follow once the write lock is
    # released, in their own short transactions (1,000 tasks each): at 25,000 tasks computing 10,000
    # inside took 2.6 s of a 9 s lock. Should the process die in between, the daily tick computes them.
    uncomputed = [c.task.pk for c in creates if not c.task.status_computed_on]  # no handler to compute them
    hooks.tasks_saved(task_ids=[p.task.pk for p in updated] + uncomputed)
    if uncomputed:
        # A first status is no change of status (no flip, no event), and these were written after the
        # import's events: one event marks them, so that the chain's head — which keys the battle
        # map's kept figures — moves once they are in.
        with transaction.atomic():
            record_event(actor_name="系统（状态计算）", action="task_statuses_computed", obj=campaign,
                         summary=f"已计算导入的 {len(uncomputed)} 项任务的进度状态")
    return len(creates), len(updated)


def _prepare_create(write: TaskWrite, campaign: Campaign, today: dt.date,
                    statuses: dict[tuple, dict | None]) -> _Created:
    """A new task's row, unit roles, measures, status and snapshot, as :func:`create_task` would
    write them. No query. ``statuses`` keeps the derived status per inputs of
    ``hooks.new_task_status`` (a ledger's tasks share deadlines and start dates: one answer each)."""
    data = write.data
    task = _NewTask(campaign=campaign)
    _apply(task, data)
    units = _unit_roles(data)
    measures = [(i, m.text.strip(), m.owner_unit, m.due_date, m.done, (m.done_at or today) if m.done else None)
                for i, m in enumerate(data.measures or [], start=1)]
    task.status = _status_for(task.status, missing=bool(_missing(
        problem=task.problem, has_measures=bool(measures),
        has_responsible=any(role == UnitRole.RESPONSIBLE for _, role, _, _ in units),
        deadline_kind=task.deadline_kind, deadline=task.deadline)))
    _default_start(task, today)
    done = sum(1 for m in measures if m[4])
    key = (task.status, task.deadline_kind, task.deadline, task.start_date, len(measures), done)
    if key not in statuses:
        statuses[key] = next((d for d in hooks.new_task_status(task=task, measures_total=len(measures),
                                                                measures_done=done, today=today) if d), None)
    derived = statuses[key]
    if derived:
        for name, value in derived.items():
            setattr(task, name, list(value) if type(value) is list else value)  # status_reasons: its own
    after = _snapshot(task, [(role, u.name) for u, role, _, o in sorted(units, key=lambda r: (r[1], r[3]))],
                      [{"text": text, "owner": owner.name if owner else None, "due": due, "done": done}
                       for _, text, owner, due, done, _ in measures])
    return _Created(write, task, units, measures, after)


def _prepare_updates(actor: User, updates: list[TaskWrite]) -> list[_Updated]:
    """Lock the tasks to update (500 at a time), check each as :func:`update_task` does and build
    its new rows and snapshots. Inside the caller's transaction."""
    from django.db.models import Prefetch, prefetch_related_objects

    from rectify.core.models import Event

    out = []
    for start in range(0, len(updates), BULK_BATCH):
        part = updates[start:start + BULK_BATCH]
        locked = {t.pk: t for t in Task.objects.editable_by(actor).select_for_update(of=("self",))
                  .select_related("campaign", "leader").filter(pk__in=[w.task.pk for w in part if w.task])}
        prefetch_related_objects(
            list(locked.values()),
            Prefetch("task_units", queryset=TaskUnit.objects.select_related("unit").order_by("role", "ordinal", "id")),
            Prefetch("measures", queryset=Measure.objects.select_related("owner_unit").order_by("ordinal", "id")))
        for write in part:
            assert write.task is not None
            task = locked.get(write.task.pk)
            if task is None:
                raise BulkWriteError(write, PermissionDenied("您无权修改该任务。"))
            if task.status == TaskStatus.CLOSED or task.closeout_stage in FROZEN_STAGES:
                raise BulkWriteError(write, ValidationError(
                    f"任务 {task.code} 处于「{task.get_closeout_stage_display() or task.get_status_display()}」"
                    "阶段，内容已随公示冻结，不能修改；如需修改，请先将销号申请退回整改。"))
            if task.version != write.expected_version:
                last = (Event.objects.filter(object_type="ledger.task", object_id=str(task.pk))
                        .order_by("-seq").values("actor_name", "created_at").first()) or {}
                raise BulkWriteError(write, StaleVersionError(task, write.expected_version or 0,
                                                              last.get("actor_name", ""), last.get("created_at")))
            old_units, old_measures = list(task.task_units.all()), list(task.measures.all())
            before = _snapshot(task, [(tu.role, tu.unit.name) for tu in old_units],
                               [_measure_entry(m) for m in old_measures])
            _apply(task, write.data)
            units = _unit_rows(task, write.data)
            measures = (_measure_rows(task, {m.pk: m for m in old_measures}, write.data.measures)
                        if write.data.measures is not None else old_measures)
            task.status = _status_for(task.status, missing=bool(_missing(
                problem=task.problem, has_measures=bool(measures),
                has_responsible=any(tu.role == UnitRole.RESPONSIBLE for tu in units),
                deadline_kind=task.deadline_kind, deadline=task.deadline)))
            _default_start(task, timezone.localdate())
            task.version += 1
            after = _snapshot(task, [(tu.role, tu.unit.name) for tu in sorted(units, key=lambda tu: (tu.role, tu.ordinal))],
                              [_measure_entry(m) for m in measures])
            changed = [k for k in after if k != "version" and after[k] != before[k]]
            out.append(_Updated(write, task, units, measures, before, after, changed))
    return out


def _write_updates(updated: list[_Updated], now: dt.datetime) -> None:
    """The updated tasks' rows; their unit roles replaced, measures kept by id, removed ones
    deleted (new unit roles and measures are inserted by the caller)."""
    for p in updated:
        p.task.updated_at = now
    Task.objects.bulk_update([p.task for p in updated], _BULK_FIELDS, batch_size=BULK_BATCH)
    kept = [m for p in updated for m in p.measures if m.pk is not None]
    Measure.objects.bulk_update(kept, ["ordinal", "text", "owner_unit", "due_date", "done", "done_at"],
                                batch_size=BULK_BATCH)
    for start in range(0, len(updated), BULK_BATCH):
        part = updated[start:start + BULK_BATCH]
        TaskUnit.objects.filter(task_id__in=[p.task.pk for p in part]).delete()
        (Measure.objects.filter(task_id__in=[p.task.pk for p in part])
         .exclude(pk__in=[m.pk for p in part for m in p.measures if m.pk is not None]).delete())


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
        location_name=task.location_name, latitude=task.latitude, longitude=task.longitude,
        measures=[MeasureInput(id=m.pk, text=m.text, owner_unit=m.owner_unit, due_date=m.due_date, done=m.done,
                               done_at=m.done_at)
                  for m in measures],
    )


FIELD_LABELS = {
    "code": "任务编号", "inspection_number": "督察问题编号", "title": "问题/任务名称", "problem": "问题描述",
    "target": "整改目标", "category": "问题类别", "leader": "责任领导", "deadline_kind": "时限类型",
    "deadline": "整改时限", "start_date": "开始日期", "progress_note": "整改进展", "completion_note": "完成情况",
    "status": "状态", "units": "责任/督导单位", "measures": "整改措施", "location": "位置",
}


# --- the list's settings (台账列表设置): one user's own, in the record like every write ------------


def _own_preference(actor: User) -> ListPreference:
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied("请先登录。")
    preference, _created = ListPreference.objects.select_for_update().get_or_create(
        user=actor, defaults={"columns": list(list_options.DEFAULT_COLUMNS)})
    return preference


def save_list_view(*, actor: User, columns: Iterable[str], two_line: bool) -> ListPreference:
    """Remember which columns the actor's ledger list shows and whether a task takes one line or two."""
    columns = [str(c)[:40] for c in list(columns)[:len(list_options.COLUMNS) + 5]]
    chosen = [key for key, _label in list_options.COLUMNS if key in set(columns)]
    unknown = sorted(set(columns) - list_options.COLUMN_KEYS)
    if unknown:
        raise ValidationError({"columns": f"没有这一列：{'、'.join(unknown)[:60]}"})
    with transaction.atomic():
        preference = _own_preference(actor)
        before = {"columns": preference.shown_columns(), "two_line": preference.two_line}
        preference.columns, preference.two_line = chosen, bool(two_line)
        preference.save(update_fields=["columns", "two_line", "updated_at"])
        record_event(actor=actor, action="ledger_list_view_saved", obj=preference,
                     summary=f"台账列表显示 {len(chosen)} 列，{'两行' if two_line else '单行'}显示",
                     before=before, after={"columns": chosen, "two_line": bool(two_line)})
    return preference


def save_list_filter(*, actor: User, name: str, query: str) -> ListPreference:
    """Save the actor's current filter under a name (常用筛选); the same name replaces the old one."""
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": "请填写筛选名称。"})
    if len(name) > list_options.MAX_FILTER_NAME:
        raise ValidationError({"name": f"筛选名称最多 {list_options.MAX_FILTER_NAME} 个字。"})
    if name in {str(label) for label, _q in list_options.BUILTIN_FILTERS}:
        raise ValidationError({"name": f"“{name}”是系统内置的筛选，请换一个名称。"})
    cleaned = list_options.clean_query(query)
    if not cleaned:
        raise ValidationError({"query": "当前没有筛选条件，无需保存。"})
    if len(cleaned) > list_options.MAX_FILTER_QUERY:
        raise ValidationError({"query": "筛选条件过长，无法保存。"})
    with transaction.atomic():
        preference = _own_preference(actor)
        kept = [f for f in preference.saved_filters if f.get("name") != name]
        if len(kept) >= list_options.MAX_SAVED_FILTERS:
            raise ValidationError({"name": f"最多保存 {list_options.MAX_SAVED_FILTERS} 个筛选，请先删除不用的。"})
        replaced = len(kept) != len(preference.saved_filters)
        preference.saved_filters = [*kept, {"name": name, "query": cleaned}]
        preference.save(update_fields=["saved_filters", "updated_at"])
        record_event(actor=actor, action="ledger_filter_saved", obj=preference,
                     summary=f"{'更新' if replaced else '保存'}台账筛选“{name}”", after={"name": name, "query": cleaned})
    return preference


def delete_list_filter(*, actor: User, name: str) -> ListPreference:
    """Remove one of the actor's saved filters."""
    with transaction.atomic():
        preference = _own_preference(actor)
        gone = [f for f in preference.saved_filters if f.get("name") == name]
        if not gone:
            raise ValidationError({"name": "没有这个筛选，可能已被删除。"})
        preference.saved_filters = [f for f in preference.saved_filters if f.get("name") != name]
        preference.save(update_fields=["saved_filters", "updated_at"])
        record_event(actor=actor, action="ledger_filter_deleted", obj=preference,
                     summary=f"删除台账筛选“{name}”", before=gone[0])
    return preference
