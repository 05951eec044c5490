"""Accountability cases under /api/v1, within the same confidentiality as the pages: every read goes
through ``AccountabilityCase.objects.visible_to`` (a role that may not see a case gets an empty list
and 404), persons concerned are masked in lists and in full on a case's detail."""

import datetime as dt

from django.http import Http404
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from rectify.accountability import selectors, services
from rectify.accountability.models import CaseKind, Outcome
from rectify.accountability.workflows import CASE_FLOW
from rectify.core.crypto import mask_name
from rectify.core.paging import ApiId, ApiPagination, ApiVersion
from rectify.orgs.models import Unit

router = Router(tags=["追责问责"])


class PersonOut(Schema):
    id: int
    name: str = Field(..., description="列表中脱敏；案件详情中为全名")
    post: str
    unit: str
    outcome: str
    outcome_note: str


class CaseOut(Schema):
    id: int
    number: str
    title: str
    kind: str
    kind_label: str
    source: str
    status: str
    status_label: str
    version: int
    office: str = Field(..., alias="office.name")
    lead_unit: str | None = None
    investigation_due: dt.date | None
    commission: str | None = None
    referral_number: str
    referred_at: dt.datetime | None
    handling_due: dt.date | None
    outcome: str
    created_at: dt.datetime
    persons: list[PersonOut] = []

    @staticmethod
    def resolve_kind_label(obj):
        return obj.get_kind_display()

    @staticmethod
    def resolve_status_label(obj):
        return obj.get_status_display()

    @staticmethod
    def resolve_lead_unit(obj):
        return obj.lead_unit.name if obj.lead_unit_id else None

    @staticmethod
    def resolve_commission(obj):
        return obj.commission.name if obj.commission_id else None

    @staticmethod
    def resolve_persons(obj):
        return [_person(p, masked=True) for p in obj.persons.all()]


def _person(p, *, masked: bool) -> dict:
    return {"id": p.pk, "name": mask_name(p.name) if masked else p.name,
            "post": ("*" * min(len(p.post), 4)) if masked and p.post else p.post, "unit": p.unit.name,
            "outcome": p.outcome, "outcome_note": "" if masked else p.outcome_note}


class TaskRef(Schema):
    id: int
    code: str
    title: str
    status: str


class NoteOut(Schema):
    id: int
    kind: str
    text: str
    author: str | None = None
    created_at: dt.datetime

    @staticmethod
    def resolve_author(obj):
        return obj.author.username if obj.author_id else None


class FileOut(Schema):
    id: int
    file_kind: str
    original_name: str
    size: int
    digest: str
    uploaded_at: dt.datetime


class CaseDetailOut(CaseOut):
    facts: str
    findings: str
    recommendation: str
    review_opinion: str
    referral_note: str
    commission_ref: str
    accepted_at: dt.datetime | None
    outcome_detail: str
    outcome_reason: str
    decided_at: dt.datetime | None
    closed_at: dt.datetime | None
    refusal_reason: str
    returned_reason: str
    units: list[str] = []
    tasks: list[TaskRef] = []
    notes: list[NoteOut] = []
    files: list[FileOut] = []
    actions: list[str] = Field([], description="当前用户可执行的操作（来自案件流程表）")

    @staticmethod
    def resolve_persons(obj):
        return [_person(p, masked=False) for p in obj.persons.select_related("unit")]

    @staticmethod
    def resolve_units(obj):
        return [link.unit.name for link in obj.unit_links.all()]

    @staticmethod
    def resolve_tasks(obj):
        return [{"id": link.task.pk, "code": link.task.code, "title": link.task.title, "status": link.task.status}
                for link in obj.task_links.all()]

    @staticmethod
    def resolve_notes(obj):
        return list(obj.notes.select_related("author"))

    @staticmethod
    def resolve_files(obj):
        return obj.files_out

    @staticmethod
    def resolve_actions(obj):
        return obj.actions


class CaseFilterIn(Schema):
    tab: str = Field("", description="、".join(f"{k}（{v[0]}）" for k, v in selectors.TABS.items()))
    q: str = Field("", max_length=50)


class CaseIn(Schema):
    task_ids: list[int] = Field(..., min_length=1, max_length=50)
    kind: str = Field(..., description="、".join(f"{v}（{label}）" for v, label in CaseKind.choices))
    title: str = Field(..., max_length=200)
    facts: str = Field(..., max_length=4000)
    lead_unit: int | None = Field(None, description="牵头调查单位 id（案件承办人立案时必填；牵头督导单位立案时为本单位）")
    investigation_due: dt.date
    unit_ids: list[int] = Field([], max_length=50, description="涉及单位 id；留空为关联任务的主体责任单位")


class StepIn(Schema):
    version: ApiVersion
    reason: str = Field("", max_length=4000)
    opinion: str = Field("", max_length=4000)
    note: str = Field("", max_length=4000)
    lead_unit: ApiId | None = None
    investigation_due: dt.date | None = None
    commission: ApiId | None = None
    commission_ref: str = Field("", max_length=60)
    handling_due: dt.date | None = None
    outcome: str = Field("", description="、".join(f"{v}（{label}）" for v, label in Outcome.choices))
    detail: str = Field("", max_length=4000)
    person_outcomes: dict[int, tuple[str, str]] = Field({}, description="涉及人员 id → [处理结果, 处理情况]")


