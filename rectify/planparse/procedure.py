"""销号程序比对: what a plan says about closing problems against a campaign's configured procedure.

The parser finds the steps and standards (``mechanisms.py``, kind "closeout"); this module adds the
notice period ("公示5个工作日"), an on-site rule ("现场核查") and who verifies, read from the plan's
sentences about close-out, and marks each item 一致 / 不一致 / 方案未提及. The steps and standards are
fixed in the product; the notice period, the on-site rule and the verifier are the campaign's
``CloseoutPolicy``. Reading only: nothing is written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from .outline import cn_value

PRODUCT_STEPS = ["初审", "公示", "申请", "核查", "备案"]
PRODUCT_STANDARDS = ["生态修复", "污染消除", "群众满意"]
MATCH, MISMATCH, UNSTATED = "一致", "不一致", "方案未提及"
CODES = {MATCH: "match", MISMATCH: "mismatch", UNSTATED: "unstated"}

SENTENCE = re.compile(r"[^。！？!?\n]+[。！？!?]?")
CLAUSE = re.compile(r"[；;]")
N = r"(\d{1,2}|[一二三四五六七八九十]{1,3})"
UNIT = r"(个工作日|工作日|个自然日|自然日|天|日)"
NOTICE = [
    re.compile(rf"公示(?:期|时间|期限)?(?:为|不少于|不得少于|不低于|满)?\s*{N}\s*{UNIT}"),
    re.compile(rf"为期\s*{N}\s*{UNIT}的?(?:社会)?公示"),
]
ONSITE = re.compile(r"(?:现场|实地)(?:核查|核实|检查|查看|验收)")
ABOUT_CLOSEOUT = re.compile(r"销号|核查|验收")
VERIFIERS = [  # (phrase in a sentence about verifying, the policy value it names); first match wins
    (re.compile(r"牵头验收单位"), "acceptance"),
    (re.compile(r"牵头督导单位|牵头单位"), "lead"),
    (re.compile(r"整改办|整改工作领导小组办公室"), "office"),
]
VERIFY_WORDS = re.compile(r"(?:核查|验收)[^，,。；;]{0,6}销号|销号[^，,。；;]{0,6}(?:核查|验收)|验收销号")
VERIFIER_NAMES = {"acceptance": "牵头验收单位", "lead": "牵头督导单位", "office": "整改办"}
# Which configured verifier agrees with what the plan names: a plan that has the lead supervising
# unit organise 验收销号 makes it the acceptance unit, which is the default policy's fallback too.
VERIFIER_AGREES = {"acceptance": {"acceptance"}, "lead": {"lead", "acceptance"}, "office": {"office"}}


def _texts(parse: dict[str, Any]) -> Iterator[str]:
    """Every text of the parsed plan, in reading order."""
    yield parse.get("preamble") or ""

    def walk(node: dict[str, Any]) -> Iterator[str]:
        yield node.get("title") or ""
        yield node.get("text") or ""
        for child in node.get("children") or []:
            yield from walk(child)

    for section in parse.get("sections") or []:
        yield from walk(section)
    for item in parse.get("unplaced") or []:
        yield item.get("text", "") if isinstance(item, dict) else str(item)


def _sentences(parse: dict[str, Any]) -> Iterator[str]:
    seen: set[str] = set()
    for text in _texts(parse):
        for m in SENTENCE.finditer(text):
            sentence = m.group(0).strip()
            if sentence and sentence not in seen:
                seen.add(sentence)
                yield sentence


def _number(text: str) -> int:
    return int(text) if text.isdigit() else cn_value(text)


def _snippet(sentence: str, start: int, end: int, margin: int = 24) -> str:
    left, right = max(0, start - margin), min(len(sentence), end + margin)
    return ("…" if left else "") + sentence[left:right] + ("…" if right < len(sentence) else "")


def _around(source: str, items: list[str]) -> str:
    """The part of a long sentence where the plan lists ``items``."""
    if not source or not items:
        return source
    joined = "、".join(items)
    start = source.find(joined)
    end = start + len(joined)
    if start < 0:
        start = max(source.find(items[0]), 0)
        end = start + len(items[0])
    return _snippet(source, start, end, margin=12)


def _ordered_union(lists: list[list[str]]) -> list[str]:
    out: list[str] = []
    for items in lists:
        out += [i for i in items if i not in out]
    return out


def plan_procedure(parse: dict[str, Any]) -> dict[str, Any]:
    """What the plan states about close-out; each value None (or empty) when the plan does not say."""
    mechanisms = [m for m in parse.get("mechanisms") or [] if m.get("kind") == "closeout"]
    found: dict[str, Any] = {
        "steps": _ordered_union([m.get("steps") or [] for m in mechanisms]),
        "standards": _ordered_union([m.get("standards") or [] for m in mechanisms]),
        "steps_source": next((_around(m["source"], m["steps"]) for m in mechanisms if m.get("steps")), ""),
        "standards_source": next((_around(m["source"], m["standards"]) for m in mechanisms
                                  if m.get("standards")), ""),
        "notice_days": None, "notice_unit": "", "notice_source": "",
        "onsite": None, "onsite_source": "", "verifier": None, "verifier_source": "",
    }
    for sentence in _sentences(parse):
        if found["notice_days"] is None:
            for pattern in NOTICE:
                m = pattern.search(sentence)
                if m:
                    found["notice_days"] = _number(m.group(1))
                    found["notice_unit"] = "work_days" if "工作日" in m.group(2) else "days"
                    found["notice_source"] = _snippet(sentence, m.start(), m.end())
                    break
        # On-site rule and verifier: only within the clause about close-out (a sentence often
        # joins the dispatch office's duties and the close-out procedure with a semicolon).
        for clause in CLAUSE.split(sentence):
            if not ABOUT_CLOSEOUT.search(clause):
                continue
            if found["onsite"] is None:
                m = ONSITE.search(clause)
                if m:
                    found["onsite"], found["onsite_source"] = True, _snippet(clause, m.start(), m.end())
            verify = VERIFY_WORDS.search(clause)
            if found["verifier"] is None and verify:
                for pattern, value in VERIFIERS:
                    m = pattern.search(clause)
                    if m:
                        found["verifier"] = value
                        found["verifier_source"] = _snippet(clause, min(m.start(), verify.start()),
                                                            max(m.end(), verify.end()))
                        break
    return found


def compare_procedure(parse: dict[str, Any], *, notice_workdays: int, onsite_required: bool,
                      verifier: str, verifier_label: str = "") -> dict[str, Any]:
    """Rows of (item, what the plan says, what is configured, 一致/不一致/方案未提及 with its code
    match/mismatch/unstated, the plan's words) and the count of each code."""
    plan = plan_procedure(parse)
    rows: list[dict[str, str]] = []

    def add(group: str, item: str, plan_text: str, configured: str, status: str, source: str = "") -> None:
        rows.append({"group": group, "item": item, "plan": plan_text, "configured": configured,
                     "status": status, "code": CODES[status], "source": source})

    for group, product, stated, source in (
            ("销号程序", PRODUCT_STEPS, plan["steps"], plan["steps_source"]),
            ("销号标准", PRODUCT_STANDARDS, plan["standards"], plan["standards_source"])):
        for item in product:
            if not stated:
                add(group, item, "—", "有（系统固定）", UNSTATED)
            elif item in stated:
                add(group, item, "有", "有（系统固定）", MATCH, source)
            else:
                add(group, item, "未列出", "有（系统固定）", MISMATCH, source)
        extra = [i for i in stated if i not in product]
        if extra:
            add(group, "方案另列", "、".join(extra), "无（系统不设）", MISMATCH, source)
        common = [i for i in stated if i in product]
        if len(common) > 1 and common != [i for i in product if i in common]:
            add(group, "顺序", "、".join(common), "、".join(i for i in product if i in common), MISMATCH, source)

    days = plan["notice_days"]
    if days is None:
        add("公示期", "公示期", "—", f"{notice_workdays}个工作日", UNSTATED)
    elif plan["notice_unit"] == "work_days":
        add("公示期", "公示期", f"{days}个工作日", f"{notice_workdays}个工作日",
            MATCH if days == notice_workdays else MISMATCH, plan["notice_source"])
    else:  # calendar days: the platform counts official work days, so the office must decide
        add("公示期", "公示期", f"{days}天（自然日）", f"{notice_workdays}个工作日", MISMATCH, plan["notice_source"])

    configured_onsite = "须现场核查" if onsite_required else "不强制现场核查"
    if plan["onsite"] is None:
        add("核查", "现场核查", "—", configured_onsite, UNSTATED)
    else:
        add("核查", "现场核查", "须现场核查", configured_onsite, MATCH if onsite_required else MISMATCH,
            plan["onsite_source"])

    named = plan["verifier"]
    configured_verifier = verifier_label or VERIFIER_NAMES.get(verifier, verifier)
    if named is None:
        add("核查", "核查单位", "—", configured_verifier, UNSTATED)
    else:
        add("核查", "核查单位", VERIFIER_NAMES[named], configured_verifier,
            MATCH if verifier in VERIFIER_AGREES[named] else MISMATCH, plan["verifier_source"])

    counts = {code: sum(1 for r in rows if r["code"] == code) for code in CODES.values()}
    return {"rows": rows, "counts": counts, "plan": plan}
