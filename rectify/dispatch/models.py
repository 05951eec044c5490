"""Monthly dispatch (一月一调度): rounds, progress reports and their evidence."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from rectify.evidence.models import StoredFile
from rectify.ledger.models import Measure, Task
from rectify.orgs.models import Unit, User


class RoundStatus(models.TextChoices):
    OPEN = "open", _("报送中")
    CLOSED = "closed", _("已结束")


class RoundQuerySet(models.QuerySet):
    def visible_to(self, user) -> RoundQuerySet:
        from rectify.dispatch.scope import visible_rounds

        return visible_rounds(self, user)

    def actionable_by(self, user, action: str) -> RoundQuerySet:
        from rectify.dispatch.scope import actionable_rounds

        return actionable_rounds(self, user, action)


class DispatchRound(models.Model):
    """调度轮次: the monthly call for progress of one office's tasks."""

    office = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="rounds", verbose_name=_("整改办"))
    period = models.CharField(_("调度月份"), max_length=7, help_text="YYYY-MM")
    title = models.CharField(_("名称"), max_length=100)
    opened_at = models.DateTimeField(_("开启时间"))
    opened_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    due_date = models.DateField(_("报送截止日期"))
    require_unit_review = models.BooleanField(_("须本单位审核后上报"), default=True)
    status = models.CharField(_("状态"), max_length=10, choices=RoundStatus.choices, default=RoundStatus.OPEN)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    objects = RoundQuerySet.as_manager()

    class Meta:
        ordering = ["-period", "-id"]
        verbose_name = _("调度轮次")
        verbose_name_plural = _("调度轮次")
        constraints = [
            # tick may run any number of times: a month never gets a second round
            models.UniqueConstraint(fields=["office", "period"], name="round_unique_per_office_month"),
        ]
        indexes = [
            # The battle map's latest months with figures (dashboard.selectors.round_progress): read
            # backwards from the newest period, stopping after six, instead of testing every round of
            # a province for tallies (5,600 rounds: 22 -> 5 ms on PostgreSQL); the rounds list's order.
            models.Index(fields=["period", "id"], name="round_period_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class ReportStatus(models.TextChoices):
    PENDING = "pending", _("未报送")
    DRAFT = "draft", _("草稿")
    AWAITING_REVIEW = "awaiting_review", _("待本单位审核")
    SUBMITTED = "submitted", _("待牵头单位审核")
    RETURNED = "returned", _("已退回")
    ACCEPTED = "accepted", _("已采纳")


class ProgressReportQuerySet(models.QuerySet):
    def visible_to(self, user) -> ProgressReportQuerySet:
        from rectify.dispatch.scope import visible_reports

        return visible_reports(self, user)


class ProgressReport(models.Model):
    """进展报送: one responsible unit's report on one task in one round (the report slot)."""

    round = models.ForeignKey(DispatchRound, on_delete=models.PROTECT, related_name="reports")
    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="reports")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="reports", verbose_name=_("责任单位"))
    status = models.CharField(_("状态"), max_length=20, choices=ReportStatus.choices, default=ReportStatus.PENDING)
    progress_text = models.TextField(_("本月进展"), blank=True)
    percent = models.PositiveSmallIntegerField(_("完成进度（%）"), null=True, blank=True)
    measures_completed = models.ManyToManyField(Measure, blank=True, related_name="+", verbose_name=_("已完成措施"))
    difficulties = models.TextField(_("存在困难"), blank=True)
    next_steps = models.TextField(_("下步计划"), blank=True)
    public_summary = models.CharField(_("公开摘要"), max_length=200, blank=True)
    author = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    submitted_at = models.DateTimeField(_("报送时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    decided_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    return_reason = models.TextField(_("退回原因"), blank=True)
    judged_unable = models.BooleanField(_("牵头单位判断无法按期完成"), default=False)
    late = models.BooleanField(_("逾期报送"), default=False)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProgressReportQuerySet.as_manager()

    class Meta:
        ordering = ["round_id", "task_id", "unit_id"]
        verbose_name = _("进展报送")
        verbose_name_plural = _("进展报送")
        constraints = [
            models.UniqueConstraint(fields=["round", "task", "unit"], name="report_slot_unique"),
            models.CheckConstraint(condition=models.Q(percent__isnull=True) | models.Q(percent__lte=100),
                                   name="report_percent_0_100"),
        ]
        indexes = [
            # round table: counts by status per round
            models.Index(fields=["round", "status"], name="report_round_status_idx"),
            # last accepted report of a task
            models.Index(fields=["task", "status", "decided_at"], name="report_task_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.round.period} {self.task.code} {self.unit.name}"


class EvidenceQuerySet(models.QuerySet):
    def visible_to(self, user) -> EvidenceQuerySet:
        from rectify.dispatch.scope import visible_evidence

        return visible_evidence(self, user)


class Evidence(StoredFile):
    """佐证材料: a file attached to a report, stored by its SM3 digest outside the web root
    (the file's own fields: ``rectify.evidence.models.StoredFile``)."""

    report = models.ForeignKey(ProgressReport, on_delete=models.CASCADE, related_name="evidence")

    objects = EvidenceQuerySet.as_manager()

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("佐证材料")
        verbose_name_plural = _("佐证材料")
