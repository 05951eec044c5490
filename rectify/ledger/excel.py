"""The ledger as Excel (台账 Excel 导入导出), in the column layout offices already mail around.

Import reads with python-calamine (fast, low memory), is tolerant of what real ledgers look like
(a title row, headers spanning two rows, merged cells, full-width characters, dates written as
text) and is all or nothing: :func:`parse_workbook` builds a preview that writes nothing, and
:func:`commit_import` writes every row through the ledger services in one transaction, or none.

Export streams with XlsxWriter ``constant_memory`` so that memory does not grow with the ledger,
and neutralises cells that a spreadsheet would run as a formula. Export → import round-trips.

Values used for matching (codes, unit and leader names, dates, categories, headers) are NFKC
normalised; free text (problem, target, measures, notes) is kept as written apart from trimming,
since NFKC would turn Chinese full-width punctuation (，：；（）) into ASCII.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.db.models import Prefetch, QuerySet

from rectify.core.audit import record_event
from rectify.core.sm3 import sm3_hex
from rectify.ledger import selectors
from rectify.ledger.models import Campaign, DeadlineKind, Measure, Task, TaskUnit, UnitRole
from rectify.ledger.services import MeasureInput, StaleVersionError, TaskInput, create_task, update_task
from rectify.orgs.models import Category, Role, Unit, UnitKind, User

# --------------------------------------------------------------------------------------------
# Text helpers

_WS = re.compile(r"\s+")
_PAREN = re.compile(r"\([^()]*\)")


def nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value)


def key_of(value: str) -> str:
    """Matching key: NFKC, no whitespace anywhere, lower case."""
    return _WS.sub("", nfkc(value)).lower()


def cell_text(value) -> str:
    """A cell as text: numbers without a spurious ".0", dates as ISO, None as ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time, dt.timedelta)):
        return str(value)
    return str(value)


def free_text(value) -> str:
    """Free text as written: trimmed, line endings unified, a neutralising quote removed."""
    text = cell_text(value).replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    return unneutralise(text.strip()).strip()


def short_text(value) -> str:
    """A one-line value used for matching (code, name): NFKC, trimmed, single spaces."""
    return _WS.sub(" ", nfkc(unneutralise(cell_text(value).strip()))).strip()


# --------------------------------------------------------------------------------------------
# Formula injection (CSV/formula injection, OWASP): a cell beginning with = + - @ is prefixed with
# a quote on export; import removes exactly that quote again. A value that already begins with
# quotes followed by such a character gets one more, so the mapping is reversible.

_DANGEROUS = re.compile(r"^'*[=+\-@\t\r]")


def neutralise(text: str) -> str:
    return "'" + text if text and _DANGEROUS.match(text) else text


def unneutralise(text: str) -> str:
    return text[1:] if text.startswith("'") and _DANGEROUS.match(text[1:]) else text


# --------------------------------------------------------------------------------------------
# Deadlines (整改时限)


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
    text = _WS.sub("", nfkc(raw))
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


# --------------------------------------------------------------------------------------------
# Measures (整改措施): "1.xxx\n2.xxx", "（1）…", "①…", "一是…二是…" → one measure each.

_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
_PAREN_DIGITS = "⑴⑵⑶⑷⑸⑹⑺⑻⑼⑽⑾⑿⒀⒁⒂⒃⒄⒅⒆⒇"
_CN_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九", start=0)}
_BEFORE = r"(?:^|(?<=[\n。；;：:！!？?\s]))"
_MARKERS = {
    "dot": re.compile(_BEFORE + r"([0-9０-９]{1,2})\s*[.．、，,)）](?![0-9０-９])"),
    "paren": re.compile(r"[(（]([0-9０-９]{1,2})[)）]"),
    "circled": re.compile(f"[{_CIRCLED}]"),
    "paren_digit": re.compile(f"[{_PAREN_DIGITS}]"),
    "cn": re.compile(_BEFORE + r"([一二三四五六七八九十]{1,3})(?:是|、|．|\.)"),
    "cn_paren": re.compile(r"[(（]([一二三四五六七八九十]{1,3})[)）]"),
}


def _cn_number(text: str) -> int:
    if text == "十":
        return 10
    if text.startswith("十"):
        return 10 + _CN_DIGITS.get(text[1:], 0)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return _CN_DIGITS.get(tens, 0) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)
    return _CN_DIGITS.get(text, -1)


def _marker_number(style: str, m: re.Match) -> int:
    if style == "circled":
        return _CIRCLED.index(m.group(0)) + 1
    if style == "paren_digit":
        return _PAREN_DIGITS.index(m.group(0)) + 1
    if style in {"cn", "cn_paren"}:
        return _cn_number(m.group(1))
    return int(nfkc(m.group(1)))


