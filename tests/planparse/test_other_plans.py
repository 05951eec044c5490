"""Plans of other shapes, written for these tests about invented cities (generalise, don't memorise)."""

from __future__ import annotations

import io

import docx
import pytest

from rectify.planparse import parse_plan

from .helpers import FIXTURES, fixture_bytes, node_by_path, reassemble, squash


def targets_of(parse):
    return [(t["indicator"], t["comparator"], t["value"], t["unit"], t["year"]) for t in parse.targets]


# -- (a) a .docx whose measures are a table ---------------------------------------------------

@pytest.fixture(scope="module")
def table_plan():
    return parse_plan(fixture_bytes("plan_table.docx"), filename="plan_table.docx")


def test_committed_docx_matches_its_generator(tmp_path):
    from .fixtures.build_table_docx import build

    fresh = parse_plan(build(tmp_path / "plan.docx").read_bytes())
    committed = parse_plan(fixture_bytes("plan_table.docx"))
    assert fresh.to_dict() == committed.to_dict()


def test_table_rows_become_measures_with_units_and_deadlines(table_plan):
    assert [s.title for s in table_plan.sections] == ["指导思想", "整改目标", "整改任务", "保障措施"]
    groups = node_by_path(table_plan, "三").children
    assert [(g.number, g.title, g.kind) for g in groups] == [
        ("（一）", "水环境问题", "group"), ("（二）", "矿山与生态问题", "group")]
    assert [m["path"] for m in table_plan.measures] == [
        "三.(一).1", "三.(一).2", "三.(一).3", "三.(二).4", "三.(二).5", "三.(二).6"]
    first = table_plan.measures[0]
    assert first["title"] == "白鹭江干流部分断面水质不稳定"
    assert "排污口排查整治" in first["text"]
    assert first["units"] == ["市生态环境局", "市水利局"]
    assert first["deadline"] == {"text": "2024年12月底前", "kind": "by_date", "date": "2024-12-31"}
    by_path = {m["path"]: m for m in table_plan.measures}
    assert by_path["三.(二).4"]["deadline"]["kind"] == "long_term"
    assert by_path["三.(二).5"]["deadline"]["kind"] == "immediate"
    assert by_path["三.(二).5"]["units"] == ["市林业局", "白鹭湖区人民政府"]
    assert by_path["三.(二).4"]["suggested_category"]["code"] == "mines"
    assert by_path["三.(二).4"]["suggested_units"][0]["unit"] == "市自然资源和规划局"


def test_docx_targets_and_mechanisms(table_plan):
    assert targets_of(table_plan) == [
        ("地表水国考断面水质优良比例", "≥", 95, "%", 2024),
        ("中心城区空气质量优良天数比率", "≥", 90, "%", 2024),
    ]
    kinds = {m["kind"] for m in table_plan.mechanisms}
    assert {"dispatch_rhythm", "escalation_ladder", "closeout"} <= kinds


def test_unrecognised_table_goes_to_unplaced(table_plan):
    texts = [u["text"] for u in table_plan.unplaced]
    assert texts == ["单位 | 联系人 | 电话", "市整改办 | 张某 | 0000-1234567"]
    assert all(u["reason"] for u in table_plan.unplaced)


def test_docx_paragraph_numbering_without_tables():
    document = docx.Document()
    for text in ["某市整改方案", "一、整改措施", "（一）水污染治理", "1.加强排污口整治。开展排查。",
                 "2.推进污水管网建设。补齐短板。", "二、保障措施", "（一）加强领导。"]:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    plan = parse_plan(buffer.getvalue())  # no filename: recognised by content
    assert plan.title == "某市整改方案"
    assert [m["title"] for m in plan.measures] == ["加强排污口整治", "推进污水管网建设"]


# -- (b) 一、/(一)/1./(1): three levels under the measures section ----------------------------

@pytest.fixture(scope="module")
def three_levels():
    return parse_plan(fixture_bytes("plan_three_levels.txt"), filename="plan_three_levels.txt")


def test_three_level_outline(three_levels):
    section = node_by_path(three_levels, "三")
    assert section.title == "主要任务"
    assert [len(g.children) for g in section.children] == [2, 3, 2]
    assert [m["path"] for m in three_levels.measures] == [
        "三.(一).1", "三.(一).2", "三.(二).1", "三.(二).2", "三.(二).3", "三.(三).1", "三.(三).2"]
    measure = node_by_path(three_levels, "三.(三).1")
    assert measure.kind == "measure" and measure.level == 3
    assert [(i.number, i.kind, i.level) for i in measure.children] == [
        ("（1）", "item", 4), ("（2）", "item", 4), ("（3）", "item", 4)]
    assert node_by_path(three_levels, "三.(一).1.(2)").title == "提升污水处理厂运行效能"


