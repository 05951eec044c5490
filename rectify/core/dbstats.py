"""Planner statistics for an index a migration adds (SQLite)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def analyse_new_index(index: str) -> Callable[[Any, Any], None]:
    """A ``RunPython`` step giving the new ``index`` its statistics on a SQLite database whose other
    indexes have them (sqlite_stat1, from an ANALYZE). Without them SQLite's planner took a new
    index for a few rows per key, beside the measured thousands of the others, and chose it wrongly
    (ledger/0016: the category filter's page read from it and sorted, 1 → 59 ms at 100,000 tasks).
    With statistics for every index, or for none, it does not. PostgreSQL keeps statistics per
    column, which a new index shares: nothing to do there."""

    def analyse(apps, schema_editor) -> None:
        connection = schema_editor.connection
        if connection.vendor != "sqlite":
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'")
            if cursor.fetchone():
                cursor.execute("ANALYZE " + connection.ops.quote_name(index))

    return analyse