def split_measures(text: str) -> list[str]:
    """Split a 整改措施 cell into measures by its numbering; a cell without numbering is one.

    Only one numbering style counts (the one that starts with 1 earliest), so "1.…（1）…（2）…
    2.…" splits at 1. and 2. and keeps the sub-items inside their measure.
    """
    text = (text or "").strip()
    if not text:
        return []
    best: list[re.Match] | None = None
    for style, pattern in _MARKERS.items():
        chain, expect = [], 1
        for m in pattern.finditer(text):
            if _marker_number(style, m) == expect:
                chain.append(m)
                expect += 1
        if chain and (best is None or chain[0].start() < best[0].start()
                      or (chain[0].start() == best[0].start() and len(chain) > len(best))):
            best = chain
    if not best or (len(best) == 1 and text[:best[0].start()].strip()):
        return [text]
    pieces = []
    preamble = text[:best[0].start()].strip()
    if preamble:
        pieces.append(preamble)
    for i, m in enumerate(best):
        end = best[i + 1].start() if i + 1 < len(best) else len(text)
        pieces.append(text[m.end():end].strip().rstrip("；;，,").strip())
    return [p for p in pieces if p]


def join_measures(texts: Iterable[str]) -> str:
    return "\n".join(f"{i}.{t}" for i, t in enumerate(texts, start=1))


# --------------------------------------------------------------------------------------------
# Columns


@dataclass(frozen=True)
class Column:
    field: str
    label: str  # the header written on export
    synonyms: tuple[str, ...]


COLUMNS = [
    Column("seq", "序号", ("序号", "序")),
    Column("code", "任务编号", ("任务编号", "整改任务编号", "台账编号", "编号")),
    Column("title", "问题/任务名称", ("问题/任务名称", "问题名称", "任务名称", "问题或任务名称", "问题(任务)名称",
                                    "整改任务名称", "整改任务", "整改问题", "反馈问题", "督察反馈问题", "问题", "任务")),
    Column("problem", "问题描述", ("问题描述", "问题具体描述", "问题具体情况", "具体问题", "存在问题", "问题内容",
                                "问题表现", "问题详情", "问题情况")),
    Column("target", "整改目标", ("整改目标", "目标", "整改要求", "目标要求", "整改目标要求")),
    Column("measures", "整改措施", ("整改措施", "措施", "具体措施", "主要措施", "整改具体措施", "整改措施及要求")),
    Column("responsible", "责任单位", ("责任单位", "主体责任单位", "整改责任单位", "责任主体", "整改主体",
                                    "牵头责任单位", "整改单位", "责任单位(主体责任单位)")),
    Column("lead", "牵头督导单位", ("牵头督导单位", "督导单位", "牵头督办单位", "督导牵头单位", "市直牵头督导单位")),
    Column("co", "配合单位", ("配合单位", "配合督导单位", "配合部门", "协同单位", "协助单位", "协办单位")),
    Column("leader", "责任领导", ("责任领导", "包联领导", "责任市领导", "联系领导", "督导领导", "市级责任领导",
                                "牵头市领导", "包县市区领导")),
    Column("deadline", "整改时限", ("整改时限", "完成时限", "整改期限", "时限", "完成时间", "整改完成时限", "整改时间",
                                 "完成期限")),
    Column("progress", "整改进展", ("整改进展", "整改进展情况", "进展情况", "推进情况", "工作进展", "进展")),
    Column("completion", "完成情况", ("完成情况", "整改完成情况", "整改情况")),
    Column("category", "问题类别", ("问题类别", "问题类型", "类别", "问题分类", "所属领域", "领域", "类型")),
    Column("inspection", "督察问题编号", ("督察问题编号", "问题编号", "反馈问题编号", "督察编号")),
    Column("status", "状态", ("状态", "整改状态", "任务状态")),
    Column("campaign", "整改批次", ("整改批次", "批次", "整改来源")),
]
COLUMN_BY_FIELD = {c.field: c for c in COLUMNS}
LAYOUT = ["seq", "code", "title", "problem", "target", "measures", "responsible", "lead", "co", "leader",
          "deadline", "progress", "completion"]
EXPORT_FIELDS = [*LAYOUT, "category", "inspection", "status", "campaign"]
REQUIRED = [("title", "problem"), ("responsible",), ("deadline",)]
_SYNONYM = {}
for _col in COLUMNS:
    for _name in _col.synonyms:
        _SYNONYM[key_of(_name)] = _col.field


def header_field(value) -> str | None:
    """Which field a header cell names, if any (full-width, spaces and "*" markers ignored)."""
    text = key_of(cell_text(value)).strip("*★※:：")
    if not text:
        return None
    if text in _SYNONYM:
        return _SYNONYM[text]
    bare = _PAREN.sub("", text)
    return _SYNONYM.get(bare)


# --------------------------------------------------------------------------------------------
# Import: preview


CREATE, UPDATE, UNCHANGED = "create", "update", "unchanged"
ACTION_LABELS = {CREATE: "新增", UPDATE: "更新", UNCHANGED: "无变化"}


@dataclass
class PreviewRow:
    number: int  # the row number as Excel shows it
    code: str = ""
    title: str = ""
    responsible: str = ""
    deadline: str = ""
    measure_count: int = 0
    action: str = CREATE
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    data: TaskInput | None = None
    task: Task | None = None  # the task an update applies to
    version: int | None = None  # its version when the preview was made

    @property
    def action_label(self) -> str:
        return ACTION_LABELS[self.action]


