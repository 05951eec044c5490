"""The ledger's columns: what each is called on export, the synonyms real ledgers use for its
header, which are needed on import, and which field a header cell names."""

from __future__ import annotations

from dataclasses import dataclass

from rectify.ledger.excel.cells import PAREN, cell_text, key_of


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
    Column("start", "开始日期", ("开始日期", "开始时间", "整改开始日期", "整改开始时间", "起始日期", "启动日期")),
    Column("location", "位置", ("位置", "地点", "问题位置", "具体位置", "问题地点", "所在位置", "点位")),
    Column("latitude", "纬度", ("纬度", "北纬")),
    Column("longitude", "经度", ("经度", "东经")),
]
COLUMN_BY_FIELD = {c.field: c for c in COLUMNS}
LAYOUT = ["seq", "code", "title", "problem", "target", "measures", "responsible", "lead", "co", "leader",
          "deadline", "progress", "completion"]
EXPORT_FIELDS = [*LAYOUT, "category", "inspection", "status", "campaign", "start", "location", "latitude", "longitude"]
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
    bare = PAREN.sub("", text)
    return _SYNONYM.get(bare)
