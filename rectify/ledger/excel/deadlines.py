"""The 整改时限 cell: read every way offices write a deadline (dates, months, quarters, 立行立改,
长期坚持 with or without a date) and write it back so that it reads unchanged."""

from __future__ import annotations

import datetime as dt
import re

from rectify.ledger.excel.cells import WS, cell_text, nfkc, unneutralise
from rectify.ledger.models import DeadlineKind


class DeadlineError(ValueError):
    pass


_DATE_TOKEN = re.compile(
    r"(?P<y1>\d{4})[年./\-](?P<m1>\d{1,2})[月./\-](?P<d1>\d{1,2})(?!\d)日?"
    r"|(?<!\d)(?P<y2>\d{4})(?P<m2>\d{2})(?P<d2>\d{2})(?!\d)"
    r"|(?P<y3>\d{4})[年./\-](?P<m3>\d{1,2})(?![\d.])月?份?(?P<part3>上旬|中旬|下旬|底|末)?"
    r"|(?P<y4>\d{4})年(?:度)?(?P<part4>上半年|下半年|年底|年末|底|末|第?[一二三四1-4]季度)?"
)
_QUARTER = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_LONG_TERM_WORDS = ("长期", "持续推进", "持续整改", "持续开展", "常态化")
_IMMEDIATE_WORDS = ("立行立改", "立即整改", "即知即改", "立查立改", "立改")
DEADLINE_HELP = "可写作 2023年6月30日、2023年6月底、2023年6月、2023.6.30、2023-06-30、2023/6/30、立行立改、长期坚持"


def _month_end(year: int, month: int) -> dt.date:
    if month == 12:
        return dt.date(year, 12, 31)
    return dt.date(year, month + 1, 1) - dt.timedelta(days=1)


def _date_from_match(m: re.Match) -> dt.date:
    g = m.groupdict()
    if g["y1"]:
        return dt.date(int(g["y1"]), int(g["m1"]), int(g["d1"]))
    if g["y2"]:
        return dt.date(int(g["y2"]), int(g["m2"]), int(g["d2"]))
    if g["y3"]:
        year, month = int(g["y3"]), int(g["m3"])
        part = g["part3"]
        if part == "上旬":
            return dt.date(year, month, 10)
        if part == "中旬":
            return dt.date(year, month, 20)
        return _month_end(year, month)  # "底", "末", "下旬" or the month alone: its last day
    year, part = int(g["y4"]), g["part4"] or ""
    if part == "上半年":
        return dt.date(year, 6, 30)
    if "季度" in part:
        return _month_end(year, _QUARTER[part.strip("第")[0]] * 3)
    return dt.date(year, 12, 31)  # a year alone, 下半年, 年底: the year's end


def excel_serial_date(value: float) -> dt.date | None:
    """A date cell that lost its date format arrives as the Excel serial number."""
    if 20000 <= value <= 80000:  # 1954 … 2119
        return dt.date(1899, 12, 30) + dt.timedelta(days=int(value))
    return None


def parse_deadline(value) -> tuple[str, dt.date | None, str]:
    """A 整改时限 cell → (deadline_kind, deadline, note). Raises :class:`DeadlineError`.

    "2022年12月底" and "2023年6月" mean the month's last day; "长期坚持（2025年底前见效）" is long
    term with a date by which it shows effect; "立行立改，2021年12月底前" is immediate with a date.
    When a cell holds several dates the latest is the deadline (the note says so).
    """
    if value is None or value == "":
        return "", None, ""
    if isinstance(value, dt.datetime):
        return DeadlineKind.BY_DATE, value.date(), ""
    if isinstance(value, dt.date):
        return DeadlineKind.BY_DATE, value, ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        date = excel_serial_date(float(value))
        if date is None:
            raise DeadlineError(f"整改时限「{cell_text(value)}」无法识别（{DEADLINE_HELP}）")
        return DeadlineKind.BY_DATE, date, ""
    raw = unneutralise(str(value).strip())
    text = WS.sub("", nfkc(raw))
    if not text:
        return "", None, ""
    dates = []
    for m in _DATE_TOKEN.finditer(text):
        try:
            date = _date_from_match(m)
        except ValueError:
            raise DeadlineError(f"整改时限「{raw}」中的日期「{m.group(0)}」不存在") from None
        if not 2000 <= date.year <= 2100:
            raise DeadlineError(f"整改时限「{raw}」中的年份 {date.year} 不合理")
        dates.append(date)
    date = max(dates) if dates else None
    note = f"整改时限含多个日期，取最晚的 {date:%Y年%m月%d日}" if len(set(dates)) > 1 else ""
    if any(w in text for w in _LONG_TERM_WORDS):
        return DeadlineKind.LONG_TERM, date, note
    if any(w in text for w in _IMMEDIATE_WORDS):
        return DeadlineKind.IMMEDIATE, date, note
    if date is not None:
        return DeadlineKind.BY_DATE, date, note
    raise DeadlineError(f"整改时限「{raw}」无法识别（{DEADLINE_HELP}）")


def _cn_date(date: dt.date) -> str:
    return f"{date.year}年{date.month}月{date.day}日"


def format_deadline(kind: str, date: dt.date | None) -> str:
    """The 整改时限 cell written on export; :func:`parse_deadline` reads it back unchanged."""
    if kind == DeadlineKind.LONG_TERM:
        return "长期坚持" + (f"（{_cn_date(date)}前见效）" if date else "")
    if kind == DeadlineKind.IMMEDIATE:
        return "立行立改" + (f"，{_cn_date(date)}前" if date else "")
    return _cn_date(date) if date else ""
