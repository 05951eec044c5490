"""Data model of a parsed plan (整改方案) and the error the parser raises.

Everything here is plain data: ``PlanParse.to_dict()`` is JSON-serialisable and is what the
CLI prints and what the rest of the project stores as a *proposal* for the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class PlanParseError(ValueError):
    """The input cannot be parsed as a plan; ``str(err)`` is a Chinese message for the user."""

    def __init__(self, message_zh: str) -> None:
        super().__init__(message_zh)
        self.message_zh = message_zh


@dataclass
class Block:
    """One block of the source in reading order: a paragraph (text) or a table (rows of cells)."""

    kind: str  # "para" | "table"
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class Node:
    """One numbered node of the outline (一、 / (一) / 1. / (1) / ① or a table row).

    ``text`` is the node's *own* text: its heading and body up to its first child. A leaf's
    own text is therefore its full text; ``full_text()`` adds the children.
    """

    number: str  # as written, e.g. "四", "(一)", "1", "(1)"
    style: str  # cn | cnp | ar | arp | circ | row
    value: int
    level: int
    kind: str = "item"  # section | group | measure | item
    title: str = ""
    text: str = ""
    children: list[Node] = field(default_factory=list)
    path: str = ""
    units: list[str] = field(default_factory=list)  # stated in the plan (e.g. 责任单位 column)
    deadline: dict[str, Any] | None = None  # stated in the plan (e.g. 整改时限 column)
    fields: dict[str, str] = field(default_factory=dict)  # table row cells by header
    suggestions: dict[str, Any] = field(default_factory=dict)

    def full_text(self) -> str:
        parts = [self.text] + [f"{c.number} {c.full_text()}" for c in self.children]
        return "\n".join(p for p in parts if p)

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "number": self.number,
            "path": self.path,
            "level": self.level,
            "kind": self.kind,
            "title": self.title,
            "text": self.text,
        }
        if self.units:
            out["units"] = self.units
        if self.deadline:
            out["deadline"] = self.deadline
        if self.fields:
            out["fields"] = self.fields
        out["children"] = [c.to_dict() for c in self.children]
        return out


@dataclass
class PlanParse:
    """The proposed structure of a plan. Suggestions are marked ``"suggestion": true``."""

    title: str
    preamble: str
    sections: list[Node]
    measures: list[dict[str, Any]]
    targets: list[dict[str, Any]]
    mechanisms: list[dict[str, Any]]
    unplaced: list[dict[str, Any]]
    artefacts: list[dict[str, Any]]
    warnings: list[str]
    source: dict[str, Any]
    # the document after artefact removal (not part of to_dict nor repr: large)
    clean_text: str = field(default="", repr=False)

    def nodes(self):
        for section in self.sections:
            yield from section.walk()

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "preamble": self.preamble,
            "sections": [s.to_dict() for s in self.sections],
            "measures": self.measures,
            "targets": self.targets,
            "mechanisms": self.mechanisms,
            "unplaced": self.unplaced,
            "artefacts": self.artefacts,
            "warnings": self.warnings,
            "source": self.source,
        }
