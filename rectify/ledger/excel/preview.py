"""Import, step one: a workbook → an ``ImportPreview`` of what the import would do. Writes nothing.

``parse_workbook`` runs these steps, each a function below:

1. ``_ledger_sheet`` — size cap, SM3 digest, the first visible worksheet whose header has the
   required columns (or a file error that says what was found instead);
2. ``_describe_columns`` — the columns understood and ignored, notes, where the data begins,
   whether codes are made from 序号;
3. ``_read_rows`` — every data row as a ``PreviewRow`` with its ``TaskInput``, errors and
   warnings (``_read_row`` and its ``_read_*`` parts, in the order the messages appear);
   section rows give the following rows their category;
4. ``_decide_actions`` — new, updated or unchanged against the campaign's existing tasks, read
   with ``ledger.services.task_input_from`` from one prefetch per 500 codes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch

from rectify.core.bulk import gc_paused
from rectify.core.sm3 import sm3_hex
from rectify.ledger.excel.cells import blank, cell_text, free_text, key_of, nfkc, short_text
from rectify.ledger.excel.columns import COLUMN_BY_FIELD, REQUIRED
from rectify.ledger.excel.deadlines import DeadlineError, format_deadline, parse_deadline
from rectify.ledger.excel.lookups import Lookups, resolve_category, resolve_leader, resolve_units
from rectify.ledger.excel.measures import split_measures
from rectify.ledger.excel.reader import Header, find_header, is_numbering_row, load_sheets, records
from rectify.ledger.models import Campaign, Measure, Task, TaskUnit
from rectify.ledger.services import MeasureInput, TaskInput, task_input_from
from rectify.orgs.models import Category, Unit, User

CREATE, UPDATE, UNCHANGED = "create", "update", "unchanged"
ACTION_LABELS = {CREATE: "新增", UPDATE: "更新", UNCHANGED: "无变化"}


@dataclass
class PreviewRow:
    number: int  # the row number as Excel shows it
    code: str = ""
    title: str = ""
    responsible: str = ""
    deadline: str = ""
    measure_count: int = 0
    action: str = CREATE
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    data: TaskInput | None = None
    task: Task | None = None  # the task an update applies to
    version: int | None = None  # its version when the preview was made

    @property
    def action_label(self) -> str:
        return ACTION_LABELS[self.action]


@dataclass
class ImportPreview:
    campaign: Campaign
    filename: str = ""
    digest: str = ""
    size: int = 0
    sheet: str = ""
    header_row: int = 0  # 1-based, as Excel numbers rows
    header_last: int = 0  # the last header row (header_row + 1 when the headers span two rows)
    columns: list[tuple[str, str]] = field(default_factory=list)  # (header as written, what it is read as)
    ignored: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)
    rows: list[PreviewRow] = field(default_factory=list)

    @property
    def error_rows(self) -> list[PreviewRow]:
        return [r for r in self.rows if r.errors]

    @property
    def ok(self) -> bool:
        return not self.file_errors and not self.error_rows and bool(self.rows)

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action and not r.errors)

    @property
    def create_count(self) -> int:
        return self.count(CREATE)

    @property
    def update_count(self) -> int:
        return self.count(UPDATE)

    @property
    def unchanged_count(self) -> int:
        return self.count(UNCHANGED)

    def summary(self) -> str:
        if self.file_errors:
            return "文件无法导入：" + "；".join(self.file_errors)
        return (f"共 {len(self.rows)} 行：新增 {self.create_count} 条，更新 {self.update_count} 条，"
                f"无变化 {self.unchanged_count} 条，有错误 {len(self.error_rows)} 行")

    def fingerprint(self) -> str:
        """What a commit would do; a confirm compares it with the preview the user saw."""
        plan = [self.digest, self.campaign.pk,
                [(r.number, r.action, r.code, r.task.pk if r.task else None, r.version) for r in self.rows]]
        return sm3_hex(json.dumps(plan, ensure_ascii=False).encode())


@dataclass
class _Sheet:
    """The worksheet that holds the ledger."""

    name: str
    rows: list[list]
    merged: list
    header: Header


@dataclass
class _RowContext:
    """What reading one row needs from the file as a whole."""

    campaign: Campaign
    lookups: Lookups
    present: set[str]  # the fields the file has a column for
    generate_codes: bool  # no 任务编号 column: codes come from 序号
    codes_seen: dict[str, int] = field(default_factory=dict)  # code → the row that had it first
    # 整改时限 cell → parse_deadline's result or its error: a ledger gives many tasks one deadline
    # ("2025年12月底"), read once per file like its unit names
    deadlines: dict[object, tuple[str, dt.date | None, str] | DeadlineError] = field(default_factory=dict)


@gc_paused
def parse_workbook(data: bytes, *, campaign: Campaign, actor: User, filename: str = "") -> ImportPreview:
    """Read a ledger workbook into a preview of what an import would do. Writes nothing."""
    if not Campaign.objects.actionable_by(actor, "add_task").filter(pk=campaign.pk).exists():
        raise PermissionDenied("您无权向该整改批次导入任务。")
    preview = ImportPreview(campaign=campaign, filename=filename, size=len(data or b""))
    sheet = _ledger_sheet(preview, data)
    if sheet is None:
        return preview
    data_start = _describe_columns(preview, sheet)
    if data_start is None:
        return preview
    present = set(sheet.header.columns.values())
    context = _RowContext(campaign=campaign, lookups=Lookups(campaign), present=present,
                          generate_codes="code" not in present)
    _decide_actions(preview, _read_rows(preview, sheet, data_start, context), present)
    if not preview.rows:
        preview.file_errors.append(f"工作表「{sheet.name}」在表头（第 {sheet.header.row + 1} 行）以下没有数据行")
    return preview


# --- 1. the sheet ----------------------------------------------------------------------------


def _ledger_sheet(preview: ImportPreview, data: bytes) -> _Sheet | None:
    """The first visible, non-empty worksheet whose header has every required column; None, with
    a file error on the preview, when the file is too large, unreadable, empty or has no such
    header."""
    limit = getattr(settings, "IMPORT_MAX_BYTES", 50 * 1024 * 1024)
    if len(data or b"") > limit:
        preview.file_errors.append(f"文件过大（{len(data) / 1048576:.1f} MB），上限为 {limit // 1048576} MB")
        return None
    preview.digest = sm3_hex(data or b"")
    sheets, error = load_sheets(data)
    if error:
        preview.file_errors.append(error)
        return None
    nonempty = [(name, rows, merged) for name, rows, merged in sheets
                if any(not blank(v) for row in rows for v in row)]
    if not nonempty:
        preview.file_errors.append("工作表为空：文件中没有任何内容")
        return None
    for name, rows, merged in nonempty:
        header = find_header(rows)
        if header and all(any(f in header.columns.values() for f in group) for group in REQUIRED):
            return _Sheet(name, rows, merged, header)
    name, rows, _ = nonempty[0]
    preview.file_errors.append(_missing_columns(name, rows))
    return None


def _missing_columns(name: str, rows: list[list]) -> str:
    """Which required columns the first sheet lacks, and what its first 10 rows hold instead."""
    header = find_header(rows)
    seen = [cell_text(v).strip() for r in rows[:10] for v in r if not blank(v)][:30]
    present = set(header.columns.values()) if header else set()
    missing = ["或".join(f"“{COLUMN_BY_FIELD[f].label}”" for f in group)
               for group in REQUIRED if not any(f in present for f in group)]
    return (f"表头不符合台账格式：缺少必需的列 {'、'.join(missing)}。"
            f"在工作表「{name}」前 10 行中找到的内容：{'、'.join(seen) or '（无）'}")


# --- 2. the columns --------------------------------------------------------------------------


def _describe_columns(preview: ImportPreview, sheet: _Sheet) -> int | None:
    """Record the columns read and ignored, with notes; return the first data row, or None (with
    a file error) when there are neither codes nor sequence numbers to make them from."""
    header, campaign = sheet.header, preview.campaign
    preview.sheet, preview.header_row, preview.header_last = sheet.name, header.row + 1, header.data_start
    present = set(header.columns.values())
    preview.columns = [(header.written[c], COLUMN_BY_FIELD[f].label) for c, f in sorted(header.columns.items())]
    preview.ignored = header.ignored
    if "status" in present:
        preview.notes.append("“状态”列不导入：任务状态由系统根据是否“四清楚”自动判定。")
    data_start = header.data_start
    if data_start < len(sheet.rows) and is_numbering_row(sheet.rows[data_start], header.columns):
        data_start += 1
    if "code" not in present:
        if "seq" not in present:
            preview.file_errors.append("表头缺少“任务编号”列，也没有可用于生成编号的“序号”列。")
            return None
        preview.notes.append(f"文件中没有“任务编号”列：将按序号生成编号，格式为 {campaign.code}-序号（如 "
                             f"{campaign.code}-001）。再次导入时请保持序号不变，以便按编号更新。")
    return data_start


# --- 3. the rows -----------------------------------------------------------------------------

_SECTION = re.compile(r"^(?:[一二三四五六七八九十]+[、.．]|[(（][一二三四五六七八九十]+[)）]|第[一二三四五六七八九十]+部分)")


def _read_rows(preview: ImportPreview, sheet: _Sheet, data_start: int, context: _RowContext) -> list[PreviewRow]:
    """Every data row as a ``PreviewRow``. Template rows with only a 序号 are skipped; a section
    row ("一、水污染防治") is skipped too, and its category goes to the rows below it."""
    parsed: list[PreviewRow] = []
    section_category = ""
    for number, values in records(sheet.rows, data_start, sheet.header.columns, sheet.merged):
        first = {f: v[0] for f, v in values.items()}
        if not {f for f in values if f not in {"seq", "status"}}:
            continue  # a template row with only its 序号 filled in
        section = _section_title(values, first)
        if section is not None:
            category, problem = resolve_category(_SECTION.sub("", nfkc(section)))
            section_category = category if not problem else ""
            preview.notes.append(f"第 {number} 行「{section[:30]}」是分组标题，已跳过。")
            continue
        parsed.append(_read_row(number, values, first, context, section_category))
    return parsed


def _section_title(values: dict[str, list], first: dict) -> str | None:
    """The text of a section row — one cell filled, numbered 一、/（一）/第一部分 — or None."""
    if len(values) == 1 and len(next(iter(values.values()))) == 1:
        only = cell_text(next(iter(first.values()))).strip()
        if _SECTION.match(nfkc(only)):
            return only
    return None


def _read_row(number: int, values: dict[str, list], first: dict, context: _RowContext,
              section_category: str) -> PreviewRow:
    """One data row (``values``: field → the raw cells of the task, ``first``: the first of
    each) as a ``PreviewRow`` whose ``data`` is what the import would write."""
    row = PreviewRow(number=number)
    _read_code(row, first, context)
    _check_campaign(row, values, first, context.campaign)
    title, problem = _read_title(row, values, first)
    inspection = short_text(first.get("inspection"))
    if len(inspection) > 40:
        row.errors.append("督察问题编号超过 40 个字符")
    responsible, lead, co_units = _read_units(row, values, context)
    leader = _read_leader(row, first, context) if "leader" in values else None
    kind, deadline = _read_deadline(row, values, first, context)
    category = _read_category(row, values, first, section_category)
    measures = [text for v in values.get("measures", []) for text in split_measures(free_text(v))]
    row.measure_count = len(measures)
    row.data = TaskInput(
        code=row.code, title=title, problem=problem,
        target="\n".join(free_text(v) for v in values.get("target", [])),
        inspection_number=inspection, category=category, responsible_units=responsible,
        lead_supervisor=lead, co_supervisors=co_units, leader=leader, deadline_kind=kind, deadline=deadline,
        progress_note="\n".join(free_text(v) for v in values.get("progress", [])),
        completion_note="\n".join(free_text(v) for v in values.get("completion", [])),
        measures=[MeasureInput(text=t) for t in measures], start_date=_read_start(row, first),
        location_name=short_text(first.get("location"))[:200], **_read_coordinates(row, first))
    return row


def _read_start(row: PreviewRow, first: dict) -> dt.date | None:
    """开始日期: a date cell or text such as "2026年3月1日"; blank leaves the default (the day the
    task leaves draft)."""
    value = first.get("start")
    if blank(value):
        return None
    try:
        _, day, _ = parse_deadline(value)
    except DeadlineError as exc:
        row.errors.append(f"开始日期：{exc}")
        return None
    if day is None:
        row.errors.append(f"开始日期「{short_text(value)}」无法识别，请填写如 2026-03-01 的日期")
    return day


def _read_coordinates(row: PreviewRow, first: dict) -> dict:
    """纬度 and 经度 (decimal degrees, WGS-84): both or neither."""
    out: dict = {}
    for name, label, limit in (("latitude", "纬度", 90), ("longitude", "经度", 180)):
        value = first.get(name)
        if blank(value):
            out[name] = None
            continue
        try:
            number = float(value if isinstance(value, int | float) else short_text(value))
        except ValueError:
            row.errors.append(f"{label}「{short_text(value)}」不是数字（请填写如 26.2208 的十进制度数）")
            number = None
        if number is not None and not -limit <= number <= limit:
            row.errors.append(f"{label} {number} 超出范围（-{limit} 至 {limit}）")
            number = None
        out[name] = number
    if (out["latitude"] is None) != (out["longitude"] is None) and not row.errors:
        row.errors.append("纬度和经度须同时填写")
    return out


def _read_code(row: PreviewRow, first: dict, context: _RowContext) -> None:
    """任务编号, or campaign code + 序号 when the file has no code column; unique within the file."""
    if context.generate_codes:
        seq = short_text(first.get("seq"))
        try:
            row.code = f"{context.campaign.code}-{int(float(seq)):03d}"
        except ValueError:
            row.errors.append(f"序号「{seq}」不是数字，无法生成任务编号" if seq else "序号为空，无法生成任务编号")
    else:
        row.code = short_text(first.get("code"))
        if not row.code:
            row.errors.append("任务编号为空")
    if len(row.code) > 40:
        row.errors.append(f"任务编号「{row.code[:50]}」超过 40 个字符")
    if row.code:
        if row.code in context.codes_seen:
            row.errors.append(f"任务编号 {row.code} 与第 {context.codes_seen[row.code]} 行重复")
        else:
            context.codes_seen[row.code] = row.number


def _check_campaign(row: PreviewRow, values: dict[str, list], first: dict, campaign: Campaign) -> None:
    """A 整改批次 column, when the file has one, must name the campaign chosen for the import."""
    if "campaign" in values:
        stated = short_text(first["campaign"])
        if key_of(stated) not in {key_of(campaign.name), key_of(campaign.code)}:
            row.errors.append(f"该行属于整改批次「{stated}」，与所选批次「{campaign.name}」不符")


def _read_title(row: PreviewRow, values: dict[str, list], first: dict) -> tuple[str, str]:
    """问题/任务名称 and 问题描述; a missing name is taken from the description's first sentence."""
    title = free_text(first.get("title"))
    problem = "\n".join(free_text(v) for v in values.get("problem", []))
    if not title and problem:
        title = _derived_title(problem)
        row.warnings.append("问题/任务名称为空，已取问题描述的第一句作为名称")
    if not title:
        row.errors.append("缺少问题/任务名称和问题描述")
    elif len(title) > 300:
        row.errors.append(f"问题/任务名称过长（{len(title)} 字，上限 300 字）")
    row.title = title
    return title, problem


