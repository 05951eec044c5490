"""Quantitative targets (目标指标) a plan sets, e.g. 中心城区空气质量优良率 > 92% in 2022, and the
values observed against them (监测值) per region and period. Attainment (达标情况) is derived from
the two (``attainment.py``), never typed in."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from rectify.orgs.models import Unit


class Comparator(models.TextChoices):
    GE = "≥", _("不低于（≥）")
    GT = ">", _("高于（>）")
    EQ = "=", _("达到（=）")
    LE = "≤", _("不高于（≤）")
    LT = "<", _("低于（<）")
    YES = "yes", _("是否达到（是/否）")
    DECREASE = "decrease", _("下降")
    INCREASE = "increase", _("提高")


class IndicatorScope(models.TextChoices):
    """Where a target applies (适用范围)."""

    CITY = "city", _("全市")
    COUNTY = "county", _("一个县市区")
    EACH_COUNTY = "each_county", _("各县市区")


class IndicatorQuerySet(models.QuerySet):
    def visible_to(self, user) -> IndicatorQuerySet:
        from rectify.indicators.scope import visible_indicators

        return visible_indicators(self, user)

    def actionable_by(self, user, action: str) -> IndicatorQuerySet:
        from rectify.indicators.scope import actionable_indicators

        return actionable_indicators(self, user, action)


class Indicator(models.Model):
    office = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="indicators", verbose_name=_("整改办"))
    campaign = models.ForeignKey("ledger.Campaign", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="indicators", verbose_name=_("整改批次"))
    name = models.CharField(_("指标"), max_length=100)
    comparator = models.CharField(_("比较"), max_length=10, choices=Comparator.choices)
    value = models.DecimalField(_("目标值"), max_digits=14, decimal_places=4)
    unit = models.CharField(_("单位"), max_length=20, blank=True)
    year = models.PositiveSmallIntegerField(_("目标年份"), null=True, blank=True)
    kept = models.BooleanField(_("须持续保持"), default=False, help_text=_("如“稳定在…以上”"))
    scope = models.CharField(_("适用范围"), max_length=20, choices=IndicatorScope.choices, default=IndicatorScope.CITY)
    county = models.ForeignKey(Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=_("县市区"))
    baseline = models.DecimalField(_("基准值"), max_digits=14, decimal_places=4, null=True, blank=True,
                                   help_text=_("“下降”“提高”类指标与之比较"))
    source_sentence = models.TextField(_("原文"), blank=True)
    source_document = models.CharField(_("来源文件"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = IndicatorQuerySet.as_manager()

    class Meta:
        ordering = ["year", "id"]
        verbose_name = _("目标指标")
        verbose_name_plural = _("目标指标")
        constraints = [
            # one county exactly when the scope is one county
            models.CheckConstraint(condition=(models.Q(scope="county") & models.Q(county__isnull=False))
                                   | (~models.Q(scope="county") & models.Q(county__isnull=True)),
                                   name="indicator_county_matches_scope"),
        ]

    def __str__(self) -> str:
        if self.comparator == Comparator.YES:
            return f"{self.name}（是/否）"
        return f"{self.name} {self.get_comparator_display() if self.comparator in ('decrease', 'increase') else self.comparator} {self.value.normalize():f}{self.unit}"

    @property
    def target_text(self) -> str:
        """"> 92%", "≥ 65%", "达到", "下降 5%"."""
        if self.comparator == Comparator.YES:
            return "达到"
        sign = {"decrease": "下降", "increase": "提高"}.get(self.comparator, self.comparator)
        return f"{sign} {self.value.normalize():f}{self.unit}"


class MeasurementQuerySet(models.QuerySet):
    def visible_to(self, user) -> MeasurementQuerySet:
        from rectify.indicators.scope import visible_measurements

        return visible_measurements(self, user)


class Measurement(models.Model):
    """One observed value (监测值) of an indicator for a region (the city: the office unit; or a
    county) and a period (a year "2023" or a month "2023-06")."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="measurements")
    region = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("地区"))
    period = models.CharField(_("期间"), max_length=7)
    value = models.DecimalField(_("监测值"), max_digits=14, decimal_places=4)
    source = models.CharField(_("数据来源"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    recorded_at = models.DateTimeField(_("录入时间"))

    objects = MeasurementQuerySet.as_manager()

    class Meta:
        ordering = ["indicator_id", "period", "region_id"]
        verbose_name = _("监测值")
        verbose_name_plural = _("监测值")
        constraints = [
            # a region has one value per indicator and period; a later entry replaces it (services)
            models.UniqueConstraint(fields=["indicator", "region", "period"], name="measurement_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator.name} {self.period} {self.value.normalize():f}"
