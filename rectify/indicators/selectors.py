"""Scoped reads of targets and observed values, with attainment (达标情况) derived on the way."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet
from django.http import Http404

from rectify.indicators.attainment import LABELS, Attainment, indicator_attainment
from rectify.indicators.models import Indicator, IndicatorScope, Measurement
from rectify.indicators.services import regions_of
from rectify.orgs.models import Unit
from rectify.orgs.scope import unit_within


def indicator_queryset(user) -> QuerySet:
    return Indicator.objects.visible_to(user).select_related("county", "office").order_by("year", "id")


def get_indicator_for_user(user, pk: int, *, action: str = "view") -> Indicator:
    """One target; 404 for missing and not allowed alike."""
    ind = Indicator.objects.actionable_by(user, action).select_related("county", "office").filter(pk=pk).first()
    if ind is None:
        raise Http404("指标不存在或无权查看")
    return ind


@dataclass
class Standing:
    """Where a target stands at its latest period: counts of regions met / not met / without data."""

    period: str = ""
    met: int = 0
    not_met: int = 0
    no_data: int = 0
    regions: list[tuple[str, str]] = field(default_factory=list)  # (region name, attainment)

    @property
    def total(self) -> int:
        return self.met + self.not_met + self.no_data

    @property
    def measured(self) -> int:
        return self.met + self.not_met

    @property
    def attainment(self) -> str:
        if self.total == 0 or self.met + self.not_met == 0:
            return Attainment.NO_DATA
        return Attainment.MET if self.not_met == 0 else Attainment.NOT_MET  # regions without a value are listed apart


def standings(indicators: list[Indicator], counties: list[Unit]) -> dict[int, Standing]:
    """Each target's standing at its latest recorded period, in one query for the whole list."""
    values: dict[int, dict[str, dict[int, Decimal]]] = defaultdict(lambda: defaultdict(dict))
    for ind_id, region_id, period, value in Measurement.objects.filter(
            indicator__in=[i.pk for i in indicators]).values_list("indicator_id", "region_id", "period", "value"):
        values[ind_id][period][region_id] = value
    result = {}
    for ind in indicators:
        periods = values.get(ind.pk, {})
        latest = max(periods) if periods else ""
        if ind.scope == IndicatorScope.CITY:
            regions = [ind.office]
        elif ind.scope == IndicatorScope.COUNTY:
            regions = [ind.county] if ind.county else []
        else:
            regions = [c for c in counties if unit_within(c, ind.office)]
        st = Standing(period=latest)
        for region in regions:
            a = indicator_attainment(ind, periods.get(latest, {}).get(region.pk)) if latest else Attainment.NO_DATA
            setattr(st, a.value, getattr(st, a.value) + 1)
            st.regions.append((region.name, a.value))
        result[ind.pk] = st
    return result


def counties() -> list[Unit]:
    from rectify.orgs.models import UnitKind

    return list(Unit.objects.filter(kind=UnitKind.COUNTY, is_active=True).order_by("sort_order", "id"))


def indicator_page(indicator: Indicator) -> dict:
    """A target's page: its values as a table, a trend (one series per region) and the per-county
    comparison at the latest period, each value with its attainment."""
    regions = regions_of(indicator)
    rows = list(Measurement.objects.filter(indicator=indicator).select_related("region", "recorded_by")
                .order_by("-period", "region__sort_order", "region_id"))
    for m in rows:
        m.attainment = indicator_attainment(indicator, m.value).value
        m.attainment_label = LABELS[Attainment(m.attainment)]
    periods = sorted({m.period for m in rows})
    by = {(m.region_id, m.period): m for m in rows}
    series = [{"name": r.short_name or r.name if r != indicator.office else "全市",
               "data": [_num(by[(r.pk, p)].value) if (r.pk, p) in by else None for p in periods]} for r in regions]
    latest = periods[-1] if periods else ""
    comparison = []
    for r in regions:
        m = by.get((r.pk, latest))
        a = indicator_attainment(indicator, m.value if m else None)
        comparison.append({"name": r.short_name or r.name, "code": r.region_code, "value": _num(m.value) if m else None,
                           "attainment": a.value, "label": LABELS[a]})
    chart = {"periods": periods, "series": series, "target": None if indicator.comparator in ("yes", "decrease", "increase")
             else _num(indicator.value), "unit": indicator.unit, "yes_no": indicator.comparator == "yes",
             "latest": latest, "comparison": comparison}
    return {"rows": rows, "regions": regions, "chart": chart, "latest": latest, "comparison": comparison}


def _num(value: Decimal) -> float:
    return float(value)


def county_attainment(user, county_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Per county: (targets met, targets with a value) at each target's latest period for that
    county — the battle map's 指标达标 measure. Targets that apply to counties only (one or each)."""
    indicators = {i.pk: i for i in Indicator.objects.visible_to(user).exclude(scope=IndicatorScope.CITY)}
    latest: dict[tuple[int, int], tuple[str, Decimal]] = {}
    for ind_id, region_id, period, value in Measurement.objects.filter(
            indicator__in=list(indicators), region__in=county_ids).values_list("indicator_id", "region_id", "period",
                                                                               "value"):
        key = (ind_id, region_id)
        if key not in latest or latest[key][0] < period:
            latest[key] = (period, value)
    result: dict[int, tuple[int, int]] = {}
    for (ind_id, region_id), (_period, value) in latest.items():
        met, total = result.get(region_id, (0, 0))
        ok = indicator_attainment(indicators[ind_id], value) == Attainment.MET
        result[region_id] = (met + ok, total + 1)
    return result
