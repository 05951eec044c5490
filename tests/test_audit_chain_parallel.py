"""`rectify verify` on a long chain walks id ranges in parallel processes and joins what they found:
for every tampering its verdict (ok, count, message, first broken seq) is the one walk's from genesis.

The split and the join are exercised in this process (``processes=False``: the test database is
in-memory SQLite or an uncommitted transaction, which forked children could not see), cut in 2, 3
and 7 ranges, with the tampering put on the first and last event of the ranges; one slow test runs
the real forked processes through the command line on a SQLite file.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import subprocess
import sys
from contextlib import contextmanager

import pytest
from django.db import transaction

from rectify.core import keys
from rectify.core.audit import (
    HASHED_FIELDS,
    KEY_ROTATED,
    VerifyResult,
    _id_ranges,
    append_events,
    record_event,
    verify_chain,
)
from rectify.core.models import Event
from rectify.core.rotation import rotate_chain_key
from rectify.core.sm3 import sm3_hex
from tests import test_key_rotation
from tests.serving import ROOT, sqlite_env
from tests.test_audit_chain import tamper

SPLITS = (2, 3, 7)
EVENTS = 300

own_keys = test_key_rotation.own_keys  # a data directory of the test's own for new chain key versions


def _append(n: int, label: str = "事件") -> None:
    append_events([{"action": "test_event", "object_type": "test", "object_id": i, "summary": f"{label} {i}",
                    "before": {"n": i}, "after": {"n": i + 1, "说明": "中文"}} for i in range(n)])


@pytest.fixture
def long_chain(world):
    _append(EVENTS)
    return Event.objects.count()


def verdict(result: VerifyResult) -> tuple:
    return result.ok, result.count, result.message, result.broken_seq


def same_in_every_split(head: tuple[int, str] | None = None) -> VerifyResult:
    """The one walk's verdict, after checking that every split into ranges gives it field by field."""
    whole = verify_chain(head=head)
    assert whole.ranges == 1
    for parts in SPLITS:
        split = verify_chain(head=head, workers=parts, processes=False)
        # the chain really was cut, else this would compare the walk with itself
        assert split.ranges == max(1, len(_id_ranges(parts)))
        assert split.ranges > 1 or Event.objects.count() < 2
        assert verdict(split) == verdict(whole), f"cut in {parts} ranges"
    return whole


def rows_by_id() -> dict[int, dict]:
    return {row["id"]: row for row in Event.objects.order_by("id").values(*HASHED_FIELDS, "id", "hash")}


def _ranges(parts: int) -> list[list[int]]:
    """The ids of the events in each range the verifier cuts the chain into (to tamper at their edges)."""
    ids = list(Event.objects.order_by("id").values_list("id", flat=True))
    return [[pk for pk in ids if first <= pk <= last] for first, last in _id_ranges(parts)]


def range_edges() -> list[int]:
    """Ids of the first and last event of every range, in every split."""
    return sorted({pk for parts in SPLITS for ids in _ranges(parts) for pk in (ids[0], ids[-1])})


def boundaries() -> list[tuple[int, int]]:
    """(last id of a range, first id of the next), in every split."""
    return sorted({(ids[-1], after[0]) for parts in SPLITS
                   for ids, after in itertools.pairwise(_ranges(parts))})


class _Undo(Exception):
    pass


@contextmanager
def undone():
    """Tamper inside a savepoint rolled back afterwards, so that one chain serves every case."""
    try:
        with transaction.atomic():
            yield
            raise _Undo
    except _Undo:
        pass


def test_an_intact_chain_verifies_in_every_split(long_chain):
    result = same_in_every_split()
    assert result.ok and result.count == long_chain and result.message == f"OK: {long_chain} events verified"


@pytest.mark.parametrize(("field", "value", "named"), [
    ("summary", "改过的摘要", "内容被改动"),
    ("hash", "2" * 64, "内容被改动"),
    ("prev_hash", "1" * 64, "前链哈希不符"),  # checked before the link itself: at a range's first row, by the join
])
def test_an_edited_event_at_a_range_edge_is_named(long_chain, field, value, named):
    rows = rows_by_id()
    for pk in range_edges():
        with undone():
            tamper(f"UPDATE core_event SET {field} = %s WHERE id = %s", [value, pk])
            result = same_in_every_split()
            assert not result.ok and result.broken_seq == rows[pk]["seq"] and named in result.message
            assert result.count == rows[pk]["seq"] - 1


