"""Remove copy-and-paste artefacts (清理复制粘贴产生的杂质) before the outline is read.

The seed plan was copied from a web page that cut it into chunks, each line starting with a
chunk number ``N、`` (1、2、3、…). The chunks cut sentences, words (``加快推进垃`` / ``11、圾焚烧``)
and even a measure number from its dot (``…政治责任1`` / ``7、.深学笃用``). Real numbering
(``1、加强…``) restarts under each heading and follows finished sentences, so the *sequence* of
line-initial numbers running 1, 2, 3, … over nearly every line, across unfinished sentences,
is what tells the artefact apart. Every removal is recorded in ``artefacts``.
"""

from __future__ import annotations

import re
from typing import Any

from .model import Block

ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
EDGE_SPACE = " \t\u3000\u00a0\u2002\u2003\u200a"

# Lines that are page furniture, not plan text (page numbers, "本页无正文").
PAGE_FURNITURE = {
    "page_number": re.compile(r"^[-—–－]\s*\d{1,4}\s*[-—–－]$"),
    "page_of": re.compile(r"^第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?$"),
    "blank_page_note": re.compile(r"^[(（]?此页无正文[)）]?$"),
}

CHUNK_MARKER = re.compile(r"^(\d{1,4})、")
SENTENCE_END = tuple("。！？!?；;：:”」』）)")

# Full-width digits and Latin letters → ASCII so that number and target patterns see one form.
FULLWIDTH_ALNUM = {i: i - 0xFEE0 for i in list(range(0xFF10, 0xFF1A)) + list(range(0xFF21, 0xFF3B)) + list(range(0xFF41, 0xFF5B))}
FULLWIDTH_ALNUM[0xFF05] = ord("%")
DIGIT_DOT_DIGIT = re.compile(r"(?<=\d)．(?=\d)")

CJK = "\u4e00-\u9fff"
# Half-width punctuation touching a Chinese character is a typing slip: use the full form.
HALF_TO_FULL = [
    (re.compile(rf"(?<=[{CJK}“”）)]),|,(?=[{CJK}“])"), "，"),
    (re.compile(rf"(?<=[{CJK}“”）)]);|;(?=[{CJK}“])"), "；"),
    (re.compile(rf"(?<=[{CJK}”）)]):|:(?=[{CJK}“])"), "："),
    (re.compile(rf"(?<=[{CJK}”）)])!"), "！"),
    (re.compile(rf"(?<=[{CJK}”）)])\?"), "？"),
]
PAREN_PAIR = re.compile(r"\(([^()\n]{0,80})\)")
HAS_CJK = re.compile(f"[{CJK}]")


def normalize_punct(text: str) -> str:
    """Full-width Chinese punctuation where half-width was typed next to Chinese text."""
    for pattern, repl in HALF_TO_FULL:
        text = pattern.sub(repl, text)
    return PAREN_PAIR.sub(lambda m: f"（{m.group(1)}）" if HAS_CJK.search(m.group(1)) else m.group(0), text)


def normalize_chars(text: str) -> str:
    text = ZERO_WIDTH.sub("", text)
    text = text.translate(FULLWIDTH_ALNUM)
    return DIGIT_DOT_DIGIT.sub(".", text)


def clean_blocks(blocks: list[Block]) -> tuple[list[Block], list[dict[str, Any]]]:
    """Return cleaned blocks (blank paragraphs dropped) and the artefacts removed."""
    artefacts: list[dict[str, Any]] = []
    lines: list[Block] = []
    for index, block in enumerate(blocks, start=1):
        if block.kind == "table":
            rows = [[normalize_chars(c).strip(EDGE_SPACE) for c in row] for row in block.rows]
            lines.append(Block("table", rows=rows))
            continue
        text = normalize_chars(block.text).strip(EDGE_SPACE)
        for kind, pattern in PAGE_FURNITURE.items():
            if pattern.match(text):
                artefacts.append({"kind": kind, "line": index, "text": text})
                text = ""
                break
        lines.append(Block("para", text=text))
    lines = _remove_chunk_markers(lines, artefacts)
    return [b for b in lines if b.kind == "table" or b.text], artefacts


def _remove_chunk_markers(blocks: list[Block], artefacts: list[dict[str, Any]]) -> list[Block]:
    paras = [i for i, b in enumerate(blocks) if b.kind == "para" and b.text]
    marked: list[int] = []
    expected = 1
    for i in paras:
        m = CHUNK_MARKER.match(blocks[i].text)
        if m and int(m.group(1)) == expected:
            marked.append(i)
            expected += 1
    if not _looks_like_chunking(blocks, paras, marked):
        return blocks

    out: list[Block] = []
    marked_set = set(marked)
    for i, block in enumerate(blocks):
        if i not in marked_set:
            out.append(block)
            continue
        marker = CHUNK_MARKER.match(block.text).group(0)
        rest = block.text[len(marker):]
        prev = out[-1] if out and out[-1].kind == "para" else None
        while prev is not None and not prev.text and len(out) > 1 and out[-2].kind == "para":
            out.pop()  # blank lines between chunks are part of the artefact
            prev = out[-1]
        record = {"kind": "page_chunk_marker", "line": i + 1, "text": marker}
        if prev is not None and prev.text:
            record["joined"] = f"{prev.text[-6:]}|{rest[:6]}"
            prev.text += rest  # the line break was the artefact too: rejoin the cut sentence
        else:
            out.append(Block("para", text=rest))
        artefacts.append(record)
    return out


def _looks_like_chunking(blocks: list[Block], paras: list[int], marked: list[int]) -> bool:
    """Chunk markers run 1..K over (nearly) every line and cut sentences mid-way."""
    if len(marked) < 3 or len(marked) < 0.8 * len(paras):
        return False
    position = {line: k for k, line in enumerate(paras)}
    cuts = 0
    for i in marked[1:]:
        k = position[i]
        if k > 0 and not blocks[paras[k - 1]].text.endswith(SENTENCE_END):
            cuts += 1
    return cuts >= 0.3 * (len(marked) - 1)
