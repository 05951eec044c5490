"""Quantitative targets (目标指标): indicator, comparator, value, unit, year, source sentence.

``2022年，全市…水质优良率达到100%；…中心城区空气质量优良率高于92%`` gives two targets
for 2022: the year phrase applies to the sentences that follow until another year appears.
"""

from __future__ import annotations

import re
from typing import Any

# Units, longest first so that 万亩 wins over 亩 and 个百分点 over 个.
UNITS = [
    "个百分点", "微克/立方米", "毫克/立方米", "毫克/升", "μg/m³", "μg/m3", "mg/L", "万立方米", "立方米",
    "平方公里", "万公顷", "公顷", "万亩", "亩", "万吨", "吨", "万千瓦", "千瓦", "蒸吨", "公里", "千米",
    "%", "个", "座", "家", "处", "条", "项", "天", "台", "辆", "户", "所", "套",
]
UNIT_RE = "|".join(re.escape(u) for u in UNITS)

# (phrase, comparator) — comparator may be resolved later from the suffix (以上/以内) or value.
COMPARATORS: list[tuple[str, str]] = [
    ("稳定在", "kept"), ("保持在", "kept"), ("维持在", "kept"),
    ("控制在", "≤"), ("不低于", "≥"), ("不少于", "≥"), ("不高于", "≤"), ("不超过", "≤"), ("不大于", "≤"),
    ("下降到", "≤"), ("下降至", "≤"), ("降低到", "≤"), ("降低至", "≤"), ("降至", "≤"),
    ("提高到", "reach"), ("提高至", "reach"), ("提升到", "reach"), ("提升至", "reach"),
    ("增加到", "reach"), ("增加至", "reach"), ("增至", "reach"), ("升至", "reach"),
    ("达到", "reach"), ("达", "reach"),
    ("高于", ">"), ("超过", ">"), ("大于", ">"), ("低于", "<"), ("小于", "<"),
    ("下降", "decrease"), ("降低", "decrease"), ("减少", "decrease"), ("削减", "decrease"),
    ("提高", "increase"), ("提升", "increase"), ("增加", "increase"), ("增长", "increase"),
]
COMPARATOR_OF = dict(COMPARATORS)

TARGET = re.compile(
    r"(?P<cmp>" + "|".join(re.escape(p) for p, _ in sorted(COMPARATORS, key=lambda c: -len(c[0]))) + r")"
    r"\s*(?P<value>\d{1,9}(?:\.\d{1,4})?)\s*(?P<unit>" + UNIT_RE + r")"
    r"(?P<suffix>以上|以内|以下|左右)?"
)
# "2022年，" / "到2025年，" / "2023年底前，" set the year of what follows; "较2020年" is a baseline.
YEAR = re.compile(r"(?<![较比与])(?:到|至|截至|截止)?(20\d{2})年(?:底|末)?(?:前)?(?=[，,：:]|全市|全县|全区)")
BASELINE = re.compile(r"(?:较|比|与)(20\d{2})年(?:相比|同期)?")
SENTENCE = re.compile(r"[^。！？!?\n]+[。！？!?]?")
CLAUSE_SPLIT = re.compile(r"[，,；;：:]")
SCOPE = re.compile(r"^(全市|全县|全区|全省|市本级)")
LEAD_WORDS = re.compile(r"^(?:并|且|其中|确保|力争|争取|使|实现|保证|做到|以及|和|及|与|、|的|均|年均)+")
TRAIL_WORDS = re.compile(r"(?:持续|稳定|保持|均|分别|要|必须|力争|确保|进一步|逐步|全面|基本|累计|同比|年均)+$")


def extract_targets(text: str, *, path: str = "") -> list[dict[str, Any]]:
    """All targets in one node's text; the year context does not cross nodes."""
    targets: list[dict[str, Any]] = []
    year: int | None = None
    for sm in SENTENCE.finditer(text):
        sentence = sm.group(0)
        year_marks = [(m.start(), int(m.group(1))) for m in YEAR.finditer(sentence)]
        floor = 0  # a second target in one clause ("A达到90%、B达到80%") starts after the first
        for tm in TARGET.finditer(sentence):
            for pos, y in year_marks:
                if pos < tm.start():
                    year = y
            target = _target(sentence, tm, year, floor)
            floor = tm.end()
            if target:
                target["path"] = path
                targets.append(target)
        for _, y in year_marks:
            year = y  # a year at the end of a sentence still governs the next one
    return targets


def _target(sentence: str, tm: re.Match[str], year: int | None, floor: int) -> dict[str, Any] | None:
    clause_start = max((m.end() for m in CLAUSE_SPLIT.finditer(sentence, floor, tm.start())), default=floor)
    indicator = sentence[clause_start: tm.start()]
    baseline = None
    bm = BASELINE.search(indicator)
    if bm:
        baseline = f"{bm.group(1)}年"
        indicator = indicator[: bm.start()] + indicator[bm.end():]
    indicator = LEAD_WORDS.sub("", indicator)
    scope = None
    sm = SCOPE.match(indicator)
    if sm and len(indicator) > len(sm.group(1)) + 1:
        scope = sm.group(1)
        indicator = indicator[sm.end():]
    indicator = LEAD_WORDS.sub("", TRAIL_WORDS.sub("", indicator)).strip()
    if len(indicator) < 2 or not re.search(r"[\u4e00-\u9fffA-Za-z]", indicator):
        return None
    phrase, value_text, unit, suffix = tm.group("cmp"), tm.group("value"), tm.group("unit"), tm.group("suffix")
    value: float | int = float(value_text)
    if value == int(value):
        value = int(value)
    comparator, kept = _comparator(COMPARATOR_OF[phrase], suffix, value, unit)
    return {
        "indicator": indicator,
        "comparator": comparator,
        "value": value,
        "unit": unit,
        "year": year,
        "kept": kept,
        "baseline": baseline,
        "scope": scope,
        "phrase": tm.group(0),
        "source": sentence.strip(),
    }


def _comparator(kind: str, suffix: str | None, value: float, unit: str) -> tuple[str, bool]:
    """达到 → ≥ (= for 100%), 稳定在…以上 → ≥ kept, 控制在…以内 → ≤, 下降 → decrease, …"""
    if kind == "kept":
        return {"以上": "≥", "以内": "≤", "以下": "≤"}.get(suffix or "", "="), True
    if kind == "reach":
        if suffix == "以上":
            return "≥", False
        if suffix in ("以内", "以下"):
            return "≤", False
        return ("=" if unit == "%" and value == 100 else "≥"), False
    if suffix == "以上" and kind in (">",):
        return "≥", False
    return kind, False
