"""Precision and recall of the plan parser against hand-written expectations.

For every ``tests/planparse/fixtures/expected/*.json`` the named fixture is parsed and compared:

* a measure is correct when its path (e.g. ``四.(二).3``) and its title match;
* a target is correct when its indicator, comparator and value match (year and unit are
  reported as a separate "exact" figure).

Run: ``.venv/bin/python bench/planparse_quality.py`` (add ``--verbose`` to list the misses).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rectify.planparse import parse_plan  # noqa: E402

FIXTURES = ROOT / "tests" / "planparse" / "fixtures"
PUNCT = re.compile(r"[\s\W_]+")


def norm(text: str) -> str:
    return PUNCT.sub("", text or "")


def measure_key(m: dict) -> tuple[str, str]:
    return m["path"], norm(m["title"])


def target_key(t: dict) -> tuple[str, str, float]:
    return norm(t["indicator"]), t["comparator"], float(t["value"])


def target_exact_key(t: dict) -> tuple:
    return (*target_key(t), t["unit"], t.get("year"))


def prf(predicted: list, expected: list) -> tuple[int, int, int]:
    """(true positives, predicted, expected) with multiset matching."""
    remaining = list(expected)
    hits = 0
    for p in predicted:
        if p in remaining:
            remaining.remove(p)
            hits += 1
    return hits, len(predicted), len(expected)


def ratio(a: int, b: int) -> float:
    return a / b if b else 1.0


def evaluate(expected_file: Path) -> dict:
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    path = FIXTURES / expected["fixture"]
    parsed = parse_plan(path.read_bytes(), filename=path.name)
    got_m = [measure_key(m) for m in parsed.measures]
    exp_m = [measure_key(m) for m in expected["measures"]]
    got_t = [target_key(t) for t in parsed.targets]
    exp_t = [target_key(t) for t in expected["targets"]]
    got_tx = [target_exact_key(t) for t in parsed.targets]
    exp_tx = [target_exact_key(t) for t in expected["targets"]]
    return {
        "fixture": expected["fixture"],
        "measures": prf(got_m, exp_m),
        "targets": prf(got_t, exp_t),
        "targets_exact": prf(got_tx, exp_tx),
        "missed_measures": [m for m in exp_m if m not in got_m],
        "extra_measures": [m for m in got_m if m not in exp_m],
        "missed_targets": [t for t in exp_t if t not in got_t],
        "extra_targets": [t for t in got_t if t not in exp_t],
    }


def main(argv: list[str] | None = None) -> int:
    verbose = "--verbose" in (argv if argv is not None else sys.argv[1:])
    results = [evaluate(f) for f in sorted((FIXTURES / "expected").glob("*.json"))]
    header = f"{'fixture':34} {'measures P':>10} {'R':>6} {'targets P':>10} {'R':>6} {'exact P':>8} {'R':>6}"
    print(header)
    print("-" * len(header))
    totals = {"measures": [0, 0, 0], "targets": [0, 0, 0], "targets_exact": [0, 0, 0]}
    for r in results:
        cells = []
        for kind in ("measures", "targets", "targets_exact"):
            tp, pred, exp = r[kind]
            totals[kind] = [a + b for a, b in zip(totals[kind], r[kind], strict=True)]
            cells.append(f"{ratio(tp, pred):>8.3f} {ratio(tp, exp):>6.3f}")
        print(f"{r['fixture']:34} {cells[0]:>17} {cells[1]:>17} {cells[2]:>15}")
        if verbose:
            for key in ("missed_measures", "extra_measures", "missed_targets", "extra_targets"):
                for item in r[key]:
                    print(f"    {key}: {item}")
    cells = [f"{ratio(t[0], t[1]):>8.3f} {ratio(t[0], t[2]):>6.3f}" for t in totals.values()]
    print("-" * len(header))
    print(f"{'overall (micro)':34} {cells[0]:>17} {cells[1]:>17} {cells[2]:>15}")
    print(f"\nmeasures: {totals['measures'][0]}/{totals['measures'][1]} predicted correct, "
          f"{totals['measures'][0]}/{totals['measures'][2]} expected found; "
          f"targets: {totals['targets'][0]}/{totals['targets'][1]} predicted correct, "
          f"{totals['targets'][0]}/{totals['targets'][2]} expected found")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