class FindingsIn(Schema):
    version: ApiVersion
    findings: str = Field("", max_length=4000)
    recommendation: str = Field("", max_length=4000)


class PersonIn(Schema):
    name: str = Field(..., max_length=50)
    post: str = Field("", max_length=100)
    unit: ApiId


class NoteIn(Schema):
    text: str = Field(..., max_length=4000)


class Conflict(Schema):
    detail: str
    current_version: int
    current_status: str


def _unit(pk: int | None) -> Unit | None:
    if pk is None:
        return None
    unit = Unit.objects.filter(pk=pk, is_active=True).first()
    if unit is None:
        from django.core.exceptions import ValidationError

        raise ValidationError({"unit": [f"单位 {pk} 不存在。"]})
    return unit


def _detail(user, pk: int):
    case = selectors.get_case_for_user(user, pk)
    case.actions = [t.action for t in selectors.case_actions(user, case)]  # type: ignore[attr-defined]
    case.files_out = list(selectors.files_for(user, case))  # type: ignore[attr-defined]
    return case


@router.get("/cases", response=list[CaseOut], summary="追责问责案件（仅案件承办人、调查中的牵头调查单位和纪委监委可见）")
@paginate(ApiPagination)
def list_cases(request, filters: Query[CaseFilterIn]):
    return selectors.case_list(request.auth, tab=filters.tab if filters.tab in selectors.TABS else "",
                               q=filters.q.strip())


@router.get("/cases/{case_id}", response=CaseDetailOut, summary="案件详情（涉及人员全名，仅对可见者）")
def get_case(request, case_id: int):
    return _detail(request.auth, case_id)


@router.post("/cases", response={201: CaseDetailOut}, summary="立案（案件承办人，或牵头督导单位对其督导的任务）")
def open_case(request, payload: CaseIn):
    case = services.open_case(actor=request.auth, task_ids=payload.task_ids, kind=payload.kind, title=payload.title,
                              facts=payload.facts, lead_unit=_unit(payload.lead_unit),
                              investigation_due=payload.investigation_due, unit_ids=payload.unit_ids or None)
    return Status(201, _detail(request.auth, case.pk))


@router.post("/cases/{case_id}/actions/{action}", response={200: CaseDetailOut, 409: Conflict},
             summary="办理一步：" + "、".join(f"{a}（{CASE_FLOW.label_of(a)}）" for a in CASE_FLOW.actions))
def case_step(request, case_id: int, action: str, payload: StepIn):
    if action not in CASE_FLOW.actions:
        raise Http404
    case = selectors.get_case_for_user(request.auth, case_id)
    try:
        services.transition(actor=request.auth, case=case, action=action, expected_version=payload.version,
                            reason=payload.reason, opinion=payload.opinion, note=payload.note,
                            lead_unit=_unit(payload.lead_unit), investigation_due=payload.investigation_due,
                            commission=_unit(payload.commission), commission_ref=payload.commission_ref,
                            handling_due=payload.handling_due, outcome=payload.outcome, detail=payload.detail,
                            person_outcomes=payload.person_outcomes)
    except services.StaleCaseError as exc:
        return Status(409, {"detail": str(exc), "current_version": exc.case.version, "current_status": exc.case.status})
    return Status(200, _detail(request.auth, case_id))


@router.put("/cases/{case_id}/findings", response={200: CaseDetailOut, 409: Conflict},
            summary="保存调查结论和追责问责建议（调查中的牵头调查单位）")
def put_case_findings(request, case_id: int, payload: FindingsIn):
    case = selectors.get_case_for_user(request.auth, case_id)
    try:
        services.save_findings(actor=request.auth, case=case, expected_version=payload.version,
                               findings=payload.findings, recommendation=payload.recommendation)
    except services.StaleCaseError as exc:
        return Status(409, {"detail": str(exc), "current_version": exc.case.version, "current_status": exc.case.status})
    return Status(200, _detail(request.auth, case_id))


@router.post("/cases/{case_id}/persons", response={201: PersonOut}, summary="登记涉及人员（姓名、职务加密保存）")
def add_case_person(request, case_id: int, payload: PersonIn):
    case = selectors.get_case_for_user(request.auth, case_id)
    unit = _unit(payload.unit)
    if unit is None:  # PersonIn.unit is required: _unit only returns None for None
        raise Http404
    person = services.add_person(actor=request.auth, case=case, name=payload.name, post=payload.post, unit=unit)
    return Status(201, _person(person, masked=False))


@router.post("/cases/{case_id}/notes", response={201: NoteOut}, summary="添加调查记录、办理情况或工作记录")
def add_case_note(request, case_id: int, payload: NoteIn):
    case = selectors.get_case_for_user(request.auth, case_id)
    return Status(201, services.add_note(actor=request.auth, case=case, text=payload.text))
