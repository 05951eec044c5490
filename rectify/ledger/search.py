"""The ledger's keyword index (关键词检索): character bigrams of each task's searchable text.

The keyword filter means "the word occurs in the code, the inspection number, the title, the
problem or the target", case-insensitively as the database's LIKE. Without an index that is a
``LIKE '%词%'`` over five columns of every task: at 100,000 tasks the keyword page took 3.7× the
same page at 500. Chinese has no spaces to split words at, and the trigram indexes of SQLite
(FTS5 ``trigram``) and PostgreSQL (``pg_trgm``) cannot serve the two-character words most
searches are (污水, 黑臭, 扬尘). So each task's text is indexed here by its character bigrams:

- the text is case-folded (``upper().casefold()``: whatever either database's case-insensitive LIKE
  takes as equal folds to the same characters, ß and SS, ı and I included) and split into runs of letters and digits (``str.isalnum``); each run
  of two or more characters gives its distinct bigrams, each written as an ASCII token (its UTF-8
  in hex, ``e6b1a1e6b0b4`` for 污水) so that neither database's tokenizer can split, fold or drop
  it;
- a keyword gives the bigrams of its own runs the same way; every task that contains the keyword
  contains all of them, so "has every bigram" finds a superset of the matches. The exact
  ``icontains`` test stays in the query and decides (:func:`rectify.ledger.selectors.task_queryset`):
  the index only narrows which rows it reads. A keyword without a bigram (one character, or
  punctuation only) is searched without the index. A keyword of two ideographs or digits is its
  own single bigram, and no case folding produces those characters: for it the index is exact and
  the test is left out (:func:`index_decides`).

Storage: SQLite, an FTS5 table (``detail=none``: posting lists of task ids, no positions) whose
rowid is the task id; PostgreSQL, a table of (task id, ``tsvector``) with a GIN index, built from
the tokens as a literal (no text-search parser or dictionary involved). Rows are written by the
ledger's services in the transaction that writes the task (:func:`write_rows`), and a trigger on
the tasks removes a deleted task's row in the statement that deletes it (on PostgreSQL a TRUNCATE of
the tasks, a test database emptied, empties the index too; migration ledger/0018). So the index
holds a row for exactly the tasks there are, and for a keyword it decides it can count them alone
(:func:`count_unless`: the keyword 污水 at 100,000 tasks, 34,720 of them, in 1.4 ms instead of 21 ms
of reading each task by its key). ``rectify reindex`` (:func:`rebuild`) builds the table again from
the tasks, for data loaded around the services (bench/generate).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import BooleanField, Expression, F, QuerySet

from rectify.core import paging

TABLE = "ledger_task_search"
SEARCHABLE = ("code", "inspection_number", "title", "problem", "target")
MAX_TERMS = 32  # a keyword's bigrams used to narrow (a long pasted sentence needs no more)


# every two letters or digits (str.isalnum) side by side: the bigrams of the docstring's runs, found
# by the regex engine (overlapping, by lookahead) rather than a Python loop over each character
_PAIR = re.compile(r"(?=([^\W_]{2}))")


def _bigrams(text: str) -> set[str]:
    """The tokens of a text: each distinct bigram's UTF-8 in hex (污水 → e6b1a1e6b0b4). A change of
    this form needs a migration that rebuilds the index (:func:`rebuild`)."""
    return {pair.encode().hex() for pair in set(_PAIR.findall(text.upper().casefold()))}


def grams(*texts: str) -> str:
    """The index tokens of a task's searchable texts, space-separated (in no particular order).
    The texts are joined by a line break, which no bigram spans."""
    return " ".join([pair.encode().hex() for pair in set(_PAIR.findall("\n".join(t for t in texts if t).upper()
                                                                        .casefold()))])


def task_grams(task) -> str:
    """:func:`grams` of a task (a model instance or a bulk write's row) as it is about to be saved."""
    return grams(*(getattr(task, name) for name in SEARCHABLE))


def query_terms(word: str) -> list[str]:
    """The tokens every task containing ``word`` has (empty: the index cannot narrow this word)."""
    return sorted(_bigrams(word))[:MAX_TERMS]


# Two CJK ideographs or ASCII digits: no case mapping of any character yields one of these, so
# "the text has this bigram" is exactly "the text contains the word" (LIKE's meaning on either
# database), and the index alone decides. Two-character words are most searches (污水, 扬尘).
_DECIDED = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff0-9]{2}")


def index_decides(word: str) -> bool:
    """Whether the index's candidates for ``word`` are exactly the tasks containing it."""
    return _DECIDED.fullmatch(word) is not None


