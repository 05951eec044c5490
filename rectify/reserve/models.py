"""The reserve of ecological projects (生态环保项目储备库, 十大生态环保项目, PPP): projects with their
investment and funding, their stage (one declared table, ``workflows.STAGE_FLOW``), the tasks they
serve, their progress per period and the fund-use performance record (资金使用绩效评价).

Amounts are in 万元 (ten thousand yuan), as the plan and the offices' sheets state them.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from rectify.dispatch.models import DispatchRound
from rectify.evidence.models import StoredFile
from rectify.ledger.models import Task
from rectify.orgs.models import Unit, User


class ProjectKind(models.TextChoices):
    POLLUTION = "pollution", _("污染治理")
    RESTORATION = "restoration", _("生态修复")
    INFRASTRUCTURE = "infrastructure", _("环境基础设施")
    WATER = "water", _("水环境综合治理")
    RESOURCES = "resources", _("资源节约与循环利用")
    OTHER = "other", _("其他")


class Stage(models.TextChoices):
    RESERVE = "reserve", _("储备")
    PREPARATION = "preparation", _("前期")
    CONSTRUCTION = "construction", _("在建")
    COMPLETED = "completed", _("完工")
    OPERATION = "operation", _("运营/管护")


class FundingSource(models.TextChoices):
    CENTRAL = "central", _("中央资金")
    PROVINCIAL = "provincial", _("省级资金")
    LOCAL = "local", _("地方资金")
    PPP = "ppp", _("PPP/社会资本")
    OTHER = "other", _("其他")


class Rating(models.TextChoices):
    EXCELLENT = "excellent", _("优")
    GOOD = "good", _("良")
    FAIR = "fair", _("中")
    POOR = "poor", _("差")


class ProjectQuerySet(models.QuerySet):
    def visible_to(self, user) -> ProjectQuerySet:
        from rectify.reserve.scope import visible_projects

        return visible_projects(self, user)

    def actionable_by(self, user, action: str) -> ProjectQuerySet:
        from rectify.reserve.scope import actionable_projects

        return actionable_projects(self, user, action)


class Project(models.Model):
    office = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="reserve_projects", verbose_name=_("整改办"))
    code = models.CharField(_("项目编号"), max_length=40)
    name = models.CharField(_("项目名称"), max_length=200)
    kind = models.CharField(_("项目类型"), max_length=20, choices=ProjectKind.choices, default=ProjectKind.OTHER)
    county = models.ForeignKey(Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=_("所在县市区"))
    location = models.CharField(_("建设地点"), max_length=200, blank=True)
    total_investment = models.DecimalField(_("总投资（万元）"), max_digits=14, decimal_places=2, default=0)
    annual_investment = models.DecimalField(_("年度计划投资（万元）"), max_digits=14, decimal_places=2, default=0)
    responsible_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("责任单位"))
    start_date = models.DateField(_("开工日期"), null=True, blank=True)
    completion_date = models.DateField(_("完工日期"), null=True, blank=True)
    stage = models.CharField(_("阶段"), max_length=20, choices=Stage.choices, default=Stage.RESERVE)
    tasks = models.ManyToManyField(Task, blank=True, related_name="reserve_projects", verbose_name=_("关联整改任务"))
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["code", "id"]
        verbose_name = _("储备项目")
        constraints = [models.UniqueConstraint(fields=["office", "code"], name="project_code_unique_in_office")]
        indexes = [models.Index(fields=["office", "code", "id"], name="project_list_idx"),  # the list's order
                   models.Index(fields=["stage"], name="project_stage_idx")]  # the stage filter

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ProjectFunding(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="funding")
    source = models.CharField(_("资金来源"), max_length=20, choices=FundingSource.choices)
    amount = models.DecimalField(_("金额（万元）"), max_digits=14, decimal_places=2)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "source"], name="funding_source_unique")]


class ProjectProgress(models.Model):
    """进展: one per project and period (YYYY-MM), by the responsible unit or the office; reported in the
    month's dispatch round (调度轮次, ``round``) when one is open, with evidence files (``ProjectEvidence``)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="progress")
    round = models.ForeignKey(DispatchRound, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                              verbose_name=_("调度轮次"))
    period = models.CharField(_("月份"), max_length=7)
    percent = models.PositiveSmallIntegerField(_("形象进度（%）"))
    invested = models.DecimalField(_("累计完成投资（万元）"), max_digits=14, decimal_places=2, default=0)
    text = models.TextField(_("进展情况"))
    reported_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    reported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period"]
        constraints = [models.UniqueConstraint(fields=["project", "period"], name="progress_period_unique")]


class ProjectEvidenceQuerySet(models.QuerySet):
    def visible_to(self, user) -> ProjectEvidenceQuerySet:
        from rectify.reserve.scope import visible_project_evidence

        return visible_project_evidence(self, user)


class ProjectEvidence(StoredFile):
    """佐证材料 of a project's progress: a file checked by content and stored by its SM3 digest
    (``rectify.evidence``), seen by whoever sees the project."""

    progress = models.ForeignKey(ProjectProgress, on_delete=models.CASCADE, related_name="evidence")

    objects = ProjectEvidenceQuerySet.as_manager()

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("项目进展佐证材料")


class FundPerformance(models.Model):
    """资金使用绩效评价: planned against spent, outputs and a rating, one per project and year."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="performance")
    year = models.PositiveSmallIntegerField(_("年度"))
    planned = models.DecimalField(_("计划资金（万元）"), max_digits=14, decimal_places=2)
    spent = models.DecimalField(_("实际使用（万元）"), max_digits=14, decimal_places=2)
    outputs = models.TextField(_("产出与效益"))
    rating = models.CharField(_("评价等级"), max_length=10, choices=Rating.choices)
    recorded_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year"]
        constraints = [models.UniqueConstraint(fields=["project", "year"], name="performance_year_unique")]
