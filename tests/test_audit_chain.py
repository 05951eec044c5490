"""The record cannot be quietly rewritten: every edit, deletion, reordering and tail cut of the
SM3-chained audit events is detected and named by `rectify verify`."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection

from rectify.cli import main as rectify
from rectify.core.audit import HASHED_FIELDS, chain_head, record_event, verify_chain
from rectify.core.models import Event
from rectify.core.sm3 import sm3_hex, sm3_pure


def tamper(sql: str, params=()) -> None:
    """Change events behind the application's back, as someone with database access could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The append-only trigger stops the application role; a superuser can bypass it.
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")


@pytest.fixture
def chain(world):
    for i in range(5):
        record_event(actor=world.users["office_admin"], action="test_event", object_type="test", object_id=i,
                     summary=f"第 {i} 条", before={"n": i}, after={"n": i + 1, "说明": "中文"})
    return Event.objects.count()


def test_sm3_matches_the_standard_vector_and_openssl():
    # GB/T 32905-2016 appendix A, example 1.
    assert sm3_pure(b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    for size in (0, 55, 56, 64, 1000):
        assert sm3_pure(bytes(size)) == sm3_hex(bytes(size))


def test_intact_chain_verifies(chain, capsys):
    assert rectify(["verify"]) == 0
    assert capsys.readouterr().out.strip() == f"OK: {chain} events verified"


def test_verify_reads_every_link_raw_as_event_digest_computes_it(world, chain):
    """verify_chain reads the rows through a raw cursor and rebuilds each link's canonical text
    itself: it must agree with event_digest on every event (times with and without microseconds,
    JSON, booleans, bulk-appended events, a time given in another zone), else every row would take
    the slow exact path."""
    import datetime as dt

    from rectify.core.audit import _chain_rows, append_events, event_digest

    append_events([{"action": "bulk_test", "object_type": "test", "object_id": i, "summary": "批量",
                    "after": {"n": i, "when": dt.date(2026, 1, i + 1), "x": 1.5}, "success": i % 2 == 0,
                    "created_at": dt.datetime(2026, 1, 1, 8, 0, 0, 0 if i == 0 else 123456, tzinfo=dt.UTC)}
                   for i in range(3)])
    # a time written in another zone (PostgreSQL writes the text in UTC itself): the year's last
    # microsecond in Beijing is 15:59:59.999999 UTC
    append_events([{"action": "zone_test", "object_type": "test", "object_id": 9, "summary": "时区",
                    "created_at": dt.datetime(2026, 12, 31, 23, 59, 59, 999999,
                                              tzinfo=dt.timezone(dt.timedelta(hours=8)))}])
    # text the fast encoder (orjson) must write exactly as the canonical json.dumps does: escapes
    # (control characters; not NUL, which PostgreSQL's text refuses and requests never carry),
    # line and paragraph separators, characters outside the BMP, non-ASCII keys in sorted order,
    # and an integer past 64 bits (which orjson refuses: that one link takes the standard encoder)
    append_events([{"action": "edge_test", "object_type": "test", "object_id": 1,
                    "summary": "引号\"反斜杠\\ 制表\t 换行\n \x01\x1f\x7f \u2028\u2029 😀 </script>",
                    "after": {"中": 1, "a": [None, True, "𠀀"], "Z": {"é": "\ud7ff"}, "big": 2**70, "neg": -(2**63)}}])
    rows = list(_chain_rows(2))
    assert len(rows) == Event.objects.count() >= chain + 5
    for row, digest, _key_version in rows:
        assert digest == row["hash"] == event_digest(Event.objects.filter(pk=row["id"]).values(*HASHED_FIELDS).get())
    assert verify_chain().ok


def test_events_prepared_before_the_lock_link_as_event_digest_computes_them(world, chain):
    """A bulk writer builds its events before its transaction (prepare_events) and sets a new row's
    id later: the link made under the lock is the one event_digest computes from the stored row."""
    from rectify.core.audit import append_events, event_digest, prepare_events

    admin = world.users["office_admin"]
    prepared = prepare_events([{"actor": admin, "action": "prepared_test", "object_type": "ledger.task",
                                "object_label": f"T-{i} 标题\"引号\"", "summary": f"预先构建 {i}",
                                "before": None if i else {"a": 1}, "after": {"单位": ["甲", "乙"], "n": i, "ok": i == 1}}
                               for i in range(3)])
    for i, event in enumerate(prepared):
        event.object_id = str(1000 + i)  # reserved inside the transaction, as write_tasks does
    append_events(prepared)
    rows = list(Event.objects.filter(action="prepared_test").order_by("seq").values(*HASHED_FIELDS, "hash"))
    assert [r["object_id"] for r in rows] == ["1000", "1001", "1002"]
    assert rows[0]["actor_id"] == admin.pk and rows[0]["unit_name"] == admin.unit.name
    for row in rows:
        assert row["hash"] == event_digest(row)
    assert verify_chain().ok


@pytest.mark.parametrize("summary", ["普通摘要", "\x00object_id\x00 两次 \x00object_id\x00",
                                     '"prev_hash":"\x00prev_hash\x00","seq":0'])
def test_a_prepared_events_text_is_the_canonical_text_even_when_it_holds_a_stand_in(summary):
    """prepare_events dumps the text once with stand-ins for object_id, prev_hash and seq and cuts
    it around them; a text that holds a stand-in itself is written field by field: either way the
    parts joined are json.dumps of the whole (what event_digest hashes)."""
    from rectify.core.audit import HASHED_FIELDS, _canonical, _text_parts

    payload = {name: None for name in HASHED_FIELDS} | {
        "action": "x", "actor_name": "甲", "created_at": "2026-12-01T00:00:00.000000Z", "ip": "", "object_type": "t",
        "object_label": "标签", "summary": summary, "success": True, "unit_name": "",
        "after": {"object_id": "\x00object_id\x00", "seq": 1}}
    head, middle, tail = _text_parts(payload)
    whole = _canonical(payload | {"object_id": "42", "prev_hash": "ab" * 32, "seq": 7})
    assert f'{head}"42"{middle}"{"ab" * 32}","seq":7{tail}' == whole


def _nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


# What a bulk writer's events may hold that the standard library and orjson could write apart:
# every ASCII control, the separators JavaScript treats as line ends, astral and private-use code
# points, keys that sort differently by UTF-16, integers past 64 bits, nesting past orjson's limit.
# (Not NUL: PostgreSQL's jsonb refuses \u0000, and no request carries it.)
_TRICKY_VALUES = [
    {"text": "".join(map(chr, range(1, 0x80))) + "\x7f\x80\x9f\u2028\u2029\ufeff\uffff\U0001f600 𐀀 污水"},
    {"\uffff": 1, "\U00010000": 2, "\ue000": 3, "a\x01": 4, "": 5, "Z": 6, "a": 7},
    {"big": 2**64, "small": -(2**63) - 1, "fits": 2**63 - 1},
    {"deep": _nested(300)},
    {"list": [None, True, False, 0, -1, "", {"k": []}], 3: "int key", "date": dt.date(2026, 12, 3)},
]


@pytest.mark.parametrize("value", _TRICKY_VALUES, ids=["characters", "key order", "big integers", "deep", "mixed"])
def test_a_bulk_events_link_and_stored_value_are_the_exact_paths(world, chain, value):
    """prepare_events writes the canonical text and the JSON columns with orjson where it gives the
    standard library's text, and falls back where orjson refuses: either way the link is the one
    event_digest computes from the stored row, the stored value reads back as jsonable's, and the
    chain verifies."""
    from rectify.core.audit import append_events, event_digest, jsonable, prepare_events

    prepared = prepare_events([{"actor": world.users["office_admin"], "action": "tricky_value", "object_type": "t",
                                "object_label": "标签", "summary": "特殊值", "before": value, "after": value}])
    prepared[0].object_id = "7"
    append_events(prepared)
    row = Event.objects.filter(action="tricky_value").values(*HASHED_FIELDS, "hash").get()
    assert row["hash"] == event_digest(row)
    assert row["after"] == row["before"] == jsonable(value)
    assert verify_chain().ok


def test_the_fast_canonical_text_is_the_standard_librarys_over_every_code_point():
    """_canonical_fast (orjson) against _canonical (json.dumps) on one string of every code point but
    the surrogates, as a value and as keys: escaping is per character, so this covers any text."""
    from rectify.core.audit import _canonical, _canonical_fast

    every = "".join(chr(cp) for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF)
    assert _canonical_fast(every) == _canonical(every)
    keys = {every[i:i + 3]: i for i in range(0, len(every), 997)}
    assert _canonical_fast(keys) == _canonical(keys)
    assert _canonical_fast({"n": 2**64}) == _canonical({"n": 2**64})  # the exact path


def test_check_14_every_service_write_leaves_an_event(world):
    actions = list(Event.objects.values_list("action", flat=True))
    assert actions.count("task_created") == 2 and actions.count("user_created") == 10
    assert "campaign_created" in actions


EDITS = {
    "created_at": "'2020-01-01 00:00:00'",
    "actor_id": "999",
    "actor_name": "'某人'",
    "unit_id": "999",
    "unit_name": "'别的单位'",
    "action": "'task_deleted'",
    "object_type": "'ledger.task'",
    "object_id": "'77'",
    "object_label": "'改过的标签'",
    "summary": "'改过的摘要'",
    "ip": "'10.0.0.1'",
    "success": None,
    "before": None,
    "after": None,
    "prev_hash": "'" + "1" * 64 + "'",
    "hash": "'" + "2" * 64 + "'",
    "seq": None,
}


@pytest.mark.parametrize("field", sorted(EDITS))
def test_check_15_editing_any_stored_field_is_detected(chain, field, capsys):
    assert set(EDITS) >= set(HASHED_FIELDS)
    target = Event.objects.order_by("seq")[chain - 3]
    if field == "success":
        value, params = "%s", [False]
    elif field in {"before", "after"}:
        value, params = "%s", [json.dumps({"n": 42})]
    elif field == "seq":
        value, params = "%s", [10_000]
    else:
        value, params = EDITS[field], []
    tamper(f"UPDATE core_event SET {field} = {value} WHERE id = %s", [*params, target.pk])
    result = verify_chain()
    assert not result.ok
    assert result.broken_seq == target.seq
    assert rectify(["verify"]) == 1
    assert f"#{target.seq}" in capsys.readouterr().out


def test_deleting_an_event_is_detected(chain):
    target = Event.objects.order_by("seq")[2]
    tamper("DELETE FROM core_event WHERE id = %s", [target.pk])
    result = verify_chain()
    assert not result.ok and result.broken_seq == target.seq and "删除" in result.message


def test_reordering_events_is_detected(chain):
    first, second = Event.objects.order_by("seq")[2:4]
    # Swap their positions in the sequence (via a temporary negative number: seq is unique).
    tamper("UPDATE core_event SET seq = %s WHERE id = %s", [-second.seq, first.pk])
    tamper("UPDATE core_event SET seq = %s WHERE id = %s", [first.seq, second.pk])
    tamper("UPDATE core_event SET seq = -seq WHERE seq < 0")
    result = verify_chain()
    assert not result.ok and result.broken_seq in {first.seq, second.seq}


def test_cutting_the_tail_after_a_recorded_head_is_detected(chain, capsys):
    count, digest = chain_head()
    record_event(action="later", summary="记录链头之后的事件")
    assert rectify(["verify", "--head", f"{count}:{digest}"]) == 0
    capsys.readouterr()
    # Remove the newest events, as a careful forger would (the lock row holds no head to rewind).
    last = Event.objects.order_by("-seq")[:2]
    tamper("DELETE FROM core_event WHERE id IN (%s, %s)", [last[0].pk, last[1].pk])
    assert verify_chain().ok  # the chain alone cannot see it...
    assert rectify(["verify", "--head", f"{count}:{digest}"]) == 1  # ...the published head can
    out = capsys.readouterr().out
    assert f"#{count}" in out and "截断" in out


def test_a_forged_head_hash_is_detected(chain, capsys):
    count, _ = chain_head()
    assert rectify(["verify", "--head", f"{count}:{'0' * 64}"]) == 1
    assert "链头" in capsys.readouterr().out


def test_application_cannot_update_or_delete_events_on_postgresql(chain):
    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's")
    from django.db import DatabaseError, transaction

    # Below the ORM (whose own guard is tested next): the trigger refuses the role itself.
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_event SET summary = 'x' WHERE seq = 1")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_event WHERE seq = 1")


