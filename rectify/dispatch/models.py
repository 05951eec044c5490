"""Monthly dispatch (一月一调度): rounds, progress reports and their evidence."""

from __future__ import annotations

from django.db import models

from rectify.ledger.models import Measure, Task
from rectify.orgs.models import Unit, User


class RoundStatus(models.TextChoices):
    OPEN = "open", "报送中"
    CLOSED = "closed", "已结束"


class DispatchRound(models.Model):
    """调度轮次: the monthly call for progress of one office's tasks."""

    office = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="rounds", verbose_name="整改办")
    period = models.CharField("调度月份", max_length=7, help_text="YYYY-MM")
    title = models.CharField("名称", max_length=100)
    opened_at = models.DateTimeField("开启时间")
    opened_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    due_date = models.DateField("报送截止日期")
    require_unit_review = models.BooleanField("须本单位审核后上报", default=True)
    status = models.CharField("状态", max_length=10, choices=RoundStatus.choices, default=RoundStatus.OPEN)
    closed_at = models.DateTimeField("结束时间", null=True, blank=True)

    class Meta:
        ordering = ["-period", "-id"]
        verbose_name = "调度轮次"
        verbose_name_plural = "调度轮次"
        constraints = [
            # tick may run any number of times: a month never gets a second round
            models.UniqueConstraint(fields=["office", "period"], name="round_unique_per_office_month"),
        ]

    def __str__(self) -> str:
        return self.title


class ReportStatus(models.TextChoices):
    PENDING = "pending", "未报送"
    DRAFT = "draft", "草稿"
    AWAITING_REVIEW = "awaiting_review", "待本单位审核"
    SUBMITTED = "submitted", "待牵头单位审核"
    RETURNED = "returned", "已退回"
    ACCEPTED = "accepted", "已采纳"


class ProgressReportQuerySet(models.QuerySet):
    def visible_to(self, user) -> ProgressReportQuerySet:
        from rectify.dispatch.scope import visible_reports

        return visible_reports(self, user)


class ProgressReport(models.Model):
    """进展报送: one responsible unit's report on one task in one round (the report slot)."""

    round = models.ForeignKey(DispatchRound, on_delete=models.PROTECT, related_name="reports")
    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="reports")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="reports", verbose_name="责任单位")
    status = models.CharField("状态", max_length=20, choices=ReportStatus.choices, default=ReportStatus.PENDING)
    progress_text = models.TextField("本月进展", blank=True)
    percent = models.PositiveSmallIntegerField("完成进度（%）", null=True, blank=True)
    measures_completed = models.ManyToManyField(Measure, blank=True, related_name="+", verbose_name="已完成措施")
    difficulties = models.TextField("存在困难", blank=True)
    next_steps = models.TextField("下步计划", blank=True)
    public_summary = models.CharField("公开摘要", max_length=200, blank=True)
    author = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    submitted_at = models.DateTimeField("报送时间", null=True, blank=True)
    reviewed_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    decided_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    return_reason = models.TextField("退回原因", blank=True)
    judged_unable = models.BooleanField("牵头单位判断无法按期完成", default=False)
    late = models.BooleanField("逾期报送", default=False)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProgressReportQuerySet.as_manager()

    class Meta:
        ordering = ["round_id", "task_id", "unit_id"]
        verbose_name = "进展报送"
        verbose_name_plural = "进展报送"
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


class Evidence(models.Model):
    """佐证材料: a file attached to a report, stored by its SM3 digest outside the web root."""

    report = models.ForeignKey(ProgressReport, on_delete=models.CASCADE, related_name="evidence")
    digest = models.CharField(max_length=64, db_index=True)
    extension = models.CharField(max_length=10)
    size = models.PositiveBigIntegerField()
    mime = models.CharField(max_length=100)
    kind = models.CharField(max_length=10)
    original_name = models.CharField("原文件名", max_length=200)
    taken_at = models.DateTimeField("拍摄时间", null=True, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    uploaded_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = "佐证材料"
        verbose_name_plural = "佐证材料"

    def __str__(self) -> str:
        return self.original_name
