"""Close-out (销号), objections (异议) and look-backs (回头看) under /api/v1.

Thin, like the pages: reads through ``closeout.selectors`` (scoped), writes through
``closeout.services``. Two routes take no token: a member of the public files an objection during
a notice and looks up its answer by receipt; both are rate-limited per address.
"""


import datetime as dt

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from rectify.closeout import scope, selectors, services
from rectify.closeout.models import Closeout, CloseoutStatus, Standard, Verdict, Verifier
from rectify.closeout.workflows import BULK_ACTIONS, CLOSEOUT_FLOW
from rectify.core.middleware import client_ip
from rectify.core.paging import ApiId, ApiPagination, ApiVersion
from rectify.core.ratelimit import hit
from rectify.ledger.models import Campaign
from rectify.ledger.selectors import get_campaign_for_user, get_task_for_user

router = Router(tags=["销号与回头看"])
public_router = Router(tags=["信息公开：异议"])


class Message(Schema):
    detail: str


class Conflict(Schema):
    detail: str
    current_version: int
    current_status: str


class CloseoutOut(Schema):
    id: int
    task: int = Field(..., alias="task_id")
    task_code: str = Field(..., alias="task.code")
    task_title: str = Field(..., alias="task.title")
    attempt: int
    status: str
    status_label: str = ""
    version: int
    started_at: dt.datetime
    applied_at: dt.datetime | None
    notice_number: str
    notice_start: dt.date | None
    notice_end: dt.date | None
    accepted_at: dt.datetime | None
    verified_at: dt.datetime | None
    filing_number: str
    filed_at: dt.datetime | None
    return_reason: str

    @staticmethod
    def resolve_status_label(obj):
        return obj.get_status_display()


class ItemOut(Schema):
    standard: str
    verdict: str
    statement: str


class AssessmentOut(Schema):
    unit: str = Field(..., alias="unit.name")
    assessed_at: dt.datetime
    items: list[ItemOut]

    @staticmethod
    def resolve_items(obj):
        return list(obj.items.all())


class CheckOut(Schema):
    standard: str
    finding: str
    onsite: bool
    checked_on: dt.date
    checkers: str
    passed: bool


class ObjectionOut(Schema):
    id: int
    receipt: str
    content: str
    status: str
    answer: str
    submitted_at: dt.datetime
    answered_at: dt.datetime | None
    contact_name: str | None = Field(None, description="整改办可见全文，其他角色为脱敏值，责任单位不可见")
    contact_phone: str | None = None


class CloseoutDetailOut(CloseoutOut):
    completion_summary: str
    verification_opinion: str
    assessments: list[AssessmentOut] = []
    checks: list[CheckOut] = []
    objections: list[ObjectionOut] = []
    actions: list[str] = Field([], description="当前用户可执行的操作（来自销号流程表）")

    @staticmethod
    def resolve_assessments(obj):
        return list(obj.assessments.all())

    @staticmethod
    def resolve_checks(obj):
        return list(obj.checks.all())

    @staticmethod
    def resolve_objections(obj):
        return [{"id": row.objection.pk, "receipt": row.objection.receipt, "content": row.objection.content,
                 "status": row.objection.status, "answer": row.objection.answer,
                 "submitted_at": row.objection.submitted_at, "answered_at": row.objection.answered_at,
                 "contact_name": row.name if row.show_contact else None,
                 "contact_phone": row.phone if row.show_contact else None} for row in obj.objections_out]

    @staticmethod
    def resolve_actions(obj):
        return obj.actions


class AssessmentIn(Schema):
    items: dict[str, tuple[str, str]] = Field(
        ..., description="各销号标准的 [结论, 说明]：" + "、".join(f"{v}（{label}）" for v, label in Standard.choices)
        + "；结论为 " + "、".join(f"{v}（{label}）" for v, label in Verdict.choices))
    completion_summary: str = Field("", max_length=2000)


class StepIn(Schema):
    version: ApiVersion
    reason: str = Field("", max_length=2000)
    opinion: str = Field("", max_length=2000)


class CheckIn(Schema):
    standard: str
    finding: str = Field(..., max_length=2000)
    onsite: bool
    checked_on: dt.date
    checkers: str = Field(..., max_length=200)
    passed: bool


class AnswerIn(Schema):
    action: str = Field(..., description="uphold（异议成立，退回整改）或 dismiss（异议不成立）")
    answer: str = Field(..., max_length=2000)


class BulkIn(Schema):
    action: str = Field(..., description="、".join(BULK_ACTIONS))
    ids: list[int] = Field(..., max_length=1000)


class BulkOut(Schema):
    closeout_id: int
    task_code: str
    ok: bool
    message: str


class PolicyIn(Schema):
    notice_workdays: int = Field(..., ge=1, le=30)
    onsite_required: bool
    verifier: str = Field(..., description="、".join(f"{v}（{label}）" for v, label in Verifier.choices))


class PolicyOut(PolicyIn):
    campaign: int = Field(..., alias="campaign_id")


class CloseoutFilterIn(Schema):
    status: str = Field("open", description="open（进行中）、空（全部）或 " + "、".join(CloseoutStatus.values))
    campaign: int | None = Field(None, ge=1, le=2**31 - 1)


