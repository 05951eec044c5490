"""The 整改措施 cell: split it into measures by its numbering ("1.…", "（1）…", "①…", "一是…"),
and join measures back into one numbered cell."""

from __future__ import annotations

import re
from collections.abc import Iterable

from rectify.ledger.excel.cells import nfkc

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