@dataclass
class ImportPreview:
    campaign: Campaign
    filename: str = ""
    digest: str = ""
    size: int = 0
    sheet: str = ""
    header_row: int = 0
    columns: list[tuple[str, str]] = field(default_factory=list)  # (header as written, what it is read as)
    ignored: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)
    rows: list[PreviewRow] = field(default_factory=list)

    @property
    def error_rows(self) -> list[PreviewRow]:
        return [r for r in self.rows if r.errors]

    @property
    def ok(self) -> bool:
        return not self.file_errors and not self.error_rows and bool(self.rows)

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action and not r.errors)

    @property
    def create_count(self) -> int:
        return self.count(CREATE)

    @property
    def update_count(self) -> int:
        return self.count(UPDATE)

    @property
    def unchanged_count(self) -> int:
        return self.count(UNCHANGED)

    def summary(self) -> str:
        if self.file_errors:
            return "文件无法导入：" + "；".join(self.file_errors)
        return (f"共 {len(self.rows)} 行：新增 {self.create_count} 条，更新 {self.update_count} 条，"
                f"无变化 {self.unchanged_count} 条，有错误 {len(self.error_rows)} 行")

    def fingerprint(self) -> str:
        """What a commit would do; a confirm compares it with the preview the user saw."""
        plan = [self.digest, self.campaign.pk,
                [(r.number, r.action, r.code, r.task.pk if r.task else None, r.version) for r in self.rows]]
        return sm3_hex(json.dumps(plan, ensure_ascii=False).encode())


class _Lookups:
    """Units, leaders and the campaign's existing tasks, loaded once per file."""

    def __init__(self, campaign: Campaign):
        self.units: dict[str, Unit | None] = {}  # None: the name is ambiguous
        self.inactive: set[str] = set()
        for unit in Unit.objects.all().only("id", "name", "short_name", "aliases", "kind", "path", "is_active"):
            for name in unit.names():
                k = key_of(name)
                if not unit.is_active:
                    self.inactive.add(k)
                    continue
                if k in self.units and self.units[k] is not None and self.units[k].pk != unit.pk:
                    # a full name beats another unit's short name or alias
                    if key_of(self.units[k].name) == k:
                        continue
                    self.units[k] = unit if key_of(unit.name) == k else None
                else:
                    self.units[k] = unit
        # Counties of the whole organisation the campaign's office belongs to (its tree's root).
        root = Unit.objects.get(path=campaign.office.path.split(".")[0] + ".")
        self.counties = list(Unit.objects.subtree(root).filter(kind=UnitKind.COUNTY, is_active=True)
                             .order_by("sort_order", "id"))
        self.leaders: dict[str, list[User]] = {}
        for user in User.objects.filter(role=Role.LEADER, is_active=True).exclude(display_name=""):
            self.leaders.setdefault(key_of(user.display_name), []).append(user)

    def unit(self, name: str) -> Unit | None:
        return self.units.get(key_of(name))


_UNIT_SEPARATORS = re.compile(r"([、，,;；/／\n\r]+)")
_ALL_COUNTIES = re.compile(r"各县[(（]?市[、,，]?区[)）]?(?:人民政府|政府|党委和政府|党委、政府)?|各县市区(?:人民政府|政府)?")
_ALL_MARK = "\ue000"
_ROLE_SUFFIX = re.compile(r"[(（](?:牵头|主责|配合|负责|责任|主体)[^)）]*[)）]$|(?:牵头|配合)$")


def _resolve_units(cell: str, lookups: _Lookups, label: str) -> tuple[list[Unit], list[str]]:
    """A cell of unit names → units in order, and errors for names that match no unit."""
    text = unneutralise(cell_text(cell).strip())
    if not text:
        return [], []
    text = _ALL_COUNTIES.sub(f"、{_ALL_MARK}、", text)
    parts = _UNIT_SEPARATORS.split(text)
    names, seps = parts[0::2], parts[1::2]
    units: list[Unit] = []
    errors: list[str] = []
    i = 0
    while i < len(names):
        name = names[i].strip()
        if not name:
            i += 1
            continue
        if name == _ALL_MARK:
            units.extend(lookups.counties)
            i += 1
            continue
        found, taken = None, 1
        # a unit whose own name holds a separator ("市委宣传部/网信办"): try the longest join first
        for j in range(min(len(names), i + 4), i + 1, -1):
            joined = "".join(names[k] + (seps[k] if k < j - 1 else "") for k in range(i, j))
            found = lookups.unit(joined)
            if found:
                taken = j - i
                break
        if found is None:
            found = lookups.unit(name) or lookups.unit(_ROLE_SUFFIX.sub("", nfkc(name)).strip())
        if found is None and " " in name.strip():
            pieces = [lookups.unit(p) for p in name.split()]
            if all(pieces):
                units.extend(pieces)
                i += 1
                continue
        if found is None:
            k = key_of(name)
            if k in lookups.inactive:
                errors.append(f"{label}「{name}」已停用")
            elif k in lookups.units:
                errors.append(f"{label}「{name}」对应多个单位，请写全称")
            else:
                errors.append(f"{label}「{name}」不存在（未找到该名称、简称或别名）")
        else:
            units.append(found)
        i += taken
    seen, unique = set(), []
    for u in units:
        if u.pk not in seen:
            seen.add(u.pk)
            unique.append(u)
    return unique, errors


