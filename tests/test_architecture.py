"""The architecture keeps its own promises (docs/architecture.md): apps depend one way, scope
filters are written only in scope.py files, and there is no second hand-written state machine.

Run ``python -m tests.test_architecture`` to print the app dependency graph.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "rectify"

# An app may import (or name in a model relation) only apps of a strictly lower rank.
RANK = {
    "core": 0,
    "evidence": 0.5,  # files and their checks: may import only core
    "orgs": 1,
    "jobs": 1.5,  # background work: a Job belongs to a user; the kinds are registered by the apps above
    "ledger": 2,
    "dispatch": 3,
    "supervision": 4,
    "closeout": 5,
    "indicators": 5,
    "documents": 6,
    "planparse": 6,
    "accountability": 7,  # cases and the commission's workspace: documents' GB/T 9704 layout below it
    "assessment": 8,  # 帮扶, 一季一督导, 综合评估考核: counts closed cases through accountability.figures
    "disclosure": 8.5,  # the public portal: reads ledger, dispatch, closeout through published_* only
    "dashboard": 8.5,  # the battle map, board and landing pages: reads every app below it
    "reports": 8.55,  # 整改落实情况报告 and 一案一档: read every domain app's records (accountability as counts only),
    # leader instructions (dashboard) included; the board shows the report's countdown through a dashboard hook
    "reserve": 8.6,  # 项目储备库: projects linked to tasks; nothing below it imports it
    "api": 9,
}
RELATIONS = {"ForeignKey", "OneToOneField", "ManyToManyField"}


def _sources():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] in RANK and "migrations" not in rel.parts:
            yield rel.parts[0], rel, path


def dependencies() -> dict[tuple[str, str], list[str]]:
    """(from app, to app) → where (file:line), for every import and string model reference."""
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for app, rel, path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("rectify."):
                targets.append(node.module.split(".")[1])
            elif isinstance(node, ast.Import):
                targets += [a.name.split(".")[1] for a in node.names if a.name.startswith("rectify.")]
            elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in RELATIONS
                  and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
                  and "." in node.args[0].value):
                targets.append(node.args[0].value.split(".")[0])
            for target in targets:
                if target in RANK and target != app:
                    found[(app, target)].append(f"{rel}:{node.lineno}")
    return found


def test_apps_depend_one_way():
    upward = {edge: where for edge, where in dependencies().items() if RANK[edge[1]] >= RANK[edge[0]]}
    assert not upward, "upward or sideways imports (use a hook, see rectify/core/hooks.py): " + repr(upward)


def test_every_app_is_ranked():
    apps = {p.name for p in PACKAGE.iterdir() if (p / "apps.py").exists()}
    assert apps <= set(RANK), f"give each new app a rank in tests/test_architecture.py: {apps - set(RANK)}"


SCOPE_SPELLINGS = re.compile(r"path__(?:startswith|under)|(?<!request)\.path\.startswith\(")


def scope_filters_outside_scope_files() -> list[str]:
    hits = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = str(path.relative_to(PACKAGE))
        if path.name == "scope.py" or "/migrations/" in rel:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if SCOPE_SPELLINGS.search(line):
                hits.append(f"{rel}:{n}: {line.strip()}")
    return hits


def test_scope_filters_live_only_in_scope_files():
    assert scope_filters_outside_scope_files() == []


def test_status_changes_go_through_a_declared_table():
    """No ``.update(status=…)`` compare-and-set outside the transition services."""
    hits = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "/migrations/" in str(path):
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if re.search(r"\.update\(\s*status\s*=", line):
                hits.append(f"{path.relative_to(PACKAGE)}:{n}")
    assert hits == []


if __name__ == "__main__":
    edges = dependencies()
    for app in sorted(RANK, key=RANK.get):
        below = sorted({b for (a, b) in edges if a == app}, key=RANK.get)
        print(f"{app:12} → {', '.join(below) or '—'}")
    print(f"scope filters outside scope.py files: {len(scope_filters_outside_scope_files())}")
