"""The arithmetic of the comprehensive evaluation (综合评估考核). Pure Python, no database: the facts
come from ``facts.py``, the weights from the office's scheme.

Each item of a scheme has a weight (分值, its full points) and, for a deduction item, the points it
loses per occurrence:

- a rate item (按时报送率, 任务序时推进率, 到期任务销号率) scores ``weight × numerator / denominator``;
  with nothing to count (denominator 0) it scores its full weight, and says so;
- a deduction item (逾期任务, 被督办, 回头看反弹, 追责问责) scores ``max(0, weight − per_item × count)``.

Each item's score is rounded to 0.01 (half up) and the total is the sum of the rounded items, so the
published table adds up as printed. Ranks are per group (县市区, 市直部门), highest total first;
equal totals share a rank and the next rank is skipped (1, 2, 2, 4).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TypeVar

from django.core.exceptions import ValidationError

from rectify.assessment.models import RATE_INDICATORS, Indicator

K = TypeVar("K")

CENT = Decimal("0.01")
MAX_WEIGHT = Decimal("100")

# A starting point the office edits (分值合计 100).
DEFAULT_ITEMS = [
    {"indicator": Indicator.ON_TIME_REPORTS.value, "weight": "20", "per_item": "0"},
    {"indicator": Indicator.ON_SCHEDULE.value, "weight": "25", "per_item": "0"},
    {"indicator": Indicator.CLOSEOUTS.value, "weight": "20", "per_item": "0"},
    {"indicator": Indicator.OVERDUE.value, "weight": "15", "per_item": "3"},
    {"indicator": Indicator.ESCALATIONS.value, "weight": "10", "per_item": "2"},
    {"indicator": Indicator.REBOUNDS.value, "weight": "5", "per_item": "5"},
    {"indicator": Indicator.CASES.value, "weight": "5", "per_item": "5"},
]


def q2(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def is_rate(indicator: str) -> bool:
    return indicator in RATE_INDICATORS


@dataclass(frozen=True)
class Item:
    indicator: str
    weight: Decimal
    per_item: Decimal

    @property
    def label(self) -> str:
        return str(Indicator(self.indicator).label)

    def as_json(self) -> dict:
        return {"indicator": self.indicator, "weight": str(self.weight), "per_item": str(self.per_item)}


@dataclass
class Fact:
    """What the record says for one unit and one indicator, with the records behind the figure."""

    numerator: int = 0
    denominator: int = 0
    count: int = 0
    records: list[dict] = field(default_factory=list)  # {"kind", "id", "label"}: the shortfall, listed


def _decimal(value, name: str) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({"items": [f"{name}须为数字。"]}) from exc
    if not number.is_finite() or number < 0 or number > MAX_WEIGHT or number != q2(number):
        raise ValidationError({"items": [f"{name}须在 0–100 之间，最多两位小数。"]})
    return number


def parse_items(raw) -> list[Item]:
    """Validate a scheme's items (from a form or the API): known indicators, each once, weights 0–100."""
    if not isinstance(raw, list) or not raw:
        raise ValidationError({"items": ["请至少设置一个评分项目。"]})
    if len(raw) > len(Indicator.values):
        raise ValidationError({"items": ["评分项目过多。"]})
    items, seen = [], set()
    for entry in raw:
        indicator = str((entry or {}).get("indicator", "")) if isinstance(entry, dict) else ""
        if indicator not in Indicator.values:
            raise ValidationError({"items": [f"未知的评分项目：{indicator[:30]}"]})
        if indicator in seen:
            raise ValidationError({"items": [f"评分项目「{Indicator(indicator).label}」重复。"]})
        seen.add(indicator)
        label = str(Indicator(indicator).label)
        weight = _decimal(entry.get("weight", ""), f"「{label}」的分值")
        per_item = Decimal("0") if is_rate(indicator) else _decimal(entry.get("per_item", ""), f"「{label}」的每项扣分")
        if not is_rate(indicator) and weight > 0 and per_item == 0:
            raise ValidationError({"items": [f"「{label}」是扣分项，请填写每项扣分。"]})
        items.append(Item(indicator, weight, per_item))
    if sum(i.weight for i in items) <= 0:
        raise ValidationError({"items": ["分值合计须大于 0。"]})
    return items


def _plain(value: Decimal) -> str:
    """12.50 → 12.5, 20.00 → 20 (for formulas a reader checks by hand)."""
    text = format(value.normalize(), "f")
    return text


def item_score(item: Item, fact: Fact) -> tuple[Decimal, str]:
    """The item's score and the formula that gave it, in the words the table prints."""
    if is_rate(item.indicator):
        if fact.denominator == 0:
            return q2(item.weight), f"无应计事项，按满分 {_plain(item.weight)} 计"
        score = q2(item.weight * Decimal(fact.numerator) / Decimal(fact.denominator))
        return score, f"{_plain(item.weight)} × {fact.numerator}/{fact.denominator} = {score}"
    lost = item.per_item * fact.count
    score = q2(max(Decimal("0"), item.weight - lost))
    return score, f"{_plain(item.weight)} − {_plain(item.per_item)} × {fact.count} = {score}" + (
        "（扣完为止）" if lost > item.weight else "")


def score_unit(items: list[Item], facts: dict[str, Fact]) -> tuple[Decimal, dict]:
    """A unit's total and its breakdown (one entry per item, in the scheme's order)."""
    breakdown, total = {}, Decimal("0")
    for item in items:
        fact = facts.get(item.indicator, Fact())
        score, formula = item_score(item, fact)
        total += score
        breakdown[item.indicator] = {
            "label": item.label, "rate": is_rate(item.indicator), "weight": str(item.weight),
            "per_item": str(item.per_item), "numerator": fact.numerator, "denominator": fact.denominator,
            "count": fact.count, "score": str(score), "formula": formula, "records": fact.records,
        }
    return q2(total), breakdown


def competition_ranks(totals: list[tuple[K, Decimal]]) -> dict[K, int]:
    """Standard competition ranking of (key, total) pairs given in display order (1, 2, 2, 4)."""
    ordered = sorted(enumerate(totals), key=lambda pair: (-pair[1][1], pair[0]))
    ranks: dict[K, int] = {}
    previous, rank = None, 0
    for position, (_index, (key, total)) in enumerate(ordered, start=1):
        if total != previous:
            rank, previous = position, total
        ranks[key] = rank
    return ranks