def test_check_16_no_code_path_updates_or_deletes_an_event(chain):
    """Retention (SECURITY.md check 16) and append-only (15) on every database: the ORM refuses
    to update, delete or re-save an event, so no service, command or purge can remove one."""
    count = Event.objects.count()
    first = Event.objects.order_by("seq").first()
    for attempt in (lambda: Event.objects.filter(seq=1).update(summary="x"),
                    lambda: Event.objects.filter(seq=1).delete(),
                    lambda: Event.objects.all().delete(),
                    lambda: first.delete(),
                    lambda: Event.objects.bulk_update([first], ["summary"]),
                    lambda: (setattr(first, "summary", "改过"), first.save())):
        with pytest.raises(PermissionError, match="只可追加"):
            attempt()
    assert Event.objects.count() == count and verify_chain().ok


def test_check_15_a_forward_rehash_without_the_chain_key_is_detected(chain):
    """Edit an event and re-hash every later link with plain SM3 (all a database owner can do):
    the keyed links no longer match, and verify names the edited event."""
    rows = list(Event.objects.order_by("seq").values(*HASHED_FIELDS, "id", "hash"))
    target = rows[2]
    tamper("UPDATE core_event SET summary = %s WHERE id = %s", ["改过的摘要", target["id"]])
    prev = rows[1]["hash"]
    for row in rows[2:]:
        row = dict(row, prev_hash=prev, summary="改过的摘要" if row["id"] == target["id"] else row["summary"])
        payload = {name: row[name] for name in HASHED_FIELDS}
        payload["created_at"] = payload["created_at"].astimezone(__import__("datetime").UTC).strftime(
            "%Y-%m-%dT%H:%M:%S.%fZ")
        digest = sm3_hex(json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode())
        tamper("UPDATE core_event SET prev_hash = %s, hash = %s WHERE id = %s", [prev, digest, row["id"]])
        prev = digest
    result = verify_chain()
    assert not result.ok and result.broken_seq == target["seq"]


def test_the_chain_key_lives_outside_the_database(settings, tmp_path):
    import os
    import stat

    from rectify.core import keys

    keys.load_key.cache_clear()
    settings.DATA_DIR = tmp_path
    try:
        key = keys.load_key("chain_key")
        path = tmp_path / "chain_key"
        assert path.exists() and stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert keys.load_key("chain_key") == key and len(key) == 32
    finally:
        keys.load_key.cache_clear()
