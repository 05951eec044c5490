"""Paging for every list, pages and API: a page costs the same at any ledger size.

Two rules, one place:

- **The count is taken on the bare filtered queryset**: no ordering, no select_related, no
  annotations, no prefetch — ``SELECT COUNT(*) FROM <table> WHERE <scope and filters>``. A list
  query's joins and per-row subqueries are for the 50 rows shown, never for the count.
- **Past a threshold, PostgreSQL estimates**: the count stops reading at the threshold
  (``COUNT(*)`` over a ``LIMIT threshold + 1`` subquery) and, when it gets there, shows the
  planner's estimate (``EXPLAIN (FORMAT JSON)``, no rows read) instead of counting every visible
  row. The page says so ("约 N 条"); the API says ``"estimated": true``.
  ``RECTIFY_LIST_ESTIMATE_ABOVE`` sets the threshold (0 turns estimates off); SQLite, the embedded
  database of small installations, always counts exactly.

The API's limit/offset are bounded (``limit`` 1–200, ``offset`` 0–1,000,000): an integer out of
range is refused with 422 by validation instead of reaching the database (an offset past
SQLite's 64-bit integers used to answer 500).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from django.conf import settings
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import F, Func, IntegerField, QuerySet, Subquery
from django.db.models.sql.where import WhereNode
from django.utils.functional import cached_property
from ninja import Field, Schema
from ninja.pagination import PaginationBase

API_MAX_LIMIT = 200
API_MAX_OFFSET = 1_000_000
MAX_ID = 2**31 - 1  # the largest key any table here holds; past it a query-string id means nothing


def query_int(value: str | None, *, low: int = 0, high: int = MAX_ID) -> int | None:
    """An integer from a query string, or None when it is missing, not a number or out of range:
    a filter given ``?round=99999999999999999999`` shows nothing instead of reaching the database."""
    if not value or not value.isdigit() or len(value) > 12:
        return None
    number = int(value)
    return number if low <= number <= high else None


def bare(queryset: QuerySet) -> QuerySet:
    """The rows of ``queryset`` without what only displaying them needs (for counting)."""
    qs = queryset.order_by()
    qs.query.select_related = False
    qs._prefetch_related_lookups = ()  # type: ignore[attr-defined]  # private, no public way to drop prefetches
    return qs


def subquery_count(queryset: QuerySet) -> Subquery:
    """``(SELECT COUNT(*) … WHERE <correlated>)`` for each row shown: the outer list query gets no
    join and no GROUP BY, so the database can stop at LIMIT instead of grouping the whole table."""
    return Subquery(queryset.order_by().annotate(_n=Func(F("pk"), function="COUNT")).values("_n"),
                    output_field=IntegerField())


def page_rows(queryset, start: int, stop: int, *, total: int | None = None):
    """Rows ``start:stop`` of ``queryset``: first the page's keys by a narrow query in index order
    (``id IN (SELECT id … ORDER BY … LIMIT … OFFSET …)``), then only those rows with their joins
    and per-row subqueries. A deep page skips index entries, not fully computed rows.

    Past the middle of ``total`` rows (an exact count) the keys are read from the other end, in the
    reversed order, when the order is total (it ends in the key): the last of 100,000 tasks skips 50
    index entries instead of 99,950 (the ledger's last page: SQL 194 ms → a few ms). The page's rows
    come out in the list's own order either way (the outer query keeps it)."""
    if not isinstance(queryset, QuerySet) or queryset.query.is_sliced:
        return queryset[start:stop]
    if total is not None and start > total // 2 and stop <= total and _ends_in_key(queryset):
        keys = queryset.reverse().values("pk")
        keys.query.select_related = False
        return _rows_of(queryset, keys[total - stop:total - start])
    keys = queryset.values("pk")
    keys.query.select_related = False
    return _rows_of(queryset, keys[start:stop])


def _rows_of(queryset: QuerySet, keys: QuerySet) -> QuerySet:
    """``queryset``'s rows whose key is one of ``keys`` (a page of its own keys, its conditions
    already applied). Its conditions are not repeated around them when none of them joins a table
    (filters by subquery, as the scope helpers write them): PostgreSQL priced the hashed subqueries
    of a city office's scope once per key and, rather than 50 key lookups, scanned the province's
    ledger testing the scope on each task (the ledger page of a city office at 100,000 tasks: 88 →
    17 ms of SQL). A condition that joins a table stays (its join may be what a column reads)."""
    query = queryset.query
    if query.combinator or any(n for alias, n in query.alias_refcount.items() if alias != query.base_table):
        return queryset.filter(pk__in=keys)
    rows = queryset.all()
    rows.query.where = WhereNode()
    return rows.filter(pk__in=keys)


def _ends_in_key(queryset: QuerySet) -> bool:
    """Whether the queryset's order is total (its last term is the primary key), so that reading it
    reversed from the end gives the same rows in mirror order."""
    ordering = queryset.query.order_by or (queryset.model._meta.ordering if queryset.query.default_ordering else ())
    if not ordering:
        return False
    last = ordering[-1]
    name = last.lstrip("-") if isinstance(last, str) else getattr(getattr(last, "expression", None), "name", None)
    return name in ("pk", "id", queryset.model._meta.pk.name)


def estimate_threshold() -> int:
    return int(getattr(settings, "LIST_ESTIMATE_ABOVE", 0) or 0)


def count_unless(unless: QuerySet, count_sql: str, params: list) -> int | None:
    """A list's count read another way — ``count_sql``, a statement of one number (a kept tally, an
    index) — unless ``unless`` has a row, asked in the same statement: None then (the caller counts
    its list itself). ``unless`` is the condition under which the other way would not be the list's
    count (for the ledger: another top office beside the user's, so that it no longer sees every
    task)."""
    connection = connections[unless.db]
    unless_sql, unless_params = unless.order_by().values("pk")[:1].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT CASE WHEN EXISTS ({unless_sql}) THEN NULL ELSE ({count_sql}) END",
                       [*unless_params, *params])
        count = cursor.fetchone()[0]
    return None if count is None else int(count)


