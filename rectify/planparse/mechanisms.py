"""Working mechanisms of the plan, proposed as configuration of the platform (机制 → 配置建议).

* dispatch rhythm 调度节奏: 一月一调度一督办, 一月一调度一通报、一季一督导一帮扶
* escalation ladder 督办措施: 预警、通报、督办、挂牌督办、约谈、区域限批 (in the plan's order)
* close-out 销号: steps 初审、公示、申请、核查、备案 and standards 生态修复、污染消除、群众满意
* report deadlines 报送时限: 上报整改方案6个月内报送整改落实情况, 每月25日前报送…
* practices 工作方法: 台账管理, 挂图作战, 回头看, 信息公开, 移交纪委监委 …
"""

from __future__ import annotations

import re
from typing import Any

from .outline import cn_value

SENTENCE = re.compile(r"[^。！？!?\n]+[。！？!?]?")

PERIODS = {"日": "daily", "天": "daily", "周": "weekly", "旬": "ten_days", "月": "monthly",
           "季度": "quarterly", "季": "quarterly", "半年": "half_yearly", "年": "yearly"}
# 一月一调度一督办: the action words never contain 一 (U+4E00), hence the range from U+4E01.
RHYTHM = re.compile(r"一(季度|半年|月|季|周|旬|日|天|年)((?:一[\u4e01-\u9fff]{2}){1,4})")

# Escalation rungs, each mapped to the platform's Escalation kinds; longest spelling first.
RUNGS: dict[str, str] = {
    "挂牌督办": "listed_supervision", "区域限批": "regional_approval_suspension",
    "流域限批": "regional_approval_suspension", "警示约谈": "interview", "提醒约谈": "interview",
    "公开通报": "circular", "通报批评": "circular", "媒体曝光": "exposure", "追责问责": "accountability",
    "提醒": "reminder", "预警": "warning", "通报": "circular", "督办": "supervision_notice",
    "约谈": "interview", "限批": "regional_approval_suspension", "曝光": "exposure", "问责": "accountability",
    "函告": "letter",
}
RUNG_RE = "|".join(sorted(RUNGS, key=len, reverse=True))
LADDER = re.compile(rf"(?:{RUNG_RE})(?:[、，,和及与或]\s*(?:{RUNG_RE})){{2,}}")

CLOSEOUT_STEPS = {"初审", "审核", "公示", "申请", "核查", "复核", "验收", "备案", "销号", "自查", "自验", "报备", "审定", "认定"}
STEP_RE = "|".join(sorted(CLOSEOUT_STEPS, key=len, reverse=True))
STEP_RUN = re.compile(rf"(?:{STEP_RE})(?:、(?:{STEP_RE})){{2,}}")
QUOTED_LIST = re.compile(r"[“\"]([^”\"]{3,80}?)[”\"]([^，,。；;]{0,12})")

N = r"(\d{1,3}|[一二三四五六七八九十]{1,3})"
DURATION_UNITS = {"个月": "months", "月": "months", "个工作日": "work_days", "工作日": "work_days",
                  "日": "days", "天": "days", "周": "weeks"}
DUR = r"(个月|个工作日|工作日|月|日|天|周)"
ACT = r"(报送|上报|提交|报告|完成|反馈)"
DEADLINE_BEFORE = re.compile(rf"(上报|报送|印发|出台|制定)([^，,。；;\d]{{1,12}}?)后?{N}{DUR}内{ACT}([^，,。；;]{{1,30}})")
DEADLINE_AFTER = re.compile(rf"([^，,。；;\d]{{1,12}}?)(上报|报送|印发|出台|制定|交办|收到)后{N}{DUR}内{ACT}([^，,。；;]{{1,30}})")
PERIODIC = re.compile(rf"每(月|季度|季|周|半年|年)(\d{{1,2}}日|底|末)前{ACT}([^，,。；;]{{1,30}})")

PRACTICES = {
    "ledger": re.compile(r"台账管理|建立台账|整改台账"),
    "four_clear": re.compile(r"整改问题清楚、整改措施清楚、整改主体清楚、整改时限清楚|四清楚"),
    "battle_map": re.compile(r"挂图作战"),
    "closeout": re.compile(r"销号"),
    "look_back": re.compile(r"回头看"),
    "disclosure": re.compile(r"信息公开|向社会公开"),
    "leader_assignment": re.compile(r"包县市区|包案|领导包"),
    "referral": re.compile(r"移交[^，,。；;]{0,4}纪委监委|移送[^，,。；;]{0,4}纪检监察"),
    "accountability": re.compile(r"追责问责|责任追究"),
}


