#!/usr/bin/env python3
"""Security drills for issue 15's closing note: audit-chain tampering and kill -9 (SQLite or PostgreSQL).

    nice -n 10 .venv/bin/python bench/drills.py                     # defaults: 1,000 tamperings, 20 kills × 3
    nice -n 10 .venv/bin/python bench/drills.py --quick             # smoke run: 50 tamperings, 2 kills × 3, 1,000 rows
    nice -n 10 .venv/bin/python bench/drills.py --database-url postgres://postgres@127.0.0.1:5432/rectify_drills

The world is the demo (`rectify demo`) built once into a throwaway data directory (or into the
empty PostgreSQL database named by ``--database-url``, which the drill owns: it creates and drops
``<name>_*`` databases beside it). Every tampering and every kill works on a fresh copy: the
SQLite file (and the data directory: keys, head log, evidence files) copied, or on PostgreSQL a
rolled-back transaction (random tamperings) or a ``CREATE DATABASE … TEMPLATE`` copy.

1. Tamper drill. ``--tamper`` random single tamperings of ``core_event`` through raw SQL (the
   PostgreSQL append-only trigger bypassed as a superuser would, ``session_replication_role =
   replica``): edit a random field of a random event, delete a random event, swap two events' seq,
   truncate the tail, forward rehash after an edit with plain SM3 (no key). Each is verified with
   ``verify_chain(head=logged_head())`` in-process — what ``rectify verify`` runs — and a sample
   (``--cli-sample``) also through the ``rectify verify`` command. Then the targeted cases, each
   through the command: wipe, truncate back to a published head, truncate before a published
   head, forward rehash (plain SM3 and HMAC under a guessed key), forged event appended after a
   published head. Any undetected tampering makes the exit status 1.
2. kill -9 drill. ``--kills`` SIGKILLs each during (a) ``rectify import --commit`` of a
   ``--rows`` workbook, (b) a report submission with three photos through the dispatch services
   in a child process (``attach_evidence`` ×3, then ``transition(submit)``), (c) ``rectify tick``
   opening a round. The delay is uniform within the duration of an unkilled run measured first
   (``--after-startup``: within [start-up, duration], start-up being a ``rectify head`` run, so
   that the kills land where the process can be writing rather than importing Python).
   After each kill: consistency by raw SQL (import: 0 or all rows and measures, one
   ``task_created`` event per task; report: one ``evidence_attached`` event per evidence row,
   submitted status iff its event; tick: a round iff its ``round_opened`` event, all its slots or
   none), ``rectify verify`` (chain against the head log) and ``rectify verify --files`` (every
   evidence file present, digest equal to its name). Inconsistent states make the exit status 1.

Progress goes to stderr, the figures to stdout. Time on the 2-core machine with the defaults: see
docs/security-drills.md.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DB_FILE = "rectify.sqlite3"
CAMPAIGN = "ZY2-2021"  # the demo's campaign; the import adds G-00001… to it
OFFICE_ADMIN = "admin"
REPORTER, REPORTER_UNIT = "lingling", "零陵区"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- databases: a base world and fresh copies of it ------------------------------------------------


class Store:
    """The base world and its copies, on SQLite (files) or PostgreSQL (template databases)."""

    def __init__(self, work: Path, url: str | None):
        self.work, self.url = work, url
        if url:
            from urllib.parse import urlparse

            parsed = urlparse(url)
            self.pg_name = parsed.path.lstrip("/")
            self.pg_admin = parsed._replace(path="/postgres").geturl()
            self.pg_prefix = url[: url.rindex("/") + 1]

    @property
    def pg(self) -> bool:
        return bool(self.url)

    def db_of(self, name: str) -> str:
        """The DATABASE_URL of copy ``name`` (its data directory is work/name)."""
        if self.pg:
            return self.pg_prefix + (self.pg_name if name == "base" else f"{self.pg_name}_{name}")
        return f"sqlite:///{self.work / name / DB_FILE}"

    def env(self, name: str) -> dict:
        return {**os.environ, "RECTIFY_DATA_DIR": str(self.work / name), "DATABASE_URL": self.db_of(name),
                "PYTHONPATH": str(ROOT)}

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.pg_admin, autocommit=True) as conn:
            conn.execute(sql)

    def drop(self, name: str) -> None:
        shutil.rmtree(self.work / name, ignore_errors=True)
        if self.pg and name != "base":
            self._admin(f'DROP DATABASE IF EXISTS "{self.pg_name}_{name}" WITH (FORCE)')

    def clone(self, source: str, name: str) -> None:
        """A fresh copy ``name`` of ``source`` (data directory and database)."""
        self.drop(name)
        shutil.copytree(self.work / source, self.work / name, symlinks=True)
        if self.pg:
            src = self.pg_name if source == "base" else f"{self.pg_name}_{source}"
            self._admin(f'CREATE DATABASE "{self.pg_name}_{name}" TEMPLATE "{src}"')

    def raw(self, name: str):
        """A raw DB-API connection to copy ``name`` (autocommit off)."""
        if self.pg:
            import psycopg

            return psycopg.connect(self.db_of(name))
        return sqlite3.connect(self.work / name / DB_FILE, timeout=60)

    def scalar(self, name: str, sql: str, params: tuple = ()) -> Any:
        conn = self.raw(name)
        try:
            cur = conn.cursor()
            cur.execute(sql if not self.pg else sql.replace("%", "%%").replace("?", "%s"), params)
            return cur.fetchone()[0]
        finally:
            conn.close()

    def settle(self, name: str) -> None:
        """Fold SQLite's WAL into the file, so that copying the file copies everything."""
        if not self.pg:
            conn = sqlite3.connect(self.work / name / DB_FILE)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()