def _resolve_leader(cell: str, lookups: _Lookups) -> tuple[User | None, list[str], list[str]]:
    text = unneutralise(cell_text(cell).strip())
    if not text:
        return None, [], []
    names = [n for n in _UNIT_SEPARATORS.split(text)[0::2] if n.strip()]
    warnings = []
    if len(names) > 1:
        warnings.append(f"责任领导写了 {len(names)} 位，任务只能指定一位，取第一位「{names[0].strip()}」")
    name = names[0].strip()
    k = key_of(name)
    candidates = lookups.leaders.get(k) or lookups.leaders.get(_PAREN.sub("", k)) or []
    if not candidates:
        # "张三（副市长）", "副市长张三": a leader's whole name inside the cell
        candidates = [u for key, users in lookups.leaders.items() if len(key) >= 2 and key in k for u in users]
    if len(candidates) > 1:
        return None, [f"责任领导「{name}」对应多位市领导账户（重名），请在系统中区分姓名"], warnings
    if not candidates:
        return None, [f"责任领导「{name}」不存在或不是市领导账户"], warnings
    return candidates[0], [], warnings


def _resolve_category(cell: str) -> tuple[str, str]:
    text = key_of(unneutralise(cell_text(cell).strip()))
    if not text:
        return Category.OTHER, ""
    for value, label in Category.choices:
        if text in {key_of(str(label)), value}:
            return value, ""
    matches = [value for value, label in Category.choices if text in key_of(str(label)) or key_of(str(label)) in text]
    if len(matches) == 1:
        return matches[0], ""
    return Category.OTHER, f"问题类别「{cell_text(cell).strip()}」无法识别（可选：{'、'.join(map(str, Category.labels))}）"


