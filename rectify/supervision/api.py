"""The escalation ladder (督办) under /api/v1, through the same scope and services as the pages."""


import datetime as dt

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from rectify.core.paging import ApiId, ApiPagination
from rectify.ledger.selectors import get_task_for_user
from rectify.orgs.models import Unit
from rectify.supervision import selectors, services
from rectify.supervision.models import LADDER, Escalation, EscalationStatus, Rung

router = Router(tags=["督办"])


class EscalationOut(Schema):
    id: int
    task: int = Field(..., alias="task_id")
    task_code: str = Field(..., alias="task.code")
    task_title: str = Field(..., alias="task.title")
    rung: str
    rung_label: str = ""
    trigger: str
    reason: str
    target_unit: str = Field(..., alias="target_unit.name")
    reply_due: dt.date | None
    overdue: bool = False
    skip_reason: str
    doc_number: str
    issued_by: str | None = None
    issuing_unit: str | None = None
    issued_at: dt.datetime
    status: str
    reply_text: str
    replied_by: str | None = None
    replied_at: dt.datetime | None

    @staticmethod
    def resolve_rung_label(obj):
        return obj.get_rung_display()

    @staticmethod
    def resolve_overdue(obj):
        return bool(obj.status == EscalationStatus.OPEN and obj.reply_due and obj.reply_due < timezone.localdate())

    @staticmethod
    def resolve_issued_by(obj):
        return str(obj.issued_by) if obj.issued_by_id else None

    @staticmethod
    def resolve_issuing_unit(obj):
        return obj.issuing_unit.name if obj.issuing_unit_id else None

    @staticmethod
    def resolve_replied_by(obj):
        return str(obj.replied_by) if obj.replied_by_id else None


class EscalationFilterIn(Schema):
    status: str = Field("", description="open / replied / closed；不填为全部")
    rung: str = Field("", description="、".join(f"{r.value}（{r.label}）" for r in Rung))
    task: ApiId | None = None


class EscalationIn(Schema):
    task: int = Field(..., description="任务 id")
    rung: str = Field(..., description="、".join(f"{r.value}（{r.label}）" for r in Rung))
    reason: str
    target_unit: str = Field(..., description="督办对象单位名称（须为该任务的责任或督导单位）")
    reply_due: dt.date | None = None
    skip_reason: str = Field("", description="越级督办的理由")
    doc_number: str = Field("", description="发文字号；不填自动编号")


class ReplyIn(Schema):
    text: str


def _scoped() -> QuerySet:
    return Escalation.objects.select_related("task", "target_unit", "issuing_unit", "issued_by", "replied_by")


def _escalation_for(user, pk: int) -> Escalation:
    esc = _scoped().visible_to(user).filter(pk=pk).first()
    if esc is None:
        raise Http404("督办不存在或无权查看")
    return esc


@router.get("/escalations", response=list[EscalationOut], summary="督办台账（待回复且逾期的在前）")
@paginate(ApiPagination)
def list_escalations(request, filters: Query[EscalationFilterIn]):
    if filters.status and filters.status not in EscalationStatus.values:
        raise ValidationError({"status": [f"未知的状态：{filters.status}"]})
    if filters.rung and filters.rung not in LADDER:
        raise ValidationError({"rung": [f"未知的督办措施：{filters.rung}"]})
    return selectors.escalation_board(request.auth, status=filters.status, rung=filters.rung, task=filters.task)


@router.get("/escalations/{escalation_id}", response=EscalationOut, summary="督办详情")
def get_escalation(request, escalation_id: int):
    return _escalation_for(request.auth, escalation_id)


@router.post("/escalations", response={201: EscalationOut}, summary="发出督办（按督办阶梯，越级须说明理由）")
def issue_escalation(request, payload: EscalationIn):
    task, _ = get_task_for_user(request.auth, payload.task)
    target = Unit.objects.filter(name=payload.target_unit).first()
    if target is None:
        raise ValidationError({"target_unit": [f"未知单位：{payload.target_unit}"]})
    esc = services.issue_escalation(actor=request.auth, task=task, rung=payload.rung, reason=payload.reason,
                                    target_unit=target, reply_due=payload.reply_due,
                                    skip_reason=payload.skip_reason, doc_number=payload.doc_number)
    return Status(201, _escalation_for(request.auth, esc.pk))


@router.post("/escalations/{escalation_id}/reply", response=EscalationOut, summary="督办对象单位回复")
def reply_escalation(request, escalation_id: int, payload: ReplyIn):
    esc = _escalation_for(request.auth, escalation_id)
    services.reply_escalation(actor=request.auth, escalation=esc, text=payload.text)
    return _escalation_for(request.auth, escalation_id)


@router.post("/escalations/{escalation_id}/close", response=EscalationOut, summary="办结督办")
def close_escalation(request, escalation_id: int):
    esc = _escalation_for(request.auth, escalation_id)
    services.close_escalation(actor=request.auth, escalation=esc)
    return _escalation_for(request.auth, escalation_id)