class LookBackOut(Schema):
    id: int
    campaign: int = Field(..., alias="campaign_id")
    title: str
    share_percent: int
    seed: str
    pool_size: int
    pool_digest: str
    rule: dict
    due_date: dt.date
    created_at: dt.datetime


class LookBackCheckOut(Schema):
    id: int
    task: int = Field(..., alias="task_id")
    task_code: str = Field(..., alias="task.code")
    picked_by: str
    assigned_unit: str = Field(..., alias="assigned_unit.name")
    due_date: dt.date
    result: str
    statement: str
    new_deadline: dt.date | None
    reopened: bool


class LookBackDetailOut(LookBackOut):
    checks: list[LookBackCheckOut] = []

    @staticmethod
    def resolve_checks(obj):
        return obj.checks_out


class LookBackIn(Schema):
    campaign: ApiId
    title: str = Field(..., max_length=100)
    share_percent: int = Field(..., ge=0, le=100)
    due_date: dt.date
    seed: str = Field("", max_length=64)
    categories: list[str] = []
    closed_from: dt.date | None = None
    closed_to: dt.date | None = None
    manual_task_ids: list[int] = Field([], max_length=5000)


class ResultIn(Schema):
    action: str = Field(..., description="hold（巩固）或 rebound（反弹）")
    statement: str = Field(..., max_length=2000)
    new_deadline: dt.date | None = None


def _detail(user, pk: int) -> Closeout:
    closeout = selectors.get_closeout_for_user(user, pk)
    closeout.actions = [t.action for t in selectors.closeout_actions(user, closeout)]  # type: ignore[attr-defined]
    closeout.objections_out = selectors.objections_for(user, closeout)  # type: ignore[attr-defined]
    return closeout


def _detail_out(user, pk: int) -> Closeout:
    return _detail(user, pk)


@router.get("/closeouts", response=list[CloseoutOut], summary="销号申请（按权限范围；默认进行中）")
@paginate(ApiPagination)
def list_closeouts(request, filters: Query[CloseoutFilterIn]):
    if filters.status not in {"open", "", *CloseoutStatus.values}:
        raise ValidationError({"status": [f"未知的状态：{filters.status}"]})
    return selectors.closeout_list(request.auth, status=filters.status, campaign=filters.campaign)


@router.get("/closeouts/{closeout_id}", response=CloseoutDetailOut, summary="销号申请详情（自评、核查、异议、可执行操作）")
def get_closeout(request, closeout_id: int):
    return _detail_out(request.auth, closeout_id)


@router.post("/tasks/{task_id}/self-assessment", response={201: CloseoutDetailOut},
             summary="初审自评（责任单位审核员；首次自评即发起销号）")
def self_assess(request, task_id: int, payload: AssessmentIn):
    task, _ = get_task_for_user(request.auth, task_id)
    assessment = services.submit_self_assessment(actor=request.auth, task=task, items=payload.items,
                                                 completion_summary=payload.completion_summary)
    return Status(201, _detail_out(request.auth, assessment.closeout_id))


@router.post("/closeouts/{closeout_id}/actions/{action}", response={200: CloseoutDetailOut, 409: Conflict},
             summary="办理一步：" + "、".join(f"{a}（{CLOSEOUT_FLOW.label_of(a)}）" for a in CLOSEOUT_FLOW.actions))
def take_step(request, closeout_id: int, action: str, payload: StepIn):
    if action not in CLOSEOUT_FLOW.actions:
        raise Http404
    closeout = selectors.get_closeout_for_user(request.auth, closeout_id)
    try:
        services.transition(actor=request.auth, closeout=closeout, action=action, expected_version=payload.version,
                            reason=payload.reason, opinion=payload.opinion)
    except services.StaleCloseoutError as exc:
        return Status(409, {"detail": str(exc), "current_version": exc.closeout.version,
                            "current_status": exc.closeout.status})
    return Status(200, _detail_out(request.auth, closeout_id))


@router.post("/closeouts/{closeout_id}/checks", response={201: CheckOut}, summary="核查记录（按销号标准）")
def record_check(request, closeout_id: int, payload: CheckIn):
    closeout = selectors.get_closeout_for_user(request.auth, closeout_id)
    record = services.record_check(actor=request.auth, closeout=closeout, standard=payload.standard,
                                   finding=payload.finding, onsite=payload.onsite, checked_on=payload.checked_on,
                                   checkers=payload.checkers, passed=payload.passed)
    return Status(201, record)


@router.post("/closeouts/bulk", response=list[BulkOut], summary="批量受理或备案（每项单独校验并记录）")
def bulk(request, payload: BulkIn):
    return [vars(o) for o in services.bulk_transition(actor=request.auth, closeout_ids=payload.ids,
                                                      action=payload.action)]