def test_three_level_measures_carry_items_and_inline_units(three_levels):
    first = three_levels.measures[0]
    assert first["title"] == "推进城镇污水收集处理提质增效"
    assert [i["title"] for i in first["items"]] == ["实施雨污分流改造", "提升污水处理厂运行效能"]
    assert "新建污水管网36公里" in first["text"]  # full text includes the items
    assert first["units"] == ["市住房和城乡建设局"]
    assert first["deadline"]["date"] == "2024-12-31"
    water = three_levels.measures[1]
    assert water["units"] == ["市生态环境局", "市水利局"]
    assert three_levels.measures[4]["deadline"]["kind"] == "long_term"


def test_three_level_text_conserved(three_levels):
    assert squash(reassemble(three_levels)) == squash(three_levels.clean_text)
    assert squash(three_levels.clean_text) == squash(
        (FIXTURES / "plan_three_levels.txt").read_text(encoding="utf-8"))


def test_three_level_targets_and_mechanisms(three_levels):
    assert targets_of(three_levels) == [
        ("国考断面水质优良比例", "≥", 90, "%", 2024),
        ("城市建成区黑臭水体消除比例", "=", 100, "%", 2024),
        ("主次干道机械化清扫率", "≥", 95, "%", None),
    ]
    (ladder,) = [m for m in three_levels.mechanisms if m["kind"] == "escalation_ladder"]
    assert ladder["rungs"] == ["预警", "通报", "约谈", "挂牌督办"]
    (closeout,) = [m for m in three_levels.mechanisms if m["kind"] == "closeout"]
    assert closeout["steps"] == ["初审", "公示", "核查", "销号"]


def test_real_numbering_1_dun_is_not_taken_for_chunk_markers():
    text = "某县整改方案\n一、主要任务\n1、加强河道保洁。\n2、整治排污口。\n3、修复湿地。\n二、保障措施\n（一）加强领导。"
    plan = parse_plan(text)
    assert [m["title"] for m in plan.measures] == ["加强河道保洁", "整治排污口", "修复湿地"]
    assert plan.artefacts == []


# -- (c) no artefacts, targets with 不低于 / 控制在…以内 / 下降…个百分点 ------------------------

@pytest.fixture(scope="module")
def target_plan():
    return parse_plan(fixture_bytes("plan_targets.txt"), filename="plan_targets.txt")


def test_target_comparators(target_plan):
    assert targets_of(target_plan) == [
        ("细颗粒物（PM2.5）年均浓度", "≤", 35, "微克/立方米", 2023),
        ("空气质量优良天数比率", "≥", 88, "%", 2023),
        ("重污染天数比率", "decrease", 2, "个百分点", 2023),
        ("县级及以上城市集中式饮用水水源水质达标率", "=", 100, "%", 2023),
        ("化肥使用量", "decrease", 5, "%", 2023),
        ("森林覆盖率", "≥", 62.5, "%", 2025),
        ("受污染耕地安全利用率", "≥", 93, "%", 2025),
        ("一般工业固体废物综合利用率", "≥", 60, "%", 2025),
        ("城区餐饮单位油烟净化设施安装率", "=", 100, "%", None),
    ]
    heavy = target_plan.targets[2]
    assert heavy["baseline"] == "2020年" and heavy["scope"] is None
    assert target_plan.targets[3]["kept"] is True
    assert target_plan.targets[0]["scope"] == "全市"


def test_target_plan_outline(target_plan):
    assert [s.title for s in target_plan.sections] == ["工作目标", "重点任务", "保障措施"]
    assert [len(g.children) for g in node_by_path(target_plan, "二").children] == [3, 2, 2]
    assert [m["title"] for m in target_plan.measures][:3] == [
        "开展臭氧污染防治攻坚", "整治机动车尾气污染", "管控餐饮油烟和露天焚烧"]
    assert target_plan.preamble.startswith("各县（市、区）人民政府")


def test_page_number_removed_and_stray_tail_unplaced(target_plan):
    assert target_plan.artefacts == [{"kind": "page_number", "line": 16, "text": "— 2 —"}]
    assert [u["text"] for u in target_plan.unplaced] == [
        "附件：丰源市督察整改任务清单", "丰源市人民政府办公室", "2023年3月20日"]
    last = node_by_path(target_plan, "三.(二)")
    assert "附件" not in last.text and "人民政府办公室" not in last.text
    assert squash(reassemble(target_plan)) == squash(target_plan.clean_text)


def test_periodic_report_deadline(target_plan):
    (deadline,) = [m for m in target_plan.mechanisms if m["kind"] == "report_deadline"]
    assert deadline["every"] == "月" and deadline["day"] == 25
