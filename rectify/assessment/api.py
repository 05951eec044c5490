"""Help requests (帮扶), supervision visits (一季一督导) and the assessment (综合评估考核) under /api/v1.
Same scope and services as the pages."""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from rectify.assessment import scope, selectors, services
from rectify.assessment.models import Indicator
from rectify.assessment.workflows import HELP_FLOW, RESULT_FLOW
from rectify.core.paging import ApiId, ApiPagination, ApiVersion
from rectify.dispatch.selectors import get_report_for_user
from rectify.ledger.models import Campaign
from rectify.orgs.models import Unit

router = Router(tags=["帮扶、督导与考核"])


class Conflict(Schema):
    detail: str
    current_version: int
    current_status: str


def _unit(pk: int | None) -> Unit | None:
    if pk is None:
        return None
    unit = Unit.objects.filter(pk=pk, is_active=True).first()
    if unit is None:
        raise ValidationError({"unit": [f"单位 {pk} 不存在。"]})
    return unit


# --- 帮扶 ---------------------------------------------------------------------------------------


class HelpOut(Schema):
    id: int
    report: int = Field(..., alias="report_id")
    task: int = Field(..., alias="task_id")
    task_code: str = Field(..., alias="task.code")
    unit: str = Field(..., alias="unit.name")
    difficulty: str
    needs: str
    asked_of: str
    asked_unit: str | None = None
    status: str
    status_label: str
    version: int
    answer: str
    helper_unit: str | None = None
    help_due: dt.date | None
    help_given: str
    created_at: dt.datetime
    answered_at: dt.datetime | None
    helped_at: dt.datetime | None
    actions: list[str] = []

    @staticmethod
    def resolve_status_label(obj):
        return obj.get_status_display()

    @staticmethod
    def resolve_asked_unit(obj):
        return obj.asked_unit.name if obj.asked_unit_id else None

    @staticmethod
    def resolve_helper_unit(obj):
        return obj.helper_unit.name if obj.helper_unit_id else None

    @staticmethod
    def resolve_actions(obj):
        return getattr(obj, "actions", [])


class HelpIn(Schema):
    needs: str = Field(..., max_length=2000)
    asked_of: str = Field("", max_length=200)
    asked_unit: ApiId | None = None


class HelpStepIn(Schema):
    version: ApiVersion
    answer: str = Field("", max_length=2000)
    helper_unit: ApiId | None = None
    help_due: dt.date | None = None
    help_given: str = Field("", max_length=2000)


class HelpFilterIn(Schema):
    tab: str = Field("open", description="open（办理中）、done（已办结）或空（全部）")


def _help(user, pk: int):
    help_request = selectors.get_help_for_user(user, pk)
    help_request.actions = [t.action for t in selectors.help_actions(user, help_request)]  # type: ignore[attr-defined]
    return help_request


@router.get("/help-requests", response=list[HelpOut], summary="帮扶申请（按权限范围）")
@paginate(ApiPagination)
def list_help_requests(request, filters: Query[HelpFilterIn]):
    if filters.tab not in selectors.HELP_TABS:
        raise ValidationError({"tab": [f"未知的筛选：{filters.tab[:20]}"]})
    return selectors.help_list(request.auth, tab=filters.tab)


@router.get("/help-requests/{help_id}", response=HelpOut, summary="帮扶申请详情")
def get_help_request(request, help_id: int):
    return _help(request.auth, help_id)


@router.post("/reports/{report_id}/help-requests", response={201: HelpOut},
             summary="据进展报送的“存在困难”申请帮扶（该报送单位的填报员、审核员）")
def request_help(request, report_id: int, payload: HelpIn):
    report = get_report_for_user(request.auth, report_id)
    help_request = services.request_help(actor=request.auth, report=report, needs=payload.needs,
                                         asked_of=payload.asked_of, asked_unit=_unit(payload.asked_unit))
    return Status(201, _help(request.auth, help_request.pk))


@router.post("/help-requests/{help_id}/actions/{action}", response={200: HelpOut, 409: Conflict},
             summary="办理帮扶申请：" + "、".join(f"{a}（{HELP_FLOW.label_of(a)}）" for a in HELP_FLOW.actions))
def help_step(request, help_id: int, action: str, payload: HelpStepIn):
    if action not in HELP_FLOW.actions:
        raise Http404
    help_request = selectors.get_help_for_user(request.auth, help_id)
    try:
        services.help_transition(actor=request.auth, help_request=help_request, action=action,
                                 expected_version=payload.version, answer=payload.answer,
                                 helper_unit=_unit(payload.helper_unit), help_due=payload.help_due,
                                 help_given=payload.help_given)
    except services.StaleError as exc:
        return Status(409, {"detail": str(exc), "current_version": exc.obj.version, "current_status": exc.obj.status})
    return Status(200, _help(request.auth, help_id))


# --- 一季一督导 ----------------------------------------------------------------------------------


class FollowUpOut(Schema):
    id: int
    text: str
    task: int | None = Field(None, alias="task_id")
    due_date: dt.date | None
    done: bool
    done_at: dt.date | None


class VisitOut(Schema):
    id: int
    county: str = Field(..., alias="county.name")
    quarter: str
    planned_on: dt.date
    visited_on: dt.date | None
    team: str
    status: str
    findings: str
    follow_ups: list[FollowUpOut] = []

    @staticmethod
    def resolve_follow_ups(obj):
        return list(obj.follow_ups.all())


class VisitFilterIn(Schema):
    year: int = Field(..., ge=2000, le=2100)


@router.get("/visits", response=list[VisitOut], summary="季度督导（一季一督导）")
@paginate(ApiPagination)
def list_visits(request, filters: Query[VisitFilterIn]):
    return selectors.visit_list(request.auth, year=filters.year).prefetch_related("follow_ups")


