"""The ledger as Excel (台账 Excel 导入导出), in the column layout offices already mail around.

Import reads with python-calamine (fast, low memory), is tolerant of what real ledgers look like
(a title row, headers spanning two rows, merged cells, full-width characters, dates written as
text) and is all or nothing: :func:`parse_workbook` builds a preview that writes nothing, and
:func:`commit_import` writes every row through the ledger services in one transaction, or none.
Export streams with XlsxWriter ``constant_memory`` so that memory does not grow with the ledger,
and neutralises cells that a spreadsheet would run as a formula. Export → import round-trips.

One job per module:

- ``cells``     — cell values as text; NFKC for matching; neutralise/unneutralise (formula injection)
- ``deadlines`` — the 整改时限 cell, read and written
- ``measures``  — the 整改措施 cell, split by its numbering and joined
- ``columns``   — the columns, their header synonyms, which are required
- ``reader``    — the workbook through python-calamine: sheets, header row, records
- ``lookups``   — names in cells → units, leaders, categories
- ``preview``   — ``parse_workbook`` → ``ImportPreview`` (nothing written)
- ``commit``    — ``commit_import``: a clean preview, all or nothing
- ``export``    — ``export_ledger`` / ``ledger_rows`` / ``write_ledger``: streamed .xlsx from ``values_list`` rows

The names other modules use are importable from ``rectify.ledger.excel`` itself.
"""

from rectify.ledger.excel.cells import neutralise, unneutralise
from rectify.ledger.excel.columns import COLUMNS, EXPORT_FIELDS, LAYOUT, REQUIRED, Column, header_field
from rectify.ledger.excel.commit import ImportResult, commit_import
from rectify.ledger.excel.deadlines import DeadlineError, format_deadline, parse_deadline
from rectify.ledger.excel.export import (
    export_filename,
    export_ledger,
    export_queryset,
    ledger_rows,
    scratch_dir,
    write_ledger,
)
from rectify.ledger.excel.measures import join_measures, split_measures
from rectify.ledger.excel.preview import (
    ACTION_LABELS,
    CREATE,
    UNCHANGED,
    UPDATE,
    ImportPreview,
    PreviewRow,
    parse_workbook,
)

__all__ = [
    "ACTION_LABELS", "COLUMNS", "CREATE", "EXPORT_FIELDS", "LAYOUT", "REQUIRED", "UNCHANGED", "UPDATE",
    "Column", "DeadlineError", "ImportPreview", "ImportResult", "PreviewRow", "commit_import",
    "export_filename", "export_ledger", "export_queryset", "format_deadline", "header_field",
    "join_measures", "neutralise", "parse_deadline", "parse_workbook", "scratch_dir", "split_measures",
    "ledger_rows", "unneutralise", "write_ledger",
]
