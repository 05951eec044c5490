"""Every write of targets (目标指标) and observed values (监测值): define or change a target, record
one value by hand, import a sheet of values (all or nothing). Each in one transaction with its event."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from rectify.core.audit import record_event
from rectify.core.sm3 import sm3_hex
from rectify.indicators.models import Comparator, Indicator, IndicatorScope, Measurement
from rectify.indicators.scope import manages_indicators
from rectify.orgs.models import Unit, UnitKind, User
from rectify.orgs.scope import in_tree, unit_within

PERIOD_RE = re.compile(r"^(19|20)\d{2}(-(0[1-9]|1[0-2]))?$")
MAX_VALUE = Decimal("9999999999")
YES_WORDS = {"是": 1, "达标": 1, "达到": 1, "yes": 1, "y": 1, "1": 1, "否": 0, "未达标": 0, "未达到": 0, "no": 0,
             "n": 0, "0": 0}


@dataclass
class IndicatorInput:
    name: str
    comparator: str
    value: Decimal
    unit: str = ""
    year: int | None = None
    kept: bool = False
    scope: str = IndicatorScope.CITY
    county: Unit | None = None
    baseline: Decimal | None = None
    source_sentence: str = ""


def _snapshot(ind: Indicator) -> dict:
    return {"name": ind.name, "comparator": ind.comparator, "value": str(ind.value.normalize()), "unit": ind.unit,
            "year": ind.year, "kept": ind.kept, "scope": ind.scope, "county": ind.county.name if ind.county else "",
            "baseline": None if ind.baseline is None else str(ind.baseline.normalize())}


def _require_manager(actor: User, office: Unit) -> None:
    if not (manages_indicators(actor) and unit_within(office, actor.unit)):
        raise PermissionDenied("只有整改办可以设定目标指标和录入监测值。")


def _validate(data: IndicatorInput, office: Unit) -> None:
    errors: dict[str, list[str]] = {}
    if not data.name.strip() or len(data.name) > 100:
        errors.setdefault("name", []).append("指标名称不能为空，且不超过 100 字。")
    if data.comparator not in Comparator.values:
        errors.setdefault("comparator", []).append("请选择比较方式。")
    if data.comparator == Comparator.YES and data.value != 1:
        errors.setdefault("value", []).append("“是否达到”类指标的目标值为 1（是）。")
    if abs(data.value) > MAX_VALUE:
        errors.setdefault("value", []).append("目标值超出范围。")
    if data.scope not in IndicatorScope.values:
        errors.setdefault("scope", []).append("请选择适用范围。")
    if data.scope == IndicatorScope.COUNTY:
        if data.county is None or data.county.kind != UnitKind.COUNTY or not unit_within(data.county, office):
            errors.setdefault("county", []).append("适用范围为一个县市区时，请选择本辖区的县市区。")
    elif data.county is not None:
        errors.setdefault("county", []).append("只有适用范围为一个县市区时才选择县市区。")
    if data.year is not None and not 2000 <= data.year <= 2100:
        errors.setdefault("year", []).append("目标年份应在 2000—2100 之间。")
    if len(data.unit) > 20:
        errors.setdefault("unit", []).append("单位不超过 20 字。")
    if errors:
        raise ValidationError(errors)


def _apply(ind: Indicator, data: IndicatorInput) -> None:
    ind.name, ind.comparator, ind.value, ind.unit = data.name.strip(), data.comparator, data.value, data.unit.strip()
    ind.year, ind.kept, ind.scope, ind.baseline = data.year, data.kept, data.scope, data.baseline
    ind.county = data.county if data.scope == IndicatorScope.COUNTY else None
    ind.source_sentence = data.source_sentence


def create_indicator(*, actor: User, data: IndicatorInput, office: Unit | None = None) -> Indicator:
    """设定目标指标."""
    office = office or actor.unit
    if office is None:
        raise PermissionDenied("只有整改办可以设定目标指标。")
    _require_manager(actor, office)
    _validate(data, office)
    with transaction.atomic():
        ind = Indicator(office=office)
        _apply(ind, data)
        ind.save()
        record_event(actor=actor, action="indicator_created", obj=ind, summary=f"设定目标指标：{ind}",
                     after=_snapshot(ind))
    return ind


def update_indicator(*, actor: User, indicator: Indicator, data: IndicatorInput) -> Indicator:
    _require_manager(actor, indicator.office)
    _validate(data, indicator.office)
    with transaction.atomic():
        ind = Indicator.objects.select_for_update().select_related("county").get(pk=indicator.pk)
        before = _snapshot(ind)
        _apply(ind, data)
        ind.save()
        record_event(actor=actor, action="indicator_updated", obj=ind, summary=f"修改目标指标：{ind}",
                     before=before, after=_snapshot(ind))
    return ind


# --- observed values --------------------------------------------------------------------------


def regions_of(indicator: Indicator) -> list[Unit]:
    """Where values of this target are recorded: the city (the office), its one county, or every county."""
    if indicator.scope == IndicatorScope.CITY:
        return [indicator.office]
    if indicator.scope == IndicatorScope.COUNTY:
        return [indicator.county] if indicator.county else []
    return list(Unit.objects.filter(in_tree("", indicator.office), kind=UnitKind.COUNTY, is_active=True)
                .order_by("sort_order", "id"))


def parse_period(text: str) -> str:
    text = str(text).strip().replace("/", "-").replace(".", "-")
    if re.fullmatch(r"\d{4}-\d", text):
        text = text[:5] + "0" + text[5:]
    if text.endswith("年"):
        text = text[:-1]
    if not PERIOD_RE.match(text):
        raise ValidationError("期间应为年份（如 2023）或年月（如 2023-06）。")
    return text


def parse_value(indicator: Indicator, raw) -> Decimal:
    text = str(raw).strip().rstrip("%").strip()
    if indicator.comparator == Comparator.YES:
        if text.lower() not in YES_WORDS:
            raise ValidationError("“是否达到”类指标的监测值应为 是/否（或 达标/未达标、1/0）。")
        return Decimal(YES_WORDS[text.lower()])
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation as exc:
        raise ValidationError(f"监测值不是数字：{text[:30]}") from exc
    if not value.is_finite() or abs(value) > MAX_VALUE:
        raise ValidationError("监测值超出范围。")
    return value.quantize(Decimal("0.0001"))


def _region_or_error(indicator: Indicator, region: Unit, allowed: list[Unit]) -> None:
    if region.pk not in {u.pk for u in allowed}:
        raise ValidationError(f"「{region.name}」不在该指标的适用范围内。")


def _write_value(*, actor: User, indicator: Indicator, region: Unit, period: str, value: Decimal, source: str,
                 now) -> tuple[Measurement, str | None]:
    existing = Measurement.objects.select_for_update().filter(indicator=indicator, region=region, period=period).first()
    old = None if existing is None else str(existing.value.normalize())
    if existing is None:
        existing = Measurement(indicator=indicator, region=region, period=period)
    existing.value, existing.source, existing.recorded_by, existing.recorded_at = value, source[:200], actor, now
    existing.save()
    return existing, old


def record_measurement(*, actor: User, indicator: Indicator, region: Unit, period: str, value, source: str = "") -> Measurement:
    """录入监测值 by hand; a value already recorded for the region and period is replaced (before/after kept)."""
    _require_manager(actor, indicator.office)
    period = parse_period(period)
    number = parse_value(indicator, value)
    _region_or_error(indicator, region, regions_of(indicator))
    source = (source or "手工录入").strip()
    with transaction.atomic():
        m, old = _write_value(actor=actor, indicator=indicator, region=region, period=period, value=number,
                              source=source, now=timezone.now())
        record_event(actor=actor, action="measurement_recorded", obj=indicator,
                     summary=f"{indicator.name}：{region.name} {period} 监测值 {number.normalize():f}{indicator.unit}"
                             + (f"（原 {old}）" if old is not None else ""),
                     before={"value": old} if old is not None else None,
                     after={"region": region.name, "period": period, "value": str(number.normalize()), "source": source})
    return m


@dataclass
class ImportRow:
    line: int
    region: Unit
    period: str
    value: Decimal
    source: str


class ImportRejected(ValidationError):
    """The sheet has errors: nothing was written. ``row_errors`` lists (line, message)."""

    def __init__(self, row_errors: list[tuple[int, str]]):
        self.row_errors = row_errors
        super().__init__([f"第 {line} 行：{msg}" if line else msg for line, msg in row_errors])


def import_measurements(*, actor: User, indicator: Indicator, data: bytes, filename: str, source: str = "") -> int:
    """导入监测值 from an xlsx or csv sheet (地区, 期间, 监测值[, 数据来源]): every row is checked
    first; any error rejects the whole sheet with every row's error, and nothing is written."""
    from rectify.indicators.importing import read_rows

    _require_manager(actor, indicator.office)
    rows, errors = read_rows(data, filename)
    if errors:
        raise ImportRejected(errors)
    allowed = regions_of(indicator)
    by_name: dict[str, Unit] = {}
    for unit in allowed:
        for name in unit.names():
            by_name.setdefault(name, unit)
        if unit == indicator.office:
            by_name.setdefault("全市", unit)
            by_name.setdefault("市本级", unit)
    checked: list[ImportRow] = []
    seen: dict[tuple[int, str], int] = {}
    row_errors: list[tuple[int, str]] = []
    default_source = (source or f"导入：{filename}").strip()[:200]
    for line, cells in rows:
        region = by_name.get(cells.get("region", "").strip())
        problems = []
        if region is None:
            problems.append(f"地区「{cells.get('region', '')[:30]}」不在该指标的适用范围内")
        period = value = None
        try:
            period = parse_period(cells.get("period", ""))
        except ValidationError as exc:
            problems.append(exc.messages[0])
        try:
            value = parse_value(indicator, cells.get("value", ""))
        except ValidationError as exc:
            problems.append(exc.messages[0])
        if region is not None and period is not None:
            key = (region.pk, period)
            if key in seen:
                problems.append(f"与第 {seen[key]} 行重复（同一地区、同一期间）")
            seen.setdefault(key, line)
        if problems:
            row_errors.append((line, "；".join(problems)))
            continue
        assert region is not None and period is not None and value is not None
        checked.append(ImportRow(line, region, period, value, (cells.get("source") or default_source)[:200]))
    if row_errors:
        raise ImportRejected(row_errors)
    if not checked:
        raise ImportRejected([(0, "表中没有数据行。")])
    now = timezone.now()
    with transaction.atomic():
        replaced = 0
        for row in checked:
            _m, old = _write_value(actor=actor, indicator=indicator, region=row.region, period=row.period,
                                   value=row.value, source=row.source, now=now)
            replaced += old is not None
        record_event(actor=actor, action="measurements_imported", obj=indicator,
                     summary=f"{indicator.name}：从「{filename[:100]}」导入监测值 {len(checked)} 条（其中更新 {replaced} 条）",
                     after={"file": filename[:200], "sm3": sm3_hex(data), "rows": len(checked), "replaced": replaced,
                            "source": default_source})
    return len(checked)
