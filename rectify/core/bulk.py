"""Bulk rows for services that write many at once (批量写入): ids reserved in one query and plain
tuples inserted with COPY on PostgreSQL and one prepared INSERT (``executemany``) on SQLite.

``bulk_create`` spends most of its time building model instances and compiling SQL for every
row (an Excel import of 10,000 tasks made 80,000 instances); here each column is converted once
per value only where the database needs it (dates and times on SQLite, JSON). The caller is a
service: it has validated every row, holds the transaction, and records the audit events.
Signals are not sent (as with ``bulk_create``).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import gc
import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Generic, ParamSpec, TypeVar

import orjson
from django.db import connections, models, router, transaction

_P = ParamSpec("_P")
_R = TypeVar("_R")
_T = TypeVar("_T")
_gc_lock = threading.Lock()
_gc_pausers = 0  # jobs of this process inside collection_paused()
_gc_was_enabled = True  # the collector's state when the first of them entered


@contextlib.contextmanager
def collection_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a bulk job builds its rows.

    An import keeps every row it builds until it writes them (10,000 tasks: some 400,000 objects),
    and each full pass of the collector walks all of them again: about a fifth of an import's time
    (10,000 rows at S: commit 5.4 → 4.6 s, preview 2.5 → 2.1 s). Reference counting still frees
    everything that is not a cycle; the collector runs again as soon as the last such job in the
    process is done. Counted, so that threads of one worker may overlap; a collector that was off
    before stays off."""
    global _gc_pausers, _gc_was_enabled
    with _gc_lock:
        if _gc_pausers == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pausers += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pausers -= 1
            if _gc_pausers == 0 and _gc_was_enabled:
                gc.enable()


def gc_paused(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """:func:`collection_paused` around every call of ``function``."""
    @functools.wraps(function)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with collection_paused():
            return function(*args, **kwargs)
    return wrapper


def _no_query(execute, sql, params, many, context):
    # Work done meanwhile is computation: a query from a thread would run on a connection of its own,
    # outside the writer's transaction
    raise RuntimeError("core.bulk.meanwhile: the work ran a query; load what it needs before starting it")


class Meanwhile(Generic[_T]):
    """Work a bulk writer needs later in its transaction, done while it waits on the database
    (:func:`meanwhile`). ``result()`` returns what ``work`` returned, or raises what it raised."""

    def __init__(self, work: Callable[[], _T], *, using: str, aside: bool):
        self._value: _T | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        if not aside:
            self._run(work, using)
            return
        context = contextvars.copy_context()  # the request's address (core.audit.current_ip) and the like
        self._thread = threading.Thread(target=context.run, args=(self._run, work, using), name="rectify-meanwhile",
                                        daemon=True)
        self._thread.start()

    def _run(self, work: Callable[[], _T], using: str) -> None:
        connection = connections[using]  # in a thread: its own, outside the caller's transaction
        try:
            with connection.execute_wrapper(_no_query):
                self._value = work()
        except BaseException as exc:  # handed to result()
            self._error = exc
        finally:
            if threading.current_thread() is self._thread:
                connection.close()

    def result(self) -> _T:
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]


def meanwhile(work: Callable[[], _T], *, using: str = "default") -> Meanwhile[_T]:
    """Start ``work`` — computation only: a query raises — so that it proceeds while the caller's
    transaction waits on the database server, and return its :class:`Meanwhile`.

    On PostgreSQL the server works in its own process: while it takes in a COPY (index entries,
    triggers) the writer's process only waits, with Python's lock released, so a thread can build
    what the writer needs next (an import of 10,000 tasks: their events and keyword rows, about
    half a second). On SQLite the database works in the writer's own process and its write lock
    shuts out every other writer, and on one core there is nothing to overlap: there ``work`` runs
    at once, before the caller opens its transaction, as it did before."""
    aside = connections[using].vendor == "postgresql" and (os.cpu_count() or 1) > 1
    return Meanwhile(work, using=using, aside=aside)