def _match(terms: list[str], vendor: str) -> tuple[str, str]:
    """The subquery of candidate ids and its one parameter, for the database ``vendor``."""
    if vendor == "postgresql":
        return f"SELECT task_id FROM {TABLE} WHERE grams @@ %s::tsquery", " & ".join(terms)
    return f"SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH %s", " AND ".join(terms)


WALK_ABOVE = 1000  # candidates past which an ordered query walks its order index (see Candidates)
_COUNT_SECONDS = 60.0  # how long a word's candidate count is reused to choose the plan
_counts: dict[tuple[str, str], tuple[float, int]] = {}
_counts_lock = threading.Lock()


def candidate_count(terms: list[str], using: str = DEFAULT_DB_ALIAS) -> int:
    """How many tasks the index holds for all of ``terms`` (SQLite; read from the index alone,
    a millisecond for 35,000), kept a minute per process: it only chooses a plan, and both plans
    give the same rows, so a count a minute old costs at most a slower plan."""
    sql, expression = _match(terms, "sqlite")
    now = time.monotonic()
    key = (using, expression)
    with _counts_lock:
        hit = _counts.get(key)
    if hit is not None and now - hit[0] < _COUNT_SECONDS:
        return hit[1]
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ({sql})", [expression])
        count = int(cursor.fetchone()[0])
    with _counts_lock:
        if len(_counts) > 1000:
            _counts.clear()
        _counts[key] = (now, count)
    return count


class Candidates(Expression):
    """``task.id IN (the index's candidates for a word)`` as a filter condition.

    SQLite plans an ``IN (subquery)`` on the primary key as the driver: it reads each candidate's
    row. That is the fastest count (a rare word: 0.1 ms instead of a 20 ms scan at 25,000 tasks)
    and the fastest page of a rare word, but for a page of a common word (污水: 8,590 candidates
    at 25,000 tasks) it reads and sorts every candidate to keep 50 (10 ms), and the page's outer
    query, which reads its 50 rows by key, read them all again (14 ms). So an ordered query (a
    page's keys, the page's rows, an export) of a word with more than :data:`WALK_ABOVE`
    candidates tests ``+id IN (…)``: the unary plus keeps the planner off it as a driver, and it
    walks the list's order index (or the page's 50 keys) testing each entry against the candidate
    list (1.2 ms). A rare word's page stays driven by its few candidates (walking 100,000 index
    entries for 43 matches took 10 ms). An unordered query (the count) is always driven by them.
    PostgreSQL weighs the plans by its own statistics.
    """

    conditional = True
    output_field = BooleanField()

    def __init__(self, terms: list[str]):
        super().__init__(output_field=BooleanField())
        self.terms = terms
        self.key = F("pk")

    def get_source_expressions(self):
        return [self.key]

    def set_source_expressions(self, exprs):
        (self.key,) = exprs

    def as_sql(self, compiler, connection):
        key_sql, key_params = compiler.compile(self.key)
        query = compiler.query
        if (connection.vendor == "sqlite" and (query.order_by or (query.default_ordering and query.get_meta().ordering))
                and candidate_count(self.terms, connection.alias) > WALK_ABOVE):
            key_sql = "+" + key_sql
        sql, expression = _match(self.terms, connection.vendor)
        return f"{key_sql} IN ({sql})", [*key_params, expression]


def count_unless(terms: list[str], unless: QuerySet, *, cap: int = 0) -> int | None:
    """How many tasks hold every one of ``terms``, counted from the index alone; None when
    ``unless`` has a row, asked in the same statement (the caller's scope: the condition under which
    the user would not see every task, :func:`rectify.core.paging.count_unless`), or when more than
    ``cap`` (if given) hold them.

    Exact, for the words :func:`index_decides`: every task's row is written with the task and removed
    with it (the delete trigger), so this is the number of tasks the list of such a word finds for a
    user who sees them all. ``cap`` bounds what PostgreSQL reads for a very common word (the caller
    then counts its own way, which may estimate)."""
    match_sql, expression = _match(terms, connections[unless.db].vendor)
    capped = f"{match_sql} LIMIT {int(cap) + 1}" if cap > 0 else match_sql
    count = paging.count_unless(unless, f"SELECT count(*) FROM ({capped}) m", [expression])
    if count is None or (cap > 0 and count > cap):
        return None
    return count


def candidates(word: str) -> Candidates | None:
    """The filter condition narrowing a keyword search to the index's candidates, or None."""
    terms = query_terms(word)
    return Candidates(terms) if terms else None


