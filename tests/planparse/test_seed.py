"""The real seed plan (a city's 整改方案 copied from the web, with page-chunk artefacts)."""

from __future__ import annotations

import re

import pytest

from rectify.planparse import parse_plan

from .helpers import SEED, node_by_path, reassemble, squash


@pytest.fixture(scope="module")
def seed():
    return parse_plan(SEED.read_bytes(), filename=SEED.name)


def test_five_top_level_sections(seed):
    assert [(s.number, s.title) for s in seed.sections] == [
        ("一", "指导思想"),
        ("二", "基本原则"),
        ("三", "整改目标"),
        ("四", "整改措施"),
        ("五", "保证措施"),
    ]
    assert all(s.kind == "section" and s.level == 1 for s in seed.sections)


def test_title_and_preamble(seed):
    assert seed.title == "20XX彻落实第二轮中央生态环境保护督察报告整改方案"
    assert seed.preamble.startswith("20XX年4月6日至5月6日")
    assert seed.preamble.endswith("制定本方案。")


def test_measure_groups_and_counts(seed):
    measures_section = node_by_path(seed, "四")
    groups = measures_section.children
    assert [g.number for g in groups] == ["(一)", "(二)", "(三)", "(四)", "(五)"]
    assert [len(g.children) for g in groups] == [3, 4, 7, 3, 6]
    assert all(g.kind == "group" and g.level == 2 for g in groups)
    assert len(seed.measures) == 23
    assert all(m["path"].startswith("四.") for m in seed.measures)
    assert [g.title for g in groups] == [
        "提高站位，坚决扛起生态文明建设政治责任",
        "坚定信心，持续打好长江保护修复攻坚战",
        "聚焦重点，全力抓好突出生态环境问题整改",
        "优化升级，孕育绿色生产生活方式",
        "服务发展，持续提升环境治理能力和水平",
    ]


@pytest.mark.parametrize(
    ("path", "title"),
    [
        # the measure number "1" was cut from its dot by the chunk marker "7、"
        ("四.(一).1", "深学笃用习近平生态文明思想"),
        ("四.(一).2", "坚决贯彻落实习近平总书记关于XX重要讲话重要指示批示精神"),
        ("四.(二).1", "推进长江保护修复攻坚"),  # its group heading was cut by "9、"
        ("四.(二).4", "加强环境基础设施建设"),
        ("四.(三).5", "加强农业农村面源污染治理"),  # "5," typed for "5."
        ("四.(三).6", "大举推进污染防治攻坚战夏季攻势"),  # heading ends at a colon
        ("四.(三).7", "加快推进生态环保项目建设"),
        ("四.(四).1", "积极落实碳达峰行动"),
        ("四.(五).6", "健全生态体制机制"),
    ],
)
def test_measure_titles(seed, path, title):
    measure = next(m for m in seed.measures if m["path"] == path)
    assert measure["title"] == title
    assert node_by_path(seed, path).kind == "measure"


def test_words_cut_by_markers_are_rejoined(seed):
    infra = node_by_path(seed, "四.(二).4").text
    assert "加快推进垃圾焚烧发电设施建设" in infra
    assert "11、" not in infra
    water = node_by_path(seed, "四.(三).2").text
    assert "开展水污染物减排，进行入河排污口排查整顿" in water  # "12、," between them
    # "…全面推进" / "10、矿山生态修复": the sentence continues in the same measure
    assert "全面推进矿山生态修复" in node_by_path(seed, "四.(二).2").text
    assert not any(re.search(r"\d+、", n.text) for n in seed.nodes())


def test_text_is_neither_lost_nor_duplicated(seed):
    assert squash(reassemble(seed)) == squash(seed.clean_text)
    # and independently of the cleaner: the raw seed minus its line-initial chunk numbers
    raw = SEED.read_text(encoding="utf-8")
    without_markers = "".join(re.sub(r"^\d+、", "", line) for line in raw.split("\n"))
    assert squash(reassemble(seed)) == squash(without_markers)


def test_each_measure_text_starts_with_its_title_and_ends_a_sentence(seed):
    for m in seed.measures:
        assert squash(m["text"]).startswith(squash(m["title"]))
        assert m["text"].endswith("。"), m["path"]


def test_principles_and_safeguards(seed):
    principles = node_by_path(seed, "二").children
    assert [p.title for p in principles] == [
        "坚持属地为主、分级负责",
        "坚持科学精准、务实整改",
        "坚持统筹兼顾、协调推进",
        "坚持举一反三、标本兼治",
    ]
    safeguards = node_by_path(seed, "五").children
    assert len(safeguards) == 7
    assert [s.title for s in safeguards][:3] == ["强化组织领导", "市领导包县市区督导", "强化督办落实"]
    assert safeguards[-1].title == "严肃责任追究"
    assert all(n.kind == "item" for n in principles + safeguards)
    assert len(node_by_path(seed, "三").children) == 3


