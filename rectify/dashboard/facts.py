"""Board facts (dashboard.BoardFact), kept by database triggers.

The battle map counts, per county and per lead supervising unit, the tasks of each progress
status. Counted from the ledger, that is a join of every responsible unit with its unit (for the
county) and its task (for the status), de-duplicated per task: 600–800 ms for a province office at
100,000 tasks, on every recomputation. The facts table holds the join's result — one row per
(task, county of one of its responsible units) and per (task, lead supervising unit), with the
task's status and category — so the board counts it with one GROUP BY over an index.

Triggers keep it, not the services: task units and statuses are written by the ledger's services,
the import, the status refresh (a bulk UPDATE), the plan parser and bench/generate's bulk path, and
a trigger sees each of them in the same statement, so the facts cannot drift from the ledger:

- ``ledger_taskunit`` insert / delete / update: add the unit's county (responsible) or the unit
  itself (lead) for the task; on removal, drop it unless another of the task's responsible units
  lies in the same county;
- ``ledger_task`` update of ``progress_status`` or ``category``: the task's facts take the new status
  and category (a leader's sectors, 分管领域, are whole categories: their lead-unit facts are a range
  of the (kind, category, unit, status) index); delete: they go;
- ``orgs_unit`` update of ``county_id`` (a move, a change of kind, orgs.models.refresh_counties): the
  county facts of the tasks that unit is responsible for are built again.

The statements are the same on both databases, the role test in their WHERE clause so that they
run unconditionally (SQLite triggers have no IF); SQLite runs them as a trigger body, PostgreSQL as
a PL/pgSQL function; on PostgreSQL an INSERT of task units (a COPY, an import's bulk insert) is one
set-based statement over its transition table; on SQLite an insert fires one of two row triggers,
one per counted role, each a single statement over the row (dashboard 0007). The row triggers on
task units fire only for the two roles counted (``WHEN``). Their cost: none measurable in a
10,000-row import on PostgreSQL; on SQLite about 0.45 s of it (a row trigger's program per task
unit, 0.6 s before 0007), so a bulk write (ledger.services.write_tasks) sets the two insert
triggers aside inside its transaction and adds its rows' facts in one statement
(:func:`task_units_in_bulk`; docs/performance.md, goal 4).
``rectify reindex`` (:func:`rebuild`) builds the table again from the ledger. Table names are written out: the triggers are schema, created by migrations, and must not move with
a model's later rename.

**Round tallies** (dashboard.RoundTally): per round, task category and status, the number of the
round's status snapshots, kept by triggers on ``supervision_statussnapshot`` (insert, delete,
update) and on a change of a task's category: the progress chart of an office that sees every task
sums them per month, a leader's sums them for its sectors (section "round tallies" below).
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from django.db import DEFAULT_DB_ALIAS, connections, transaction

from rectify.core.bulk import insert_triggers_aside

COUNTY, LEAD = 1, 2  # dashboard.models.FactKind
RESPONSIBLE, LEAD_SUPERVISOR = "responsible", "lead_supervisor"  # ledger.models.UnitRole


def _insert_from(source: str) -> list[str]:
    """The facts of every task unit in ``source`` at once: the table itself (a rebuild) or, on
    PostgreSQL, the rows one statement inserted (a transition table)."""
    return [
        f"INSERT INTO dashboard_boardfact (task_id, kind, unit_id, status, category) "
        f"SELECT DISTINCT tu.task_id, {COUNTY}, u.county_id, t.progress_status, t.category "
        f"FROM {source} tu JOIN orgs_unit u ON u.id = tu.unit_id JOIN ledger_task t ON t.id = tu.task_id "
        f"WHERE tu.role = '{RESPONSIBLE}' AND u.county_id IS NOT NULL ON CONFLICT DO NOTHING",
        f"INSERT INTO dashboard_boardfact (task_id, kind, unit_id, status, category) "
        f"SELECT DISTINCT tu.task_id, {LEAD}, tu.unit_id, t.progress_status, t.category "
        f"FROM {source} tu JOIN ledger_task t ON t.id = tu.task_id "
        f"WHERE tu.role = '{LEAD_SUPERVISOR}' ON CONFLICT DO NOTHING",
    ]


def _add(r: str) -> list[str]:
    """Add the facts of task unit row ``r`` (NEW): the set-based statements over that one row."""
    return _insert_from(f"(SELECT {r}.task_id AS task_id, {r}.unit_id AS unit_id, {r}.role AS role)")


def _remove(r: str) -> list[str]:
    """Remove the facts of task unit row ``r`` (OLD) that no remaining task unit supports."""
    return [
        f"DELETE FROM dashboard_boardfact WHERE {r}.role = '{RESPONSIBLE}' AND task_id = {r}.task_id "
        f"AND kind = {COUNTY} AND unit_id = (SELECT county_id FROM orgs_unit WHERE id = {r}.unit_id) "
        f"AND NOT EXISTS (SELECT 1 FROM ledger_taskunit tu, orgs_unit u WHERE tu.task_id = {r}.task_id "
        f"AND tu.role = '{RESPONSIBLE}' AND u.id = tu.unit_id AND u.county_id = dashboard_boardfact.unit_id)",
        f"DELETE FROM dashboard_boardfact WHERE {r}.role = '{LEAD_SUPERVISOR}' AND task_id = {r}.task_id "
        f"AND kind = {LEAD} AND unit_id = {r}.unit_id "
        f"AND NOT EXISTS (SELECT 1 FROM ledger_taskunit tu WHERE tu.task_id = {r}.task_id "
        f"AND tu.role = '{LEAD_SUPERVISOR}' AND tu.unit_id = {r}.unit_id)",
    ]


# a new task unit's one fact, by role (SQLite's insert triggers): its county's, or its own as a lead
_COUNTY_OF_NEW = (f"INSERT INTO dashboard_boardfact (task_id, kind, unit_id, status, category) "
                  f"SELECT NEW.task_id, {COUNTY}, u.county_id, t.progress_status, t.category "
                  f"FROM orgs_unit u, ledger_task t WHERE u.id = NEW.unit_id AND u.county_id IS NOT NULL "
                  f"AND t.id = NEW.task_id ON CONFLICT DO NOTHING")
_LEAD_OF_NEW = (f"INSERT INTO dashboard_boardfact (task_id, kind, unit_id, status, category) "
                f"SELECT NEW.task_id, {LEAD}, NEW.unit_id, t.progress_status, t.category "
                f"FROM ledger_task t WHERE t.id = NEW.task_id ON CONFLICT DO NOTHING")

# the roles the board counts: the triggers on task units fire for these alone (an import writes four
# roles per task; the co-supervisors and acceptance units cost nothing)
_COUNTED = "{r}.role IN ('" + RESPONSIBLE + "', '" + LEAD_SUPERVISOR + "')"
_STATUS = ("UPDATE dashboard_boardfact SET status = NEW.progress_status, category = NEW.category "
           "WHERE task_id = NEW.id")
_TASK_GONE = "DELETE FROM dashboard_boardfact WHERE task_id = OLD.id"
# the tasks NEW (a unit whose county changed) is responsible for: their county facts are rebuilt
_TASKS_OF_UNIT = f"SELECT task_id FROM ledger_taskunit WHERE unit_id = NEW.id AND role = '{RESPONSIBLE}'"
_RECOUNTY = [
    f"DELETE FROM dashboard_boardfact WHERE kind = {COUNTY} AND task_id IN ({_TASKS_OF_UNIT})",
    f"INSERT INTO dashboard_boardfact (task_id, kind, unit_id, status, category) "
    f"SELECT DISTINCT tu.task_id, {COUNTY}, u.county_id, t.progress_status, t.category "
    f"FROM ledger_taskunit tu, orgs_unit u, ledger_task t WHERE tu.task_id IN ({_TASKS_OF_UNIT}) "
    f"AND tu.role = '{RESPONSIBLE}' AND u.id = tu.unit_id AND u.county_id IS NOT NULL AND t.id = tu.task_id "
    f"ON CONFLICT DO NOTHING",
]


_INSERT_TRIGGERS = ("dashboard_boardfact_taskunit_insert_county", "dashboard_boardfact_taskunit_insert_lead")


def task_units_in_bulk(using: str = DEFAULT_DB_ALIAS) -> AbstractContextManager[None]:
    """Around a bulk insert of task units (ledger.hooks.bulk_task_units), inside its transaction: on
    SQLite the two row triggers on inserts stand aside and one set-based statement adds the facts
    of every row the insert wrote (:func:`rectify.core.bulk.insert_triggers_aside`: a row trigger's
    program per task unit cost 0.45 s of a 10,000-row import's write lock, even when its WHEN
    clause turned it away; the statement costs a tenth of that). On PostgreSQL an insert is
    already one statement-level trigger: nothing to do."""
    def add_facts(cursor, before: int) -> None:
        for statement in _insert_from(f"(SELECT task_id, unit_id, role FROM ledger_taskunit WHERE id > {before})"):
            cursor.execute(statement)

    creates = {name: statement for statement in _sqlite_statements() for name in _INSERT_TRIGGERS
               if statement.startswith(f"CREATE TRIGGER {name} ")}
    return insert_triggers_aside("ledger_taskunit", creates, add_facts, using=using)


def _sqlite_statements() -> list[str]:
    def body(statements: list[str]) -> str:
        return "BEGIN " + "".join(f"{s}; " for s in statements) + "END"

    return [
        # an insert has one trigger per role counted, each one statement over the row itself: the
        # two-statement body over a derived row (as for the update, which must remove as well) cost
        # 0.6 s of a 10,000-row import's write lock on SQLite, these 0.5 s
        f"CREATE TRIGGER dashboard_boardfact_taskunit_insert_county AFTER INSERT ON ledger_taskunit FOR EACH ROW "
        f"WHEN NEW.role = '{RESPONSIBLE}' {body([_COUNTY_OF_NEW])}",
        f"CREATE TRIGGER dashboard_boardfact_taskunit_insert_lead AFTER INSERT ON ledger_taskunit FOR EACH ROW "
        f"WHEN NEW.role = '{LEAD_SUPERVISOR}' {body([_LEAD_OF_NEW])}",
        f"CREATE TRIGGER dashboard_boardfact_taskunit_delete AFTER DELETE ON ledger_taskunit FOR EACH ROW "
        f"WHEN {_COUNTED.format(r='OLD')} {body(_remove('OLD'))}",
        f"CREATE TRIGGER dashboard_boardfact_taskunit_update AFTER UPDATE OF task_id, unit_id, role "
        f"ON ledger_taskunit FOR EACH ROW WHEN {_COUNTED.format(r='OLD')} OR {_COUNTED.format(r='NEW')} "
        f"{body(_remove('OLD') + _add('NEW'))}",
        f"CREATE TRIGGER dashboard_boardfact_task_status AFTER UPDATE OF progress_status, category ON ledger_task "
        f"FOR EACH ROW WHEN NEW.progress_status IS NOT OLD.progress_status OR NEW.category IS NOT OLD.category "
        f"{body([_STATUS])}",
        f"CREATE TRIGGER dashboard_boardfact_task_delete AFTER DELETE ON ledger_task FOR EACH ROW "
        f"{body([_TASK_GONE])}",
        f"CREATE TRIGGER dashboard_boardfact_unit_county AFTER UPDATE OF county_id ON orgs_unit "
        f"FOR EACH ROW WHEN NEW.county_id IS NOT OLD.county_id {body(_RECOUNTY)}",
    ]


_SQLITE_TRIGGERS = ("dashboard_boardfact_taskunit_insert_county", "dashboard_boardfact_taskunit_insert_lead",
                    "dashboard_boardfact_taskunit_delete", "dashboard_boardfact_taskunit_update",
                    "dashboard_boardfact_task_status", "dashboard_boardfact_task_delete",
                    "dashboard_boardfact_unit_county",
                    "dashboard_boardfact_taskunit_insert")  # the last: one insert trigger, before 0007


def _postgresql_statements() -> list[str]:
    def function(name: str, body: str) -> str:
        return (f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} "
                f"RETURN NULL; END $$")

    def block(statements: list[str]) -> str:
        return "".join(f"{s}; " for s in statements)

    return [
        # an INSERT (a COPY, an import's bulk_create) adds its rows' facts in one statement: a
        # row trigger per task unit added 0.5 s to a 10,000-row import
        function("dashboard_boardfact_taskunit_added", block(_insert_from("added"))),
        "CREATE TRIGGER dashboard_boardfact_taskunit_insert AFTER INSERT ON ledger_taskunit "
        "REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION dashboard_boardfact_taskunit_added()",
        function("dashboard_boardfact_taskunit",
                 f"IF TG_OP IN ('DELETE', 'UPDATE') THEN {block(_remove('OLD'))}END IF; "
                 f"IF TG_OP = 'UPDATE' THEN {block(_add('NEW'))}END IF;"),
        f"CREATE TRIGGER dashboard_boardfact_taskunit_delete AFTER DELETE ON ledger_taskunit FOR EACH ROW "
        f"WHEN ({_COUNTED.format(r='OLD')}) EXECUTE FUNCTION dashboard_boardfact_taskunit()",
        f"CREATE TRIGGER dashboard_boardfact_taskunit_update AFTER UPDATE OF task_id, unit_id, role "
        f"ON ledger_taskunit FOR EACH ROW WHEN ({_COUNTED.format(r='OLD')} OR {_COUNTED.format(r='NEW')}) "
        f"EXECUTE FUNCTION dashboard_boardfact_taskunit()",
        function("dashboard_boardfact_task_status", f"{_STATUS};"),
        "CREATE TRIGGER dashboard_boardfact_task_status AFTER UPDATE OF progress_status, category ON ledger_task "
        "FOR EACH ROW WHEN (NEW.progress_status IS DISTINCT FROM OLD.progress_status "
        "OR NEW.category IS DISTINCT FROM OLD.category) "
        "EXECUTE FUNCTION dashboard_boardfact_task_status()",
        function("dashboard_boardfact_task_delete", f"{_TASK_GONE};"),
        "CREATE TRIGGER dashboard_boardfact_task_delete AFTER DELETE ON ledger_task FOR EACH ROW "
        "EXECUTE FUNCTION dashboard_boardfact_task_delete()",
        function("dashboard_boardfact_unit_county", block(_RECOUNTY)),
        "CREATE TRIGGER dashboard_boardfact_unit_county AFTER UPDATE OF county_id ON orgs_unit FOR EACH ROW "
        "WHEN (NEW.county_id IS DISTINCT FROM OLD.county_id) EXECUTE FUNCTION dashboard_boardfact_unit_county()",
    ]


def create_triggers(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    for statement in _postgresql_statements() if vendor == "postgresql" else _sqlite_statements():
        schema_editor.execute(statement, params=None)


def drop_triggers(schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        triggers = {name: "ledger_taskunit" for name in ("dashboard_boardfact_taskunit_insert",
                                                         "dashboard_boardfact_taskunit_delete",
                                                         "dashboard_boardfact_taskunit_update")} | {
            "dashboard_boardfact_task_status": "ledger_task", "dashboard_boardfact_task_delete": "ledger_task",
            "dashboard_boardfact_unit_county": "orgs_unit"}
        for name, table in triggers.items():
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}", params=None)
        for name in ("dashboard_boardfact_taskunit_added", "dashboard_boardfact_taskunit", *list(triggers)[3:]):
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}()", params=None)
    else:
        for name in _SQLITE_TRIGGERS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}", params=None)


_FILL = ["DELETE FROM dashboard_boardfact", *_insert_from("ledger_taskunit")]


def fill_board_facts(schema_editor) -> None:
    """The facts' fill from the ledger (migration dashboard/0006, which gave them the task's category;
    ``rebuild`` fills the round tallies too)."""
    for statement in _FILL:
        schema_editor.execute(statement, params=None)


def rebuild(using: str = DEFAULT_DB_ALIAS) -> int:
    """Build the facts and the round tallies again from the ledger (``rectify reindex``; the
    migrations that add them). One transaction: readers see the old facts or the new, never a
    half-built table. Returns the number of facts."""
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        for statement in _FILL + _TALLY_FILL:
            cursor.execute(statement)
        cursor.execute("SELECT COUNT(*) FROM dashboard_boardfact")
        return cursor.fetchone()[0]


# --- round tallies (dashboard.RoundTally) ---------------------------------------------------------
#
# Snapshots are written in bulk when a round closes (supervision.services.snapshot_round), by
# bench/generate's bulk path, and go with their round or task. The statements are set-based over a
# source of (round_id, category, status) rows — the snapshots of a transition table on PostgreSQL
# (one statement per INSERT, whatever its size), the one row on SQLite, the table itself for a
# rebuild, a task's snapshots when its category changes — and take the tally rows in key order, so
# that two writers cannot lock them crosswise. The category is the task's as it stands (read from
# the task when a snapshot comes or goes, moved when the task's category changes), so that a
# leader's sectors (分管领域: whole categories) are answered by these rows; a task and its snapshots
# go together, the snapshots first (Django's cascade deletes them before the task). Each snapshot is
# counted twice: under its task's category and under the round's total (category ``''``), which
# the office that sees every task sums (48,000 rows of six months at 100,000 tasks took 25 ms;
# the totals are 7,000). A change of category moves nothing in the totals.

def _snapshots_of(source: str) -> str:
    """The (round_id, category, status) rows of the snapshots in ``source``."""
    return (f"(SELECT s.round_id AS round_id, t.category AS category, s.status AS status "
            f"FROM {source} s JOIN ledger_task t ON t.id = s.task_id)")


def _with_totals(source: str) -> str:
    """``source``'s rows, and each again under the round's total (category ``''``)."""
    return f"(SELECT * FROM {source} AS one UNION ALL SELECT round_id, '', status FROM {source} AS whole)"


def _tally_add(source: str) -> str:
    return ("INSERT INTO dashboard_roundtally (round_id, category, status, n) "
            f"SELECT round_id, category, status, COUNT(*) FROM {source} AS src WHERE true "
            "GROUP BY round_id, category, status ORDER BY round_id, category, status "
            "ON CONFLICT (round_id, category, status) DO UPDATE SET n = dashboard_roundtally.n + excluded.n")


def _tally_remove(source: str) -> list[str]:
    return [
        "UPDATE dashboard_roundtally SET n = dashboard_roundtally.n - gone.k "
        f"FROM (SELECT round_id, category, status, COUNT(*) AS k FROM {source} AS src "
        "GROUP BY round_id, category, status ORDER BY round_id, category, status) AS gone "
        "WHERE dashboard_roundtally.round_id = gone.round_id AND dashboard_roundtally.category = gone.category "
        "AND dashboard_roundtally.status = gone.status",
        f"DELETE FROM dashboard_roundtally WHERE round_id IN (SELECT round_id FROM {source} AS src) AND n <= 0",
    ]


def _tally_row(r: str) -> str:
    """Snapshot row ``r`` (NEW or OLD of a SQLite row trigger) with its task's category."""
    return (f"(SELECT {r}.round_id AS round_id, (SELECT category FROM ledger_task WHERE id = {r}.task_id) "
            f"AS category, {r}.status AS status)")