def cli(store: Store, name: str, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rectify.cli", *args], cwd=ROOT, env=store.env(name),
                          capture_output=True, text=True, timeout=timeout)


def build_base(store: Store) -> None:
    (store.work / "base").mkdir(parents=True, exist_ok=True)
    if not store.pg and (store.work / "base" / DB_FILE).exists():
        log("reusing the demo in --work-dir")  # a --work-dir kept from an earlier run
        return
    if store.pg:
        present = store.scalar("base", "SELECT count(*) FROM pg_tables WHERE tablename = 'core_event'")
        if present and (store.work / "base" / "chain_key").exists():
            log("reusing the demo in the database and --work-dir")
            return
        if present and store.scalar("base", "SELECT count(*) FROM core_event"):
            raise SystemExit(f"{store.url} already holds events: give the drill an empty database of its own")
    started = time.monotonic()
    done = cli(store, "base", "demo")
    if done.returncode:
        raise SystemExit("rectify demo failed:\n" + done.stdout[-2000:] + done.stderr[-2000:])
    store.settle("base")
    log(f"demo built in {time.monotonic() - started:.0f} s")


# --- 1. the tamper drill ------------------------------------------------------------------------------


def django_on(store: Store, name: str) -> None:
    os.environ.update({"RECTIFY_DATA_DIR": str(store.work / name), "DATABASE_URL": store.db_of(name),
                       "DJANGO_SETTINGS_MODULE": "rectify.settings"})
    import django

    django.setup()


def bypass(cursor, pg: bool) -> None:
    if pg:  # the append-only trigger stops the application; a superuser turns triggers off
        cursor.execute("SET LOCAL session_replication_role = replica")


def q(sql: str, pg: bool) -> str:
    return sql.replace("?", "%s") if pg else sql


def plain_sm3_digest(fields: dict, *, key: bytes | None = None) -> str:
    """What an attacker without the chain key can compute: the canonical text hashed with plain SM3
    (or HMAC-SM3 under a key of their own)."""
    from rectify.core.audit import HASHED_FIELDS, _canonical_time
    from rectify.core.sm3 import sm3_hex, sm3_hmac

    payload = {name: fields[name] for name in HASHED_FIELDS}
    payload["created_at"] = _canonical_time(payload["created_at"])
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return sm3_hmac(key, text).hex() if key else sm3_hex(text)