@router.get("/visits/{visit_id}", response=VisitOut, summary="季度督导详情")
def get_visit(request, visit_id: int):
    return selectors.get_visit_for_user(request.auth, visit_id)


# --- 综合评估考核 --------------------------------------------------------------------------------


class ItemSchema(Schema):
    indicator: str = Field(..., description="、".join(f"{v}（{label}）" for v, label in Indicator.choices))
    weight: Decimal = Field(..., ge=0, le=100)
    per_item: Decimal = Field(Decimal("0"), ge=0, le=100)


class SchemeOut(Schema):
    id: int
    campaign: int = Field(..., alias="campaign_id")
    name: str
    items: list[ItemSchema]
    version: int
    updated_at: dt.datetime


class SchemeIn(Schema):
    campaign: ApiId
    name: str = Field(..., max_length=100)
    items: list[ItemSchema] = Field(..., min_length=1, max_length=len(Indicator.values))
    version: ApiId | None = None


class RowOut(Schema):
    unit: str
    unit_id: int
    group: str
    rank: int
    total: Decimal
    scores: dict[str, Decimal]
    breakdown: dict | None = Field(None, description="计算过程与依据记录（整改办和该单位本身可见）")


class ResultOut(Schema):
    id: int
    campaign: int = Field(..., alias="campaign_id")
    scheme: int = Field(..., alias="scheme_id")
    title: str
    period_start: dt.date
    period_end: dt.date
    items: list[ItemSchema]
    status: str
    version: int
    digest: str
    computed_at: dt.datetime
    published_at: dt.datetime | None


class ResultDetailOut(ResultOut):
    rows: list[RowOut] = []
    actions: list[str] = []

    @staticmethod
    def resolve_rows(obj):
        return obj.rows_out

    @staticmethod
    def resolve_actions(obj):
        return obj.actions


class ComputeIn(Schema):
    scheme: ApiId
    title: str = Field(..., max_length=100)
    period_start: dt.date
    period_end: dt.date


class ResultStepIn(Schema):
    version: ApiId | None = None


def _items(payload_items) -> list[dict]:
    return [{"indicator": i.indicator, "weight": str(i.weight), "per_item": str(i.per_item)} for i in payload_items]


def _result(user, pk: int):
    result = selectors.get_result_for_user(user, pk)
    result.actions = [t.action for t in selectors.result_actions(user, result)]  # type: ignore[attr-defined]
    rows = []
    for group in selectors.result_rows(result).values():
        for row in group:
            open_ = scope.sees_breakdown(user, row)
            rows.append({"unit": row.unit.name, "unit_id": row.unit_id, "group": row.group, "rank": row.rank,
                         "total": row.total,
                         "scores": {k: v["score"] for k, v in row.breakdown.items() if not k.startswith("_")},
                         "breakdown": row.breakdown if open_ else None})
    result.rows_out = rows  # type: ignore[attr-defined]
    return result


@router.get("/assessment-schemes", response=list[SchemeOut], summary="考核评分办法（整改办）")
@paginate(ApiPagination)
def list_schemes(request):
    return selectors.schemes_for(request.auth)


@router.post("/assessment-schemes", response={201: SchemeOut}, summary="新建考核评分办法（整改办；记录在案）")
def create_scheme(request, payload: SchemeIn):
    campaign = Campaign.objects.actionable_by(request.auth, "add_task").filter(pk=payload.campaign).first()
    if campaign is None:
        raise PermissionDenied("只有整改办可以设置考核评分办法。")
    return Status(201, services.save_scheme(actor=request.auth, campaign=campaign, name=payload.name,
                                            items=_items(payload.items)))


@router.put("/assessment-schemes/{scheme_id}", response=SchemeOut, summary="修改考核评分办法（每一版都记录在案）")
def update_scheme(request, scheme_id: int, payload: SchemeIn):
    scheme = selectors.get_scheme_for_user(request.auth, scheme_id)
    return services.save_scheme(actor=request.auth, campaign=scheme.campaign, name=payload.name,
                                items=_items(payload.items), scheme=scheme, expected_version=payload.version)


@router.get("/assessment-results", response=list[ResultOut], summary="考核结果（整改办见草稿；已发布的各单位可见）")
@paginate(ApiPagination)
def list_results(request):
    return selectors.results_for(request.auth)


@router.get("/assessment-results/{result_id}", response=ResultDetailOut, summary="考核结果：各单位得分、名次与明细")
def get_result(request, result_id: int):
    return _result(request.auth, result_id)


@router.post("/assessment-results", response={201: ResultDetailOut}, summary="按评分办法计算考核结果（草稿）")
def compute_result(request, payload: ComputeIn):
    scheme = selectors.get_scheme_for_user(request.auth, payload.scheme)
    result = services.compute_result(actor=request.auth, scheme=scheme, title=payload.title,
                                     period_start=payload.period_start, period_end=payload.period_end)
    return Status(201, _result(request.auth, result.pk))


@router.post("/assessment-results/{result_id}/actions/{action}", response={200: ResultDetailOut, 409: Conflict},
             summary="发布或作废考核结果：" + "、".join(f"{a}（{RESULT_FLOW.label_of(a)}）" for a in RESULT_FLOW.actions))
def result_step(request, result_id: int, action: str, payload: ResultStepIn):
    if action not in RESULT_FLOW.actions:
        raise Http404
    result = selectors.get_result_for_user(request.auth, result_id)
    try:
        services.result_transition(actor=request.auth, result=result, action=action,
                                   expected_version=payload.version)
    except services.StaleError as exc:
        return Status(409, {"detail": str(exc), "current_version": exc.obj.version, "current_status": exc.obj.status})
    return Status(200, _result(request.auth, result_id))
