"""Counts of cases for other parts of the product — counts only, never a case, a number or a name.

The assessment (综合评估考核) deducts points for accountability outcomes and the monthly bulletin
shows how many cases there are; neither may show which. A count per unit is given only for cases the
commission has closed with an accountability outcome (不予追责 excluded): by then the outcome is
decided, while a case under way stays invisible even as a number next to a unit's name.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q
from django.utils import timezone

from rectify.accountability.models import AccountabilityCase, CaseStatus, CaseTask, CaseUnit, Outcome
from rectify.orgs.scope import in_tree

S = CaseStatus


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return (dt.datetime.combine(start, dt.time.min, tzinfo=tz),
            dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz))


def closed_with_outcome_by_unit(campaign, start: dt.date, end: dt.date) -> dict[int, int]:
    """unit id → cases on ``campaign``'s tasks closed between ``start`` and ``end`` (inclusive) with an
    accountability outcome, counted once per unit concerned."""
    low, high = _bounds(start, end)
    on_campaign = CaseTask.objects.filter(task__campaign=campaign).values("case_id")
    rows = (CaseUnit.objects.filter(case__in=on_campaign, case__status=S.CLOSED, case__closed_at__gte=low,
                                    case__closed_at__lt=high)
            .exclude(case__outcome=Outcome.NONE).values("unit_id").annotate(n=Count("case_id", distinct=True)))
    return {row["unit_id"]: row["n"] for row in rows}


def office_counts(office, start: dt.date, end: dt.date) -> dict[str, int]:
    """Totals for a bulletin: cases opened, referred and closed in the period, and those under way."""
    low, high = _bounds(start, end)
    cases = AccountabilityCase.objects.filter(in_tree("office", office))
    return cases.aggregate(
        proposed=Count("pk", filter=Q(created_at__gte=low, created_at__lt=high)),
        opened=Count("pk", filter=Q(opened_at__gte=low, opened_at__lt=high)),
        referred=Count("pk", filter=Q(referred_at__gte=low, referred_at__lt=high)),
        closed=Count("pk", filter=Q(closed_at__gte=low, closed_at__lt=high)),
        under_way=Count("pk", filter=Q(status__in=[s for s in S if s not in (S.CLOSED, S.DECLINED,
                                                                              S.NOT_REFERRED)])),
    )


def bulletin_section(*, rnd, start: dt.date, end: dt.date):
    """documents.bulletin_sections: the month's accountability figures, as counts only (追责问责情况)."""
    from rectify.documents.hooks import BulletinSection

    counts = office_counts(rnd.office, start, end)
    if not any(counts.values()):
        return None
    return BulletinSection(order=70, title="追责问责情况", paragraphs=[
        f"本月新增追责问责线索和立案 {counts['proposed']} 件，其中立案调查 {counts['opened']} 件，"
        f"移交纪委监委 {counts['referred']} 件，办结 {counts['closed']} 件；目前在办 {counts['under_way']} 件。"
        "对表面整改、敷衍整改、虚假整改和谎报、虚报、瞒报等问题，坚决依规依纪依法追责问责，"
        "同时坚持问责不代替整改，相关任务照常整改、调度和销号。"])
