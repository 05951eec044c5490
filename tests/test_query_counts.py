"""Query counts of every list, web and API, in one table: equal at 5 and at 50 rows, and pinned.

The table of lists is ``tests/listing.py``; the pinned counts are ``tests/query_counts.json``. When
a change makes a list cost more queries the test fails with both numbers; if the new count is
intended, regenerate the baseline and commit it with the change that explains it:

    UPDATE_QUERY_BASELINE=1 .venv/bin/python -m pytest tests/test_query_counts.py

A URL pattern that looks like a list (no ``<int:…>`` converter, GET answers 200) must be in the
table or, with a reason, in ``listing.NOT_LISTS`` — so a new list page cannot go unpinned.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver

from tests.listing import LISTS, NOT_LISTS, ListPage, Scene

BASELINE = Path(__file__).with_name("query_counts.json")
UPDATE = os.environ.get("UPDATE_QUERY_BASELINE") == "1"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"
    settings.UPLOAD_DIR = tmp_path / "uploads"
    settings.PORTAL_CACHE_SECONDS = 0  # count what the portal's lists cost when rendered, not a cache hit


def _baseline() -> dict[str, int]:
    return json.loads(BASELINE.read_text(encoding="utf-8")) if BASELINE.exists() else {}


def _write_baseline(name: str, count: int) -> None:
    data = _baseline()
    data[name] = count
    BASELINE.write_text(json.dumps(dict(sorted(data.items())), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def summary(sql: list[str]) -> str:
    """The queries, repeated ones once with how often (ids and values folded)."""
    folded = Counter(re.sub(r"\b\d+\b|'[^']*'", "?", q)[:300] for q in sql)
    return "\n".join(f"  {n:3d} × {q}" for q, n in folded.most_common())


def queries_for(scene: Scene, page: ListPage, params: dict) -> tuple[int, list[str]]:
    client = scene.client(page.persona, api=page.api)
    url = page.url.format(**params)
    assert client.get(url).status_code == 200, url  # warm-up: session refresh, caches
    caches["board"].clear()  # the board's figures are kept per chain head: count what computing them costs
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries), [q["sql"] for q in ctx.captured_queries]


@pytest.mark.parametrize("page", LISTS, ids=[p.name for p in LISTS])
def test_list_costs_the_same_queries_at_5_and_50_rows(world, page: ListPage):
    scene = Scene(world)
    params = page.factory(scene, 5)
    at_5, sql_5 = queries_for(scene, page, params)
    params = page.factory(scene, 45)
    at_50, sql_50 = queries_for(scene, page, params)
    assert at_5 == at_50, (f"{page.name}: {at_5} queries at 5 rows, {at_50} at 50 — a query per row (N+1). "
                           "Queries at 50 rows:\n" + summary(sql_50) + "\nQueries at 5 rows:\n" + summary(sql_5))
    if UPDATE:
        _write_baseline(page.name, at_50)
        return
    pinned = _baseline().get(page.name)
    assert pinned is not None, f"{page.name} has no pinned count: run with UPDATE_QUERY_BASELINE=1 and commit {BASELINE.name}"
    assert at_50 <= pinned, (f"{page.name}: {at_50} queries, pinned at {pinned} in {BASELINE.name}. If intended, "
                             "regenerate with UPDATE_QUERY_BASELINE=1 and say why in the commit.\n" + summary(sql_50))
    assert at_50 == pinned, (f"{page.name}: {at_50} queries, fewer than the {pinned} pinned — good; lower the "
                             f"baseline with UPDATE_QUERY_BASELINE=1 so that it stays pinned.")


def test_the_baseline_names_only_lists_of_the_table():
    stale = set(_baseline()) - {p.name for p in LISTS}
    assert not stale, f"entries of {BASELINE.name} no longer in tests/listing.py: {sorted(stale)}"


def test_list_sql_has_no_group_by_over_the_ledger(world):
    """The ledger page and its count read a page, not the ledger: no GROUP BY, a count without joins
    (a county reporter's); for the office that sees every task, the tasks kept counted per campaign
    (ledger.tally), with no read of the tasks at all."""
    scene = Scene(world)
    for name in ("ledger [office_admin]", "ledger [reporter_a]"):
        tasks_page = next(p for p in LISTS if p.name == name)
        _, sql = queries_for(scene, tasks_page, tasks_page.factory(scene, 5))
        ledger_sql = [s for s in sql if re.search(r'FROM "ledger_task"', s)]
        count = [s for s in ledger_sql if s.startswith("SELECT COUNT(*)")]
        page = [s for s in ledger_sql if '"ledger_task"."title"' in s]
        assert len(page) == 1 and "GROUP BY" not in page[0], ledger_sql
        if name == "ledger [office_admin]":
            (tallied,) = [s for s in sql if s.startswith("SELECT CASE WHEN EXISTS")]
            assert not count and "FROM ledger_campaigntally" in tallied and "ledger_task" not in tallied, sql
            continue
        assert len(count) == 1, ledger_sql
        assert " JOIN " not in count[0].split(" WHERE ")[0] and "GROUP BY" not in count[0], count[0]


# --- every list-like URL is in the table ----------------------------------------------------------


def _patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        pattern = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, pattern)
        elif isinstance(entry, URLPattern):
            yield "/" + pattern.lstrip("^").rstrip("$")


def list_candidates() -> list[str]:
    """URL patterns with no <int:…> converter (other converters filled with "x"), admin excluded."""
    found = set()
    for pattern in _patterns():
        if pattern.startswith(("/admin", "/static")) or "(?" in pattern or "<int:" in pattern:
            continue
        found.add(re.sub(r"<[^>]+>", "x", pattern))
    return sorted(found)


def test_every_list_like_url_is_in_the_table(world):
    scene = Scene(world)
    client = scene.client("office_admin", api=True)
    tabled = {p.url.split("?")[0] for p in LISTS}
    unlisted = []
    for path in list_candidates():
        if path in NOT_LISTS or path in tabled:
            continue
        response = client.get(path)
        if response.status_code == 200:
            unlisted.append(path)
    assert not unlisted, ("list-like pages missing from tests/listing.py (add them to LISTS with a factory of "
                          f"rows, or to NOT_LISTS with the reason): {unlisted}")


def test_the_table_covers_every_app():
    names = " ".join(p.url for p in LISTS)
    for prefix in ["/ledger/", "/dispatch/", "/dispatch/reports/", "/supervision/", "/inbox/", "/calendar/",
                   "/plans/", "/api/v1/tasks", "/api/v1/rounds", "/api/v1/reports", "/api/v1/escalations"]:
        assert prefix in names, prefix