def test_a_seq_rewritten_out_of_order_at_a_range_edge_is_named(long_chain):
    rows = rows_by_id()
    for pk in range_edges():
        with undone():
            tamper("UPDATE core_event SET seq = %s WHERE id = %s", [-rows[pk]["seq"], pk])
            result = same_in_every_split()
            assert not result.ok and result.broken_seq == -rows[pk]["seq"] and "顺序错乱" in result.message


def test_a_deleted_event_at_a_range_edge_is_named(long_chain):
    rows = rows_by_id()
    last = max(rows)
    for pk in range_edges():
        with undone():
            tamper("DELETE FROM core_event WHERE id = %s", [pk])
            result = same_in_every_split()
            if pk == last:  # the newest event: only a recorded head can tell (see the tail cut below)
                assert result.ok and result.count == long_chain - 1
            else:
                assert not result.ok and result.broken_seq == rows[pk]["seq"] and "删除" in result.message
                assert result.count == rows[pk]["seq"] - 1


def test_a_deleted_range_is_named(long_chain):
    for parts in (3, 7):
        ids = _ranges(parts)[1]
        seq = Event.objects.get(pk=ids[0]).seq
        with undone():
            tamper("DELETE FROM core_event WHERE id >= %s AND id <= %s", [ids[0], ids[-1]])
            result = same_in_every_split()
            assert not result.ok and result.broken_seq == seq and "删除" in result.message


def _swap_seq(a: dict, b: dict) -> None:
    # via a negative number: seq is unique
    tamper("UPDATE core_event SET seq = %s WHERE id = %s", [-b["seq"], a["id"]])
    tamper("UPDATE core_event SET seq = %s WHERE id = %s", [a["seq"], b["id"]])
    tamper("UPDATE core_event SET seq = -seq WHERE id = %s", [a["id"]])


