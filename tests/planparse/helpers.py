"""Shared helpers for the plan parser tests (plain functions: no Django, no database)."""

from __future__ import annotations

import re
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
SEED = FIXTURES / "seed_rectification_plan.txt"
IGNORED = re.compile(r"[\s\W_]+")  # whitespace and punctuation, half- and full-width


def squash(text: str) -> str:
    return IGNORED.sub("", text)


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def node_by_path(parse, path: str):
    for node in parse.nodes():
        if node.path == path:
            return node
    raise KeyError(path)


def reassemble(parse) -> str:
    """Title, preamble, every node's number and own text in document order, then unplaced."""
    parts = [parse.title, parse.preamble]
    for node in parse.nodes():
        parts += [node.number, node.text]
    parts += [u["text"] for u in parse.unplaced]
    return "".join(parts)