@contextlib.contextmanager
def insert_triggers_aside(table: str, triggers: dict[str, str], catch_up: Callable[[Any, int], None], *,
                          using: str = "default") -> Iterator[None]:
    """Around a bulk insert into ``table``, inside the writer's transaction: on SQLite the row
    triggers on its inserts (``triggers``: name → its CREATE statement) are dropped and, once the
    insert is done, ``catch_up(cursor, before)`` does their work for every row it wrote — those
    with an id above ``before``, the highest before the insert: the transaction holds SQLite's
    write lock, so no one else inserts meanwhile — by one set-based statement, and the triggers
    are made again. All of it in the writer's transaction: a rollback brings them back, and other
    connections only ever see the schema with them (SQLite DDL is transactional; readers keep
    their snapshot). Any row trigger on inserts cost SQLite about 50 µs a row, even one whose WHEN
    clause turned the row away (0.4–0.6 s of a 10,000-row import's write lock). On PostgreSQL
    such triggers are one per statement already: nothing to do."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        yield
        return
    assert connection.in_atomic_block, "insert_triggers_aside runs inside the writer's transaction"
    quoted = connection.ops.quote_name(table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {quoted}")
        (before,) = cursor.fetchone()
        for name in triggers:
            cursor.execute(f"DROP TRIGGER {connection.ops.quote_name(name)}")
    try:
        yield
        with connection.cursor() as cursor:
            catch_up(cursor, int(before))
    finally:
        with connection.cursor() as cursor:
            for create in triggers.values():
                cursor.execute(create)


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """``count`` new primary keys for ``model``, to insert rows with explicit ids. Call inside the
    writer's transaction: on PostgreSQL they come from the table's sequence (never handed out
    twice); on SQLite the transaction holds the write lock from BEGIN (IMMEDIATE) and the ids
    follow both the highest id and ``sqlite_sequence`` (AUTOINCREMENT never reuses a deleted id)."""
    if count <= 0:
        return []
    connection = connections[router.db_for_write(model)]
    table = model._meta.db_table
    pk = model._meta.pk
    assert pk is not None
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                           [table, pk.column, count])
            return [row[0] for row in cursor.fetchall()]
        if connection.vendor != "sqlite":
            raise NotImplementedError(f"reserve_ids: {connection.vendor} is not supported")
        if not connection.in_atomic_block:
            raise transaction.TransactionManagementError("reserve_ids on SQLite needs the caller's transaction")
        cursor.execute(f"SELECT MAX({connection.ops.quote_name(pk.column)}) FROM {connection.ops.quote_name(table)}")
        highest = cursor.fetchone()[0] or 0
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        start = max(highest, row[0] if row else 0) + 1
    return list(range(start, start + count))


def json_text(value: Any) -> str | None:
    """A JSON column's text: orjson's (UTF-8, compact), or the standard library's where orjson
    refuses (an integer past 64 bits). Either reads back as the same value. (Callers pass what a
    JSONField holds: strings, numbers, lists, dicts; orjson writes a NaN as null where json.dumps
    wrote NaN, which PostgreSQL refuses anyway.)"""
    if value is None:
        return None
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=False)


def _once_per_value(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``convert`` remembered per value: a bulk write's rows share one time (created, updated)."""
    seen: dict[Any, Any] = {}

    def run(value: Any) -> Any:
        try:
            return seen[value]
        except KeyError:
            if len(seen) > 1000:
                seen.clear()
            out = seen[value] = convert(value)
            return out
    return run


def insert_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]],
                *, batch_size: int = 5000) -> int:
    """INSERT ``rows`` (tuples in the order of ``columns``, attribute names such as ``task_id``)
    into ``model``'s table; returns how many. Values are Python values (date, aware datetime,
    dict/list for JSON, bool, None). A concrete field not named gets its default (the primary key
    and generated columns are left to the database unless named); ``auto_now`` fields must be named."""
    connection = connections[router.db_for_write(model)]
    fields = {f.attname: f for f in model._meta.concrete_fields}
    names = list(columns)
    defaults = [(f.attname, f.get_default()) for f in model._meta.concrete_fields
                if f.attname not in names and not f.primary_key and not f.generated]
    for name, value in defaults:
        if value is None and not fields[name].null:
            raise ValueError(f"insert_rows: {model._meta.label}.{name} has no default; name it")
    names += [name for name, _ in defaults]
    tail = tuple(value for _, value in defaults)
    converters: list[tuple[int, Callable[[Any], Any]]] = []
    for i, name in enumerate(names):
        f = fields[name]
        if isinstance(f, models.JSONField):
            converters.append((i, json_text))
        elif connection.vendor == "sqlite" and isinstance(f, models.DateTimeField):
            converters.append((i, _once_per_value(connection.ops.adapt_datetimefield_value)))
        elif connection.vendor == "sqlite" and isinstance(f, models.DateField):
            converters.append((i, lambda v: None if v is None else v.isoformat()))
    table = connection.ops.quote_name(model._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(fields[name].column) for name in names)

    def prepared() -> Iterable[Sequence[Any]]:
        for row in rows:
            if tail:
                row = (*row, *tail)
            if converters:
                row = list(row)
                for i, convert in converters:
                    row[i] = convert(row[i])
            yield row

    count = 0
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in prepared():
                    copy.write_row(row)
                    count += 1
            return count
        sql = f"INSERT INTO {table} ({cols}) VALUES ({', '.join(['%s'] * len(names))})"
        batch: list[Sequence[Any]] = []
        for row in prepared():
            batch.append(row)
            if len(batch) >= batch_size:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count
