"""Ledger under /api/v1: tasks and measures, through the same selectors and services as the pages."""


import datetime as dt

from django.core.exceptions import ValidationError
from django.http import Http404
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from rectify.core.paging import ApiId, ApiPagination, ApiVersion, Counted
from rectify.ledger import selectors, services
from rectify.ledger.models import Measure, Task, UnitRole
from rectify.orgs.models import Unit, User

router = Router(tags=["台账"])


class MeasureOut(Schema):
    id: int
    ordinal: int
    text: str
    owner_unit: str | None = Field(None, alias="owner_unit.name")
    due_date: dt.date | None
    done: bool


class TaskOut(Schema):
    id: int
    campaign: str = Field(..., alias="campaign.code")
    code: str
    inspection_number: str
    title: str
    problem: str
    target: str
    category: str
    status: str
    deadline_kind: str
    deadline: dt.date | None
    start_date: dt.date | None
    location_name: str = ""
    latitude: float | None = None
    longitude: float | None = None
    leader: str | None = None
    responsible_units: list[str] = []
    lead_supervisor: str | None = None
    co_supervisors: list[str] = []
    acceptance_unit: str | None = None
    version: int
    missing_essentials: list[str] = []

    @staticmethod
    def resolve_leader(obj):
        return obj.leader.display_name if obj.leader_id else None

    @staticmethod
    def _units(obj, role):
        return [tu.unit.name for tu in obj.task_units.all() if tu.role == role]

    @staticmethod
    def resolve_responsible_units(obj):
        return TaskOut._units(obj, UnitRole.RESPONSIBLE)

    @staticmethod
    def resolve_lead_supervisor(obj):
        return next(iter(TaskOut._units(obj, UnitRole.LEAD_SUPERVISOR)), None)

    @staticmethod
    def resolve_co_supervisors(obj):
        return TaskOut._units(obj, UnitRole.CO_SUPERVISOR)

    @staticmethod
    def resolve_acceptance_unit(obj):
        return next(iter(TaskOut._units(obj, UnitRole.ACCEPTANCE)), None)

    @staticmethod
    def resolve_missing_essentials(obj):
        return services.missing_essentials(obj)


class TaskDetailOut(TaskOut):
    measures: list[MeasureOut] = []
    progress_note: str
    completion_note: str

    @staticmethod
    def resolve_measures(obj):
        return list(obj.measures.all())


class MeasureIn(Schema):
    id: ApiId | None = None
    text: str
    owner_unit: str | None = None
    due_date: dt.date | None = None
    done: bool = False


class TaskIn(Schema):
    campaign: str | None = Field(None, description="整改批次编号；新建时必填")
    code: str
    title: str
    problem: str = ""
    target: str = ""
    inspection_number: str = ""
    category: str = "other"
    responsible_units: list[str] = Field([], description="单位名称，第一个为牵头主体责任单位")
    lead_supervisor: str | None = None
    co_supervisors: list[str] = []
    acceptance_unit: str | None = None
    leader: str | None = Field(None, description="责任领导的用户名")
    deadline_kind: str = ""
    deadline: dt.date | None = None
    start_date: dt.date | None = Field(None, description="开始日期（序时进度的起点）；不填则取任务转为整改中之日")
    progress_note: str = ""
    completion_note: str = ""
    location_name: str = Field("", max_length=200, description="位置（文字）")
    latitude: float | None = Field(None, description="纬度（WGS-84）；与经度同时填写，用于核对佐证照片拍摄地点")
    longitude: float | None = Field(None, description="经度（WGS-84）")
    measures: list[MeasureIn] | None = None


class TaskUpdateIn(TaskIn):
    version: int = Field(..., description="客户端读取时的版本号；过期的写入返回 409")


class MeasureCreateIn(Schema):
    version: ApiVersion
    text: str
    owner_unit: str | None = None
    due_date: dt.date | None = None
    done: bool = False


class MeasureUpdateIn(Schema):
    version: int = Field(..., description="所属任务的版本号")
    text: str | None = None
    owner_unit: str | None = None
    due_date: dt.date | None = None
    done: bool | None = None


class TaskFilterIn(Schema):
    campaign: ApiId | None = None
    category: str = ""
    unit: ApiId | None = None
    county: ApiId | None = None
    status: str = ""
    deadline_kind: str = ""
    deadline_from: dt.date | None = None
    deadline_to: dt.date | None = None
    q: str = Field("", max_length=100, description="关键词：空格分隔，每个词都须出现在编号、督察问题编号、名称、问题描述或整改目标中")
    sort: str = "code"


def _unit(name: str | None, field: str) -> Unit | None:
    if not name:
        return None
    unit = Unit.objects.filter(name=name).first()
    if unit is None:
        raise ValidationError({field: [f"未知单位：{name}"]})
    return unit


