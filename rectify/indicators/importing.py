"""Reading a sheet of observed values (监测值): xlsx (python-calamine, as the ledger) or csv
(UTF-8 or GB18030, as Excel saves it). Columns are found by their header in the first 5 rows:
地区, 期间, 监测值 and, optionally, 数据来源. Bounded: at most MAX_ROWS data rows."""

from __future__ import annotations

import csv
import io

from rectify.ledger.excel.cells import blank, cell_text, key_of
from rectify.ledger.excel.reader import load_sheets

MAX_ROWS = 5000
HEADERS = {
    "region": ("地区", "区域", "县市区", "行政区", "单位"),
    "period": ("期间", "年份", "年度", "时间", "月份", "统计期"),
    "value": ("监测值", "数值", "实测值", "指标值", "值"),
    "source": ("数据来源", "来源"),
}
REQUIRED = ("region", "period", "value")
LABEL = {"region": "地区", "period": "期间", "value": "监测值"}


def _field(header: str) -> str | None:
    key = key_of(header)
    for field, names in HEADERS.items():
        if key in names:
            return field
    return None


def _table(data: bytes, filename: str) -> tuple[list[list], str | None]:
    if filename.lower().endswith(".csv"):
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            return [], "CSV 文件的编码无法识别（请另存为 UTF-8 或 GBK）"
        if "\x00" in text:
            return [], "文件不是有效的 CSV 文本文件"
        return [row for _, row in zip(range(MAX_ROWS + 10), csv.reader(io.StringIO(text)), strict=False)], None
    sheets, error = load_sheets(data)
    if error:
        return [], error + "；请上传 .xlsx 或 .csv 文件"
    if not sheets:
        return [], "工作簿中没有可见的工作表"
    return sheets[0][1], None


def read_rows(data: bytes, filename: str) -> tuple[list[tuple[int, dict[str, str]]], list[tuple[int, str]]]:
    """(line number as the user sees it, {field: text}) per data row, or errors for the whole sheet."""
    table, error = _table(data, filename)
    if error:
        return [], [(0, error)]
    header_at, columns = None, {}
    for r, row in enumerate(table[:5]):
        found = {c: f for c, v in enumerate(row) if (f := _field(cell_text(v)))}
        if set(REQUIRED) <= set(found.values()):
            header_at, columns = r, found
            break
    if header_at is None:
        return [], [(0, "未找到表头：须有“地区”“期间”“监测值”三列（可选“数据来源”）")]
    rows: list[tuple[int, dict[str, str]]] = []
    for r in range(header_at + 1, len(table)):
        row = table[r]
        if all(blank(v) for v in row):
            continue
        if len(rows) >= MAX_ROWS:
            return [], [(0, f"数据行超过 {MAX_ROWS} 行，请分批导入")]
        rows.append((r + 1, {f: cell_text(row[c]).strip() if c < len(row) else "" for c, f in columns.items()}))
    return rows, []
