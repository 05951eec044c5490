"""The reports app on lower apps' pages: a 一案一档 button on the task page for the office; the
6-month report's countdown on the board (挂图作战)."""

from __future__ import annotations

import datetime as dt

from rectify.dashboard.scope import sees_board
from rectify.ledger.hooks import TaskPanel
from rectify.ledger.models import Campaign
from rectify.ledger.scope import can_create_tasks
from rectify.reports import scope
from rectify.reports.deadlines import Countdown, countdown, plan_offers
from rectify.reports.models import CampaignDeadline, CampaignReport

BOARD_COUNTDOWNS = 5  # campaigns on the board, most recently received first
BOARD_PAST_DAYS = 60  # a due date further past leaves the board (the 整改报告 page keeps it)


def dossier_panel(*, user, task) -> TaskPanel | None:
    """导出一案一档 for the office that runs the task's campaign (one query, office users only)."""
    if not can_create_tasks(user) or not scope.reporting_campaigns(user).filter(pk=task.campaign_id).exists():
        return None
    return TaskPanel(order=90, template="reports/_task_dossier.html", context={"task": task})


def board_countdown_panel(*, user, today: dt.date) -> TaskPanel | None:
    """整改落实情况报告 countdown on the board: the campaigns the board's user sees whose received date is
    recorded (one query), work days left, red within 10 work days or once past."""
    if not sees_board(user):
        return None
    rows = list(CampaignReport.objects
                .filter(campaign__in=Campaign.objects.visible_to(user).values("pk"), received_date__isnull=False,
                        received_date__gte=_received_since(today))
                .select_related("campaign").order_by("-received_date", "campaign_id")[:BOARD_COUNTDOWNS])
    items: list[tuple[CampaignReport, Countdown]] = []
    for r in rows:
        c = countdown(r, today)
        if c is not None and c.days >= -BOARD_PAST_DAYS:
            items.append((r, c))
    if not items:
        return None
    linked = set(scope.reporting_campaigns(user).filter(pk__in=[r.campaign_id for r, _c in items])
                 .values_list("pk", flat=True))  # the office that runs the campaign opens its 整改报告 page
    return TaskPanel(order=5, template="reports/_board_countdown.html", context={"countdowns": [
        {"campaign": r.campaign, "countdown": c, "urgent": c.overdue or c.workdays <= 10,
         "url": f"/reports/campaigns/{r.campaign_id}/" if r.campaign_id in linked else ""} for r, c in items]})


def _received_since(today: dt.date) -> dt.date:
    """The earliest received date whose 6-month due date is at most BOARD_PAST_DAYS past (a bound in the
    query; the exact cut is made on the countdown)."""
    return today - dt.timedelta(days=BOARD_PAST_DAYS + 186)


def plan_deadlines_panel(*, user, campaign, parse: dict, back: str) -> TaskPanel | None:
    """报送期限 on the plan's review page: the deadlines the plan states, offered as the campaign's (the
    office that runs the campaign accepts them with their start dates; reports.views.accept_deadlines)."""
    one_off, periodic = plan_offers(parse)
    if not one_off and not periodic:
        return None
    if not scope.runs_reports(user, campaign):
        return None
    report = CampaignReport.objects.filter(campaign=campaign).first()
    received = report.received_date if report else None
    existing = list(CampaignDeadline.objects.filter(campaign=campaign).order_by("due_date", "id")[:20])
    for offer in one_off:
        offer["start"] = (received if offer["sixmonth"] and received else campaign.feedback_date)
        offer["as_received"] = offer["sixmonth"] and received is None
    return TaskPanel(order=10, template="reports/_plan_deadlines.html", context={
        "deadline_offers": one_off, "periodic_offers": periodic, "deadline_back": back,
        "deadline_campaign": campaign, "received": received, "existing_deadlines": existing,
        "sixmonth_due": report.due_date if report else None})
