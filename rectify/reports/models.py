"""The campaign's reporting (整改落实情况报告): the date the inspection report was received, from which
the 6-month report's due date follows, and the narrative the office writes around the figures.

One row per campaign (``CampaignReport``), kept in this app rather than on ``ledger.Campaign`` so that
the ledger stays below reporting; a campaign without a row simply has no date recorded yet.
"""

from __future__ import annotations

import calendar
import datetime as dt

from django.db import models
from django.utils.translation import gettext_lazy as _

from rectify.ledger.models import Campaign
from rectify.orgs.models import User
from rectify.reports import scope

REPORT_MONTHS = 6  # 收到督察报告后 6 个月内报送整改落实情况报告


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later; the month's last day when it has no such day (8月31日 + 6 → 2月28/29日)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class CampaignReportQuerySet(models.QuerySet):
    def visible_to(self, user) -> CampaignReportQuerySet:
        return scope.reports_visible_to(self, user)


class CampaignReport(models.Model):
    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, primary_key=True, related_name="reporting",
                                    verbose_name=_("整改批次"))
    received_date = models.DateField(_("收到督察报告日期"), null=True, blank=True)
    intro = models.TextField(_("报告引言"), blank=True)
    summaries = models.JSONField(_("各部分小结"), default=dict, blank=True)  # section key → text
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    objects = CampaignReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("整改报告设置")

    def __str__(self) -> str:
        return f"{self.campaign}·整改落实情况报告"

    @property
    def due_date(self) -> dt.date | None:
        return add_months(self.received_date, REPORT_MONTHS) if self.received_date else None


class CampaignDeadlineQuerySet(models.QuerySet):
    def visible_to(self, user) -> CampaignDeadlineQuerySet:
        return scope.reports_visible_to(self, user)


class CampaignDeadline(models.Model):
    """A named deadline of the campaign other than the 6-month report (e.g. a deadline the plan states:
    「……后 N 个月内报送……」), accepted by the office from the plan's import review, with its source."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="deadlines",
                                 verbose_name=_("整改批次"))
    name = models.CharField(_("事项"), max_length=100)
    rule = models.CharField(_("方案规定"), max_length=200, blank=True)  # e.g. 整改方案上报后6个月内报送
    start_date = models.DateField(_("起算日期"))
    due_date = models.DateField(_("期限"))
    source = models.CharField(_("方案原文"), max_length=500, blank=True)
    document = models.CharField(_("来源文件"), max_length=200, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CampaignDeadlineQuerySet.as_manager()

    class Meta:
        ordering = ["due_date", "id"]
        verbose_name = _("批次报送期限")
        constraints = [models.UniqueConstraint(fields=["campaign", "name"], name="campaign_deadline_name_unique")]

    def __str__(self) -> str:
        return f"{self.name}（{self.due_date}）"
