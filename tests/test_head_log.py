"""The second record of the chain's head (SECURITY.md checks 14 and 15): each committed transaction
that wrote events appends its head to a file next to the data, and `rectify verify` fails on a chain
that no longer reaches that head — wiped, cut short, or rewritten and re-hashed forward. `--files`
re-hashes the evidence."""

from __future__ import annotations

import io

import pytest
from django.db import connection, transaction

from rectify.cli import main
from rectify.core.audit import append_events, chain_head, logged_head, record_event
from rectify.core.models import Event
from tests.conftest import round_due

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def head_log(settings, tmp_path):
    settings.AUDIT_HEAD_LOG = str(tmp_path / "audit-heads.log")
    return tmp_path / "audit-heads.log"


def write_events(n: int) -> None:
    for i in range(n):
        with transaction.atomic():
            record_event(action="test_event", object_type="test", object_id=i, summary=f"事件 {i}")


def verify(capsys, *args) -> tuple[int, str]:
    code = main(["verify", *args])
    return code, capsys.readouterr().out


def _force_delete(where: str) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE core_event DISABLE TRIGGER core_event_append_only")
        cursor.execute(f"DELETE FROM core_event {where}")
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE core_event ENABLE TRIGGER core_event_append_only")


def test_each_commit_appends_its_head_once_and_a_rollback_appends_nothing(head_log):
    n0 = chain_head()[0]  # migrations may have recorded events (the calendar's seed)
    write_events(3)
    with transaction.atomic():  # two events, one commit: one line
        record_event(action="a", summary="甲")
        record_event(action="b", summary="乙")
    try:
        with transaction.atomic():
            record_event(action="c", summary="丙")
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    lines = head_log.read_text().splitlines()
    assert len(lines) == 4
    assert logged_head() == chain_head() == (n0 + 5, Event.objects.get(seq=n0 + 5).hash)
    append_events([{"action": "bulk", "summary": f"批量 {i}"} for i in range(10)])
    assert logged_head() == chain_head() and chain_head()[0] == n0 + 15


def test_verify_fails_on_a_wiped_or_shortened_chain(head_log, capsys):
    n0 = chain_head()[0]
    write_events(5)
    assert verify(capsys) == (0, f"OK: {n0 + 5} events verified (head log reached: #{n0 + 5})\n")
    _force_delete(f"WHERE seq > {n0 + 3}")
    code, out = verify(capsys)
    assert code == 1 and "链尾被截断" in out and f"#{n0 + 5}" in out
    _force_delete("")
    code, out = verify(capsys)
    assert code == 1 and "链尾被截断" in out and "0" in out


def test_verify_fails_on_a_forward_rehash(head_log, capsys):
    """Editing event 2 and re-hashing every later link (without the key the chain uses, as the
    database owner would) no longer reaches the logged head."""
    from rectify.core.audit import HASHED_FIELDS
    from rectify.core.sm3 import sm3_hex

    n0 = chain_head()[0]
    write_events(4)
    rows = list(Event.objects.filter(seq__gt=n0).order_by("seq").values(*HASHED_FIELDS, "hash"))
    prev = rows[0]["hash"]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE core_event DISABLE TRIGGER core_event_append_only")
        for row in rows[1:]:
            summary = "改写" if row["seq"] == n0 + 2 else row["summary"]
            forged = sm3_hex(f"{prev}|{row['seq']}|{summary}".encode())
            cursor.execute("UPDATE core_event SET summary = %s, prev_hash = %s, hash = %s WHERE seq = %s",
                           [summary, prev, forged, row["seq"]])
            prev = forged
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE core_event ENABLE TRIGGER core_event_append_only")
    code, out = verify(capsys)
    assert code == 1 and f"#{n0 + 2}" in out


def test_verify_files_reports_missing_and_altered_evidence(head_log, capsys, settings, tmp_path, world):

    from rectify.dispatch import services as dispatch
    from rectify.dispatch.models import ProgressReport
    from rectify.evidence.store import EvidenceStore
    from tests.test_evidence_files import MINIMAL_PDF, png_bytes

    settings.MEDIA_ROOT = str(tmp_path / "files")
    rnd, _ = dispatch.open_round(actor=world.users["office_admin"], office=world.office, period="2026-10",
                                 due_date=round_due("2026-10"), require_unit_review=False)
    report = ProgressReport.objects.filter(round=rnd, unit=world.county_a).first()
    photo = dispatch.attach_evidence(actor=world.users["reporter_a"], report=report, name="现场.png",
                                     fileobj=io.BytesIO(png_bytes()))
    pdf = dispatch.attach_evidence(actor=world.users["reporter_a"], report=report, name="验收.pdf",
                                   fileobj=io.BytesIO(MINIMAL_PDF))
    code, out = verify(capsys, "--files")
    assert code == 0 and "2 evidence files checked, 0 missing or altered" in out

    store = EvidenceStore()
    store.path(photo.digest, photo.extension).write_bytes(b"changed")
    store.path(pdf.digest, pdf.extension).unlink()
    code, out = verify(capsys, "--files")
    assert code == 1
    assert "被改动 / altered" in out and "缺失 / missing" in out and "2 missing or altered" in out