def write_rows(rows: Sequence[tuple[int, str]], *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Replace the index rows of these tasks: (task id, :func:`grams`). Inside the caller's transaction.

    Deletes first even for new tasks: a row written around the services (SQL by hand, an older
    copy of the index restored) may hold the id."""
    if not rows:
        return
    db = connections[using]
    key = "task_id" if db.vendor == "postgresql" else "rowid"
    ids = [task_id for task_id, _ in rows]
    with db.cursor() as cursor:
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            cursor.execute(f"DELETE FROM {TABLE} WHERE {key} IN ({', '.join(['%s'] * len(part))})", part)
    write_rows_new(rows, using=using)


def write_rows_new(rows: Sequence[tuple[int, str]], *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Index rows of tasks known to have none (a rebuild after emptying the table): no delete first."""
    if not rows:
        return
    db = connections[using]
    with db.cursor() as cursor:
        if db.vendor == "postgresql":
            # COPY, as every bulk writer of the product (core.bulk); the grams' text is tsvector input
            with cursor.cursor.copy(f"COPY {TABLE} (task_id, grams) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(f"INSERT INTO {TABLE} (rowid, grams) VALUES (%s, %s)", list(rows))


def rebuild() -> int:
    """Build the whole index again from the tasks, in one transaction; returns the tasks indexed."""
    from rectify.ledger.models import Task

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE}")
        return fill(Task)


def fill(task_model, *, using: str = DEFAULT_DB_ALIAS) -> int:
    """Index every task of ``task_model`` (the model, or a migration's historical one) into an
    empty table, 2,000 at a time; returns how many."""
    done = 0
    batch: list[tuple[int, str]] = []
    for pk, *texts in (task_model.objects.using(using).order_by("pk").values_list("pk", *SEARCHABLE)
                       .iterator(chunk_size=2000)):
        batch.append((pk, grams(*texts)))
        if len(batch) == 2000:
            write_rows_new(batch, using=using)
            done += len(batch)
            batch = []
    write_rows_new(batch, using=using)
    return done + len(batch)


def create_table(schema_editor) -> None:
    """The index table (a migration's step): FTS5 on SQLite, tsvector + GIN on PostgreSQL."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (task_id integer PRIMARY KEY, grams tsvector NOT NULL)")
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {TABLE}_grams ON {TABLE} USING gin (grams)")
    else:
        schema_editor.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5(grams, detail=none, tokenize='ascii')")


def drop_table(schema_editor) -> None:
    schema_editor.execute(f"DROP TABLE IF EXISTS {TABLE}")


# The delete trigger (a migration's step, ledger/0018). Names written out: schema, not to move with a
# later rename of the module's constants.
_PG_FORGET = """
CREATE OR REPLACE FUNCTION ledger_task_search_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM ledger_task_search s USING ledger_task_search_gone g WHERE s.task_id = g.id;
    RETURN NULL;
END $$"""
_PG_FORGET_ALL = """
CREATE OR REPLACE FUNCTION ledger_task_search_forget_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM ledger_task_search;
    RETURN NULL;
END $$"""


def create_delete_trigger(schema_editor) -> None:
    """Remove a task's index row when the task is deleted, in the same statement, and remove the
    rows of tasks already gone. On PostgreSQL one statement per DELETE (its transition table) and
    one for a TRUNCATE of the tasks; on SQLite a row trigger."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_PG_FORGET)
        schema_editor.execute(_PG_FORGET_ALL)
        schema_editor.execute("CREATE TRIGGER ledger_task_search_delete AFTER DELETE ON ledger_task "
                              "REFERENCING OLD TABLE AS ledger_task_search_gone FOR EACH STATEMENT "
                              "EXECUTE FUNCTION ledger_task_search_forget()")
        schema_editor.execute("CREATE TRIGGER ledger_task_search_truncate AFTER TRUNCATE ON ledger_task "
                              "FOR EACH STATEMENT EXECUTE FUNCTION ledger_task_search_forget_all()")
        schema_editor.execute("DELETE FROM ledger_task_search s WHERE NOT EXISTS "
                              "(SELECT 1 FROM ledger_task t WHERE t.id = s.task_id)")
    else:
        schema_editor.execute("CREATE TRIGGER ledger_task_search_delete AFTER DELETE ON ledger_task "
                              "BEGIN DELETE FROM ledger_task_search WHERE rowid = old.id; END")
        schema_editor.execute("DELETE FROM ledger_task_search WHERE rowid NOT IN (SELECT id FROM ledger_task)")


def drop_delete_trigger(schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS ledger_task_search_truncate ON ledger_task")
        schema_editor.execute("DROP TRIGGER IF EXISTS ledger_task_search_delete ON ledger_task")
        schema_editor.execute("DROP FUNCTION IF EXISTS ledger_task_search_forget_all()")
        schema_editor.execute("DROP FUNCTION IF EXISTS ledger_task_search_forget()")
    else:
        schema_editor.execute("DROP TRIGGER IF EXISTS ledger_task_search_delete")