def _recategorised(r: str) -> str:
    """The snapshots of task ``r`` (OLD or NEW of a change of its category) under ``r``'s category."""
    return (f"(SELECT round_id, {r}.category AS category, status FROM supervision_statussnapshot "
            f"WHERE task_id = {r}.id)")


# a task's snapshots move from its old category's tallies to its new one's
_RECATEGORISE = [*_tally_remove(_recategorised("OLD")), _tally_add(_recategorised("NEW"))]
_TALLY_FILL = ["DELETE FROM dashboard_roundtally",
               _tally_add(_with_totals(_snapshots_of("supervision_statussnapshot")))]
_TALLY_SQLITE_TRIGGERS = ("dashboard_roundtally_insert", "dashboard_roundtally_delete", "dashboard_roundtally_update",
                          "dashboard_roundtally_category")
_TALLY_FUNCTIONS = ("dashboard_roundtally_added", "dashboard_roundtally_removed", "dashboard_roundtally_changed",
                    "dashboard_roundtally_category")


def _tally_sqlite_statements() -> list[str]:
    def body(statements: list[str]) -> str:
        return "BEGIN " + "".join(f"{s}; " for s in statements) + "END"

    table = "supervision_statussnapshot"
    return [
        f"CREATE TRIGGER dashboard_roundtally_insert AFTER INSERT ON {table} FOR EACH ROW "
        f"{body([_tally_add(_with_totals(_tally_row('NEW')))])}",
        f"CREATE TRIGGER dashboard_roundtally_delete AFTER DELETE ON {table} FOR EACH ROW "
        f"{body(_tally_remove(_with_totals(_tally_row('OLD'))))}",
        f"CREATE TRIGGER dashboard_roundtally_update AFTER UPDATE OF round_id, task_id, status ON {table} "
        f"FOR EACH ROW WHEN NEW.round_id IS NOT OLD.round_id OR NEW.task_id IS NOT OLD.task_id "
        f"OR NEW.status IS NOT OLD.status "
        f"{body(_tally_remove(_with_totals(_tally_row('OLD'))) + [_tally_add(_with_totals(_tally_row('NEW')))])}",
        "CREATE TRIGGER dashboard_roundtally_category AFTER UPDATE OF category ON ledger_task FOR EACH ROW "
        f"WHEN NEW.category IS NOT OLD.category {body(_RECATEGORISE)}",
    ]


