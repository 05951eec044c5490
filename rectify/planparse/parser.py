"""``parse_plan``: read → clean artefacts → outline → targets → mechanisms → suggestions."""

from __future__ import annotations

import re
from typing import Any

from .cleanup import clean_blocks, normalize_punct
from .fields import inline_deadline, inline_units
from .mechanisms import extract_mechanisms
from .model import Block, Node, PlanParse, PlanParseError
from .outline import build_outline
from .reader import read_source
from .suggest import suggest_category, suggest_units
from .targets import extract_targets

# Closing matter after the body (落款、日期、附件、抄送): not part of the plan's structure.
TAIL_PATTERNS = {
    "附件说明": re.compile(r"^附件\s*[0-9一二三四五六七八九十]*\s*[:：]"),
    "抄送/印发": re.compile(r"^(抄送|抄报|印发)[:：]|印发$"),
    "成文日期": re.compile(r"^(20\d{2}|二〇[〇一二三四五六七八九]{2})年[0-9〇一二三四五六七八九十]{1,3}月[0-9〇一二三四五六七八九十]{1,3}日$"),
    "发文机关署名": re.compile(r"^[\u4e00-\u9fffXx]{2,30}(人民政府|委员会|办公室|领导小组|指挥部|局|委)$"),
    "公开属性/联系人": re.compile(r"^[(（]?(此件|联系人|本件)"),
}
TITLE_RUN_ON = re.compile(r"^(.{2,80}?(?:方案|意见|计划|办法|通知|清单))(?![的和及与])")
ATTACHMENT_LABEL = re.compile(r"^附件\s*[0-9一二三四五六七八九十]*$")
CJK = re.compile(r"[\u4e00-\u9fff]")
MIN_CJK_SHARE = 0.3  # of non-space characters: a Chinese plan is mostly Chinese
MIN_GB2312_SHARE = 0.6  # of CJK characters: random or mis-decoded text is full of rare ones
MAX_CHARS_PER_NODE = 5000  # real plans number a paragraph every few hundred characters


def parse_plan(source: bytes | str, *, filename: str | None = None) -> PlanParse:
    """Parse a rectification plan (整改方案) into a proposed structure.

    ``source`` is .docx bytes, text bytes (UTF-8 with or without BOM, GB18030/GBK) or pasted
    text. Raises :class:`PlanParseError` with a Chinese message for input that is not a plan.
    """
    raw_blocks, info = read_source(source, filename)
    try:
        return _parse_blocks(raw_blocks, info)
    except PlanParseError as exc:
        hint = encoding_hint(info)
        raise PlanParseError(f"{exc}{hint}" if hint else str(exc)) from None


ENCODING_NAMES = {"gb18030": "GB18030/GBK", "utf-16": "UTF-16", "utf-16-le": "UTF-16", "utf-16-be": "UTF-16"}


def encoding_hint(info: dict[str, Any]) -> str:
    """Why a text file that read as nothing may have failed: it was not UTF-8 (say so plainly)."""
    encoding = str(info.get("encoding") or "")
    if info.get("kind") != "txt" or encoding in ("", "utf-8", "utf-8-sig"):
        return ""
    return (f"（文件不是UTF-8编码，已按 {ENCODING_NAMES.get(encoding, encoding)} 读取；"
            "若识别结果为空或乱码，请另存为UTF-8或上传docx。）")