@router.post("/objections/{objection_id}/answer", response=ObjectionOut, summary="答复异议（整改办）")
def answer_objection(request, objection_id: int, payload: AnswerIn):
    objection = selectors.get_objection_for_user(request.auth, objection_id)
    answered = services.answer_objection(actor=request.auth, objection=objection, action=payload.action,
                                         answer=payload.answer)
    return {"id": answered.pk, "receipt": answered.receipt, "content": answered.content, "status": answered.status,
            "answer": answered.answer, "submitted_at": answered.submitted_at, "answered_at": answered.answered_at}


@router.get("/campaigns/{campaign_id}/closeout-policy", response=PolicyOut, summary="批次的销号程序设置")
def get_policy(request, campaign_id: int):
    return services.policy_for(get_campaign_for_user(request.auth, campaign_id))


@router.put("/campaigns/{campaign_id}/closeout-policy", response=PolicyOut, summary="设置批次的销号程序（整改办）")
def put_policy(request, campaign_id: int, payload: PolicyIn):
    campaign = get_campaign_for_user(request.auth, campaign_id, action="add_task")
    return services.set_policy(actor=request.auth, campaign=campaign, notice_workdays=payload.notice_workdays,
                               onsite_required=payload.onsite_required, verifier=payload.verifier)


@router.get("/lookbacks", response=list[LookBackOut], summary="回头看")
@paginate(ApiPagination)
def list_lookbacks(request):
    return selectors.lookback_list(request.auth)


@router.post("/lookbacks", response={201: LookBackDetailOut}, summary="组织回头看（整改办；随机种子记录在案）")
def start_lookback(request, payload: LookBackIn):
    campaign = Campaign.objects.actionable_by(request.auth, "add_task").filter(pk=payload.campaign).first()
    if campaign is None:
        raise PermissionDenied("只有整改办可以组织回头看。")
    lookback = services.start_lookback(
        actor=request.auth, campaign=campaign, title=payload.title, share_percent=payload.share_percent,
        due_date=payload.due_date, seed=payload.seed, categories=payload.categories, closed_from=payload.closed_from,
        closed_to=payload.closed_to, manual_task_ids=payload.manual_task_ids)
    return Status(201, _lookback_out(request.auth, lookback.pk))


def _lookback_out(user, pk: int):
    lookback = selectors.get_lookback_for_user(user, pk)
    lookback.checks_out = list(selectors.lookback_checks(user, lookback))  # type: ignore[attr-defined]
    return lookback


@router.get("/lookbacks/{lookback_id}", response=LookBackDetailOut, summary="回头看详情与复查清单")
def get_lookback(request, lookback_id: int):
    return _lookback_out(request.auth, lookback_id)


@router.post("/lookback-checks/{check_id}/result", response=LookBackCheckOut, summary="复查结论（巩固/反弹）")
def record_result(request, check_id: int, payload: ResultIn):
    check = selectors.get_check_for_user(request.auth, check_id)
    return services.record_lookback_result(actor=request.auth, check=check, action=payload.action,
                                           statement=payload.statement, new_deadline=payload.new_deadline)


# --- public: no token -----------------------------------------------------------------------------


class PublicObjectionIn(Schema):
    content: str = Field(..., min_length=5, max_length=2000)
    name: str = Field("", max_length=50)
    phone: str = Field("", max_length=20)


class ReceiptOut(Schema):
    receipt: str
    detail: str


class ReceiptLookupOut(Schema):
    receipt: str
    task_code: str
    status: str
    status_label: str
    answer: str
    answered_at: dt.datetime | None


def _throttle(request, bucket: str) -> None:
    limit = getattr(settings, "PUBLIC_OBJECTION_RATE", 10)
    if not hit(f"{bucket}:{client_ip(request)}", limit=limit, window_seconds=3600):
        raise PermissionDenied("提交过于频繁，请稍后再试。")


@public_router.post("/closeouts/{closeout_id}/objections", auth=None, response={201: ReceiptOut, 429: Message},
                    summary="公示期间提出异议（无需登录；按来源地址限流；姓名电话可不填，加密保存）")
def file_objection(request, closeout_id: int, payload: PublicObjectionIn):
    try:
        _throttle(request, "objection")
    except PermissionDenied as exc:
        return Status(429, {"detail": str(exc)})
    # the notices the portal shows, no others: an undisclosed task's close-out is not public
    closeout = scope.notices_open_to_public(Closeout.objects.filter(pk=closeout_id)).first()
    if closeout is None:
        raise Http404
    objection = services.file_objection(closeout=closeout, content=payload.content, name=payload.name,
                                        phone=payload.phone, channel="api")
    return Status(201, {"receipt": objection.receipt, "detail": "异议已收到，请凭回执编号查询答复。"})


@public_router.get("/objections/{receipt}", auth=None, response={200: ReceiptLookupOut, 429: Message},
                   summary="凭回执编号查询异议答复（无需登录）")
def lookup_objection(request, receipt: str):
    try:
        _throttle(request, "receipt")
    except PermissionDenied as exc:
        return Status(429, {"detail": str(exc)})
    objection = services.objection_by_receipt(receipt)
    if objection is None:
        raise Http404
    return {"receipt": objection.receipt, "task_code": objection.closeout.task.code, "status": objection.status,
            "status_label": objection.get_status_display(), "answer": objection.answer,
            "answered_at": objection.answered_at}