def _to_input(payload: TaskIn) -> services.TaskInput:
    leader = None
    if payload.leader:
        leader = User.objects.filter(username=payload.leader, role="leader").first()
        if leader is None:
            raise ValidationError({"leader": [f"未知的市领导账户：{payload.leader}"]})
    return services.TaskInput(
        code=payload.code, title=payload.title, problem=payload.problem, target=payload.target,
        inspection_number=payload.inspection_number, category=payload.category,
        responsible_units=[_unit(n, "responsible_units") for n in payload.responsible_units],
        lead_supervisor=_unit(payload.lead_supervisor, "lead_supervisor"),
        co_supervisors=[_unit(n, "co_supervisors") for n in payload.co_supervisors],
        acceptance_unit=_unit(payload.acceptance_unit, "acceptance_unit"), leader=leader,
        deadline_kind=payload.deadline_kind, deadline=payload.deadline, start_date=payload.start_date,
        progress_note=payload.progress_note, completion_note=payload.completion_note,
        location_name=payload.location_name, latitude=payload.latitude, longitude=payload.longitude,
        measures=None if payload.measures is None else [
            services.MeasureInput(id=m.id, text=m.text, owner_unit=_unit(m.owner_unit, "measures"),
                                  due_date=m.due_date, done=m.done) for m in payload.measures])


def _detail(user, pk: int) -> Task:
    task, _ = selectors.get_task_for_user(user, pk)
    return task


@router.get("/tasks", response=list[TaskOut], summary="任务列表（按权限范围）")
@paginate(ApiPagination)
def list_tasks(request, filters: Query[TaskFilterIn]):
    wanted = selectors.TaskFilter(**filters.dict())
    tasks = selectors.with_list_data(selectors.task_queryset(request.auth, wanted))
    count = selectors.task_count(request.auth, wanted)  # the keyword index's, where it is exact (as the web list)
    return tasks if count is None else Counted(tasks, count)


@router.get("/tasks/{task_id}", response=TaskDetailOut, summary="任务详情")
def get_task(request, task_id: int):
    return _detail(request.auth, task_id)


@router.post("/tasks", response={201: TaskDetailOut}, summary="新增任务")
def create_task(request, payload: TaskIn):
    campaign = selectors.campaigns_for(request.auth).filter(code=payload.campaign or "").first()
    if campaign is None:
        raise ValidationError({"campaign": ["整改批次不存在或无权使用"]})
    task = services.create_task(actor=request.auth, campaign=campaign, data=_to_input(payload), source="API")
    return Status(201, _detail(request.auth, task.pk))


@router.put("/tasks/{task_id}", response=TaskDetailOut, summary="修改任务（整体替换，须带版本号）")
def update_task(request, task_id: int, payload: TaskUpdateIn):
    task = _detail(request.auth, task_id)
    services.update_task(actor=request.auth, task=task, expected_version=payload.version,
                         data=_to_input(payload), source="API")
    return _detail(request.auth, task_id)


@router.get("/tasks/{task_id}/measures", response=list[MeasureOut], summary="任务的整改措施")
def list_measures(request, task_id: int):
    return list(_detail(request.auth, task_id).measures.all())


@router.post("/tasks/{task_id}/measures", response={201: MeasureOut}, summary="新增措施")
def create_measure(request, task_id: int, payload: MeasureCreateIn):
    task = _detail(request.auth, task_id)
    measure = services.add_measure(actor=request.auth, task=task, expected_version=payload.version,
                                   measure=services.MeasureInput(text=payload.text,
                                                                 owner_unit=_unit(payload.owner_unit, "owner_unit"),
                                                                 due_date=payload.due_date, done=payload.done))
    return Status(201, measure)


def _measure_for(user, measure_id: int) -> Measure:
    measure = Measure.objects.filter(pk=measure_id, task__in=Task.objects.visible_to(user)).select_related(
        "task", "owner_unit").first()
    if measure is None:
        raise Http404
    return measure


@router.get("/measures/{measure_id}", response=MeasureOut, summary="措施详情")
def get_measure(request, measure_id: int):
    return _measure_for(request.auth, measure_id)


@router.patch("/measures/{measure_id}", response=MeasureOut, summary="修改措施（须带所属任务的版本号）")
def update_measure(request, measure_id: int, payload: MeasureUpdateIn):
    measure = _measure_for(request.auth, measure_id)
    return services.update_measure(actor=request.auth, measure=measure, expected_version=payload.version,
                                   text=payload.text, owner_unit=_unit(payload.owner_unit, "owner_unit"),
                                   due_date=payload.due_date, done=payload.done)


class CampaignOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    feedback_date: dt.date | None


@router.get("/campaigns", response=list[CampaignOut], summary="整改批次")
def list_campaigns(request):
    return list(selectors.campaigns_for(request.auth))


