"""The 6-month report's deadline: its countdown in work days and the office's reminders (tick).

Reminders go to the office that runs the campaign (its admins and staff) when 30, 10 and 3 work days
remain. Each threshold has its own notification key, so a tick that runs twice — or after a day it
missed — sends each once, and only the nearest threshold crossed (a date entered 5 work days ahead
reminds once, "3 work days", not three times).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rectify.core.notify import notify
from rectify.core.workdays import workdays_between
from rectify.orgs.models import Role, User
from rectify.reports.models import CampaignReport

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
    due = report.due_date
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
    """tick: remind each campaign's office of the 6-month report's due date."""
    sent = 0
    for report in CampaignReport.objects.filter(received_date__isnull=False).select_related("campaign__office"):
        left = countdown(report, today)
        if left is None or left.overdue:
            continue
        n = threshold(left.workdays)
        if n is None:
            continue
        campaign = report.campaign
        users = User.objects.filter(unit=campaign.office, role__in=[Role.OFFICE_ADMIN, Role.OFFICE_STAFF],
                                    is_active=True)
        sent += notify(users=users, kind="sixmonth_report_due",
                       title=f"{campaign.name}：整改落实情况报告须于 {left.due:%Y年%m月%d日} 前报送（剩 {left.workdays} 个工作日）",
                       body="收到督察报告后 6 个月内报送整改落实情况报告。可在“整改报告”页生成报告初稿。",
                       url=f"/reports/campaigns/{campaign.pk}/", key=f"sixmonth:{campaign.pk}:{left.due}:{n}")
    return sent
