"""Reading a workbook with python-calamine: the visible worksheets, the header row (found in the
first 10 rows, possibly spanning two), and the data rows as records with merged cells applied."""

from __future__ import annotations

import io
import re
import zipfile
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


# What a ledger workbook may hold, checked before calamine reads it: calamine builds each sheet as a
# dense grid, so one cell at ZZ200000 beside A1 asks for 140 million cells (a 1.5 KB file took an
# import to 5.9 GB). A real ledger is a few thousand rows of ~30 columns.
MAX_SHEET_ROWS = 100_000
MAX_SHEET_COLUMNS = 200
MAX_SHEET_CELLS = 4_000_000
MAX_ZIP_ENTRIES = 2_000
MAX_UNZIPPED_BYTES = 300 * 1024 * 1024
MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell
_CHUNK = 1 << 20  # a part's XML is streamed in chunks of this size
_WINDOW = 1 << 15  # at most half of MAX_CELL_CHARS * 4 bytes
# A cell's r="AB12" or a row's r="12" (letters empty). Searched for as the literal r= (the regex
# engine's fast path: 0.16 → 0.06 s for a 10,000-row sheet), so it also meets other attributes
# ending in r (header="0.3"); those can only make the check stricter.
# Two patterns over the same matches, one capturing the letters and one the digits, so that each
# findall's list goes straight into a set (C, not a Python step per cell: 120,000 cells a sheet).
_POSITION_LETTERS = re.compile(rb"""r=["']([A-Z]{0,4})[0-9]""")
_POSITION_DIGITS = re.compile(rb"""r=["'][A-Z]{0,4}([0-9]{1,8})""")


def _column_number(letters: bytes) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + ch - 64
    return number


def _cell_name(row: int, column: int) -> str:
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row}"


def check_workbook_bounds(data: bytes) -> str | None:
    """Why this .xlsx is too big to read (a Chinese message), or None. Reads only the zip's directory
    and streams each worksheet's XML for its farthest cell: no sheet is built."""
    if data[:4] != b"PK\x03\x04":
        return None  # legacy .xls: calamine reads it within the upload's size cap
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except zipfile.BadZipFile:
        return "文件不是有效的 Excel（.xlsx）文件"
    if len(entries) > MAX_ZIP_ENTRIES:
        return f"文件内部条目过多（{len(entries)} 个），不是正常的台账工作簿。"
    if sum(e.file_size for e in entries) > MAX_UNZIPPED_BYTES:
        return f"文件解压后超过 {MAX_UNZIPPED_BYTES // 1048576} MB，不是正常的台账工作簿（可能是压缩炸弹）。"
    for entry in entries:
        name = entry.filename
        worksheet = name.startswith("xl/worksheets/") and name.endswith(".xml")
        if not (worksheet or name == "xl/sharedStrings.xml"):
            continue
        # The farthest cell: each distinct column and row once (a sheet has a few dozen columns),
        # in sets the regex engine fills, not a Python step per cell. And a cell's text is one
        # stretch of XML without "<": a stretch longer than Excel allows for one cell (up to 4
        # bytes a character) is a crafted file (a 1.5 MB one took 7.7 GB).
        letters: set[bytes] = set()
        numbers: set[bytes] = set()
        tail = b""
        limit, run = MAX_CELL_CHARS * 4, 0  # run: the stretch still open at the chunk's end
        with archive.open(entry) as stream:
            while chunk := stream.read(_CHUNK):
                if worksheet:
                    block = tail + chunk
                    letters.update(_POSITION_LETTERS.findall(block))
                    numbers.update(_POSITION_DIGITS.findall(block))
                    tail = block[-256:]
                first = chunk.find(b"<")
                if first < 0:
                    run += len(chunk)
                    longest = run
                else:
                    longest = run + first
                    run = len(chunk) - chunk.rfind(b"<") - 1
                    # The stretches at the chunk's edges are measured above. One inside it that is
                    # longer than the limit covers a whole window of _WINDOW bytes (at most half
                    # the limit) counted from the chunk's start, so only a chunk with a window free
                    # of "<" is split to measure them (splitting every chunk at each tag was most
                    # of this check's time: 68 → 36 ms for 10,000 rows).
                    if any(chunk.find(b"<", at, at + _WINDOW) < 0 for at in range(0, len(chunk), _WINDOW)):
                        longest = max(longest, max(map(len, chunk[first + 1:].split(b"<")[:-1]), default=0))
                if max(longest, run) > limit:
                    return f"有单元格内容超过 Excel 的上限（{MAX_CELL_CHARS} 字），请检查工作簿。"
        columns = max((_column_number(c) for c in letters), default=0)
        rows = max(map(int, numbers), default=0)
        if rows > MAX_SHEET_ROWS or columns > MAX_SHEET_COLUMNS or rows * columns > MAX_SHEET_CELLS:
            return (f"工作表范围过大：最远的单元格在 {_cell_name(rows, columns)}（{rows} 行 × {columns} 列）。"
                    f"台账工作簿最多 {MAX_SHEET_ROWS} 行、{MAX_SHEET_COLUMNS} 列；请删除表格外多余的内容后重试。")
    return None


def load_sheets(data: bytes) -> tuple[list[tuple[str, list[list], list]], str | None]:
    """Every visible worksheet as (name, rows, merged ranges), or an error for the whole file."""
    from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

    if not data:
        return [], "文件为空"
    if not (data[:4] == b"PK\x03\x04" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return [], "文件不是有效的 Excel（.xlsx）文件"
    too_big = check_workbook_bounds(data)
    if too_big:
        return [], too_big
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

    from_top: list[int] = []  # columns a two-row candidate read from its top row

    def mapping(top: int, bottom: int | None):
        result: dict[int, str] = {}
        written: dict[int, str] = {}
        from_top.clear()
        ignored: list[str] = []
        width = max(len(rows[top]), len(rows[bottom]) if bottom is not None else 0)
        for c in range(width):
            below = fields_of[bottom].get(c) if bottom is not None else None
            r = bottom if below else top
            f = below or fields_of[top].get(c)
            text = cell_text(rows[r][c] if c < len(rows[r]) else "").strip()
            if f and f not in result.values():
                result[c], written[c] = f, text
                if r == top and bottom is not None:
                    from_top.append(c)
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
            if bottom is not None and not from_top:
                # The row above gives no column (a blank row or the sheet's title): the header is the
                # row below alone, and the preview must name that row, not the one above it.
                continue
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
    fields = list(columns.items())
    for r in range(start, len(rows)):
        row = rows[r]
        if not covered:  # most ledgers: no merged cells, no row continues another
            width = len(row)
            single = {f: [row[c]] for c, f in fields if c < width and not blank(row[c])}
            if single:
                yield r + 1, single
            continue
        values = {}
        continuation = bool(key_cols) and all((r, c) in covered and covered[(r, c)][0] < r for c in key_cols)
        for c, f in fields:
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