def exact_count_cap(using: str) -> int:
    """How many rows a count on database ``using`` reads before :func:`count_rows` estimates instead
    (0: no cap, every count exact). A count written another way (ledger.search.count_unless) is capped
    alike, so that it never reads more than the paginator's own count would."""
    return estimate_threshold() if connections[using].vendor == "postgresql" else 0


def planner_estimate(queryset: QuerySet) -> int | None:
    """PostgreSQL's estimate of how many rows ``queryset`` holds, without reading them."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = bare(queryset).values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def count_rows(queryset: QuerySet, *, threshold: int | None = None) -> tuple[int, bool]:
    """(count, estimated). On PostgreSQL the count reads at most ``threshold`` + 1 rows; past that
    the planner's estimate stands in (never below what was counted). SQLite counts exactly."""
    threshold = estimate_threshold() if threshold is None else threshold
    if threshold <= 0 or connections[queryset.db].vendor != "postgresql":
        return bare(queryset).count(), False
    capped = bare(queryset).values("pk")[:threshold + 1].count()
    if capped <= threshold:
        return capped, False
    return max(planner_estimate(queryset) or 0, capped), True


class ListPaginator(Paginator):
    """Django's Paginator, counting on the bare filtered queryset (see the module docstring).

    ``page.paginator.estimated`` tells the template to say "约"; an estimated last page may come out
    shorter than the others, or empty. ``count``: the list's exact count, when the caller has read
    it a cheaper way than counting the queryset (it must be the number of rows the queryset holds).
    """

    def __init__(self, object_list, per_page, *, threshold: int | None = None, count: int | None = None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.threshold = threshold
        self.known_count = count

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        total = None if self.estimated else self.count
        return self._get_page(page_rows(self.object_list, bottom, top, total=total), number, self)

    @cached_property
    def _counted(self) -> tuple[int, bool]:
        if self.known_count is not None:
            return self.known_count, False
        if isinstance(self.object_list, QuerySet):
            return count_rows(self.object_list, threshold=self.threshold)
        return len(self.object_list), False

    @cached_property
    def count(self) -> int:
        return self._counted[0]

    @property
    def estimated(self) -> bool:
        return self._counted[1]


def list_page(request, queryset: QuerySet, per_page: int, *, param: str = "page", count: int | None = None):
    """The requested page of ``queryset`` (out-of-range numbers give the first or last page);
    ``count`` as :class:`ListPaginator` takes it."""
    return ListPaginator(queryset, per_page, count=count).get_page(request.GET.get(param))


@dataclass(frozen=True)
class Counted:
    """An API list's queryset with its exact count, read a cheaper way than counting the queryset
    (as :class:`ListPaginator` takes ``count``): an endpoint paginated by :class:`ApiPagination`
    returns it instead of the bare queryset."""

    queryset: QuerySet
    count: int


class ApiPagination(PaginationBase):
    """limit/offset for every /api/v1 list: bounded, with a cheap count (see the module docstring)."""

    class Input(Schema):
        limit: int = Field(50, ge=1, le=API_MAX_LIMIT, description=f"每页条数（1–{API_MAX_LIMIT}）")
        offset: int = Field(0, ge=0, le=API_MAX_OFFSET, description=f"跳过的条数（0–{API_MAX_OFFSET:,}）")

    class Output(Schema):
        items: list[Any]
        count: int
        estimated: bool = Field(False, description="count 为数据库估算值（数据量很大时）")

    def paginate_queryset(self, queryset, pagination: Input, request, **params) -> Any:
        offset, limit = pagination.offset, pagination.limit
        if isinstance(queryset, Counted):
            count, estimated, queryset = queryset.count, False, queryset.queryset
        elif isinstance(queryset, QuerySet):
            count, estimated = count_rows(queryset)
        else:
            count, estimated = len(queryset), False
        return {"items": page_rows(queryset, offset, offset + limit, total=None if estimated else count),
                "count": count, "estimated": estimated}


# Integers an API request may carry (SECURITY.md check 21): an id is a key of some table, a version
# a row's counter; past MAX_ID neither means anything, and SQLite cannot even bind it (a 500).
ApiId = Annotated[int, Field(ge=1, le=MAX_ID, description="对象 id")]
ApiVersion = Annotated[int, Field(ge=0, le=MAX_ID, description="读取时的版本号；过期的写入返回 409")]