def rehash_forward(cursor, pg: bool, from_seq: int, *, key: bytes | None = None) -> None:
    """Recompute every link from ``from_seq`` on without the chain key (reads through the ORM on the
    same connection, writes raw)."""
    from rectify.core.audit import HASHED_FIELDS
    from rectify.core.models import Event

    prev = Event.objects.filter(seq__lt=from_seq).order_by("-seq").values_list("hash", flat=True).first() or "0" * 64
    rows = list(Event.objects.filter(seq__gte=from_seq).order_by("seq").values("id", *HASHED_FIELDS))
    for row in rows:
        row["prev_hash"] = prev
        prev = plain_sm3_digest(row, key=key)
        cursor.execute(q("UPDATE core_event SET prev_hash = ?, hash = ? WHERE id = ?", pg), (row["prev_hash"], prev, row["id"]))


EDITABLE = ("created_at", "actor_id", "actor_name", "unit_id", "unit_name", "action", "object_type", "object_id",
            "object_label", "summary", "before", "after", "ip", "success", "prev_hash", "hash", "seq")


def edit_field(cursor, pg: bool, rng: random.Random, event: dict, field: str) -> str:
    value = event[field]
    if field == "created_at":
        if pg:
            cursor.execute("UPDATE core_event SET created_at = created_at + interval '1 microsecond' WHERE id = %s", (event["id"],))
        else:
            import datetime as dt

            when = value.astimezone(dt.UTC).replace(tzinfo=None) + dt.timedelta(microseconds=1)
            cursor.execute("UPDATE core_event SET created_at = ? WHERE id = ?",
                           (when.isoformat(sep=" ", timespec="microseconds"), event["id"]))
        return "created_at +1 µs"
    if field in ("actor_id", "unit_id"):
        new = None if value is not None else 1
    elif field == "seq":
        new = value + 1_000_000
    elif field == "success":
        new = not bool(value)
    elif field in ("before", "after"):
        old = value if not isinstance(value, str) else json.loads(value)
        new_obj = {"tampered": rng.randint(1, 9)} if not isinstance(old, dict) else {**old, "tampered": 1}
        new = json.dumps(new_obj, ensure_ascii=False)
        cursor.execute(q(f'UPDATE core_event SET "{field}" = ?{"::jsonb" if pg else ""} WHERE id = ?', pg), (new, event["id"]))
        return f"{field} → {new[:40]}"
    elif field in ("prev_hash", "hash"):
        i = rng.randrange(64)
        new = value[:i] + ("0" if value[i] != "0" else "1") + value[i + 1:]
    else:
        text = str(value)
        new = (text[:-1] + ("改" if text[-1:] != "改" else "动")) if text else "改"
        if field == "ip":
            new = "10.0.0.1" if text != "10.0.0.1" else "10.0.0.2"
    cursor.execute(q(f'UPDATE core_event SET "{field}" = ? WHERE id = ?', pg), (new, event["id"]))
    return f"{field} changed"


def random_tamper(cursor, pg: bool, rng: random.Random, events: list[dict]) -> tuple[str, str]:
    """Apply one random tampering; returns (kind, detail)."""
    kind = rng.choice(["edit", "delete", "swap", "truncate", "rehash"])
    n = len(events)
    if kind == "edit":
        event, field = rng.choice(events), rng.choice(EDITABLE)
        return kind, f"#{event['seq']} " + edit_field(cursor, pg, rng, event, field)
    if kind == "delete":
        event = rng.choice(events)
        cursor.execute(q("DELETE FROM core_event WHERE id = ?", pg), (event["id"],))
        return kind, f"#{event['seq']}"
    if kind == "swap":
        a, b = rng.sample(events, 2)
        cursor.execute(q("UPDATE core_event SET seq = ? WHERE id = ?", pg), (-1, a["id"]))
        cursor.execute(q("UPDATE core_event SET seq = ? WHERE id = ?", pg), (a["seq"], b["id"]))
        cursor.execute(q("UPDATE core_event SET seq = ? WHERE id = ?", pg), (b["seq"], a["id"]))
        return kind, f"#{a['seq']} ↔ #{b['seq']}"
    if kind == "truncate":
        keep = rng.randrange(n)  # 0 … n-1 events left
        cursor.execute(q("DELETE FROM core_event WHERE seq > ?", pg), (keep,))
        return kind, f"cut after #{keep}"
    event = rng.choice(events)
    edit_field(cursor, pg, rng, event, "summary")
    rehash_forward(cursor, pg, event["seq"])
    return kind, f"#{event['seq']} summary edited, rehashed forward with plain SM3"


