"""The 6-month report's deadline and the campaign's other deadlines (``CampaignDeadline``, accepted from
the plan's import review): their countdown in work days and the office's reminders (tick); the
deadlines a parsed plan states, offered to the office (``plan_offers``).

Reminders go to the office that runs the campaign (its admins and staff) when 30, 10 and 3 work days
remain. Each threshold has its own notification key, so a tick that runs twice — or after a day it
missed — sends each once, and only the nearest threshold crossed (a date entered 5 work days ahead
reminds once, "3 work days", not three times).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from rectify.core.notify import notify
from rectify.core.workdays import add_workdays, workdays_between
from rectify.orgs.models import Role, User
from rectify.reports.models import REPORT_MONTHS, CampaignDeadline, CampaignReport, add_months

REMIND_AT = (30, 10, 3)  # work days before the due date


@dataclass(frozen=True)
class Countdown:
    due: dt.date
    workdays: int  # work days from today to the due date (0 on the day; negative once past)
    days: int  # calendar days
    overdue: bool

    @property
    def text(self) -> str:
        if self.overdue:
            return f"已超过报送期限 {-self.days} 天（期限 {self.due:%Y年%m月%d日}）"
        if self.days == 0:
            return f"今天（{self.due:%Y年%m月%d日}）为报送期限"
        return f"距报送期限（{self.due:%Y年%m月%d日}）还有 {self.workdays} 个工作日（{self.days} 天）"


def countdown(report: CampaignReport | None, today: dt.date) -> Countdown | None:
    if report is None or report.due_date is None:
        return None
    return countdown_to(report.due_date, today)


def countdown_to(due: dt.date, today: dt.date) -> Countdown:
    days = (due - today).days
    if days >= 0:
        workdays = workdays_between(today, due)
    else:
        workdays = -workdays_between(due, today)
    return Countdown(due=due, workdays=workdays, days=days, overdue=days < 0)


def threshold(workdays_left: int) -> int | None:
    crossed = [n for n in REMIND_AT if workdays_left <= n]
    return min(crossed) if crossed else None


def remind_due(today: dt.date) -> int:
    """tick: remind each campaign's office of the 6-month report's due date and of its other deadlines."""
    sent = _remind_named(today)
    for report in CampaignReport.objects.filter(received_date__isnull=False).select_related("campaign__office"):
        left = countdown(report, today)
        if left is None or left.overdue:
            continue
        n = threshold(left.workdays)
        if n is None:
            continue
        campaign = report.campaign
        sent += notify(users=_office_users(campaign), kind="sixmonth_report_due",
                       title=f"{campaign.name}：整改落实情况报告须于 {left.due:%Y年%m月%d日} 前报送（剩 {left.workdays} 个工作日）",
                       body="收到督察报告后 6 个月内报送整改落实情况报告。可在“整改报告”页生成报告初稿。",
                       url=f"/reports/campaigns/{campaign.pk}/", key=f"sixmonth:{campaign.pk}:{left.due}:{n}")
    return sent


def _office_users(campaign):
    return User.objects.filter(unit=campaign.office, role__in=[Role.OFFICE_ADMIN, Role.OFFICE_STAFF], is_active=True)


def _remind_named(today: dt.date) -> int:
    sent = 0
    for deadline in CampaignDeadline.objects.filter(due_date__gte=today).select_related("campaign__office"):
        left = countdown_to(deadline.due_date, today)
        n = threshold(left.workdays)
        if n is None:
            continue
        campaign = deadline.campaign
        sent += notify(users=_office_users(campaign), kind="campaign_deadline_due",
                       title=f"{campaign.name}：{deadline.name}须于 {left.due:%Y年%m月%d日} 前完成（剩 {left.workdays} 个工作日）",
                       body=deadline.rule or deadline.name, url=f"/reports/campaigns/{campaign.pk}/",
                       key=f"deadline:{deadline.pk}:{left.due}:{n}")
    return sent


# --- deadlines a parsed plan states (planparse mechanisms of kind report_deadline) ----------------

UNITS = {"months": "个月", "days": "天", "weeks": "周", "work_days": "个工作日"}
MAX_AMOUNT = 120


def due_after(start: dt.date, amount: int, unit: str) -> dt.date:
    """The deadline ``amount`` ``unit`` after ``start`` (个月: the same day, or the month's last)."""
    if unit == "months":
        return add_months(start, amount)
    if unit == "weeks":
        return start + dt.timedelta(weeks=amount)
    if unit == "work_days":
        return add_workdays(start, amount)
    if unit == "days":
        return start + dt.timedelta(days=amount)
    raise ValueError(unit)


def plan_offers(parse: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The deadlines a parsed plan states, as offers for the campaign: (one-off deadlines counted from an
    event — 「上报整改方案6个月内报送问题整改落实情况」 —, periodic ones — 「每月25日前报送」). An offer whose
    term is 6 months for the 落实情况 report is the 6-month report's own deadline (``sixmonth``)."""
    one_off: list[dict[str, Any]] = []
    periodic: list[dict[str, Any]] = []
    seen: set[str] = set()
    for m in parse.get("mechanisms") or []:
        if m.get("kind") != "report_deadline" or m.get("phrase") in seen:
            continue
        seen.add(m.get("phrase", ""))
        if m.get("every"):
            periodic.append({"phrase": m.get("phrase", ""), "source": m.get("source", ""), "path": m.get("path", "")})
            continue
        unit = next((u for u in UNITS if isinstance(m.get(u), int)), None)
        if unit is None:
            continue
        amount = int(m[unit])
        report = (m.get("report") or "").strip()
        one_off.append({
            "name": (report or "报送")[:100], "amount": amount, "unit": unit, "unit_label": UNITS[unit],
            "after": m.get("after", ""), "rule": (m.get("phrase") or "")[:200], "source": (m.get("source") or "")[:500],
            "path": m.get("path", ""),
            "sixmonth": unit == "months" and amount == REPORT_MONTHS and "落实情况" in report})
    return one_off, periodic
