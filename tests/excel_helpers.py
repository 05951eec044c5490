"""Build ledger workbooks the way offices lay them out, for the Excel import tests and the bench."""

from __future__ import annotations

import datetime as dt
import io

import xlsxwriter
from python_calamine import CalamineWorkbook

# The usual office layout. "督导单位" is a group header over its two sub-headers (a header spanning
# two rows); some headers are written with full-width characters and stray spaces.
OFFICE_HEADERS = ["序号", "任务编号", "问题／任务名称", "问题描述", "整改目标", "整改措施", "责 任 单 位", "牵头督导单位",
                  "配合单位", "责任领导", "整改 时限", "整改进展", "完成情况"]
KEYS = ["序号", "任务编号", "问题/任务名称", "问题描述", "整改目标", "整改措施", "责任单位", "牵头督导单位", "配合单位",
        "责任领导", "整改时限", "整改进展", "完成情况"]


def office_workbook(rows: list[dict], *, title: str = "XX市第二轮中央生态环境保护督察反馈问题整改台账",
                    extra: list[str] = (), merged_rows: list[tuple[int, int, str, object]] = ()) -> bytes:
    """A title row merged across the sheet, a two-row header with merged cells, then ``rows``
    (dicts keyed by the names in KEYS plus ``extra``). A date value is written as a date cell.
    ``merged_rows`` merges data cells down: (first data index, last data index, key, value)."""
    keys = [*KEYS, *extra]
    headers = [*OFFICE_HEADERS, *extra]
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False})
    sheet = book.add_worksheet("台账")
    wrap = book.add_format({"text_wrap": True})
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.merge_range(0, 0, 0, len(keys) - 1, title)
    lead, co = keys.index("牵头督导单位"), keys.index("配合单位")
    for c, header in enumerate(headers):
        if c == lead:
            sheet.merge_range(1, lead, 1, co, "督导单位")
            sheet.write_string(2, lead, header)
        elif c == co:
            sheet.write_string(2, co, header)
        else:
            sheet.merge_range(1, c, 2, c, header)  # blank merged cell below
    start = 3
    for i, row in enumerate(rows):
        for c, key in enumerate(keys):
            value = row.get(key)
            if value is None:
                continue
            if isinstance(value, (dt.date, dt.datetime)):
                sheet.write_datetime(start + i, c, value, date)
            elif isinstance(value, (int, float)):
                sheet.write_number(start + i, c, value)
            else:
                sheet.write_string(start + i, c, str(value), wrap)
    for first, last, key, value in merged_rows:
        c = keys.index(key)
        sheet.merge_range(start + first, c, start + last, c, value, wrap)
    book.close()
    return out.getvalue()


def plain_workbook(headers: list[str], rows: list[list] = (), *, sheet_name: str = "Sheet1") -> bytes:
    """One header row and rows of values, nothing else."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet(sheet_name)
    for c, header in enumerate(headers):
        sheet.write_string(0, c, header)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if isinstance(value, (int, float)):
                sheet.write_number(r, c, value)
            elif value is not None:
                sheet.write_string(r, c, str(value))
    book.close()
    return out.getvalue()


def empty_workbook() -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    book.add_worksheet("Sheet1")
    book.close()
    return out.getvalue()


def generated_rows(n: int, *, units: list[str], leader: str = "", start: int = 1) -> list[dict]:
    """``n`` plausible ledger rows cycling through the given unit names."""
    rows = []
    for i in range(start, start + n):
        rows.append({
            "序号": i, "任务编号": f"G-{i:05d}", "问题/任务名称": f"第{i}号问题：城区污水管网建设滞后",
            "问题描述": f"督察发现第{i}号问题，生活污水直排，\n影响水体水质。", "整改目标": "污水收集率达到 90% 以上",
            "整改措施": "1.制定整改方案\n2.完成管网建设\n3.组织验收", "责任单位": units[i % len(units)],
            "牵头督导单位": "市生态环境局", "配合单位": "市住房和城乡建设局", "责任领导": leader,
            "整改时限": ["2022年12月底", "2023年6月", "2023.6.30", "长期坚持", "立行立改"][i % 5],
        })
    return rows


def read_sheet(data: bytes) -> list[list]:
    """The first sheet's values as calamine reads them."""
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
