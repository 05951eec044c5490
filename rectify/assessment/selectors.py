"""Scoped reads of help requests, visits and assessments for pages and the API (fixed query counts)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.http import Http404

from rectify.assessment import scope
from rectify.assessment.models import (
    OPEN_HELP,
    AssessmentResult,
    AssessmentRow,
    AssessmentScheme,
    HelpRequest,
    HelpStatus,
    Indicator,
    SupervisionVisit,
    VisitFollowUp,
    VisitStatus,
)
from rectify.assessment.workflows import HELP_FLOW, RESULT_FLOW, VISIT_FLOW
from rectify.core.roles import is_office
from rectify.core.workflow import Transition
from rectify.orgs.models import Unit, UnitKind
from rectify.orgs.scope import in_tree

# --- 帮扶 ---------------------------------------------------------------------------------------

HELP_TABS = {"open": list(OPEN_HELP), "done": [HelpStatus.HELPED, HelpStatus.DECLINED, HelpStatus.WITHDRAWN], "": []}


def help_list(user, *, tab: str = "open", unit: int | None = None) -> QuerySet:
    qs = HelpRequest.objects.visible_to(user)
    if HELP_TABS.get(tab):
        qs = qs.filter(status__in=HELP_TABS[tab])
    if unit:
        qs = qs.filter(unit_id=unit)
    return qs.select_related("task", "unit", "helper_unit", "asked_unit", "report__round").order_by(
        "status", "-created_at", "-id")


def get_help_for_user(user, pk: int) -> HelpRequest:
    help_request = (HelpRequest.objects.visible_to(user)
                    .select_related("task", "task__campaign", "unit", "helper_unit", "asked_unit", "report",
                                    "report__round", "created_by", "answered_by", "helped_by")
                    .prefetch_related("task__task_units__unit").filter(pk=pk).first())
    if help_request is None:
        raise Http404("帮扶申请不存在或无权查看")
    return help_request


def help_actions(user, help_request: HelpRequest) -> list[Transition]:
    return HELP_FLOW.available(user, help_request)


def round_help(user, rnd) -> dict:
    """For the dispatch table: open help requests raised from this round's reports, and how many
    requests are open in all."""
    qs = HelpRequest.objects.visible_to(user).filter(status__in=OPEN_HELP)
    return {"this_round": list(qs.filter(report__round=rnd).select_related("task", "unit", "helper_unit")
                               .order_by("unit__sort_order", "task__code")[:100]),
            "open_total": qs.count()}


def report_help(user, report) -> list[HelpRequest]:
    return list(HelpRequest.objects.visible_to(user).filter(report=report).select_related("helper_unit")
                .order_by("-created_at")[:10])


# --- 一季一督导 ----------------------------------------------------------------------------------


def visit_list(user, *, year: int) -> QuerySet:
    follow_ups = Subquery(VisitFollowUp.objects.filter(visit=OuterRef("pk")).values("visit")
                          .annotate(n=Count("pk")).values("n"))
    open_follow_ups = Subquery(VisitFollowUp.objects.filter(visit=OuterRef("pk"), done=False).values("visit")
                               .annotate(n=Count("pk")).values("n"))
    return (SupervisionVisit.objects.visible_to(user).filter(quarter__startswith=f"{year}-")
            .select_related("county").annotate(n_follow_ups=follow_ups, n_open=open_follow_ups)
            .order_by("-quarter", "county__sort_order", "planned_on", "id"))


def coverage(user, *, year: int) -> list[dict]:
    """一季一督导 coverage: each county (that the user sees visits of) × the year's four quarters."""
    visits = list(SupervisionVisit.objects.visible_to(user).filter(quarter__startswith=f"{year}-")
                  .exclude(status=VisitStatus.CANCELLED).values("county_id", "quarter", "status", "pk"))
    by_key: dict[tuple[int, str], list[dict]] = {}
    for v in visits:
        by_key.setdefault((v["county_id"], v["quarter"]), []).append(v)
    if is_office(user):
        counties = county_choices(user)
    else:
        counties = Unit.objects.filter(pk__in={v["county_id"] for v in visits}).order_by("sort_order", "id")
    rows = []
    for county in counties:
        cells = []
        for q in range(1, 5):
            found = by_key.get((county.pk, f"{year}-Q{q}"), [])
            done = [v for v in found if v["status"] == VisitStatus.DONE]
            cells.append({"quarter": f"{year}-Q{q}", "done": bool(done), "planned": bool(found) and not done,
                          "visit": (done or found)[0] if found else None})
        rows.append({"county": county, "cells": cells})
    return rows


def county_choices(user) -> QuerySet:
    if not is_office(user):
        return Unit.objects.none()
    return Unit.objects.filter(in_tree("", user.unit), kind=UnitKind.COUNTY, is_active=True).order_by(
        "sort_order", "id")


def get_visit_for_user(user, pk: int) -> SupervisionVisit:
    visit = (SupervisionVisit.objects.visible_to(user).select_related("county", "office", "created_by")
             .prefetch_related("follow_ups__task").filter(pk=pk).first())
    if visit is None:
        raise Http404("督导不存在或无权查看")
    return visit


def visit_actions(user, visit: SupervisionVisit) -> list[Transition]:
    return VISIT_FLOW.available(user, visit)


# --- 综合评估考核 --------------------------------------------------------------------------------


def schemes_for(user) -> QuerySet:
    return AssessmentScheme.objects.visible_to(user).select_related("campaign", "updated_by")


def get_scheme_for_user(user, pk: int) -> AssessmentScheme:
    scheme = schemes_for(user).filter(pk=pk).first()
    if scheme is None:
        raise Http404("评分办法不存在或无权查看")
    return scheme


def results_for(user) -> QuerySet:
    rows = Subquery(AssessmentRow.objects.filter(result=OuterRef("pk")).values("result")
                    .annotate(n=Count("pk")).values("n"))
    return (AssessmentResult.objects.visible_to(user).select_related("scheme", "campaign")
            .annotate(n_rows=rows).order_by("-period_end", "-id"))


def get_result_for_user(user, pk: int) -> AssessmentResult:
    result = (AssessmentResult.objects.visible_to(user).select_related("scheme", "campaign", "campaign__office",
                                                                     "computed_by").filter(pk=pk).first())
    if result is None:
        raise Http404("考核结果不存在或无权查看")
    return result


def result_actions(user, result: AssessmentResult) -> list[Transition]:
    return RESULT_FLOW.available(user, result)


def result_rows(result: AssessmentResult) -> dict[str, list[AssessmentRow]]:
    """group → rows, ranked."""
    grouped: dict[str, list[AssessmentRow]] = {}
    for row in (result.rows.select_related("unit", "result__campaign__office")
                .order_by("group", "rank", "unit__sort_order", "unit_id")):
        grouped.setdefault(row.group, []).append(row)
    return grouped


def item_columns(result: AssessmentResult) -> list[tuple[str, str, str]]:
    """(indicator, label, weight) of the result's items, in the scheme's order."""
    return [(i["indicator"], str(Indicator(i["indicator"]).label), i["weight"]) for i in result.items]


def get_row_for_user(user, result: AssessmentResult, unit_id: int) -> AssessmentRow:
    row = result.rows.select_related("unit", "result__campaign__office").filter(unit_id=unit_id).first()
    if row is None or not scope.sees_breakdown(user, row):
        raise Http404("无权查看该单位的得分明细")
    return row


def default_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last full quarter."""
    quarter_start = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    end = quarter_start - dt.timedelta(days=1)
    return dt.date(end.year, 3 * ((end.month - 1) // 3) + 1, 1), end