def _derived_title(problem: str) -> str:
    first = re.split(r"[。；;\n]", problem, maxsplit=1)[0].strip()
    return first[:60] + ("…" if len(first) > 60 else "")


def _read_units(row: PreviewRow, values: dict[str, list],
                context: _RowContext) -> tuple[list[Unit], Unit | None, list[Unit]]:
    """责任单位, 牵头督导单位 and 配合单位 → (responsible units, lead supervisor, co-supervisors).
    Only one lead supervisor: the others become co-supervisors."""
    responsible, errs = _units_in(values.get("responsible", []), context.lookups, "责任单位")
    lead_units, lead_errs = _units_in(values.get("lead", []), context.lookups, "牵头督导单位")
    co_units, co_errs = _units_in(values.get("co", []), context.lookups, "配合单位")
    row.errors.extend(errs + lead_errs + co_errs)
    if "responsible" in context.present and not responsible and not errs:
        row.warnings.append("未填写责任单位，任务将保存为草稿（责任不清楚）")
    lead = lead_units[0] if lead_units else None
    if len(lead_units) > 1:
        row.warnings.append(f"牵头督导单位只能有一个，已取「{lead.name}」，其余列为配合单位")
        co_units = lead_units[1:] + co_units
    co_units = [u for i, u in enumerate(co_units) if u != lead and u not in co_units[:i]]
    row.responsible = "、".join(u.name for u in responsible)
    return responsible, lead, co_units


