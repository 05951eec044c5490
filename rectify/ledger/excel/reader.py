"""Reading a workbook with python-calamine: the visible worksheets, the header row (found in the
first 10 rows, possibly spanning two), and the data rows as records with merged cells applied."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import NamedTuple

from rectify.ledger.excel.cells import blank, cell_text
from rectify.ledger.excel.columns import header_field


class Header(NamedTuple):
    row: int  # 0-based index of the (top) header row
    data_start: int  # 0-based index of the first row below the header
    columns: dict[int, str]  # column index → field
    written: dict[int, str]  # column index → the header as written
    ignored: list[str]  # headers not understood


def load_sheets(data: bytes) -> tuple[list[tuple[str, list[list], list]], str | None]:
    """Every visible worksheet as (name, rows, merged ranges), or an error for the whole file."""
    from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

    if not data:
        return [], "文件为空"
    if not (data[:4] == b"PK\x03\x04" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return [], "文件不是有效的 Excel（.xlsx）文件"
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = []
        for meta in book.sheets_metadata:
            if meta.visible != SheetVisibleEnum.Visible or meta.typ != SheetTypeEnum.WorkSheet:
                continue
            sheet = book.get_sheet_by_name(meta.name)
            merged = list(getattr(sheet, "merged_cell_ranges", None) or [])
            sheets.append((meta.name, sheet.to_python(skip_empty_area=False), merged))
    except Exception:  # calamine raises its own error types for any malformed file
        return [], "文件不是有效的 Excel（.xlsx）文件"
    return sheets, None


def find_header(rows: list[list]) -> Header | None:
    """Find the header in the first 10 rows: (header row, first data row, column → field,
    column → header as written, headers not understood). A row is combined with the row below
    when the headers span two rows (a group header above its sub-headers)."""
    limit = min(len(rows), 10)
    fields_of = [{c: header_field(v) for c, v in enumerate(rows[r])} for r in range(limit)]

    def mapping(top: int, bottom: int | None):
        result: dict[int, str] = {}
        written: dict[int, str] = {}
        ignored: list[str] = []
        width = max(len(rows[top]), len(rows[bottom]) if bottom is not None else 0)
        for c in range(width):
            below = fields_of[bottom].get(c) if bottom is not None else None
            r = bottom if below else top
            f = below or fields_of[top].get(c)
            text = cell_text(rows[r][c] if c < len(rows[r]) else "").strip()
            if f and f not in result.values():
                result[c], written[c] = f, text
            elif f:
                ignored.append(f"{text}（与前面的列重复）")
            else:
                for rr in [top, bottom]:
                    if rr is not None and c < len(rows[rr]) and not blank(rows[rr][c]):
                        ignored.append(cell_text(rows[rr][c]).strip())
        return result, written, ignored

    best = None
    for r in range(limit):
        candidates = [(r, None)]
        if r + 1 < limit:
            below = [v for v in rows[r + 1] if not blank(v)]
            known = [f for f in fields_of[r + 1].values() if f]
            if known and len(known) * 2 >= len(below):
                candidates.append((r, r + 1))
        for top, bottom in candidates:
            m = mapping(top, bottom)
            if len(m[0]) >= 2 and (best is None or len(m[0]) > len(best[2][0])):
                best = (top, bottom, m)
    if best is None:
        return None
    top, bottom, (m, written, ignored) = best
    # a group header above recognised sub-headers is not "ignored"
    if bottom is not None:
        ignored = [t for t in ignored if t not in {cell_text(v).strip() for v in rows[top]}
                   or header_field(t) is not None]
    return Header(top, (bottom if bottom is not None else top) + 1, m, written, ignored)


def is_numbering_row(row: list, columns: dict[int, str]) -> bool:
    """The row of column numbers (1 2 3 …) some ledgers put under the headers."""
    values = [row[c] for c in sorted(columns) if c < len(row) and not blank(row[c])]
    if len(values) < 3:
        return False
    try:
        numbers = [int(float(cell_text(v))) for v in values]
    except ValueError:
        return False
    return numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def records(rows: list[list], start: int, columns: dict[int, str], merged: list) -> Iterator[tuple[int, dict]]:
    """Data rows as (excel row number, field → raw values), joining the rows of one task when its
    code or title cell is merged down over several rows (one measure per row)."""
    covered: dict[tuple[int, int], tuple[int, int]] = {}  # cell → top-left of its merged range
    for (r0, c0), (r1, _c1) in merged:
        # only downward: a value merged over several rows belongs to each; one merged across
        # columns (a section title spanning the row) stays in its first cell
        for r in range(max(r0 + 1, start), r1 + 1):
            covered[(r, c0)] = (r0, c0)
    key_cols = [c for c, f in columns.items() if f in {"code", "title"}]
    current: tuple[int, dict] | None = None
    for r in range(start, len(rows)):
        row = rows[r]
        values = {}
        continuation = bool(key_cols) and all((r, c) in covered and covered[(r, c)][0] < r for c in key_cols)
        for c, f in columns.items():
            if (r, c) in covered:
                if continuation and covered[(r, c)][0] < r:
                    continue  # the same merged cell as the row above: already read
                r0, c0 = covered[(r, c)]
                v = rows[r0][c0] if r0 < len(rows) and c0 < len(rows[r0]) else None
            else:
                v = row[c] if c < len(row) else None
            if not blank(v):
                values[f] = v
        if continuation and current is not None:
            for f, v in values.items():
                current[1].setdefault(f, []).append(v)
            continue
        if current is not None:
            yield current
        current = (r + 1, {f: [v] for f, v in values.items()}) if values else None
        if current is None:
            continue
    if current is not None:
        yield current
