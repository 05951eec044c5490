"""The reserve as Excel (储备项目 xlsx): export streamed with XlsxWriter, import read with
python-calamine and written all or nothing through ``services.import_projects``. Export → import
round-trips (the stage and latest progress columns are informative and ignored on import)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

from rectify.ledger.excel import neutralise, unneutralise
from rectify.ledger.models import Task
from rectify.orgs.models import Unit, UnitKind, User
from rectify.orgs.scope import in_tree
from rectify.reserve.models import FundingSource, Project, ProjectKind
from rectify.reserve.services import ProjectInput

FUNDING_COLUMNS = [(s.value, f"{s.label}（万元）") for s in FundingSource]
COLUMNS = ["项目编号", "项目名称", "项目类型", "所在县市区", "建设地点", "总投资（万元）", "年度计划投资（万元）",
           *[label for _, label in FUNDING_COLUMNS], "责任单位", "开工日期", "完工日期", "关联任务编号", "阶段", "最新进展"]
REQUIRED = ["项目编号", "项目名称", "责任单位"]
MAX_ROWS = 20_000


def export_projects(projects, target) -> int:
    import xlsxwriter

    book = xlsxwriter.Workbook(target, {"constant_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False})
    sheet = book.add_worksheet("储备项目")
    head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    for c, name in enumerate(COLUMNS):
        sheet.write_string(0, c, name, head)
        sheet.set_column(c, c, 16)
    n = 0
    for n, p in enumerate(projects, 1):
        funding = {f.source: f.amount for f in p.funding.all()}
        latest = next(iter(p.progress.all()), None)
        values = [p.code, p.name, p.get_kind_display(), p.county.name if p.county else "", p.location,
                  p.total_investment, p.annual_investment, *[funding.get(s, Decimal(0)) for s, _ in FUNDING_COLUMNS],
                  p.responsible_unit.name, p.start_date, p.completion_date,
                  "、".join(t.code for t in p.tasks.all()), p.get_stage_display(),
                  f"{latest.period} {latest.percent}% {latest.text}" if latest else ""]
        for c, value in enumerate(values):
            if isinstance(value, Decimal):
                sheet.write_number(n, c, float(value))
            elif isinstance(value, dt.date):
                sheet.write_string(n, c, value.isoformat())
            elif value:
                sheet.write_string(n, c, neutralise(str(value)))
    book.close()
    return n


def export_queryset(user: User):
    return (Project.objects.visible_to(user).select_related("county", "responsible_unit")
            .prefetch_related("funding", "tasks", "progress").order_by("code", "id"))


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unneutralise(str(value).strip())


def _amount(value, column: str, problems: list[str]) -> Decimal:
    text = _text(value).replace(",", "")
    if not text:
        return Decimal(0)
    try:
        amount = Decimal(text).quantize(Decimal("0.01"))
    except InvalidOperation:
        problems.append(f"{column}「{text}」不是数字")
        return Decimal(0)
    return amount


def _date(value, column: str, problems: list[str]) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value).replace("/", "-").replace(".", "-")
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        problems.append(f"{column}「{text}」不是日期（YYYY-MM-DD）")
        return None


def read_workbook(data: bytes, *, actor: User) -> list[tuple[int, ProjectInput]]:
    """Rows of the first sheet as project inputs; every problem of every row in one ValidationError."""
    from python_calamine import CalamineWorkbook

    try:
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    except Exception as exc:
        raise ValidationError("文件不是有效的 Excel（.xlsx）文件。") from exc
    if not sheet:
        raise ValidationError("文件中没有数据。")
    header = [_text(h) for h in sheet[0]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ValidationError(f"缺少列：{'、'.join(missing)}（第一行为表头）。")
    if len(sheet) - 1 > MAX_ROWS:
        raise ValidationError(f"一次最多导入 {MAX_ROWS} 行。")
    col = {name: header.index(name) for name in COLUMNS if name in header}
    office = actor.unit
    units: dict[str, Unit] = {}
    for u in Unit.objects.filter(in_tree("", office)):
        for name in {u.name, u.short_name, *(a.strip() for a in (u.aliases or "").split(",") if a.strip())}:
            if name:
                units.setdefault(name, u)
    kinds = {str(k.label): k.value for k in ProjectKind}
    tasks_by_code: dict[str, list[Task]] = {}
    for task in Task.objects.visible_to(actor).only("pk", "code"):
        tasks_by_code.setdefault(task.code, []).append(task)
    out: list[tuple[int, ProjectInput]] = []
    errors: list[str] = []
    for number, values in enumerate(sheet[1:], start=2):
        def cell(name: str, values=values):
            i = col.get(name)
            return values[i] if i is not None and i < len(values) else None

        if not any(_text(v) for v in values):
            continue
        problems: list[str] = []
        kind_text = _text(cell("项目类型"))
        kind = kinds.get(kind_text, ProjectKind.OTHER if not kind_text else "")
        if kind == "":
            problems.append(f"项目类型「{kind_text}」无效（可选：{'、'.join(kinds)}）")
        county_name = _text(cell("所在县市区"))
        county = units.get(county_name) if county_name else None
        if county_name and (county is None or county.kind != UnitKind.COUNTY):
            problems.append(f"所在县市区「{county_name}」不存在")
            county = None
        unit_name = _text(cell("责任单位"))
        responsible = units.get(unit_name)
        if responsible is None:
            problems.append(f"责任单位「{unit_name}」不存在" if unit_name else "责任单位必填")
        tasks: list[Task] = []
        for code in [c for c in _text(cell("关联任务编号")).replace(",", "、").replace("，", "、").split("、") if c.strip()]:
            found = tasks_by_code.get(code.strip(), [])
            if len(found) != 1:
                problems.append(f"关联任务编号「{code}」" + ("不存在或无权查看" if not found else "对应多项任务"))
            else:
                tasks.append(found[0])
        project = ProjectInput(
            code=_text(cell("项目编号")), name=_text(cell("项目名称")), kind=kind or ProjectKind.OTHER, county=county,
            location=_text(cell("建设地点")), total_investment=_amount(cell("总投资（万元）"), "总投资", problems),
            annual_investment=_amount(cell("年度计划投资（万元）"), "年度计划投资", problems), responsible_unit=responsible,
            start_date=_date(cell("开工日期"), "开工日期", problems),
            completion_date=_date(cell("完工日期"), "完工日期", problems),
            funding={s: a for s, label in FUNDING_COLUMNS if (a := _amount(cell(label), label, problems))}, tasks=tasks)
        if problems:
            errors.append(f"第 {number} 行：" + "；".join(problems))
        else:
            out.append((number, project))
    if errors:
        raise ValidationError(errors)
    if not out:
        raise ValidationError("文件中没有可导入的数据行。")
    return out