def extract_mechanisms(text: str, *, path: str = "", seen_practices: set[str] | None = None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    seen = seen_practices if seen_practices is not None else set()
    for sm in SENTENCE.finditer(text):
        sentence = sm.group(0).strip()
        base = {"path": path, "source": sentence, "suggestion": True}
        for m in RHYTHM.finditer(sentence):
            actions = [a for a in m.group(2).split("一") if a]
            found.append({"kind": "dispatch_rhythm", "phrase": m.group(0), "period": m.group(1),
                          "period_code": PERIODS[m.group(1)], "actions": actions, **base})
        for m in LADDER.finditer(sentence):
            rungs = re.findall(RUNG_RE, m.group(0))
            found.append({"kind": "escalation_ladder", "rungs": rungs,
                          "codes": [RUNGS[r] for r in rungs], **base})
        closeout = _closeout(sentence)
        if closeout:
            found.append({**closeout, **base})
        found += [{**d, **base} for d in _report_deadlines(sentence)]
        for code, pattern in PRACTICES.items():
            m = pattern.search(sentence)
            if m and code not in seen:
                seen.add(code)
                found.append({"kind": "practice", "code": code, "term": m.group(0), **base})
    return found


def _closeout(sentence: str) -> dict[str, Any] | None:
    if "销号" not in sentence and "验收" not in sentence:
        return None
    steps: list[str] = []
    standards: list[str] = []
    for m in QUOTED_LIST.finditer(sentence):
        items = [i.strip() for i in m.group(1).split("、") if i.strip()]
        if len(items) < 2:
            continue
        after = m.group(2)
        if "标准" in after:
            standards = items
        elif re.search("程序|流程|步骤", after) or all(i in CLOSEOUT_STEPS for i in items):
            steps = items
    if not steps:
        m = STEP_RUN.search(sentence)
        if m:
            steps = m.group(0).split("、")
    if not steps and not standards:
        return None
    return {"kind": "closeout", "steps": steps, "standards": standards}


def _number(text: str) -> int:
    return int(text) if text.isdigit() else cn_value(text)


def _report_deadlines(sentence: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for m in DEADLINE_BEFORE.finditer(sentence):
        verb, obj, n, unit, act, what = m.groups()
        out.append(_deadline(obj, verb, n, unit, act, what, m.group(0)))
    if not out:
        for m in DEADLINE_AFTER.finditer(sentence):
            obj, verb, n, unit, act, what = m.groups()
            out.append(_deadline(obj, verb, n, unit, act, what, m.group(0)))
    for m in PERIODIC.finditer(sentence):
        period, day, act, what = m.groups()
        out.append({"kind": "report_deadline", "every": period, "period_code": PERIODS[period],
                    "day": int(day[:-1]) if day.endswith("日") else "last",
                    "report": what.strip(), "action": act, "phrase": m.group(0)})
    return out


def _deadline(obj: str, verb: str, n: str, unit: str, act: str, what: str, phrase: str) -> dict[str, Any]:
    obj = re.sub(r"^(在|于|自|从|须在|应在)", "", obj.strip())
    return {"kind": "report_deadline", "after": f"{obj}{verb}", DURATION_UNITS[unit]: _number(n),
            "report": what.strip(), "action": act, "phrase": phrase}


# What the review page shows for each kind: the office reads Chinese, never the code names.
KIND_LABELS = {"dispatch_rhythm": "调度节奏", "escalation_ladder": "督办措施（逐级升级）", "closeout": "销号程序",
               "report_deadline": "报送时限", "practice": "工作方法"}
PRACTICE_LABELS = {"ledger": "台账管理", "four_clear": "“四清楚”", "battle_map": "挂图作战", "closeout": "销号管理",
                   "look_back": "回头看", "disclosure": "信息公开", "leader_assignment": "领导包县市区督导",
                   "referral": "移交纪委监委", "accountability": "追责问责"}
EVERY = {"月": "每月", "季度": "每季度", "季": "每季度", "周": "每周", "半年": "每半年", "年": "每年"}
DURATION_WORDS = {"months": "个月", "work_days": "个工作日", "days": "日", "weeks": "周"}


def describe_mechanism(m: dict[str, Any]) -> dict[str, str]:
    """A mechanism as the review page shows it: a Chinese label and what the plan says, in words."""
    kind = m.get("kind", "")
    label = KIND_LABELS.get(kind, "其他机制")
    if kind == "dispatch_rhythm":
        detail = m.get("phrase", "")
    elif kind == "escalation_ladder":
        detail = "→".join(m.get("rungs") or [])
    elif kind == "closeout":
        parts = []
        if m.get("steps"):
            parts.append("程序：" + "、".join(m["steps"]))
        if m.get("standards"):
            parts.append("标准：" + "、".join(m["standards"]))
        detail = "；".join(parts)
    elif kind == "report_deadline":
        if m.get("every"):
            day = "月底" if m.get("day") == "last" else f"{m.get('day')}日"
            detail = f"{EVERY.get(m['every'], m['every'])}{day}前{m.get('action', '')}{m.get('report', '')}"
        else:
            span = next((f"{m[k]}{w}" for k, w in DURATION_WORDS.items() if k in m), "")
            detail = f"{m.get('after', '')}后{span}内{m.get('action', '')}{m.get('report', '')}"
    elif kind == "practice":
        detail = PRACTICE_LABELS.get(m.get("code", ""), m.get("term", ""))
    else:
        detail = m.get("phrase", "") or m.get("term", "")
    return {"label": label, "detail": detail, "path": m.get("path", ""), "source": m.get("source", "")}
