"""Responsible units (责任单位) and deadlines (整改时限) as the plan states them.

They come from a table's columns or from inline notes such as
``（牵头单位：市水利局；完成时限：2023年12月底前）``.
"""

from __future__ import annotations

import calendar
import re
from typing import Any

UNIT_SPLIT = re.compile(r"[、，,；;/\n]+|\s{2,}")
INLINE_UNITS = re.compile(
    r"(?:责任单位|牵头单位|责任部门|牵头部门|主体责任单位)[:：]\s*"
    r"([^）)；;。\n]{2,200}?)(?=[）)；;。\n]|[，,]\s*(?:配合|协办|完成时限|整改时限)|$)"
)
INLINE_DEADLINE = re.compile(r"(?:完成时限|整改时限|时限要求|完成时间|整改期限)[:：]\s*([^）)；;。\n]{2,60})")

DATE_DAY = re.compile(r"(20\d{2})年(\d{1,2})月(\d{1,2})日")
DATE_MONTH = re.compile(r"(20\d{2})年(\d{1,2})月(?:底|末)?")
DATE_YEAR = re.compile(r"(20\d{2})年(?:底|末)?")
DEADLINE_KINDS = [
    ("immediate", re.compile(r"立行立改|立即整改|即知即改")),
    ("long_term", re.compile(r"长期坚持|持续推进|常态化|长期")),
]


def split_units(text: str) -> list[str]:
    units = [u.strip(" 　()（）") for u in UNIT_SPLIT.split(text or "")]
    return [u for u in units if len(u) >= 2]


def parse_deadline(text: str) -> dict[str, Any]:
    """{"text", "kind": immediate|by_date|long_term, "date": ISO date or None}.

    Kinds follow the ledger's 立行立改 / 限期整改 / 长期坚持; a plan may combine a date with
    "长期坚持" (a date for the first phase, then keep it up): the date is kept, long_term flagged.
    """
    text = text.strip()
    out: dict[str, Any] = {"text": text, "kind": None, "date": None}
    m = DATE_DAY.search(text)
    if m:
        out["date"] = f"{int(m[1]):04d}-{int(m[2]):02d}-{int(m[3]):02d}"
    else:
        m = DATE_MONTH.search(text)
        if m and 1 <= int(m[2]) <= 12:
            last = calendar.monthrange(int(m[1]), int(m[2]))[1]
            out["date"] = f"{int(m[1]):04d}-{int(m[2]):02d}-{last:02d}"
        else:
            m = DATE_YEAR.search(text)
            if m:
                out["date"] = f"{int(m[1]):04d}-12-31"
    for kind, pattern in DEADLINE_KINDS:
        if pattern.search(text):
            out["kind"] = kind
            if kind == "long_term" and out["date"]:
                out["long_term"] = True
                out["kind"] = "by_date"
            break
    if out["kind"] is None and out["date"]:
        out["kind"] = "by_date"
    return out


def inline_units(text: str) -> list[str]:
    units: list[str] = []
    for m in INLINE_UNITS.finditer(text):
        units += [u for u in split_units(m.group(1)) if u not in units]
    return units


def inline_deadline(text: str) -> dict[str, Any] | None:
    m = INLINE_DEADLINE.search(text)
    return parse_deadline(m.group(1)) if m else None
