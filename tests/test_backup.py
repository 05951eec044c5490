"""Backup and restore round-trip the demo while writes continue (SECURITY.md check 25): `rectify
backup` takes a consistent snapshot while another process appends events and uploads evidence;
`rectify restore` into a new data directory (with the keys copied, as the docs say) reports success
only after the chain and every evidence digest verify, and refuses a tampered archive or a
non-empty target."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.serving import ROOT, sqlite_env

WRITER = """
import os, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rectify.settings")
import django; django.setup()
from django.db import transaction
from rectify.core.audit import record_event
deadline = time.monotonic() + float(sys.argv[1])
n = 0
while time.monotonic() < deadline:
    with transaction.atomic():
        record_event(action="backup_test_write", object_type="test", object_id=n, summary=f"写入 {n}")
    n += 1
print(n)
"""


EVIDENCE = """
import datetime as dt, io, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rectify.settings")
import django; django.setup()
from django.utils import timezone
from rectify.dispatch import services as dispatch
from rectify.dispatch.models import ProgressReport
from rectify.orgs.models import Unit, User
from tests.test_evidence_files import MINIMAL_PDF, png_bytes
admin, writer = User.objects.get(username="admin"), User.objects.get(username="lingling")
today = timezone.localdate()
rnd, _ = dispatch.open_round(actor=admin, office=admin.unit, period=f"{today:%Y-%m}", due_date=today + dt.timedelta(days=20),
                             require_unit_review=False)
report = ProgressReport.objects.filter(round=rnd, unit=writer.unit).first()
for name, data in (("现场.png", png_bytes()), ("验收.pdf", MINIMAL_PDF)):
    dispatch.attach_evidence(actor=writer, report=report, name=name, fileobj=io.BytesIO(data))
print(report.evidence.count())
"""


def rectify(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rectify.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600, check=check)


def test_check_25_backup_while_writing_then_restore_verifies(tmp_path):
    source, target = tmp_path / "source", tmp_path / "target"
    env_a, env_b = sqlite_env(source), sqlite_env(target)
    rectify(env_a, "demo")
    files = subprocess.run([sys.executable, "-c", EVIDENCE], cwd=ROOT, env=env_a, capture_output=True, text=True,
                           timeout=300)
    assert files.stdout.strip() == "2", files.stderr
    writer = subprocess.Popen([sys.executable, "-c", WRITER, "20"], cwd=ROOT, env=env_a, stdout=subprocess.PIPE,
                              text=True)
    try:
        archive = tmp_path / "backup.zip"
        made = rectify(env_a, "backup", "--output", str(archive))
    finally:
        written = int(writer.communicate(timeout=120)[0].strip() or 0)
    assert made.returncode == 0, made.stdout + made.stderr
    assert "备份完成" in made.stdout and "密钥" in made.stdout
    assert written > 0  # the backup ran while the other process kept committing
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    names = zipfile.ZipFile(archive).namelist()
    assert {"manifest.json", "database.sqlite3", "audit-heads.log"} <= set(names)
    stored = sum(1 for name in names if name.startswith("files/"))
    assert stored >= 2  # the two uploaded here, and any the demo keeps

    target.mkdir(mode=0o700)
    for key in ("chain_key", "data_key", "secret_key"):  # keys travel apart from backups
        shutil.copy2(source / key, target / key)
    restored = rectify(env_b, "restore", str(archive), check=False)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "恢复成功" in restored.stdout
    assert f"{stored} 个文件，缺失或被改动 0 个" in restored.stdout
    verified = rectify(env_b, "verify", "--files")
    assert verified.stdout.startswith("OK: ") and f"{stored} evidence files checked, 0 missing or altered" in verified.stdout
    # A second restore into the same (now full) installation is refused.
    again = rectify(env_b, "restore", str(archive), check=False)
    assert again.returncode == 1 and "已有数据" in again.stdout


def test_a_tampered_archive_does_not_restore_as_a_success(tmp_path):
    source, target = tmp_path / "source", tmp_path / "target"
    env_a = sqlite_env(source)
    rectify(env_a, "demo")
    archive = tmp_path / "backup.zip"
    rectify(env_a, "backup", "--output", str(archive))
    # Rewrite one event's summary inside the archived database.
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(archive) as old, zipfile.ZipFile(tampered, "w") as new:
        for item in old.infolist():
            data = old.read(item)
            if item.filename == "database.sqlite3":
                db = tmp_path / "db.sqlite3"
                db.write_bytes(data)
                import sqlite3

                con = sqlite3.connect(db)
                con.execute("UPDATE core_event SET summary = '篡改' WHERE seq = 3")
                con.commit()
                con.close()
                data = db.read_bytes()
            new.writestr(item, data)
    target.mkdir(mode=0o700)
    for key in ("chain_key", "data_key", "secret_key"):
        shutil.copy2(source / key, target / key)
    result = rectify(sqlite_env(target), "restore", str(tampered), check=False)
    assert result.returncode == 1 and "未通过" in result.stdout and "#3" in result.stdout
    assert Path(target / "rectify.sqlite3").exists()  # left in place for inspection, as it says