def _tally_postgresql_statements() -> list[str]:
    def function(name: str, statements: list[str]) -> str:
        body = "".join(f"{s}; " for s in statements)
        return f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body}RETURN NULL; END $$"

    # statement-level, over transition tables (PostgreSQL allows no column list with them, so the
    # update trigger fires for any update of a snapshot; nothing in the product updates one); a
    # change of a task's category is a row trigger, rare and narrow
    return [
        function("dashboard_roundtally_added", [_tally_add(_with_totals(_snapshots_of("added")))]),
        function("dashboard_roundtally_removed", _tally_remove(_with_totals(_snapshots_of("removed")))),
        function("dashboard_roundtally_changed", [*_tally_remove(_with_totals(_snapshots_of("removed"))),
                                                  _tally_add(_with_totals(_snapshots_of("added")))]),
        function("dashboard_roundtally_category", _RECATEGORISE),
        "CREATE TRIGGER dashboard_roundtally_insert AFTER INSERT ON supervision_statussnapshot "
        "REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION dashboard_roundtally_added()",
        "CREATE TRIGGER dashboard_roundtally_delete AFTER DELETE ON supervision_statussnapshot "
        "REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION dashboard_roundtally_removed()",
        "CREATE TRIGGER dashboard_roundtally_update AFTER UPDATE ON supervision_statussnapshot "
        "REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT "
        "EXECUTE FUNCTION dashboard_roundtally_changed()",
        "CREATE TRIGGER dashboard_roundtally_category AFTER UPDATE OF category ON ledger_task FOR EACH ROW "
        "WHEN (NEW.category IS DISTINCT FROM OLD.category) EXECUTE FUNCTION dashboard_roundtally_category()",
    ]


def create_tally_triggers(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    for statement in _tally_postgresql_statements() if vendor == "postgresql" else _tally_sqlite_statements():
        schema_editor.execute(statement, params=None)
    for statement in _TALLY_FILL:
        schema_editor.execute(statement, params=None)


def drop_tally_triggers(schema_editor) -> None:
    postgres = schema_editor.connection.vendor == "postgresql"
    for name in _TALLY_SQLITE_TRIGGERS:
        table = "ledger_task" if name == "dashboard_roundtally_category" else "supervision_statussnapshot"
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}{' ON ' + table if postgres else ''}", params=None)
    if postgres:
        for name in _TALLY_FUNCTIONS:
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}()", params=None)
