"""Scoped reads of close-outs, objections and look-backs, for pages and the API."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import OuterRef, Prefetch, Q, QuerySet
from django.http import Http404

from rectify.closeout import scope
from rectify.closeout.models import (
    OPEN_STATUSES,
    AssessmentItem,
    CheckResult,
    Closeout,
    CloseoutFile,
    LookBack,
    LookBackCheck,
    LookBackFile,
    Objection,
    ObjectionStatus,
    SelfAssessment,
)
from rectify.closeout.workflows import CLOSEOUT_FLOW
from rectify.core.crypto import mask_name, mask_phone
from rectify.core.paging import subquery_count
from rectify.core.workflow import Transition

LIST_STATUSES = {"open": OPEN_STATUSES}  # "进行中" tab


def closeout_list(user, *, status: str = "open", campaign: int | None = None, q: str = "") -> QuerySet:
    qs = Closeout.objects.visible_to(user)
    if status in LIST_STATUSES:
        qs = qs.filter(status__in=LIST_STATUSES[status])
    elif status:
        qs = qs.filter(status=status)
    if campaign:
        qs = qs.filter(task__campaign_id=campaign)
    if q:
        qs = qs.filter(Q(task__code__icontains=q) | Q(task__title__icontains=q))
    open_objections = Objection.objects.filter(closeout=OuterRef("pk"), status=ObjectionStatus.OPEN)
    return (qs.select_related("task", "task__campaign")
            .annotate(open_objections=subquery_count(open_objections))
            .order_by("notice_end", "-started_at", "-id"))


def get_closeout_for_user(user, pk: int) -> Closeout:
    closeout = (Closeout.objects.visible_to(user).select_related("task", "task__campaign", "applied_by", "verified_by",
                                                                  "filed_by", "returned_by", "published_by")
                .prefetch_related("task__task_units__unit", "task__measures",
                                  Prefetch("assessments", queryset=SelfAssessment.objects.select_related("unit",
                                                                                                         "assessor")
                                           .prefetch_related(Prefetch("items", queryset=AssessmentItem.objects.all()))),
                                  "checks")
                .filter(pk=pk).first())
    if closeout is None:
        raise Http404("销号申请不存在或无权查看")
    return closeout


def closeout_actions(user, closeout: Closeout) -> list[Transition]:
    return CLOSEOUT_FLOW.available(user, closeout)


@dataclass
class ObjectionView:
    """An objection as this user may see it: contact in full (office), masked, or not at all."""

    objection: Objection
    name: str
    phone: str
    show_contact: bool


def objections_for(user, closeout: Closeout) -> list[ObjectionView]:
    rows = []
    for o in Objection.objects.visible_to(user).filter(closeout=closeout).select_related("answered_by"):
        visibility = scope.contact_visibility(user, o)
        if visibility == "full":
            rows.append(ObjectionView(o, o.contact_name, o.contact_phone, True))
        elif visibility == "masked":
            rows.append(ObjectionView(o, mask_name(o.contact_name), mask_phone(o.contact_phone), True))
        else:
            rows.append(ObjectionView(o, "", "", False))
    return rows


def get_objection_for_user(user, pk: int) -> Objection:
    objection = Objection.objects.visible_to(user).select_related("closeout", "closeout__task").filter(pk=pk).first()
    if objection is None:
        raise Http404("异议不存在或无权查看")
    return objection


def lookback_list(user) -> QuerySet:
    checks = LookBackCheck.objects.filter(lookback=OuterRef("pk"))
    return (LookBack.objects.visible_to(user).select_related("campaign")
            .annotate(n_pending=subquery_count(checks.filter(result=CheckResult.PENDING)),
                      n_rebound=subquery_count(checks.filter(result=CheckResult.REBOUND)),
                      n_total=subquery_count(checks))
            .order_by("-created_at", "-id"))


def get_lookback_for_user(user, pk: int) -> LookBack:
    lookback = LookBack.objects.visible_to(user).select_related("campaign", "created_by").filter(pk=pk).first()
    if lookback is None:
        raise Http404("回头看不存在或无权查看")
    return lookback


def lookback_checks(user, lookback: LookBack) -> QuerySet:
    return (LookBackCheck.objects.visible_to(user).filter(lookback=lookback)
            .select_related("task", "assigned_unit", "checked_by", "lookback__campaign__office")
            .order_by("result", "task__code", "id"))


def get_check_for_user(user, pk: int) -> LookBackCheck:
    check = (LookBackCheck.objects.visible_to(user).select_related("task", "lookback", "lookback__campaign",
                                                                    "assigned_unit").filter(pk=pk).first())
    if check is None:
        raise Http404("复查任务不存在或无权查看")
    return check


def closeout_files(user, closeout: Closeout) -> dict[tuple[str, str], list[CloseoutFile]]:
    """(stage, standard) → files, for the close-out page."""
    grouped: dict[tuple[str, str], list[CloseoutFile]] = {}
    for f in CloseoutFile.objects.visible_to(user).filter(closeout=closeout).select_related("unit"):
        grouped.setdefault((f.stage, f.standard), []).append(f)
    return grouped


def get_closeout_file_for_user(user, pk: int) -> CloseoutFile:
    stored = CloseoutFile.objects.visible_to(user).filter(pk=pk).first()
    if stored is None:
        raise Http404("文件不存在或无权查看")
    return stored


def lookback_files(user, lookback: LookBack) -> dict[int, list[LookBackFile]]:
    grouped: dict[int, list[LookBackFile]] = {}
    for f in LookBackFile.objects.visible_to(user).filter(lookback_check__lookback=lookback):
        grouped.setdefault(f.lookback_check_id, []).append(f)
    return grouped


def get_lookback_file_for_user(user, pk: int) -> LookBackFile:
    stored = LookBackFile.objects.visible_to(user).filter(pk=pk).first()
    if stored is None:
        raise Http404("文件不存在或无权查看")
    return stored