def _units_in(cells: list, lookups: Lookups, label: str) -> tuple[list[Unit], list[str]]:
    units: list[Unit] = []
    errors: list[str] = []
    for cell in cells:
        found, e = resolve_units(cell, lookups, label)
        units += [u for u in found if u not in units]
        errors += e
    return units, errors


def _read_leader(row: PreviewRow, first: dict, context: _RowContext) -> User | None:
    leader, errors, warnings = resolve_leader(first["leader"], context.lookups)
    row.errors.extend(errors)
    row.warnings.extend(warnings)
    return leader


def _read_deadline(row: PreviewRow, values: dict[str, list], first: dict, context: _RowContext):
    """整改时限 → (deadline kind, date); an absent column leaves the task a draft (with a warning)."""
    kind, deadline = "", None
    if "deadline" in values:
        cell = first["deadline"]
        parsed = context.deadlines.get((type(cell), cell))  # by type too: 1 == 1.0 == True
        if parsed is None:
            try:
                parsed = parse_deadline(cell)
            except DeadlineError as exc:
                parsed = exc
            context.deadlines[(type(cell), cell)] = parsed
        if isinstance(parsed, DeadlineError):
            row.errors.append(str(parsed))
        else:
            kind, deadline, note = parsed
            if note:
                row.warnings.append(note)
    if not kind and "deadline" not in values:
        row.warnings.append("未填写整改时限，任务将保存为草稿（时限不清楚）")
    row.deadline = format_deadline(kind, deadline) if kind else ""
    return kind, deadline