def tamper_drill(store: Store, args, rng: random.Random) -> tuple[list[tuple], list[tuple], bool]:
    pg = store.pg
    store.clone("base", "tamper")
    django_on(store, "tamper")
    from django.db import connection, transaction

    from rectify.core.audit import logged_head, verify_chain
    from rectify.core.models import Event

    work_db = store.work / "tamper" / DB_FILE
    base_db = store.work / "base" / DB_FILE
    assert verify_chain(head=logged_head()).ok, "the untampered copy must verify"
    events = list(Event.objects.order_by("seq").values("id", "seq", *EDITABLE[:-1]))
    counts: dict[str, list[int]] = {}
    missed: list[str] = []
    cli_checked = cli_agreed = 0
    sample_every = max(1, args.tamper // max(1, args.cli_sample)) if args.cli_sample else 0
    started = time.monotonic()

    def fresh_sqlite() -> None:
        connection.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{work_db}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(base_db, work_db)

    for i in range(args.tamper):
        if not pg:
            fresh_sqlite()
        with transaction.atomic():
            with connection.cursor() as cursor:
                bypass(cursor, pg)
                kind, detail = random_tamper(cursor, pg, rng, events)
            result = verify_chain(head=logged_head())
            if pg:
                transaction.set_rollback(True)
        detected = not result.ok
        if not pg and sample_every and i % sample_every == 0:  # the command on the same tampered file
            connection.close()
            done = cli(store, "tamper", "verify")
            cli_checked += 1
            cli_agreed += (done.returncode != 0) == detected
        counts.setdefault(kind, [0, 0])[0 if detected else 1] += 1
        if not detected:
            missed.append(f"{kind}: {detail}")
        if (i + 1) % 100 == 0:
            log(f"tamper {i + 1}/{args.tamper}: {sum(v[1] for v in counts.values())} undetected")
    took = time.monotonic() - started
    rows = [(kind, v[0] + v[1], v[0], v[1]) for kind, v in sorted(counts.items())]
    rows.append(("all", args.tamper, sum(r[2] for r in rows), sum(r[3] for r in rows)))
    for line in missed[:20]:
        log("UNDETECTED " + line)
    notes = [f"{took:.1f} s, {args.tamper / took:.0f} tamperings/s"]
    if cli_checked:
        notes.append(f"`rectify verify` on {cli_checked} of them agreed {cli_agreed}/{cli_checked}")
    connection.close()
    targeted = targeted_cases(store, rng)
    ok = not missed and cli_agreed == cli_checked and all(r[2] for r in targeted)
    return rows + [("note", "; ".join(notes), "", "")], targeted, ok


def targeted_cases(store: Store, rng: random.Random) -> list[tuple]:
    """Each case on a fresh copy, through the command. Returns (case, command, detected, output)."""
    from django.db import connection, transaction

    from rectify.core.audit import chain_head, record_event

    pg = store.pg
    results = []

    def case(label: str, apply, *, verify_args: tuple = (), drop_log: bool = False, expect_seq: int | None = None,
             after_publish: int = 0) -> None:
        connection.close()
        store.clone("base", "target")
        os.environ["RECTIFY_DATA_DIR"] = str(store.work / "target")
        from django.conf import settings

        settings.DATABASES["default"]["NAME"] = (str(store.work / "target" / DB_FILE) if not pg
                                                 else f"{store.pg_name}_target")
        settings.AUDIT_HEAD_LOG = str(store.work / "target" / "audit-heads.log")
        connection.settings_dict["NAME"] = settings.DATABASES["default"]["NAME"]
        published = chain_head()
        for i in range(after_publish):  # the application goes on writing after the head was published
            with transaction.atomic():
                record_event(action="drill_event", object_type="drill", object_id=i, summary=f"发布链头之后的第 {i + 1} 条")
        with transaction.atomic():
            with connection.cursor() as cursor:
                bypass(cursor, pg)
                apply(cursor, published)
        connection.close()
        if drop_log:
            (store.work / "target" / "audit-heads.log").unlink(missing_ok=True)
        extra = tuple(a.format(head=f"{published[0]}:{published[1]}") for a in verify_args)
        done = cli(store, "target", "verify", *extra)
        out = (done.stdout + done.stderr).strip().replace("\n", " ")
        named = expect_seq is None or f"#{expect_seq}" in out
        results.append((label, ("rectify verify " + " ".join(verify_args).replace("{head}", "N:HASH")).strip(),
                        done.returncode != 0 and named, out[:160]))
        log(f"{label}: {'detected' if done.returncode else 'NOT DETECTED'} — {out[:120]}")

    def wipe(cursor, published):
        cursor.execute("DELETE FROM core_event")

    case("wipe all events (head log present)", wipe)
    case("wipe all events (head log gone, published head given)", wipe, verify_args=("--head", "{head}"), drop_log=True)

    def cut_to_published(cursor, published):
        cursor.execute(q("DELETE FROM core_event WHERE seq > ?", pg), (published[0],))

    case("truncate back to the published head (5 events written after it; head log holds them)", cut_to_published,
         after_publish=5)

    def cut_before(cursor, published):
        cursor.execute(q("DELETE FROM core_event WHERE seq > ?", pg), (published[0] - 10,))

    case("truncate 10 events before the published head (head log gone, published head given)", cut_before,
         verify_args=("--head", "{head}"), drop_log=True)

    k = 100

    def rehash(key):
        def apply(cursor, published):
            cursor.execute(q("UPDATE core_event SET summary = summary || '（已改）' WHERE seq = ?", pg), (k,))
            rehash_forward(cursor, pg, k, key=key)
        return apply

    case(f"edit #{k}, forward rehash with plain SM3 (head log present)", rehash(None), expect_seq=k)
    case(f"edit #{k}, forward rehash with plain SM3 (no head log, no published head)", rehash(None), drop_log=True,
         expect_seq=k)
    case(f"edit #{k}, forward rehash with HMAC-SM3 under a guessed key (no head log)", rehash(os.urandom(32)),
         drop_log=True, expect_seq=k)

    def forged(key):
        def apply(cursor, published):
            import datetime as dt

            from django.utils import timezone

            seq, prev = published
            fields = {"seq": seq + 1, "created_at": timezone.now(), "actor_id": None, "actor_name": "admin",
                      "unit_id": None, "unit_name": "", "action": "task_closed", "object_type": "ledger.task",
                      "object_id": "1", "object_label": "伪造", "summary": "伪造的销号事件", "before": None,
                      "after": {"status": "closed"}, "ip": "", "success": True, "prev_hash": prev}
            digest = plain_sm3_digest(fields, key=key)
            when = fields["created_at"].astimezone(dt.UTC)
            cursor.execute(q('INSERT INTO core_event (seq, created_at, actor_id, actor_name, unit_id, unit_name, action, '
                             'object_type, object_id, object_label, summary, "before", "after", ip, success, prev_hash, hash) '
                             f'VALUES (?, ?, NULL, ?, NULL, ?, ?, ?, ?, ?, ?, NULL, ?{"::jsonb" if pg else ""}, ?, ?, ?, ?)', pg),
                           (seq + 1, when if pg else when.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds"),
                            "admin", "", "task_closed", "ledger.task", "1", "伪造", "伪造的销号事件",
                            json.dumps({"status": "closed"}), "", True, prev, digest))
        return apply

    case("forged event appended after the published head, plain SM3 (verified against the published head)",
         forged(None), verify_args=("--head", "{head}"), expect_seq=None)
    case("forged event appended after the published head, HMAC under a guessed key (no head log)", forged(os.urandom(32)),
         drop_log=True)
    store.drop("target")
    return results


# --- 2. the kill -9 drill -------------------------------------------------------------------------------


def child_report() -> int:
    """Run in a child process: three photos attached to the reporter's open report, then submitted."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rectify.settings")
    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from rectify.dispatch import services
    from rectify.dispatch.models import ProgressReport
    from rectify.orgs.models import User

    user = User.objects.get(username=REPORTER)
    report = ProgressReport.objects.get(pk=int(sys.argv[2]))
    for i in range(3):
        out = io.BytesIO()
        Image.frombytes("RGB", (320, 240), os.urandom(320 * 240 * 3)).save(out, "PNG")
        services.attach_evidence(actor=user, report=report, name=f"现场照片{i + 1}.png",
                                 fileobj=SimpleUploadedFile(f"现场照片{i + 1}.png", out.getvalue(), "image/png"))
    report.refresh_from_db()
    services.transition(actor=user, report=report, action="submit", expected_version=report.version,
                        changes={"progress_text": "已完成管网排查并开工建设。", "percent": 60})
    print("submitted")
    return 0


def verify_state(store: Store, name: str) -> tuple[bool, bool, str]:
    """(chain valid, digests match, notes) through `rectify verify --files` (the chain first, then the files)."""
    files = cli(store, name, "verify", "--files")
    chain_ok = files.stdout.startswith("OK: ")
    last = [line for line in files.stdout.splitlines() if "evidence files checked" in line]
    stray = sum(1 for line in files.stdout.splitlines() if line.startswith("FILE") and ("stray" in line or "orphan" in line))
    note = (last[-1] if last else files.stdout[-200:]) + (f"; {stray} file(s) without a row" if stray else "")
    return chain_ok, bool(last) and last[-1].startswith("OK"), note


def check_import(store: Store, name: str, args) -> tuple[bool, str]:
    tasks = store.scalar(name, "SELECT count(*) FROM ledger_task WHERE code LIKE 'G-%'")
    measures = store.scalar(name, "SELECT count(*) FROM ledger_measure m JOIN ledger_task t ON t.id = m.task_id "
                                  "WHERE t.code LIKE 'G-%'")
    all_tasks = store.scalar(name, "SELECT count(*) FROM ledger_task")
    created = store.scalar(name, "SELECT count(*) FROM core_event WHERE action = 'task_created'")
    ok = tasks in (0, args.rows) and measures in (0, 3 * args.rows) and all_tasks == created
    return ok, f"{'all' if tasks else 'none'}: ({tasks} rows, {measures} measures, {created} task_created for {all_tasks} tasks)"


def check_report(store: Store, name: str, args) -> tuple[bool, str]:
    rows = store.scalar(name, "SELECT count(*) FROM dispatch_evidence")
    attached = store.scalar(name, "SELECT count(*) FROM core_event WHERE action = 'evidence_attached'")
    status = store.scalar(name, "SELECT status FROM dispatch_progressreport WHERE id = ?", (args.report_id,))
    submits = store.scalar(name, "SELECT count(*) FROM core_event WHERE action = 'report_submit'")
    submitted = status != "pending"
    ok = rows == attached and rows <= 3 and (submits == args.base_submits + submitted) and (not submitted or rows == 3)
    return ok, f"{rows} files{', submitted' if submitted else ''}: {rows} evidence rows/{attached} events, status {status}"


def check_tick(store: Store, name: str, args) -> tuple[bool, str]:
    rounds = store.scalar(name, "SELECT count(*) FROM dispatch_dispatchround")
    opened = store.scalar(name, "SELECT count(*) FROM core_event WHERE action = 'round_opened'")
    slots = store.scalar(name, "SELECT count(*) FROM dispatch_progressreport r JOIN dispatch_dispatchround d "
                               "ON d.id = r.round_id WHERE d.status = 'open'")
    ok = rounds - args.base_rounds == opened - args.base_opened and slots in (0, args.tick_slots)
    return ok, f"{'round opened' if rounds - args.base_rounds else 'nothing'}: {rounds - args.base_rounds} round(s) opened, {slots} slots"


def kill_drill(store: Store, args, rng: random.Random) -> tuple[list[tuple], bool]:
    # bases: the demo (import, tick) and the demo after one tick, with the month's round open (report)
    log(f"writing a {args.rows}-row workbook")
    done = subprocess.run([sys.executable, "-c", "import sys; from tests.excel_helpers import office_workbook, generated_rows; "
                           f"open(sys.argv[1], 'wb').write(office_workbook(generated_rows({args.rows}, "
                           f"units=['{REPORTER_UNIT}', '祁阳市'])))", str(store.work / "ledger.xlsx")],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    args.base_rounds = store.scalar("base", "SELECT count(*) FROM dispatch_dispatchround")
    args.base_opened = store.scalar("base", "SELECT count(*) FROM core_event WHERE action = 'round_opened'")
    store.clone("base", "open")
    done = cli(store, "open", "tick")
    assert done.returncode == 0, done.stderr
    store.settle("open")
    args.tick_slots = store.scalar("open", "SELECT count(*) FROM dispatch_progressreport r JOIN dispatch_dispatchround d "
                                           "ON d.id = r.round_id WHERE d.status = 'open'")
    args.report_id = store.scalar(
        "open", "SELECT r.id FROM dispatch_progressreport r JOIN dispatch_dispatchround d ON d.id = r.round_id "
                "JOIN orgs_unit u ON u.id = r.unit_id WHERE d.status = 'open' AND r.status = 'pending' AND u.name = ? "
                "ORDER BY r.id LIMIT 1", (REPORTER_UNIT,))
    args.base_submits = store.scalar("open", "SELECT count(*) FROM core_event WHERE action = 'report_submit'")
    scenarios = [
        (f"import of {args.rows} rows (`rectify import --commit`)", "base",
         [sys.executable, "-m", "rectify.cli", "import", str(store.work / "ledger.xlsx"), "--campaign", CAMPAIGN,
          "--user", OFFICE_ADMIN, "--commit"], check_import),
        ("report submission with 3 photos (dispatch services, child process)", "open",
         [sys.executable, str(Path(__file__).resolve()), "child-report", str(args.report_id)], check_report),
        ("`rectify tick` (opens the month's round)", "base", [sys.executable, "-m", "rectify.cli", "tick"], check_tick),
    ]
    table = []
    all_ok = True
    for label, base, command, check in scenarios:
        # an unkilled run first: its duration bounds the random delays, and its end state must check
        store.clone(base, "kill")
        started = time.monotonic()
        done = subprocess.run(command, cwd=ROOT, env=store.env("kill"), capture_output=True, text=True, timeout=1800)
        duration = time.monotonic() - started
        assert done.returncode == 0, f"{label}: unkilled run failed:\n{done.stdout[-1500:]}{done.stderr[-1500:]}"
        consistent, detail = check(store, "kill", args)
        chain, files, note = verify_state(store, "kill")
        assert consistent and chain and files, f"{label}: the unkilled run does not check: {detail}; {note}"
        log(f"{label}: unkilled run {duration:.1f} s, {detail}")
        startup = 0.0
        if args.after_startup:  # the time a process takes to set Django up and read: no write happens before it
            started = time.monotonic()
            cli(store, "kill", "head")
            startup = min(time.monotonic() - started, duration * 0.9)
            log(f"  start-up (`rectify head`) {startup:.1f} s: kills fall between it and the end")
        counts = {"kills": 0, "consistent": 0, "chain": 0, "files": 0, "early": 0}
        strays = 0
        outcomes: dict[str, int] = {}
        for k in range(args.kills):
            store.clone(base, "kill")
            delay = rng.uniform(startup, duration)
            child = subprocess.Popen(command, cwd=ROOT, env=store.env("kill"), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
            time.sleep(delay)
            if child.poll() is None:
                os.kill(child.pid, signal.SIGKILL)
                counts["kills"] += 1
            else:
                counts["early"] += 1  # finished before the delay ran out (this run was faster)
            child.wait()
            consistent, detail = check(store, "kill", args)
            chain, files, note = verify_state(store, "kill")
            strays += "without a row" in note
            outcome = detail.split(":")[0]
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            counts["consistent"] += consistent
            counts["chain"] += chain
            counts["files"] += files
            log(f"  kill {k + 1}/{args.kills} at {delay:.1f} s: {'consistent' if consistent else 'INCONSISTENT'}, "
                f"chain {'valid' if chain else 'BROKEN'}, files {'ok' if files else 'BROKEN'} — {detail}; {note}")
            all_ok &= consistent and chain and files
        table.append((label, f"{duration:.1f} s" + (f" (kills after {startup:.1f} s)" if startup else ""), args.kills, counts["kills"], counts["consistent"], counts["chain"],
                      counts["files"], strays, ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))))
    store.drop("kill")
    store.drop("open")
    return table, all_ok


# --- output ------------------------------------------------------------------------------------------


def print_table(title: str, header: tuple, rows: list[tuple]) -> None:
    print(f"\n## {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "child-report":
        return child_report()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tamper", type=int, default=1000, help="random tamperings (1,000)")
    parser.add_argument("--kills", type=int, default=20, help="kills per scenario (20)")
    parser.add_argument("--rows", type=int, default=10_000, help="rows of the imported workbook (10,000)")
    parser.add_argument("--cli-sample", type=int, default=20, help="random tamperings also checked by `rectify verify` (SQLite)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 50 tamperings, 2 kills, 1,000 rows, 5 CLI checks")
    parser.add_argument("--only", default="tamper,kill", help="tamper, kill or both")
    parser.add_argument("--after-startup", action="store_true",
                        help="kill drill: delays drawn after the measured start-up of a process (no write can happen before it)")
    parser.add_argument("--seed", type=int, default=20261130)
    parser.add_argument("--database-url", default="", help="an empty PostgreSQL database of the drill's own")
    parser.add_argument("--work-dir", default="", help="where the data directories go (default: a new temporary one)")
    args = parser.parse_args()
    if args.quick:
        args.tamper, args.kills, args.rows, args.cli_sample = min(args.tamper, 50), min(args.kills, 2), \
            min(args.rows, 1000), min(args.cli_sample, 5)
    url = args.database_url or ""
    if url.startswith("sqlite"):
        url = ""
    work = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="rectify-drills-"))
    store = Store(work, url or None)
    rng = random.Random(args.seed)
    started = time.monotonic()
    log(f"work directory {work}; database {'PostgreSQL ' + url if url else 'SQLite'}")
    build_base(store)
    ok = True
    only = set(args.only.split(","))
    results: dict[str, Any] = {}
    if "kill" in only:  # before the tamper drill: that one sets Django up in this process on its copy
        results["kill"] = kill_drill(store, args, rng)
        ok &= results["kill"][1]
    if "tamper" in only:
        results["tamper"] = tamper_drill(store, args, rng)
        ok &= results["tamper"][2]
    took = time.monotonic() - started
    print(f"# Security drills — {'PostgreSQL' if url else 'SQLite'}\n")
    print("command: `" + " ".join([Path(sys.executable).name, *sys.argv]) + "`")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; total {took / 60:.1f} min")
    if "tamper" in results:
        rows, targeted, _ = results["tamper"]
        print_table("Tamper drill: random single tamperings (each on a fresh copy)",
                    ("kind", "tamperings", "detected", "undetected"), rows)
        print_table("Tamper drill: targeted cases (`rectify verify` on a fresh copy each)",
                    ("case", "command", "detected", "output"), [(a, f"`{b}`", "yes" if c else "**NO**", d) for a, b, c, d in targeted])
    if "kill" in results:
        print_table("kill -9 drill", ("scenario", "unkilled run", "runs", "killed while running", "consistent", "chain valid",
                                      "digests match", "left a file without a row", "state found after the kill"), results["kill"][0])
    print(f"\nresult: {'every tampering detected, every killed state consistent' if ok else 'FAILURES above'}")
    if not args.work_dir:
        for name in ("tamper", "base"):
            store.drop(name)
        shutil.rmtree(work, ignore_errors=True)
    if url:
        store.drop("tamper")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
