"""Extension points of documents (see rectify/core/hooks.py and docs/architecture.md, Hooks)."""

from __future__ import annotations

from dataclasses import dataclass, field

from rectify.core.hooks import Hook


@dataclass
class BulletinSection:
    """A section a higher app adds to the monthly bulletin (月度调度通报): a heading, paragraphs, and
    optionally a table (also written as a sheet of the bulletin's workbook)."""

    order: int
    title: str
    paragraphs: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    rows: list[list] = field(default_factory=list)
    widths_mm: list[float] = field(default_factory=list)
    sheet: str = ""  # the workbook sheet's name; no sheet when empty


bulletin_sections = Hook(
    "documents.bulletin_sections",
    "handler(rnd, start, end) -> BulletinSection | None — a section of the monthly bulletin of round "
    "``rnd`` (its month runs from ``start`` to ``end``). Accountability gives counts only, never a case; "
    "assessment lists the open help requests.",
)