def _read_category(row: PreviewRow, values: dict[str, list], first: dict, section_category: str) -> str:
    """问题类别, else the category of the section the row is in, else 其他."""
    if "category" not in values:
        return section_category or Category.OTHER
    category, error = resolve_category(first["category"])
    if error:
        row.errors.append(error)
    return category


# --- 4. create, update or leave -------------------------------------------------------------


def _decide_actions(preview: ImportPreview, parsed: list[PreviewRow], present: set[str]) -> None:
    """A row whose code is already in the campaign updates that task with the columns the file
    has; it is "unchanged" when that changes nothing."""
    existing = _existing_tasks(preview.campaign, [r.code for r in parsed if r.code])
    for row in parsed:
        task = existing.get(row.code)
        preview.rows.append(row)
        if task is None:
            row.action = CREATE
            continue
        current = task_input_from(task, prefetched=True)
        row.task, row.version = task, task.version
        row.data = _merged_input(current, row.data, present)
        row.action = UNCHANGED if _signature(row.data) == _signature(current) else UPDATE


def _existing_tasks(campaign: Campaign, codes: list[str]) -> dict[str, Task]:
    found: dict[str, Task] = {}
    # The campaign's codes first (one read of its index): a file of new tasks, the usual import,
    # then costs one query instead of one per 500 codes; only the rows that exist are loaded whole.
    taken = set(Task.objects.filter(campaign=campaign).values_list("code", flat=True))
    codes = [code for code in codes if code in taken]
    for start in range(0, len(codes), 500):  # bounded IN lists on every database
        batch = codes[start:start + 500]
        qs = (Task.objects.filter(campaign=campaign, code__in=batch).select_related("leader")
              .prefetch_related(Prefetch("task_units", queryset=TaskUnit.objects.select_related("unit")
                                         .order_by("role", "ordinal", "id")),
                                Prefetch("measures", queryset=Measure.objects.select_related("owner_unit")
                                         .order_by("ordinal", "id"))))
        found.update((t.code, t) for t in qs)
    return found


