"""`rectify rotate-key` (SECURITY.md checks 15 and 17, issue 15 point 2): a new version of the audit
chain key and/or the SM4 data key, recorded as an audit event; `rectify verify` still passes across
the rotation and every encrypted field still reads, re-encrypted under the new key."""

from __future__ import annotations

import os
import stat

import pytest
from django.db import connection
from django.utils import timezone

from rectify.cli import main
from rectify.core import crypto, keys
from rectify.core.audit import (
    KEY_ROTATED,
    VerifyProgress,
    event_digest,
    record_event,
    verify_chain,
    verify_step,
)
from rectify.core.models import Event
from tests.conftest import PASSWORD
from tests.test_audit_chain import tamper


@pytest.fixture
def own_keys(settings, tmp_path):
    """A data directory of this test's own holding the installation's keys (the test database's first
    events, from data migrations, were linked with them), so that new versions go there."""
    chain, data = keys.load_key("chain_key"), keys.load_key("data_key")
    settings.DATA_DIR = tmp_path
    (tmp_path / "chain_key").write_text(chain.hex())
    (tmp_path / "data_key").write_text(data.hex())
    keys.load_key.cache_clear()
    crypto.current_version.cache_clear()
    yield tmp_path
    keys.load_key.cache_clear()
    crypto.current_version.cache_clear()


def _events(n: int, label: str) -> None:
    for i in range(n):
        record_event(action="test_event", object_type="test", object_id=i, summary=f"{label} {i}")


def test_rotating_the_chain_key_is_recorded_and_verify_passes_across_it(own_keys, world, capsys, monkeypatch):
    _events(3, "轮换前")
    admin = world.users["office_admin"]
    monkeypatch.setenv("RECTIFY_OPERATOR_PASSWORD", PASSWORD)
    assert main(["rotate-key", "--chain", "--operator", admin.username]) == 0
    assert "第 2 版" in capsys.readouterr().out
    new_file = own_keys / "chain_key.v2"
    assert new_file.exists() and stat.S_IMODE(os.stat(new_file).st_mode) == 0o600
    rotation = Event.objects.get(action=KEY_ROTATED)
    assert rotation.actor_id == admin.pk and rotation.after == {"chain_key_version": 2}
    _events(3, "轮换后")

    assert main(["verify"]) == 0 and "OK" in capsys.readouterr().out
    # the links after the rotation are made with the new key, not the old one
    later = Event.objects.filter(seq__gt=rotation.seq).values(*_hashed()).first()
    assert later is not None and event_digest(later, 1) != later["hash"] == event_digest(later, 2)
    # the audit page's verification, walked in small steps, follows the switch too
    progress = VerifyProgress()
    while progress.result is None:
        progress = verify_step(progress, limit=2)
    assert progress.result.ok, progress.result.message

    # an edit after the rotation is still named
    tamper("UPDATE core_event SET summary = %s WHERE id = %s", ["改过", later["id"]])
    result = verify_chain()
    assert not result.ok and result.broken_seq == later["seq"]


def test_a_missing_new_chain_key_fails_verify(own_keys, world, capsys):
    _events(2, "前")
    assert main(["rotate-key", "--chain"]) == 0
    rotation = Event.objects.get(action=KEY_ROTATED)
    assert "命令行" in rotation.actor_name  # no operator given: the command line and the OS user
    _events(2, "后")
    (own_keys / "chain_key.v2").unlink()
    keys.load_key.cache_clear()
    result = verify_chain()
    assert not result.ok and "version 2" in result.message


def test_a_forged_rotation_without_the_key_is_detected(own_keys, world):
    """Someone with the database but not the key writes a rotation event: its own link fails."""
    _events(2, "前")
    last = Event.objects.order_by("-seq").first()
    tamper("UPDATE core_event SET action = %s, after = %s WHERE id = %s",
           [KEY_ROTATED, '{"chain_key_version": 2}', last.pk])
    result = verify_chain()
    assert not result.ok and result.broken_seq == last.seq


def test_rotating_the_data_key_re_encrypts_and_keeps_lookups(own_keys, world, capsys):
    from rectify.closeout.models import Closeout, Objection
    from rectify.closeout.services import file_objection
    from rectify.orgs import twofactor
    from rectify.orgs.models import TotpDevice

    today = timezone.localdate()
    closeout = Closeout.objects.create(task=world.task_a, status="in_notice", started_at=timezone.now(),
                                       notice_start=today, notice_end=today, notice_number="公-1")
    objection = file_objection(closeout=closeout, content="管网末端仍有污水直排入河。", name="张三丰",
                               phone="13812345678", today=today)
    device = twofactor.begin_enrolment(user=world.users["reporter_a"])
    old_hash = Objection.objects.get(pk=objection.pk).phone_hash

    assert main(["rotate-key", "--data"]) == 0
    assert "重新加密" in capsys.readouterr().out
    assert (own_keys / "data_key.v2").exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT contact_name, contact_phone FROM closeout_objection WHERE id = %s", [objection.pk])
        raw_name, raw_phone = cursor.fetchone()
        cursor.execute("SELECT secret FROM orgs_totpdevice WHERE id = %s", [device.pk])
        raw_secret = cursor.fetchone()[0]
    assert raw_name.startswith("sm4gcm:2:") and raw_phone.startswith("sm4gcm:2:") and raw_secret.startswith("sm4gcm:2:")
    again = Objection.objects.get(pk=objection.pk)
    assert (again.contact_name, again.contact_phone) == ("张三丰", "13812345678")
    assert TotpDevice.objects.get(pk=device.pk).secret == device.secret
    # the keyed lookup hash was recomputed under the new key and still finds the row
    assert again.phone_hash != old_hash
    assert Objection.objects.filter(phone_hash=crypto.lookup_hash("138 1234 5678", context="objection.phone")).get() == again
    event = Event.objects.get(action="data_key_rotated")
    assert event.after["data_key_version"] == 2 and event.after["rows"] >= 2
    assert main(["verify"]) == 0


def _hashed():
    from rectify.core.audit import HASHED_FIELDS

    return (*HASHED_FIELDS, "id", "hash")
