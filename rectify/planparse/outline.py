"""Build the outline tree (sections → groups → measures → items) from cleaned blocks.

Numbering styles, outermost first in a typical plan (the depth of a style is learnt from the
document, not fixed):

=====  ============  ======================
style  example       written forms accepted
=====  ============  ======================
cn     一、          一、 十一、
cnp    (一)          (一) （一） （十二）
ar     1.            1. 1． 1、 and 1, 1， (a comma typed for a dot: sibling only)
arp    (1)           (1) （1）
circ   ①             ① … ⑳
=====  ============  ======================

A candidate number is accepted only if it continues the numbering: the next sibling of an
open level, or ``1`` opening a new level. Inside running text (the seed has no line breaks at
all) a candidate must also follow a sentence end, unless it opens the first child of a
heading that has no full stop yet (``…政治责任1.深学笃用…``). Everything between accepted
numbers is text of the current node, so no text can be lost between two nodes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .cleanup import normalize_punct
from .fields import parse_deadline, split_units
from .model import Block, Node

CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}

MARKER = re.compile(
    r"(?P<cn>(?<![第\u4e00-\u9fff])[一二三四五六七八九十]{1,3}、)"  # 一、 (not 第二、 nor 统一、)
    r"|(?P<cnp>[(（][一二三四五六七八九十]{1,3}[)）])"  # (一) （一）
    r"|(?P<arp>[(（]\d{1,2}[)）])"  # (1) （1）
    r"|(?P<ar>(?<![\d.．A-Za-z第])\d{1,3}\s?[.．、,，](?![\d%]))"  # 1. 1、 5,  (not 2.5 nor 1,000)
    r"|(?P<circ>[①-⑳])"
)
COMMA_DELIMITER = re.compile(r"[,，]$")
BOUNDARY_BEFORE = set("。；;！？!?：:”」』）)\n ")

# Headings of top-level sections, used to split a run-on heading from its body
# (``一、指导思想以习近平…``).
SECTION_HEADINGS = re.compile(
    r"^(指导思想|总体要求|基本原则|工作原则|整改原则|整改目标|工作目标|主要目标|目标任务|总体目标|"
    r"整改措施|整改任务|主要任务|重点任务|工作措施|具体措施|主要措施|重点工作|工作任务|"
    r"保障措施|保证措施|组织保障|工作要求|整改要求|实施步骤|工作步骤|进度安排|时间安排|"
    r"组织领导|责任分工|任务分工|工作机制|整改范围|适用范围|编制依据|工作安排)"
)
MEASURE_SECTION = re.compile(r"措施|任务|举措|重点工作|工作安排")
NOT_MEASURE_SECTION = re.compile(r"保障|保证|要求|组织领导")
TITLE_END = re.compile(r"[。：:；;]")
TITLE_MAX = 60  # a heading paragraph longer than this without a full stop is body text

# Table headers (表格式整改任务清单) → field names.
TABLE_COLUMNS = {
    "number": re.compile(r"^(序号|编号|序次)$"),
    "task": re.compile(r"整改任务|任务名称|主要任务|问题|任务内容|重点任务|工作任务"),
    "measure": re.compile(r"整改措施|具体措施|工作措施|主要措施|措施"),
    "target": re.compile(r"整改目标|目标"),
    "units": re.compile(r"责任单位|牵头单位|责任部门|主体责任|牵头督导|责任主体"),
    "co_units": re.compile(r"配合单位|协办单位|配合部门"),
    "deadline": re.compile(r"时限|完成时间|期限"),
    "leader": re.compile(r"责任领导|牵头领导|包案领导"),
}


@dataclass
class _Open:
    node: Node
    paras: list[str] = field(default_factory=list)
    has_full_stop: bool = False

    def add(self, text: str, new_para: bool) -> None:
        if not text:
            return
        if new_para or not self.paras:
            self.paras.append(text)
        else:
            self.paras[-1] += text
        if "。" in text:
            self.has_full_stop = True


@dataclass
class Outline:
    sections: list[Node]
    preamble_paras: list[str]
    unplaced: list[dict[str, Any]]
    warnings: list[str]


def cn_value(numeral: str) -> int:
    """一→1 … 十→10, 十二→12, 二十三→23."""
    if "十" not in numeral:
        return CN_DIGITS.get(numeral, 0)
    tens, _, ones = numeral.partition("十")
    return (CN_DIGITS.get(tens, 0) if tens else 1) * 10 + (CN_DIGITS.get(ones, 0) if ones else 0)


def parse_marker(m: re.Match[str]) -> tuple[str, int, str]:
    """(style, value, number as written without its delimiter)."""
    style = m.lastgroup or ""
    raw = m.group(style)
    if style == "cn":
        return style, cn_value(raw[:-1]), raw[:-1]
    if style == "cnp":
        return style, cn_value(raw[1:-1]), raw
    if style == "arp":
        return style, int(raw[1:-1]), raw
    if style == "ar":
        digits = re.match(r"\d+", raw).group(0)
        return style, int(digits), digits
    return style, ord(raw) - ord("①") + 1, raw


def canonical(style: str, value: int, number: str) -> str:
    """Number as used in paths: 四, (二), 3, (1), ①."""
    if style == "cnp":
        return f"({number[1:-1]})"
    if style == "arp":
        return f"({value})"
    return number


class OutlineBuilder:
    def __init__(self) -> None:
        self.sections: list[Node] = []
        self.stack: list[_Open] = []
        self.preamble: list[str] = []
        self.unplaced: list[dict[str, Any]] = []
        self.warnings: list[str] = []
        self.all_open: list[_Open] = []

    # -- numbering -------------------------------------------------------------------------
    def _accept(self, style: str, value: int, raw: str, at_para_start: bool, boundary: bool) -> int | None:
        """Stack depth at which the node opens, or None if the candidate is just text."""
        styles = [o.node.style for o in self.stack]
        comma = bool(COMMA_DELIMITER.search(raw))
        if style in styles:
            i = styles.index(style)
            prev = self.stack[i].node.value
            if value == prev + 1 and (boundary or at_para_start):
                return i
            if at_para_start and prev + 1 < value <= prev + 3 and not comma:
                self.warnings.append(f"编号不连续：{self.stack[i].node.path} 之后是 {raw.strip()}")
                return i
            return None
        if comma:
            return None  # "5," only ever continues a list, it never opens one
        if value == 1:
            if at_para_start or boundary:
                return len(self.stack)
            # run-on heading: "…政治责任1.深学笃用", only while the heading has no full stop
            if self.stack and not self.stack[-1].has_full_stop:
                return len(self.stack)
            return None
        if at_para_start and not self.stack:
            self.warnings.append(f"编号 {raw.strip()} 不是从 1 开始，已按顶层标题处理")
            return 0
        return None

    def _open(self, depth: int, style: str, value: int, number: str, raw: str) -> None:
        del self.stack[depth:]
        parent = self.stack[-1].node if self.stack else None
        path_part = canonical(style, value, number)
        node = Node(
            number=number,
            style=style,
            value=value,
            level=depth + 1,
            path=f"{parent.path}.{path_part}" if parent else path_part,
        )
        if COMMA_DELIMITER.search(raw):
            self.warnings.append(f"{node.path}：编号后误用逗号（“{raw.strip()}”），已按“{number}.”处理")
        (parent.children if parent else self.sections).append(node)
        opened = _Open(node)
        self.stack.append(opened)
        self.all_open.append(opened)

    def _add_text(self, text: str, new_para: bool) -> None:
        text = text.strip(" \t")
        if not text:
            return
        if self.stack:
            self.stack[-1].add(text, new_para)
        elif new_para or not self.preamble:
            self.preamble.append(text)
        else:
            self.preamble[-1] += text

    # -- blocks ----------------------------------------------------------------------------
    def feed_paragraph(self, text: str) -> None:
        pos = 0
        indent = len(text) - len(text.lstrip())
        for m in MARKER.finditer(text):
            style, value, number = parse_marker(m)
            raw = m.group(0)
            start = m.start()
            at_para_start = start == indent
            boundary = start > 0 and text[start - 1] in BOUNDARY_BEFORE
            depth = self._accept(style, value, raw, at_para_start, boundary)
            if depth is None:
                continue
            # each piece goes to a different node, so each starts a paragraph of its own
            self._add_text(text[pos:start], new_para=True)
            self._open(depth, style, value, number, raw)
            pos = m.end()
        self._add_text(text[pos:], new_para=True)

    def feed_table(self, rows: list[list[str]], block_no: int) -> None:
        mapping = _map_header(rows[0]) if rows else {}
        if not rows or ("task" not in mapping and "measure" not in mapping):
            for r, row in enumerate(rows, start=1):
                text = " | ".join(c for c in row if c)
                if text:
                    self.unplaced.append({"text": text, "reason": "表格未能识别为整改任务清单", "where": f"第{block_no}块表格第{r}行"})
            return
        parent_open = self.stack[-1] if self.stack else None
        if parent_open is None:
            self._open(0, "row", len(self.sections) + 1, "", "")
            self.stack[-1].node.title = "整改任务清单"
            parent_open = self.stack[-1]
        group: Node | None = None
        count = 0
        for r, row in enumerate(rows[1:], start=2):
            cells = [c for c in row if c]
            if not cells:
                continue
            if len(rows[0]) > 1 and (len(row) == 1 or len(set(cells)) == 1):  # merged row: a group heading
                group = self._table_group(parent_open.node, cells[0])
                count = 0
                continue
            count += 1
            parent = group or parent_open.node
            parent.children.append(self._table_measure(parent, row, mapping, count, f"第{block_no}块表格第{r}行"))

    def _table_group(self, parent: Node, text: str) -> Node:
        m = MARKER.match(text)
        if m:
            style, value, number = parse_marker(m)
            rest = text[m.end():]
        else:
            style, value, number, rest = "rowgroup", len(parent.children) + 1, str(len(parent.children) + 1), text
        node = Node(number=number, style=style, value=value, level=parent.level + 1,
                    path=f"{parent.path}.{canonical(style, value, number)}", text=rest.strip(),
                    title=_first_clause(rest))
        parent.children.append(node)
        return node

    def _table_measure(self, parent: Node, row: list[str], mapping: dict[str, int], count: int, where: str) -> Node:
        def cell(name: str) -> str:
            i = mapping.get(name)
            return row[i].strip() if i is not None and i < len(row) else ""

        number = cell("number") or str(count)
        number_digits = re.sub(r"[^\d]", "", number)
        value = int(number_digits) if number_digits else count
        task, measure = cell("task"), cell("measure")
        node = Node(number=number, style="row", value=value, level=parent.level + 1,
                    path=f"{parent.path}.{number}")
        node.text = "\n".join(t for t in (task, measure) if t)
        node.title = _first_clause(task or measure)
        node.units = split_units(cell("units"))
        if cell("deadline"):
            node.deadline = parse_deadline(cell("deadline"))
        headers = list(mapping.items())
        node.fields = {name: cell(name) for name, _ in headers if cell(name)}
        extra = [c for i, c in enumerate(row) if c and i not in mapping.values()]
        if extra:  # cells under headers we do not know are kept, never dropped
            node.fields["other"] = " | ".join(extra)
        node.fields["where"] = where
        return node

    def finish(self) -> Outline:
        for opened in self.all_open:
            if opened.node.style == "row" and not opened.paras:
                continue
            opened.node.text = normalize_punct("\n".join(opened.paras))
            opened.node.title = _title_for(opened.node, opened.paras)
        _assign_kinds(self.sections)
        return Outline(self.sections, self.preamble, self.unplaced, self.warnings)


def _map_header(header: list[str]) -> dict[str, int]:
    mapping: dict[str, int] = {}
    for i, name in enumerate(header):
        name = re.sub(r"\s", "", name)
        for field_name, pattern in TABLE_COLUMNS.items():
            if field_name not in mapping and pattern.search(name):
                mapping[field_name] = i
                break
    return mapping


def _first_clause(text: str) -> str:
    text = normalize_punct(text.strip())
    m = TITLE_END.search(text)
    title = text[: m.start()] if m else text.split("\n", 1)[0]
    return title.strip().rstrip("，,、")


def _title_for(node: Node, paras: list[str]) -> str:
    """The heading: a short first paragraph without a full stop, a known section heading run on
    into its body, or the first clause up to 。 (or a colon)."""
    if not paras:
        return node.title
    first = normalize_punct(paras[0].strip())
    if "。" not in first and len(first) <= TITLE_MAX:
        return first.rstrip("：:，,；;")
    if node.level == 1:
        m = SECTION_HEADINGS.match(first)
        if m:
            return m.group(1)
    return _first_clause(first)


def _assign_kinds(sections: list[Node]) -> None:
    """section (top level); in a measures section (整改措施/主要任务…): group → measure → item,
    the first arabic-numbered level (1. / (1) / table row) being the measure; elsewhere item."""
    for section in sections:
        section.kind = "section"
        in_measures = bool(MEASURE_SECTION.search(section.title)) and not NOT_MEASURE_SECTION.search(section.title)
        if section.style == "row":  # synthetic section created for a table without a heading
            in_measures = True
        for child in section.children:
            _assign(child, in_measures)


def _has_arabic(node: Node) -> bool:
    return any(c.style in ("ar", "arp", "circ", "row") or _has_arabic(c) for c in node.children)


def _assign(node: Node, in_measures: bool, under_measure: bool = False) -> None:
    if not in_measures:
        node.kind = "group" if node.children else "item"
        kids_under = False
    elif under_measure:
        node.kind = "item"
        kids_under = True
    elif node.style in ("ar", "arp", "circ", "row") or not _has_arabic(node):
        node.kind = "measure"
        kids_under = True
    else:
        node.kind = "group"
        kids_under = False
    for child in node.children:
        _assign(child, in_measures, kids_under)


def build_outline(blocks: list[Block]) -> Outline:
    builder = OutlineBuilder()
    for index, block in enumerate(blocks, start=1):
        if block.kind == "table":
            builder.feed_table(block.rows, index)
        else:
            builder.feed_paragraph(block.text)
    return builder.finish()
