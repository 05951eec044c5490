"""Every fixture against its hand-written expectation (the same data bench/planparse_quality.py scores)."""

from __future__ import annotations

import json

import pytest

from rectify.planparse import parse_plan
from rectify.planparse.fields import parse_deadline
from rectify.planparse.targets import extract_targets

from .helpers import FIXTURES, squash

EXPECTED = sorted((FIXTURES / "expected").glob("*.json"))


@pytest.mark.parametrize("expected_file", EXPECTED, ids=[f.stem for f in EXPECTED])
def test_fixture_matches_expectation(expected_file):
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    plan = parse_plan((FIXTURES / expected["fixture"]).read_bytes(), filename=expected["fixture"])
    assert [(m["path"], squash(m["title"])) for m in plan.measures] == \
        [(m["path"], squash(m["title"])) for m in expected["measures"]]
    for got, want in zip(plan.measures, expected["measures"], strict=True):
        if "units" in want:
            assert got["units"] == want["units"]
            assert (got["deadline"] or {}).get("date") == want["deadline"]
    wanted = [(t["indicator"], t["comparator"], t["value"], t["unit"], t["year"]) for t in expected["targets"]]
    got_targets = [(t["indicator"], t["comparator"], t["value"], t["unit"], t["year"]) for t in plan.targets]
    assert all(t in wanted for t in got_targets), "every target found is a real one (precision 1)"
    assert len(got_targets) >= 0.75 * len(wanted)


@pytest.mark.parametrize(
    ("sentence", "comparator", "value", "unit", "kept"),
    [
        ("空气质量优良率达到100%", "=", 100, "%", False),
        ("空气质量优良率达到92%", "≥", 92, "%", False),
        ("空气质量优良率达到92%以上", "≥", 92, "%", False),
        ("空气质量优良率高于92%", ">", 92, "%", False),
        ("森林覆盖率稳定在65%以上", "≥", 65, "%", True),
        ("优良天数比率不低于88%", "≥", 88, "%", False),
        ("PM2.5年均浓度控制在35微克/立方米以内", "≤", 35, "微克/立方米", False),
        ("重污染天数比率下降2个百分点", "decrease", 2, "个百分点", False),
        ("重污染天数比率低于1%", "<", 1, "%", False),
        ("化学需氧量排放总量削减1200吨", "decrease", 1200, "吨", False),
        ("高标准农田面积增加到30万亩", "≥", 30, "万亩", False),
    ],
)
def test_comparator_table(sentence, comparator, value, unit, kept):
    (target,) = extract_targets(sentence + "。")
    assert (target["comparator"], target["value"], target["unit"], target["kept"]) == (comparator, value, unit, kept)


def test_year_applies_until_the_next_year_and_baseline_is_not_a_year():
    text = "2022年，甲指标达到90%。乙指标较2020年下降3个百分点。到2025年，丙指标不低于70%。"
    got = [(t["indicator"], t["year"], t["baseline"]) for t in extract_targets(text)]
    assert got == [("甲指标", 2022, None), ("乙指标", 2022, "2020年"), ("丙指标", 2025, None)]


def test_no_target_without_a_number():
    assert extract_targets("全市11个县市区持续全域巩固达到国家空气质量二级标准。") == []


@pytest.mark.parametrize(
    ("text", "kind", "date"),
    [
        ("2024年12月底前", "by_date", "2024-12-31"),
        ("2024年2月底", "by_date", "2024-02-29"),
        ("2025年6月30日", "by_date", "2025-06-30"),
        ("2024年底前", "by_date", "2024-12-31"),
        ("立行立改", "immediate", None),
        ("长期坚持", "long_term", None),
    ],
)
def test_deadlines(text, kind, date):
    deadline = parse_deadline(text)
    assert (deadline["kind"], deadline["date"]) == (kind, date)