def _signature(data: TaskInput) -> tuple:
    """What an import compares: two inputs with the same signature write the same task."""
    ids = lambda units: tuple(u.pk for u in units)  # noqa: E731
    acceptance = data.acceptance_unit or data.lead_supervisor
    return (data.code.strip(), data.title.strip(), data.problem.strip(), data.target.strip(),
            data.inspection_number.strip(), data.category, ids(data.responsible_units),
            data.lead_supervisor.pk if data.lead_supervisor else None,
            ids(u for u in data.co_supervisors if u != data.lead_supervisor),
            acceptance.pk if acceptance else None, data.leader.pk if data.leader else None, data.deadline_kind,
            data.deadline, data.progress_note.strip(), data.completion_note.strip(),
            tuple((m.id, m.text.strip()) for m in data.measures or []), data.start_date,
            data.location_name.strip(), data.latitude, data.longitude)


# Which TaskInput attributes each column carries; a column absent from the file leaves them be.
_FIELD_ATTRS = {
    "title": ["title"], "problem": ["problem"], "target": ["target"], "inspection": ["inspection_number"],
    "category": ["category"], "responsible": ["responsible_units"], "lead": ["lead_supervisor"],
    "co": ["co_supervisors"], "leader": ["leader"], "deadline": ["deadline_kind", "deadline"],
    "progress": ["progress_note"], "completion": ["completion_note"], "measures": ["measures"],
    "start": ["start_date"], "location": ["location_name"], "latitude": ["latitude"], "longitude": ["longitude"],
}


def _merged_input(current: TaskInput, incoming: TaskInput, present: set[str]) -> TaskInput:
    """An update: the task as it is, with the columns the file has. Measures with the same text
    keep their identity (and their done flag, owner and due date)."""
    data = dataclasses.replace(current)
    for f, attrs in _FIELD_ATTRS.items():
        if f in present or (f == "title" and "problem" in present):
            for attr in attrs:
                setattr(data, attr, getattr(incoming, attr))
    if data.start_date is None:
        data.start_date = current.start_date  # a blank 开始日期 keeps the task's own
    if "lead" in present and current.acceptance_unit and current.acceptance_unit != current.lead_supervisor:
        data.acceptance_unit = current.acceptance_unit  # a separately chosen acceptance unit stays
    elif "lead" in present:
        data.acceptance_unit = None
    if "measures" in present:
        pool = {}
        for m in current.measures or []:
            pool.setdefault(m.text.strip(), []).append(m)
        kept = []
        for m in incoming.measures or []:
            same = pool.get(m.text.strip())
            kept.append(dataclasses.replace(same.pop(0)) if same else m)
        data.measures = kept
    return data