def test_percentage_targets_of_2022(seed):
    got = [(t["indicator"], t["comparator"], t["value"], t["unit"], t["year"], t["kept"], t["path"])
           for t in seed.targets]
    assert got == [
        ("水质优良率", "=", 100, "%", 2022, False, "三.(二)"),
        ("中心城区空气质量优良率", ">", 92, "%", 2022, False, "三.(二)"),
        ("受污染耕地安全利用率", "≥", 92, "%", 2022, False, "三.(二)"),
        ("森林覆盖率", "≥", 65, "%", 2022, True, "三.(二)"),
        ("湿地保护率", "≥", 75, "%", 2022, True, "三.(二)"),
    ]
    assert all("2022年" in t["source"] or t["source"] for t in seed.targets)
    assert "森林覆盖率稳定在65%以上" in seed.targets[3]["source"]


def test_escalation_ladders_in_order(seed):
    ladders = [m for m in seed.mechanisms if m["kind"] == "escalation_ladder"]
    assert ladders[0]["rungs"] == ["预警", "通报", "督办", "挂牌督办", "约谈", "区域限批"]
    assert ladders[0]["codes"] == ["warning", "circular", "supervision_notice", "listed_supervision",
                                   "interview", "regional_approval_suspension"]
    assert ladders[0]["path"] == "四.(三).6"
    assert ladders[1]["rungs"] == ["警示约谈", "公开通报", "挂牌督办", "区域限批"]
    assert all(m["suggestion"] is True for m in seed.mechanisms)


def test_closeout_steps_and_standards(seed):
    (closeout,) = [m for m in seed.mechanisms if m["kind"] == "closeout"]
    assert closeout["steps"] == ["初审", "公示", "申请", "核查", "备案"]
    assert closeout["standards"] == ["生态修复", "污染消除", "群众满意"]
    assert closeout["path"] == "五.(五)"


def test_dispatch_rhythm_and_report_deadline(seed):
    rhythms = [(m["phrase"], m["period_code"], m["actions"]) for m in seed.mechanisms
               if m["kind"] == "dispatch_rhythm"]
    assert rhythms == [
        ("一月一调度一通报", "monthly", ["调度", "通报"]),
        ("一季一督导一帮扶", "quarterly", ["督导", "帮扶"]),
        ("一月一调度一督办", "monthly", ["调度", "督办"]),
    ]
    (deadline,) = [m for m in seed.mechanisms if m["kind"] == "report_deadline"]
    assert deadline["after"] == "整改方案上报"
    assert deadline["months"] == 6
    assert "整改落实情况" in deadline["report"]
    assert "6个月内" in deadline["source"]


def test_artefacts_are_recorded_not_hidden(seed):
    markers = [a for a in seed.artefacts if a["kind"] == "page_chunk_marker"]
    assert [a["text"] for a in markers] == [f"{i}、" for i in range(1, 27)]
    assert any("推进垃|圾焚烧" in a.get("joined", "") for a in markers)
    assert seed.unplaced == []
    assert any("5," in w for w in seed.warnings)


def test_category_suggestions(seed):
    by_path = {m["path"]: m for m in seed.measures}
    expected = {
        "四.(一).1": "mechanisms_thinking",
        "四.(二).3": "biodiversity_ecology",
        "四.(二).4": "infrastructure",
        "四.(三).2": "water",
        "四.(三).3": "air",
        "四.(三).4": "soil",
        "四.(三).5": "rural_nonpoint",
    }
    for path, code in expected.items():
        suggestion = by_path[path]["suggested_category"]
        assert suggestion["code"] == code, (path, suggestion)
        assert suggestion["suggestion"] is True and suggestion["score"] > 0
    units = [u["unit"] for u in by_path["四.(三).5"]["suggested_units"]]
    assert units[0] == "市农业农村局"
    assert all(u["suggestion"] is True for m in seed.measures for u in m["suggested_units"])


def test_to_dict_is_json(seed):
    import json

    data = json.loads(json.dumps(seed.to_dict(), ensure_ascii=False))
    assert [s["number"] for s in data["sections"]] == ["一", "二", "三", "四", "五"]
    group = data["sections"][3]["children"][1]
    assert group["number"] == "(二)" and group["kind"] == "group" and group["level"] == 2
    assert group["children"][2]["number"] == "3" and group["children"][2]["path"] == "四.(二).3"
    assert {"title", "sections", "measures", "targets", "mechanisms", "unplaced"} <= data.keys()
