"""Attainment (达标情况) of a target by an observed value: met, not met, or no data. Pure Python.

| comparator | met when |
| --- | --- |
| ≥ > = ≤ < | value compares with the target as written |
| 是/否 (yes) | the value is 1 (是/达标); 0 is not met |
| 下降 (decrease) | baseline − value ≥ target (the target is the drop, in the indicator's unit) |
| 提高 (increase) | value − baseline ≥ target |

No value, or a 下降/提高 target without a baseline, is "no data" (无数据): never counted as met.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum


class Attainment(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    NO_DATA = "no_data"


LABELS = {Attainment.MET: "达标", Attainment.NOT_MET: "未达标", Attainment.NO_DATA: "无数据"}


def attain(comparator: str, target: Decimal, value: Decimal | None, *, baseline: Decimal | None = None) -> Attainment:
    if value is None:
        return Attainment.NO_DATA
    if comparator == "yes":
        ok = value == 1
    elif comparator == "≥":
        ok = value >= target
    elif comparator == ">":
        ok = value > target
    elif comparator == "=":
        ok = value == target
    elif comparator == "≤":
        ok = value <= target
    elif comparator == "<":
        ok = value < target
    elif comparator in ("decrease", "increase"):
        if baseline is None:
            return Attainment.NO_DATA
        change = baseline - value if comparator == "decrease" else value - baseline
        ok = change >= target
    else:
        raise ValueError(f"unknown comparator {comparator!r}")
    return Attainment.MET if ok else Attainment.NOT_MET


def indicator_attainment(indicator, value: Decimal | None) -> Attainment:
    return attain(indicator.comparator, indicator.value, value, baseline=indicator.baseline)
