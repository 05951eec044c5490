"""Kinds of background work (任务类型): each app that offers one registers it in its ``ready()``.

A kind is a function ``run(job, ctx) -> Outcome`` plus ``allowed(user, params)``: whether this
account may have this work done with these parameters now. It is asked when the job is started,
again when the worker runs it (the owner's scope may have changed meanwhile) and again before the
result is downloaded — so a result never leaves its owner's current scope.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Outcome:
    summary: str = ""  # shown on the page: "导入完成：新增 10000 条……"
    file: Path | None = None  # the result, written by the kind to ``ctx.part_path(...)``
    filename: str = ""  # the name the download offers


@dataclass(frozen=True)
class JobKind:
    name: str
    label: str
    run: Callable[[Any, Any], Outcome]
    allowed: Callable[[Any, dict], bool]
    back_url: Callable[[Any], str] | None = None  # where the page links back to (the campaign, the ledger)


KINDS: dict[str, JobKind] = {}


def register(kind: JobKind) -> None:
    KINDS[kind.name] = kind


def get_kind(name: str) -> JobKind:
    try:
        return KINDS[name]
    except KeyError:
        raise LookupError(f"unknown job kind {name!r}") from None
