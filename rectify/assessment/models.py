"""Helping and assessing units: help for lagging units (帮扶), quarterly supervision visits per county
(一季一督导), and the comprehensive evaluation (综合评估考核) with its scheme and published results."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rectify.dispatch.models import ProgressReport
from rectify.ledger.models import Campaign, Task
from rectify.orgs.models import Unit

# --- 帮扶 ---------------------------------------------------------------------------------------


class HelpStatus(models.TextChoices):
    OPEN = "open", _("待答复")
    ASSIGNED = "assigned", _("已安排帮扶")
    HELPED = "helped", _("已帮扶")
    DECLINED = "declined", _("不予安排")
    WITHDRAWN = "withdrawn", _("已撤回")


OPEN_HELP = (HelpStatus.OPEN, HelpStatus.ASSIGNED)


class HelpQuerySet(models.QuerySet):
    def visible_to(self, user) -> HelpQuerySet:
        from rectify.assessment.scope import visible_help_requests

        return visible_help_requests(self, user)

    def open(self) -> HelpQuerySet:
        return self.filter(status__in=OPEN_HELP)


class HelpRequest(models.Model):
    """帮扶申请: a unit turns the 存在困难 of its progress report into a request for help."""

    report = models.ForeignKey(ProgressReport, on_delete=models.PROTECT, related_name="+")
    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("申请单位"))
    difficulty = models.TextField(_("存在困难"))
    needs = models.TextField(_("需要的帮扶"))
    asked_of = models.CharField(_("希望由谁帮扶"), max_length=200, blank=True)
    asked_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                   verbose_name=_("希望帮扶的单位"))
    status = models.CharField(_("状态"), max_length=20, choices=HelpStatus.choices, default=HelpStatus.OPEN)
    version = models.PositiveIntegerField(default=1)
    answer = models.TextField(_("答复"), blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    helper_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                    verbose_name=_("帮扶单位"))
    help_due = models.DateField(_("帮扶时限"), null=True, blank=True)
    help_given = models.TextField(_("帮扶情况"), blank=True)
    helped_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+")
    helped_at = models.DateTimeField(_("帮扶记录时间"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(_("申请时间"))

    objects = HelpQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("帮扶申请")
        verbose_name_plural = _("帮扶申请")
        constraints = [
            # one request under way per report: a second one would split the answer
            models.UniqueConstraint(fields=["report"], condition=Q(status__in=["open", "assigned"]),
                                    name="help_one_open_per_report"),
        ]
        indexes = [
            # the help list and the dispatch table: open requests by unit
            models.Index(fields=["status", "unit"], name="help_status_unit_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.unit.name} 帮扶申请：{self.task.code}"


# --- 一季一督导 ----------------------------------------------------------------------------------


class VisitStatus(models.TextChoices):
    PLANNED = "planned", _("已安排")
    DONE = "done", _("已督导")
    CANCELLED = "cancelled", _("已取消")


class VisitQuerySet(models.QuerySet):
    def visible_to(self, user) -> VisitQuerySet:
        from rectify.assessment.scope import visible_visits

        return visible_visits(self, user)


class SupervisionVisit(models.Model):
    """一季一督导: the office's quarterly supervision visit to a county."""

    office = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("整改办"))
    county = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("县市区"))
    quarter = models.CharField(_("季度"), max_length=7, help_text="YYYY-Qn")
    planned_on = models.DateField(_("计划日期"))
    visited_on = models.DateField(_("督导日期"), null=True, blank=True)
    team = models.CharField(_("督导组"), max_length=300)
    status = models.CharField(_("状态"), max_length=20, choices=VisitStatus.choices, default=VisitStatus.PLANNED)
    version = models.PositiveIntegerField(default=1)
    findings = models.TextField(_("督导发现的问题"), blank=True)
    cancel_reason = models.TextField(_("取消原因"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField()
    recorded_at = models.DateTimeField(null=True, blank=True)

    objects = VisitQuerySet.as_manager()

    class Meta:
        ordering = ["-quarter", "county__sort_order", "id"]
        verbose_name = _("季度督导")
        verbose_name_plural = _("季度督导")
        indexes = [
            # the coverage grid: visits of a year's quarters per county
            models.Index(fields=["office", "quarter", "county"], name="visit_grid_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.quarter} {self.county.name} 督导"


class VisitFollowUp(models.Model):
    """A follow-up item of a visit (整改要求), optionally on a ledger task."""

    visit = models.ForeignKey(SupervisionVisit, on_delete=models.CASCADE, related_name="follow_ups")
    text = models.TextField(_("整改要求"))
    task = models.ForeignKey(Task, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("关联任务"))
    due_date = models.DateField(_("完成时限"), null=True, blank=True)
    done = models.BooleanField(_("已落实"), default=False)
    done_at = models.DateField(_("落实日期"), null=True, blank=True)

    class Meta:
        ordering = ["visit_id", "id"]


# --- 综合评估考核 --------------------------------------------------------------------------------


class Indicator(models.TextChoices):
    """What the scheme can score, each computed from the record (never typed in)."""

    ON_TIME_REPORTS = "on_time_reports", _("按时报送率")
    ON_SCHEDULE = "on_schedule", _("任务序时推进率")
    CLOSEOUTS = "closeouts", _("到期任务销号率")
    OVERDUE = "overdue_tasks", _("逾期任务")
    ESCALATIONS = "escalations", _("被督办")
    REBOUNDS = "rebounds", _("回头看反弹")
    CASES = "cases", _("追责问责")


# Rate items score weight × rate; the others lose ``per_item`` points per occurrence, down to 0.
RATE_INDICATORS = (Indicator.ON_TIME_REPORTS, Indicator.ON_SCHEDULE, Indicator.CLOSEOUTS)


class SchemeQuerySet(models.QuerySet):
    def visible_to(self, user) -> SchemeQuerySet:
        from rectify.assessment.scope import visible_schemes

        return visible_schemes(self, user)


class AssessmentScheme(models.Model):
    """A campaign's scoring scheme (考核评分办法): indicators with the weights the office sets."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="+", verbose_name=_("整改批次"))
    name = models.CharField(_("名称"), max_length=100)
    items = models.JSONField(_("评分项目"), default=list)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")

    objects = SchemeQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("考核评分办法")
        verbose_name_plural = _("考核评分办法")
        constraints = [models.UniqueConstraint(fields=["campaign", "name"], name="scheme_name_unique")]

    def __str__(self) -> str:
        return self.name


class ResultStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    DISCARDED = "discarded", _("已作废")


class ResultQuerySet(models.QuerySet):
    def visible_to(self, user) -> ResultQuerySet:
        from rectify.assessment.scope import visible_results

        return visible_results(self, user)


class AssessmentResult(models.Model):
    """One computation of a scheme over a period; the rows are kept as computed, and a published
    result never changes (its digest is in the record)."""

    scheme = models.ForeignKey(AssessmentScheme, on_delete=models.PROTECT, related_name="results")
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("名称"), max_length=100)
    period_start = models.DateField(_("考核期起"))
    period_end = models.DateField(_("考核期止"))
    items = models.JSONField(_("评分项目（计算时）"), default=list)
    status = models.CharField(_("状态"), max_length=20, choices=ResultStatus.choices, default=ResultStatus.DRAFT)
    version = models.PositiveIntegerField(default=1)
    digest = models.CharField(_("结果摘要（SM3）"), max_length=64, blank=True)
    computed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    computed_at = models.DateTimeField()
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)

    objects = ResultQuerySet.as_manager()

    class Meta:
        ordering = ["-period_end", "-id"]
        verbose_name = _("考核结果")
        verbose_name_plural = _("考核结果")

    def __str__(self) -> str:
        return self.title


class UnitGroup(models.TextChoices):
    COUNTY = "county", _("县市区")
    DEPARTMENT = "department", _("市直部门")


class AssessmentRow(models.Model):
    """One unit's score in a result, with the breakdown behind every figure."""

    result = models.ForeignKey(AssessmentResult, on_delete=models.CASCADE, related_name="rows")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    group = models.CharField(_("类别"), max_length=20, choices=UnitGroup.choices)
    total = models.DecimalField(_("总分"), max_digits=7, decimal_places=2)
    rank = models.PositiveIntegerField(_("名次"))
    breakdown = models.JSONField(_("得分明细"), default=dict)

    class Meta:
        ordering = ["result_id", "group", "rank", "unit__sort_order", "unit_id"]
        constraints = [models.UniqueConstraint(fields=["result", "unit"], name="assessment_row_unique")]