def _load_sheet(data: bytes) -> tuple[list[tuple[str, list[list], list]], str | None]:
    """Every visible worksheet as (name, rows, merged ranges), or an error for the whole file."""
    from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

    if not data:
        return [], "文件为空"
    if not (data[:4] == b"PK\x03\x04" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return [], "文件不是有效的 Excel（.xlsx）文件"
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = []
        for meta in book.sheets_metadata:
            if meta.visible != SheetVisibleEnum.Visible or meta.typ != SheetTypeEnum.WorkSheet:
                continue
            sheet = book.get_sheet_by_name(meta.name)
            merged = list(getattr(sheet, "merged_cell_ranges", None) or [])
            sheets.append((meta.name, sheet.to_python(skip_empty_area=False), merged))
    except Exception:  # calamine raises its own error types for any malformed file
        return [], "文件不是有效的 Excel（.xlsx）文件"
    return sheets, None


def _blank(v) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _find_header(rows: list[list]) -> tuple[int, int, dict[int, str], dict[int, str], list[str]] | None:
    """Find the header in the first 10 rows: (header row, first data row, column → field,
    column → header as written, headers not understood). A row is combined with the row below
    when the headers span two rows (a group header above its sub-headers)."""
    limit = min(len(rows), 10)
    fields_of = [{c: header_field(v) for c, v in enumerate(rows[r])} for r in range(limit)]

    def mapping(top: int, bottom: int | None):
        result: dict[int, str] = {}
        written: dict[int, str] = {}
        ignored: list[str] = []
        width = max(len(rows[top]), len(rows[bottom]) if bottom is not None else 0)
        for c in range(width):
            below = fields_of[bottom].get(c) if bottom is not None else None
            r = bottom if below else top
            f = below or fields_of[top].get(c)
            text = cell_text(rows[r][c] if c < len(rows[r]) else "").strip()
            if f and f not in result.values():
                result[c], written[c] = f, text
            elif f:
                ignored.append(f"{text}（与前面的列重复）")
            else:
                for rr in [top, bottom]:
                    if rr is not None and c < len(rows[rr]) and not _blank(rows[rr][c]):
                        ignored.append(cell_text(rows[rr][c]).strip())
        return result, written, ignored

    best = None
    for r in range(limit):
        candidates = [(r, None)]
        if r + 1 < limit:
            below = [v for v in rows[r + 1] if not _blank(v)]
            known = [f for f in fields_of[r + 1].values() if f]
            if known and len(known) * 2 >= len(below):
                candidates.append((r, r + 1))
        for top, bottom in candidates:
            m = mapping(top, bottom)
            if len(m[0]) >= 2 and (best is None or len(m[0]) > len(best[2][0])):
                best = (top, bottom, m)
    if best is None:
        return None
    top, bottom, (m, written, ignored) = best
    # a group header above recognised sub-headers is not "ignored"
    if bottom is not None:
        ignored = [t for t in ignored if t not in {cell_text(v).strip() for v in rows[top]}
                   or header_field(t) is not None]
    return top, (bottom if bottom is not None else top) + 1, m, written, ignored


def _is_numbering_row(row: list, columns: dict[int, str]) -> bool:
    """The row of column numbers (1 2 3 …) some ledgers put under the headers."""
    values = [row[c] for c in sorted(columns) if c < len(row) and not _blank(row[c])]
    if len(values) < 3:
        return False
    try:
        numbers = [int(float(cell_text(v))) for v in values]
    except ValueError:
        return False
    return numbers == list(range(numbers[0], numbers[0] + len(numbers)))


_SECTION = re.compile(r"^(?:[一二三四五六七八九十]+[、.．]|[(（][一二三四五六七八九十]+[)）]|第[一二三四五六七八九十]+部分)")


def _derived_title(problem: str) -> str:
    first = re.split(r"[。；;\n]", problem, maxsplit=1)[0].strip()
    return first[:60] + ("…" if len(first) > 60 else "")


def _existing_tasks(campaign: Campaign, codes: list[str]) -> dict[str, Task]:
    found: dict[str, Task] = {}
    for start in range(0, len(codes), 500):  # bounded IN lists on every database
        batch = codes[start:start + 500]
        qs = (Task.objects.filter(campaign=campaign, code__in=batch).select_related("leader")
              .prefetch_related(Prefetch("task_units", queryset=TaskUnit.objects.select_related("unit")
                                         .order_by("role", "ordinal", "id")),
                                Prefetch("measures", queryset=Measure.objects.select_related("owner_unit")
                                         .order_by("ordinal", "id"))))
        found.update((t.code, t) for t in qs)
    return found


def _current_input(task: Task) -> TaskInput:
    """Like services.task_input_from, from prefetched rows (no queries per task)."""
    units = list(task.task_units.all())

    def of(role):
        return [tu.unit for tu in sorted(units, key=lambda tu: (tu.ordinal, tu.id)) if tu.role == role]

    def plain(cls, obj, **given):
        # Fields the Excel layout does not carry (and any a later version adds) keep their value.
        for f in dataclasses.fields(cls):
            if f.name not in given and hasattr(obj, f.name):
                given[f.name] = getattr(obj, f.name)
        return cls(**given)

    lead, acceptance = of(UnitRole.LEAD_SUPERVISOR), of(UnitRole.ACCEPTANCE)
    return plain(
        TaskInput, task, responsible_units=of(UnitRole.RESPONSIBLE), lead_supervisor=lead[0] if lead else None,
        co_supervisors=of(UnitRole.CO_SUPERVISOR), acceptance_unit=acceptance[0] if acceptance else None,
        leader=task.leader,
        measures=[plain(MeasureInput, m, id=m.pk, owner_unit=m.owner_unit) for m in task.measures.all()])


def _signature(data: TaskInput) -> tuple:
    ids = lambda units: tuple(u.pk for u in units)  # noqa: E731
    acceptance = data.acceptance_unit or data.lead_supervisor
    return (data.code.strip(), data.title.strip(), data.problem.strip(), data.target.strip(),
            data.inspection_number.strip(), data.category, ids(data.responsible_units),
            data.lead_supervisor.pk if data.lead_supervisor else None,
            ids(u for u in data.co_supervisors if u != data.lead_supervisor),
            acceptance.pk if acceptance else None, data.leader.pk if data.leader else None, data.deadline_kind,
            data.deadline, data.progress_note.strip(), data.completion_note.strip(),
            tuple((m.id, m.text.strip()) for m in data.measures or []))


def _records(rows: list[list], start: int, columns: dict[int, str], merged: list) -> Iterator[tuple[int, dict]]:
    """Data rows as (excel row number, field → raw values), joining the rows of one task when its
    code or title cell is merged down over several rows (one measure per row)."""
    covered: dict[tuple[int, int], tuple[int, int]] = {}  # cell → top-left of its merged range
    for (r0, c0), (r1, _c1) in merged:
        # only downward: a value merged over several rows belongs to each; one merged across
        # columns (a section title spanning the row) stays in its first cell
        for r in range(max(r0 + 1, start), r1 + 1):
            covered[(r, c0)] = (r0, c0)
    key_cols = [c for c, f in columns.items() if f in {"code", "title"}]
    current: tuple[int, dict] | None = None
    for r in range(start, len(rows)):
        row = rows[r]
        values = {}
        continuation = bool(key_cols) and all((r, c) in covered and covered[(r, c)][0] < r for c in key_cols)
        for c, f in columns.items():
            if (r, c) in covered:
                if continuation and covered[(r, c)][0] < r:
                    continue  # the same merged cell as the row above: already read
                r0, c0 = covered[(r, c)]
                v = rows[r0][c0] if r0 < len(rows) and c0 < len(rows[r0]) else None
            else:
                v = row[c] if c < len(row) else None
            if not _blank(v):
                values[f] = v
        if continuation and current is not None:
            for f, v in values.items():
                current[1].setdefault(f, []).append(v)
            continue
        if current is not None:
            yield current
        current = (r + 1, {f: [v] for f, v in values.items()}) if values else None
        if current is None:
            continue
    if current is not None:
        yield current


def parse_workbook(data: bytes, *, campaign: Campaign, actor: User, filename: str = "") -> ImportPreview:
    """Read a ledger workbook into a preview of what an import would do. Writes nothing."""
    if not Campaign.objects.actionable_by(actor, "add_task").filter(pk=campaign.pk).exists():
        raise PermissionDenied("您无权向该整改批次导入任务。")
    preview = ImportPreview(campaign=campaign, filename=filename, size=len(data or b""))
    limit = getattr(settings, "IMPORT_MAX_BYTES", 50 * 1024 * 1024)
    if len(data or b"") > limit:
        preview.file_errors.append(f"文件过大（{len(data) / 1048576:.1f} MB），上限为 {limit // 1048576} MB")
        return preview
    preview.digest = sm3_hex(data or b"")
    sheets, error = _load_sheet(data)
    if error:
        preview.file_errors.append(error)
        return preview
    nonempty = [(name, rows, merged) for name, rows, merged in sheets
                if any(not _blank(v) for row in rows for v in row)]
    if not nonempty:
        preview.file_errors.append("工作表为空：文件中没有任何内容")
        return preview
    found = None
    for name, rows, merged in nonempty:
        header = _find_header(rows)
        if header and all(any(f in header[2].values() for f in group) for group in REQUIRED):
            found = (name, rows, merged, header)
            break
    if found is None:
        name, rows, _ = nonempty[0]
        header = _find_header(rows)
        seen = [cell_text(v).strip() for r in rows[:10] for v in r if not _blank(v)][:30]
        present = set(header[2].values()) if header else set()
        missing = ["或".join(f"“{COLUMN_BY_FIELD[f].label}”" for f in group)
                   for group in REQUIRED if not any(f in present for f in group)]
        preview.file_errors.append(
            f"表头不符合台账格式：缺少必需的列 {'、'.join(missing)}。"
            f"在工作表「{name}」前 10 行中找到的内容：{'、'.join(seen) or '（无）'}")
        return preview
    name, rows, merged, (header_row, data_start, columns, written, ignored) = found
    preview.sheet, preview.header_row = name, header_row + 1
    present = set(columns.values())
    preview.columns = [(written[c], COLUMN_BY_FIELD[f].label) for c, f in sorted(columns.items())]
    preview.ignored = ignored
    if "status" in present:
        preview.notes.append("“状态”列不导入：任务状态由系统根据是否“四清楚”自动判定。")
    if data_start < len(rows) and _is_numbering_row(rows[data_start], columns):
        data_start += 1
    generate_codes = "code" not in present
    if generate_codes:
        if "seq" not in present:
            preview.file_errors.append("表头缺少“任务编号”列，也没有可用于生成编号的“序号”列。")
            return preview
        preview.notes.append(f"文件中没有“任务编号”列：将按序号生成编号，格式为 {campaign.code}-序号（如 "
                             f"{campaign.code}-001）。再次导入时请保持序号不变，以便按编号更新。")

    lookups = _Lookups(campaign)
    records = list(_records(rows, data_start, columns, merged))
    codes_seen: dict[str, int] = {}
    parsed: list[PreviewRow] = []
    section_category = ""
    for number, values in records:
        first = {f: v[0] for f, v in values.items()}
        content = {f for f in values if f not in {"seq", "status"}}
        if not content:
            continue  # a template row with only its 序号 filled in
        if len(values) == 1 and len(next(iter(values.values()))) == 1:
            only = cell_text(next(iter(first.values()))).strip()
            if _SECTION.match(nfkc(only)):
                category, problem = _resolve_category(_SECTION.sub("", nfkc(only)))
                section_category = category if not problem else ""
                preview.notes.append(f"第 {number} 行「{only[:30]}」是分组标题，已跳过。")
                continue
        row = PreviewRow(number=number)
        err, warn = row.errors.append, row.warnings.append

        # code
        if generate_codes:
            seq = short_text(first.get("seq"))
            try:
                row.code = f"{campaign.code}-{int(float(seq)):03d}"
            except ValueError:
                err(f"序号「{seq}」不是数字，无法生成任务编号" if seq else "序号为空，无法生成任务编号")
        else:
            row.code = short_text(first.get("code"))
            if not row.code:
                err("任务编号为空")
        if len(row.code) > 40:
            err(f"任务编号「{row.code[:50]}」超过 40 个字符")
        if row.code:
            if row.code in codes_seen:
                err(f"任务编号 {row.code} 与第 {codes_seen[row.code]} 行重复")
            else:
                codes_seen[row.code] = number

        # campaign column, when the file says which batch it belongs to
        if "campaign" in values:
            stated = short_text(first["campaign"])
            if key_of(stated) not in {key_of(campaign.name), key_of(campaign.code)}:
                err(f"该行属于整改批次「{stated}」，与所选批次「{campaign.name}」不符")

        # title / problem
        title = free_text(first.get("title"))
        problem = "\n".join(free_text(v) for v in values.get("problem", []))
        if not title and problem:
            title = _derived_title(problem)
            warn("问题/任务名称为空，已取问题描述的第一句作为名称")
        if not title:
            err("缺少问题/任务名称和问题描述")
        elif len(title) > 300:
            err(f"问题/任务名称过长（{len(title)} 字，上限 300 字）")
        row.title = title

        inspection = short_text(first.get("inspection"))
        if len(inspection) > 40:
            err("督察问题编号超过 40 个字符")

        # units
        responsible, errs = [], []
        for v in values.get("responsible", []):
            units, e = _resolve_units(v, lookups, "责任单位")
            responsible += [u for u in units if u not in responsible]
            errs += e
        lead_units, lead_errs = [], []
        for v in values.get("lead", []):
            units, e = _resolve_units(v, lookups, "牵头督导单位")
            lead_units += [u for u in units if u not in lead_units]
            lead_errs += e
        co_units, co_errs = [], []
        for v in values.get("co", []):
            units, e = _resolve_units(v, lookups, "配合单位")
            co_units += [u for u in units if u not in co_units]
            co_errs += e
        for e in errs + lead_errs + co_errs:
            err(e)
        if "responsible" in present and not responsible and not errs:
            warn("未填写责任单位，任务将保存为草稿（责任不清楚）")
        lead = lead_units[0] if lead_units else None
        if len(lead_units) > 1:
            warn(f"牵头督导单位只能有一个，已取「{lead.name}」，其余列为配合单位")
            co_units = [u for u in lead_units[1:] + co_units]
        co_units = [u for i, u in enumerate(co_units) if u != lead and u not in co_units[:i]]
        row.responsible = "、".join(u.name for u in responsible)

        # leader
        leader = None
        if "leader" in values:
            leader, e, w = _resolve_leader(first["leader"], lookups)
            for x in e:
                err(x)
            for x in w:
                warn(x)

        # deadline
        kind, deadline = "", None
        if "deadline" in values:
            try:
                kind, deadline, note = parse_deadline(first["deadline"])
            except DeadlineError as exc:
                err(str(exc))
            else:
                if note:
                    warn(note)
        if not kind and "deadline" not in values:
            warn("未填写整改时限，任务将保存为草稿（时限不清楚）")
        row.deadline = format_deadline(kind, deadline) if kind else ""

        # category
        category = section_category or Category.OTHER
        if "category" in values:
            category, problem_text = _resolve_category(first["category"])
            if problem_text:
                err(problem_text)

        measures = []
        for v in values.get("measures", []):
            measures += split_measures(free_text(v))
        row.measure_count = len(measures)

        data = TaskInput(
            code=row.code, title=title, problem=problem,
            target="\n".join(free_text(v) for v in values.get("target", [])),
            inspection_number=inspection, category=category, responsible_units=responsible,
            lead_supervisor=lead, co_supervisors=co_units, leader=leader, deadline_kind=kind, deadline=deadline,
            progress_note="\n".join(free_text(v) for v in values.get("progress", [])),
            completion_note="\n".join(free_text(v) for v in values.get("completion", [])),
            measures=[MeasureInput(text=t) for t in measures])
        row.data = data
        parsed.append(row)

    existing = _existing_tasks(campaign, [r.code for r in parsed if r.code])
    for row in parsed:
        task = existing.get(row.code)
        preview.rows.append(row)
        if task is None:
            row.action = CREATE
            continue
        row.task, row.version = task, task.version
        row.data = _merged_input(_current_input(task), row.data, present)
        row.action = UNCHANGED if _signature(row.data) == _signature(_current_input(task)) else UPDATE
    if not preview.rows:
        preview.file_errors.append(f"工作表「{name}」在表头（第 {header_row + 1} 行）以下没有数据行")
    return preview


# Which TaskInput attributes each column carries; a column absent from the file leaves them be.
_FIELD_ATTRS = {
    "title": ["title"], "problem": ["problem"], "target": ["target"], "inspection": ["inspection_number"],
    "category": ["category"], "responsible": ["responsible_units"], "lead": ["lead_supervisor"],
    "co": ["co_supervisors"], "leader": ["leader"], "deadline": ["deadline_kind", "deadline"],
    "progress": ["progress_note"], "completion": ["completion_note"], "measures": ["measures"],
}


def _merged_input(current: TaskInput, incoming: TaskInput, present: set[str]) -> TaskInput:
    """An update: the task as it is, with the columns the file has. Measures with the same text
    keep their identity (and their done flag, owner and due date)."""
    data = dataclasses.replace(current)
    for f, attrs in _FIELD_ATTRS.items():
        if f in present or (f == "title" and "problem" in present):
            for attr in attrs:
                setattr(data, attr, getattr(incoming, attr))
    if "lead" in present and current.acceptance_unit and current.acceptance_unit != current.lead_supervisor:
        data.acceptance_unit = current.acceptance_unit  # a separately chosen acceptance unit stays
    elif "lead" in present:
        data.acceptance_unit = None
    if "measures" in present:
        pool = {}
        for m in current.measures or []:
            pool.setdefault(m.text.strip(), []).append(m)
        kept = []
        for m in incoming.measures or []:
            same = pool.get(m.text.strip())
            kept.append(dataclasses.replace(same.pop(0)) if same else m)
        data.measures = kept
    return data


# --------------------------------------------------------------------------------------------
# Import: commit


@dataclass
class ImportResult:
    ok: bool
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if not self.ok:
            return "导入未执行，未写入任何数据：" + "；".join(self.errors)
        return f"导入完成：新增 {self.created} 条，更新 {self.updated} 条，无变化 {self.unchanged} 条。"


def _messages(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "；".join(exc.messages)
    return str(exc)


def commit_import(preview: ImportPreview, *, actor: User) -> ImportResult:
    """Write a clean preview: every row through the ledger services in one transaction, or nothing.

    A task changed by someone else since the preview (a stale version) or a code taken meanwhile
    rolls the whole import back with the row named.
    """
    if preview.file_errors:
        return ImportResult(ok=False, errors=list(preview.file_errors))
    if preview.error_rows:
        return ImportResult(ok=False, errors=[f"有 {len(preview.error_rows)} 行存在错误，请修改文件后重新上传"])
    if not preview.rows:
        return ImportResult(ok=False, errors=["文件中没有可导入的数据行"])
    source = f"Excel 导入：{preview.filename}" if preview.filename else "Excel 导入"
    result = ImportResult(ok=True)
    current = None
    try:
        with transaction.atomic():
            for row in preview.rows:
                current = row
                if row.action == CREATE:
                    create_task(actor=actor, campaign=preview.campaign, data=row.data, source=source)
                    result.created += 1
                elif row.action == UPDATE:
                    update_task(actor=actor, task=row.task, expected_version=row.version, data=row.data, source=source)
                    result.updated += 1
                else:
                    result.unchanged += 1
            current = None
            record_event(
                actor=actor, action="ledger_imported", obj=preview.campaign,
                summary=f"Excel 导入台账「{preview.filename}」：新增 {result.created} 条，更新 {result.updated} 条，"
                        f"无变化 {result.unchanged} 条",
                after={"file": preview.filename, "sm3": preview.digest, "size": preview.size, "sheet": preview.sheet,
                       "rows": len(preview.rows), "created": result.created, "updated": result.updated,
                       "unchanged": result.unchanged})
    except StaleVersionError as exc:
        return ImportResult(ok=False, errors=[f"第 {current.number} 行（{current.code}）：预览之后该任务已被他人修改，"
                                              f"请重新上传预览。{exc}"])
    except (ValidationError, PermissionDenied, DatabaseError) as exc:
        where = f"第 {current.number} 行（{current.code}）：" if current else ""
        return ImportResult(ok=False, errors=[where + _messages(exc)])
    return result


# --------------------------------------------------------------------------------------------
# Export

EXPORT_CHUNK = 2000


def export_queryset(user: User, filters: selectors.TaskFilter | None = None) -> QuerySet:
    """What an export holds: exactly the ledger list the user sees with these filters."""
    return (selectors.task_queryset(user, filters)
            .select_related("campaign", "leader")
            .prefetch_related(Prefetch("task_units", queryset=TaskUnit.objects.select_related("unit")
                                       .order_by("role", "ordinal", "id")),
                              Prefetch("measures", queryset=Measure.objects.order_by("ordinal", "id"))))


def task_row(task: Task, seq: int) -> list:
    units: dict[str, list[str]] = {}
    for tu in task.task_units.all():
        units.setdefault(tu.role, []).append(tu.unit.name)
    values = {
        "seq": seq, "code": task.code, "title": task.title, "problem": task.problem, "target": task.target,
        "measures": join_measures(m.text for m in task.measures.all()),
        "responsible": "、".join(units.get(UnitRole.RESPONSIBLE, [])),
        "lead": "、".join(units.get(UnitRole.LEAD_SUPERVISOR, [])),
        "co": "、".join(units.get(UnitRole.CO_SUPERVISOR, [])),
        "leader": task.leader.display_name if task.leader_id else "",
        "deadline": format_deadline(task.deadline_kind, task.deadline),
        "progress": task.progress_note, "completion": task.completion_note,
        "category": task.get_category_display(), "inspection": task.inspection_number,
        "status": task.get_status_display(), "campaign": task.campaign.name,
    }
    return [values[f] for f in EXPORT_FIELDS]


_WIDTHS = {"seq": 6, "code": 14, "title": 30, "problem": 40, "target": 30, "measures": 50, "responsible": 18,
           "lead": 16, "co": 18, "leader": 10, "deadline": 16, "progress": 36, "completion": 20, "category": 14,
           "inspection": 12, "status": 8, "campaign": 24}


def write_ledger(tasks: Iterable[Task], target, *, sheet_name: str = "整改台账") -> int:
    """Write tasks to ``target`` (a path or a binary file) row by row; returns the row count.

    ``constant_memory`` flushes each row as it is written, so memory stays flat however long
    the ledger is. Every text goes through :func:`neutralise` and ``write_string`` (never
    ``write``, which would turn "=…" into a formula).
    """
    import xlsxwriter

    book = xlsxwriter.Workbook(target, {"constant_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False, "tmpdir": str(scratch_dir())})
    sheet = book.add_worksheet(sheet_name)
    head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter",
                            "align": "center"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    for c, f in enumerate(EXPORT_FIELDS):
        sheet.set_column(c, c, _WIDTHS.get(f, 14))
    for c, f in enumerate(EXPORT_FIELDS):
        sheet.write_string(0, c, COLUMN_BY_FIELD[f].label, head)
    sheet.freeze_panes(1, 3)
    count = 0
    for count, task in enumerate(tasks, start=1):
        for c, value in enumerate(task_row(task, count)):
            if isinstance(value, int):
                sheet.write_number(count, c, value, wrap)
            elif value:
                sheet.write_string(count, c, neutralise(value), wrap)
    sheet.autofilter(0, 0, max(count, 1), len(EXPORT_FIELDS) - 1)
    book.close()
    return count


def scratch_dir() -> Path:
    """Where export scratch files go: under UPLOAD_DIR, outside any web root."""
    path = Path(settings.UPLOAD_DIR) / "tmp"
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_ledger(*, user: User, filters: selectors.TaskFilter | None, target) -> int:
    """Export the user's view of the ledger and record who exported what (导出留痕)."""
    count = write_ledger(export_queryset(user, filters).iterator(chunk_size=EXPORT_CHUNK), target)
    shown = {k: v for k, v in dataclasses.asdict(filters or selectors.TaskFilter()).items()
             if v not in (None, "") and not (k == "sort" and v == "code")}
    with transaction.atomic():
        record_event(actor=user, action="ledger_exported", object_type="ledger.task",
                     summary=f"导出整改台账 Excel：{count} 条任务",
                     after={"filters": shown, "rows": count})
    return count


def export_filename(today: dt.date) -> str:
    return f"整改台账-{today:%Y%m%d}.xlsx"