def _parse_blocks(raw_blocks: list[Block], info: dict[str, Any]) -> PlanParse:
    blocks, artefacts = clean_blocks(raw_blocks)
    if not any(b.text.strip() for b in blocks if b.kind == "para") and not any(b.rows for b in blocks):
        raise PlanParseError("文件内容为空，没有可识别的文字。")
    _check_plausible(blocks)

    blocks, unplaced = _split_tail(blocks)
    outline = build_outline(blocks)
    nodes = [n for s in outline.sections for n in s.walk()]
    if len(nodes) < 2 and not any(n.style == "row" for n in nodes):
        raise PlanParseError("未识别到整改方案的结构：没有找到“一、”“（一）”“1.”等编号的章节或措施，也没有整改任务表格。")
    chars = sum(len(b.text) for b in blocks)
    if chars > MAX_CHARS_PER_NODE * len(nodes):
        # a few numbers lost in a sea of text: noise or a concatenation, not one plan
        raise PlanParseError(
            f"未识别到整改方案的结构：全文约 {chars} 字，只找到 {len(nodes)} 个编号条目，"
            "请确认上传的是一份整改方案。"
        )

    title, preamble = _title_and_preamble(outline.preamble_paras)
    for node in nodes:
        if node.kind == "measure" and node.style != "row":
            full = node.full_text()
            node.units = node.units or inline_units(full)
            node.deadline = node.deadline or inline_deadline(full)

    seen_practices: set[str] = set()
    targets = extract_targets(preamble, path="")
    mechanisms = extract_mechanisms(preamble, path="", seen_practices=seen_practices)
    for node in nodes:
        text = node.text if node.style != "row" else "\n".join(node.fields.values())
        targets += extract_targets(text, path=node.path)
        mechanisms += extract_mechanisms(text, path=node.path, seen_practices=seen_practices)

    info["chars"] = chars
    return PlanParse(
        title=title,
        preamble=preamble,
        sections=outline.sections,
        measures=[_measure_dict(n) for n in nodes if n.kind == "measure"],
        targets=targets,
        mechanisms=mechanisms,
        unplaced=outline.unplaced + unplaced,
        artefacts=artefacts,
        warnings=outline.warnings,
        source=info,
        clean_text=_clean_text(blocks, unplaced),
    )


def _check_plausible(blocks: list[Block]) -> None:
    sample = "".join(b.text for b in blocks if b.kind == "para")[:200_000]
    sample += "".join(c for b in blocks if b.kind == "table" for row in b.rows for c in row)[:200_000]
    letters = [ch for ch in sample if not ch.isspace()]
    cjk = CJK.findall(sample)
    if not letters or len(cjk) < MIN_CJK_SHARE * len(letters):
        raise PlanParseError("未识别到整改方案的结构：文本中几乎没有中文，可能不是整改方案或文件已损坏。")
    common = sum(1 for ch in cjk if _in_gb2312(ch))
    if common < MIN_GB2312_SHARE * len(cjk):
        raise PlanParseError("文本像是乱码（大量生僻字），请确认文件编码或内容是否正确。")


def _in_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _split_tail(blocks: list[Block]) -> tuple[list[Block], list[dict[str, Any]]]:
    """Closing matter at the end goes to ``unplaced``, so it is not glued onto the last measure."""
    end = len(blocks)
    tail: list[dict[str, Any]] = []
    while end > 1 and blocks[end - 1].kind == "para":
        text = blocks[end - 1].text.strip()
        reason = next((name for name, p in TAIL_PATTERNS.items() if p.search(text)), None)
        if reason is None or len(text) > 80:
            break
        tail.insert(0, {"text": text, "reason": f"文末{reason}，不属于方案正文结构", "where": "文末"})
        end -= 1
    return blocks[:end], tail


def _title_and_preamble(paras: list[str]) -> tuple[str, str]:
    paras = list(paras)
    lead: list[str] = []
    while paras and ATTACHMENT_LABEL.match(paras[0].strip()):
        lead.append(paras.pop(0))  # "附件1" above the title of a plan attached to a notice
    if not paras:
        return "", "\n".join(lead)
    first = paras[0].strip()
    if "。" not in first and len(first) <= 80:
        title, rest = first, paras[1:]
    else:
        m = TITLE_RUN_ON.match(first)
        if m:
            title, rest = m.group(1), [first[m.end():], *paras[1:]]
        else:
            title, rest = "", paras
    preamble = "\n".join(p for p in [*lead, *rest] if p.strip())
    return normalize_punct(title), normalize_punct(preamble)


def _measure_dict(node: Node) -> dict[str, Any]:
    full = node.full_text() if node.style != "row" else node.text
    out: dict[str, Any] = {
        "path": node.path,
        "number": node.number,
        "title": node.title,
        "text": full,
        "items": [{"path": c.path, "number": c.number, "title": c.title} for c in node.children],
        "units": node.units,
        "deadline": node.deadline,
        "suggested_category": suggest_category(node.title, full),
        "suggested_units": suggest_units(node.title, full),
    }
    if node.fields:
        out["fields"] = node.fields
    return out


def _clean_text(blocks: list[Block], tail: list[dict[str, Any]]) -> str:
    parts = []
    for b in blocks:
        if b.kind == "para":
            parts.append(b.text)
        else:
            parts += [" | ".join(row) for row in b.rows]
    parts += [t["text"] for t in tail]
    return "\n".join(parts)