def test_events_reordered_within_a_range_or_across_a_boundary_are_named(long_chain):
    rows = rows_by_id()
    pairs = boundaries()  # the last of one range, the first of the next
    for parts in SPLITS:
        ids = _ranges(parts)[-1]
        pairs.append((ids[len(ids) // 2], ids[len(ids) // 2 + 1]))  # inside a range
    for a, b in pairs:
        with undone():
            _swap_seq(rows[a], rows[b])
            result = same_in_every_split()
            assert not result.ok and result.broken_seq == rows[a]["seq"] and "删除" in result.message


def test_two_events_swapped_whole_across_a_boundary_are_named(long_chain):
    """The rows trade places in id order, every stored column intact: only their order is wrong."""
    rows = rows_by_id()
    for a, b in boundaries():
        with undone():
            tamper("UPDATE core_event SET id = -id WHERE id IN (%s, %s)", [a, b])
            tamper("UPDATE core_event SET id = %s WHERE id = %s", [b, -a])
            tamper("UPDATE core_event SET id = %s WHERE id = %s", [a, -b])
            result = same_in_every_split()
            assert not result.ok and result.broken_seq == rows[a]["seq"] and "删除" in result.message


def test_a_forward_rehash_without_the_key_is_named_at_the_edit(long_chain):
    """An edit in one range, every later link re-hashed with plain SM3: later ranges fail from their
    first row, but the edit comes first in chain order."""
    rows = rows_by_id()
    for before, start in boundaries():
        with undone():
            prev = rows[before]["hash"]
            for pk in sorted(pk for pk in rows if pk >= start):
                row = dict(rows[pk], prev_hash=prev, summary="改过的摘要" if pk == start else rows[pk]["summary"])
                payload = {name: row[name] for name in HASHED_FIELDS}
                payload["created_at"] = row["created_at"].astimezone(__import__("datetime").UTC).strftime(
                    "%Y-%m-%dT%H:%M:%S.%fZ")
                prev = sm3_hex(json.dumps(payload, ensure_ascii=False, sort_keys=True,
                                          separators=(",", ":")).encode())
                tamper("UPDATE core_event SET summary = %s, prev_hash = %s, hash = %s WHERE id = %s",
                       [row["summary"], row["prev_hash"], prev, pk])
            result = same_in_every_split()
            assert not result.ok and result.broken_seq == rows[start]["seq"] and "被改动" in result.message


def test_a_recorded_head_in_an_earlier_range_is_seen_and_a_cut_tail_is_named(long_chain):
    rows = rows_by_id()
    for pk in range_edges():
        head = (rows[pk]["seq"], rows[pk]["hash"])
        assert same_in_every_split(head).ok  # later ranges do not see the head: an earlier one did
        forged = same_in_every_split((head[0], "0" * 64))
        assert not forged.ok and forged.broken_seq == head[0] and "链头" in forged.message
        with undone():
            tamper("DELETE FROM core_event WHERE id >= %s", [pk])
            cut = same_in_every_split(head)
            assert not cut.ok and "截断" in cut.message and cut.count == head[0] - 1 == cut.broken_seq - 1
    beyond = same_in_every_split((long_chain + 5, "1" * 64))
    assert not beyond.ok and "截断" in beyond.message and beyond.count == long_chain


def test_a_key_rotation_in_an_earlier_range_is_followed(own_keys, world):
    _append(40, "轮换前")
    rotation = rotate_chain_key(actor_name="测试")
    assert rotation.version == 2
    _append(EVENTS, "轮换后")
    # in every split the rotation lies in an earlier range than the last: later ranges start with the new key
    assert all(Event.objects.get(action=KEY_ROTATED).pk < _ranges(parts)[-1][0] for parts in SPLITS)
    assert same_in_every_split().ok
    later = Event.objects.order_by("-id")[EVENTS // 2]
    with undone():
        tamper("UPDATE core_event SET summary = %s WHERE id = %s", ["改过", later.pk])
        result = same_in_every_split()
        assert not result.ok and result.broken_seq == later.seq and "被改动" in result.message


def test_a_missing_new_chain_key_is_named_where_the_rotation_switched_to_it(own_keys, world):
    record_event(action="test_event", summary="轮换前")
    rotate_chain_key(actor_name="测试")
    switched = Event.objects.get(action=KEY_ROTATED)
    # as many events after the rotation as up to it: cut in two, the rotation ends the first range,
    # so the missing key is met after that range's last row (and at the start of the second)
    _append(switched.seq, "轮换后")
    assert _ranges(2)[0][-1] == switched.pk
    (own_keys / "chain_key.v2").unlink()
    keys.load_key.cache_clear()
    result = same_in_every_split()
    assert not result.ok and "version 2" in result.message
    assert result.count == switched.seq and result.broken_seq == switched.seq + 1


def test_a_forged_rotation_in_an_earlier_range_is_named_before_the_ranges_it_misleads(own_keys, long_chain):
    """Someone without the key labels an event a rotation: the parent starts later ranges with a key
    version that does not exist, but the forged event comes first."""
    target = Event.objects.get(pk=_ranges(7)[0][-1])
    tamper("UPDATE core_event SET action = %s, after = %s WHERE id = %s",
           [KEY_ROTATED, '{"chain_key_version": 2}', target.pk])
    result = same_in_every_split()
    assert not result.ok and result.broken_seq == target.seq and "被改动" in result.message


# --- the real processes -------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parallel walk forks")
def test_verify_in_forked_processes_on_a_sqlite_file(tmp_path):
    db = tmp_path / "rectify.sqlite3"
    env = {**sqlite_env(tmp_path, db), "RECTIFY_VERIFY_PARALLEL_ABOVE": "0"}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)

    setup = run("-m", "tests.concurrency_worker", "setup", str(db))
    assert setup.returncode == 0, setup.stderr
    added = run("-c", "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'rectify.settings'; django.setup(); "
                      "from rectify.core.audit import append_events; "
                      "append_events([{'action': 'test_event', 'summary': f'事件 {i}'} for i in range(2000)])")
    assert added.returncode == 0, added.stderr

    def verify(workers: int) -> tuple[int, str, str]:
        done = run("-m", "rectify.cli", "verify", "--workers", str(workers))
        return done.returncode, done.stdout, done.stderr

    code, out, err = verify(2)
    assert code == 0 and out.startswith("OK: "), out + err
    assert "2 processes" in err  # the walk really was split over two processes
    with sqlite3.connect(db) as conn:
        total = conn.execute("SELECT COUNT(*) FROM core_event").fetchone()[0]
        # an edit in the second process's range...
        second = conn.execute("SELECT id, seq FROM core_event ORDER BY id LIMIT 1 OFFSET ?", [total * 3 // 4]).fetchone()
        conn.execute("UPDATE core_event SET summary = 'changed' WHERE id = ?", [second[0]])
    code, out, err = verify(2)
    assert code == 1 and f"#{second[1]}" in out and "被改动" in out and "2 processes" in err, out + err
    assert (code, out) == verify(1)[:2]
    with sqlite3.connect(db) as conn:  # ...then a deletion in the first's: the first in chain order is named
        first = conn.execute("SELECT id, seq FROM core_event ORDER BY id LIMIT 1 OFFSET ?", [total // 4]).fetchone()
        conn.execute("DELETE FROM core_event WHERE id = ?", [first[0]])
    code, out, err = verify(2)
    assert code == 1 and f"#{first[1]}" in out and "删除" in out and f"#{second[1]}" not in out, out + err
    assert (code, out) == verify(1)[:2]
