"""The number of tasks of each campaign (ledger.CampaignTally), kept by database triggers.

The ledger list's count for an office that sees every task, unfiltered or filtered by one campaign
only, was a count of the whole ledger: on PostgreSQL an index-only scan of its 100,000 entries
(about 10 ms at 100,000 tasks, more than the rest of the page's SQL), on SQLite 1.8 ms. With the
tasks counted per campaign as they are written, it is a sum over the campaigns (800 rows at that
size) or one row.

Triggers keep the rows, not the services, so that every write path is counted — the services, an
import's bulk insert (a COPY on PostgreSQL), bench/generate, a test's ``bulk_create``, a deletion
by cascade:

- a task inserted adds one to its campaign (PostgreSQL: one statement per INSERT over its
  transition table, grouped by campaign; SQLite: a row trigger, an upsert);
- a task deleted takes one away (likewise); one moved to another campaign moves its one (a row
  trigger that fires only when the campaign changes);
- a TRUNCATE of the tasks (PostgreSQL; a test database emptied) empties the tallies.

``rectify reindex`` (:func:`rebuild`) counts them again from the tasks. Names are written out: the
triggers are schema, created by a migration (ledger/0020).
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import QuerySet

from rectify.core.bulk import insert_triggers_aside
from rectify.core.paging import count_unless

_SQLITE = [
    "CREATE TRIGGER ledger_campaigntally_insert AFTER INSERT ON ledger_task FOR EACH ROW BEGIN "
    "INSERT INTO ledger_campaigntally (campaign_id, tasks) VALUES (new.campaign_id, 1) "
    "ON CONFLICT (campaign_id) DO UPDATE SET tasks = tasks + 1; END",
    "CREATE TRIGGER ledger_campaigntally_delete AFTER DELETE ON ledger_task FOR EACH ROW BEGIN "
    "UPDATE ledger_campaigntally SET tasks = tasks - 1 WHERE campaign_id = old.campaign_id; END",
    "CREATE TRIGGER ledger_campaigntally_move AFTER UPDATE OF campaign_id ON ledger_task FOR EACH ROW "
    "WHEN new.campaign_id IS NOT old.campaign_id BEGIN "
    "UPDATE ledger_campaigntally SET tasks = tasks - 1 WHERE campaign_id = old.campaign_id; "
    "INSERT INTO ledger_campaigntally (campaign_id, tasks) VALUES (new.campaign_id, 1) "
    "ON CONFLICT (campaign_id) DO UPDATE SET tasks = tasks + 1; END",
]
_SQLITE_DROP = ["DROP TRIGGER IF EXISTS ledger_campaigntally_insert", "DROP TRIGGER IF EXISTS ledger_campaigntally_delete",
                "DROP TRIGGER IF EXISTS ledger_campaigntally_move"]

_POSTGRESQL = [
    "CREATE OR REPLACE FUNCTION ledger_campaigntally_added() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "INSERT INTO ledger_campaigntally (campaign_id, tasks) "
    "SELECT campaign_id, count(*) FROM ledger_campaigntally_new GROUP BY campaign_id "
    "ON CONFLICT (campaign_id) DO UPDATE SET tasks = ledger_campaigntally.tasks + EXCLUDED.tasks; "
    "RETURN NULL; END $$",
    "CREATE OR REPLACE FUNCTION ledger_campaigntally_removed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "UPDATE ledger_campaigntally t SET tasks = t.tasks - g.n FROM "
    "(SELECT campaign_id, count(*) AS n FROM ledger_campaigntally_old GROUP BY campaign_id) g "
    "WHERE t.campaign_id = g.campaign_id; RETURN NULL; END $$",
    "CREATE OR REPLACE FUNCTION ledger_campaigntally_moved() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "UPDATE ledger_campaigntally SET tasks = tasks - 1 WHERE campaign_id = OLD.campaign_id; "
    "INSERT INTO ledger_campaigntally (campaign_id, tasks) VALUES (NEW.campaign_id, 1) "
    "ON CONFLICT (campaign_id) DO UPDATE SET tasks = ledger_campaigntally.tasks + 1; RETURN NULL; END $$",
    "CREATE OR REPLACE FUNCTION ledger_campaigntally_emptied() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "DELETE FROM ledger_campaigntally; RETURN NULL; END $$",
    "CREATE TRIGGER ledger_campaigntally_insert AFTER INSERT ON ledger_task "
    "REFERENCING NEW TABLE AS ledger_campaigntally_new FOR EACH STATEMENT "
    "EXECUTE FUNCTION ledger_campaigntally_added()",
    "CREATE TRIGGER ledger_campaigntally_delete AFTER DELETE ON ledger_task "
    "REFERENCING OLD TABLE AS ledger_campaigntally_old FOR EACH STATEMENT "
    "EXECUTE FUNCTION ledger_campaigntally_removed()",
    "CREATE TRIGGER ledger_campaigntally_move AFTER UPDATE OF campaign_id ON ledger_task FOR EACH ROW "
    "WHEN (NEW.campaign_id IS DISTINCT FROM OLD.campaign_id) EXECUTE FUNCTION ledger_campaigntally_moved()",
    "CREATE TRIGGER ledger_campaigntally_truncate AFTER TRUNCATE ON ledger_task FOR EACH STATEMENT "
    "EXECUTE FUNCTION ledger_campaigntally_emptied()",
]
_POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS ledger_campaigntally_truncate ON ledger_task",
    "DROP TRIGGER IF EXISTS ledger_campaigntally_move ON ledger_task",
    "DROP TRIGGER IF EXISTS ledger_campaigntally_delete ON ledger_task",
    "DROP TRIGGER IF EXISTS ledger_campaigntally_insert ON ledger_task",
    "DROP FUNCTION IF EXISTS ledger_campaigntally_emptied()",
    "DROP FUNCTION IF EXISTS ledger_campaigntally_moved()",
    "DROP FUNCTION IF EXISTS ledger_campaigntally_removed()",
    "DROP FUNCTION IF EXISTS ledger_campaigntally_added()",
]
_FILL = ("INSERT INTO ledger_campaigntally (campaign_id, tasks) "
         "SELECT campaign_id, count(*) FROM ledger_task GROUP BY campaign_id")


def tasks_in_bulk(using: str = DEFAULT_DB_ALIAS) -> AbstractContextManager[None]:
    """Around a bulk insert of tasks (ledger.services.write_tasks), inside its transaction: on SQLite
    the insert trigger stands aside and the new tasks are counted by one statement
    (:func:`rectify.core.bulk.insert_triggers_aside`; 0.4–0.6 s of a 10,000-row import). On
    PostgreSQL an insert is one statement-level trigger already."""
    def count_new(cursor, before: int) -> None:
        cursor.execute("INSERT INTO ledger_campaigntally (campaign_id, tasks) "
                       "SELECT campaign_id, count(*) FROM ledger_task WHERE id > %s GROUP BY campaign_id "
                       "ON CONFLICT (campaign_id) DO UPDATE SET tasks = tasks + excluded.tasks", [before])

    return insert_triggers_aside("ledger_task", {"ledger_campaigntally_insert": _SQLITE[0]}, count_new, using=using)


def create_triggers(schema_editor) -> None:
    """The triggers and the tallies of the tasks already there (a migration's step)."""
    statements = _POSTGRESQL if schema_editor.connection.vendor == "postgresql" else _SQLITE
    for statement in statements:
        schema_editor.execute(statement, params=None)
    schema_editor.execute("DELETE FROM ledger_campaigntally", params=None)
    schema_editor.execute(_FILL, params=None)


def drop_triggers(schema_editor) -> None:
    for statement in _POSTGRESQL_DROP if schema_editor.connection.vendor == "postgresql" else _SQLITE_DROP:
        schema_editor.execute(statement, params=None)


def rebuild(using: str = DEFAULT_DB_ALIAS) -> int:
    """Count every campaign's tasks again (``rectify reindex``); returns the tasks counted."""
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute("DELETE FROM ledger_campaigntally")
        cursor.execute(_FILL)
        cursor.execute("SELECT COALESCE(SUM(tasks), 0) FROM ledger_campaigntally")
        return int(cursor.fetchone()[0])


def count_tasks_unless(unless: QuerySet, campaign: int | None = None) -> int | None:
    """How many tasks the ledger holds (of ``campaign`` only, if given), from the tallies; None when
    ``unless`` has a row, asked in the same statement (the caller's scope: the condition under which
    the user would not see every task)."""
    if campaign is None:
        return count_unless(unless, "SELECT COALESCE(SUM(tasks), 0) FROM ledger_campaigntally", [])
    return count_unless(unless, "SELECT COALESCE(SUM(tasks), 0) FROM ledger_campaigntally WHERE campaign_id = %s",
                        [campaign])
