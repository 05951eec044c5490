"""Quantitative targets (目标指标) a plan sets, e.g. 中心城区空气质量优良率 > 92% in 2022."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from rectify.orgs.models import Unit


class Comparator(models.TextChoices):
    GE = "≥", _("不低于（≥）")
    GT = ">", _("高于（>）")
    EQ = "=", _("达到（=）")
    LE = "≤", _("不高于（≤）")
    LT = "<", _("低于（<）")
    DECREASE = "decrease", _("下降")
    INCREASE = "increase", _("提高")


class IndicatorQuerySet(models.QuerySet):
    def visible_to(self, user) -> IndicatorQuerySet:
        from rectify.indicators.scope import visible_indicators

        return visible_indicators(self, user)


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
    source_sentence = models.TextField(_("原文"), blank=True)
    source_document = models.CharField(_("来源文件"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = IndicatorQuerySet.as_manager()

    class Meta:
        ordering = ["year", "id"]
        verbose_name = _("目标指标")
        verbose_name_plural = _("目标指标")

    def __str__(self) -> str:
        return f"{self.name} {self.comparator} {self.value.normalize()}{self.unit}"
