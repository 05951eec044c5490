"""The 25 checks of ../shared/SECURITY.md as tests: every check has at least one test named
``test_check_NN_…`` somewhere under tests/ (most live beside the feature they test), or a line in
docs/security.md that says why it is a deployment matter. This module holds the checks that had
no home of their own, and the test that keeps the map complete."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent


def test_every_check_has_a_test_or_a_documented_deployment_reason():
    named: dict[int, list[str]] = {}
    for path in (ROOT / "tests").rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and (m := re.match(r"test_check_(\d\d)_", node.name)):
                named.setdefault(int(m.group(1)), []).append(f"{path.name}::{node.name}")
    doc = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    deployment = {int(n) for n in re.findall(r"^\| (\d+) \|[^\n]*部署", doc, flags=re.M)}
    missing = [n for n in range(1, 26) if n not in named and n not in deployment]
    assert not missing, f"checks without a test_check_NN_ test or a deployment line in docs/security.md: {missing}"
    # and the map in docs/security.md names a test for each check that has one
    for number, tests in named.items():
        row = re.search(rf"^\| {number} \|[^\n]*", doc, flags=re.M)
        assert row and f"test_check_{number:02d}_" in row.group(0), \
            f"docs/security.md's row for check {number} names none of {tests}"


def _run_cli(args: list[str], data_dir: Path, **env) -> subprocess.CompletedProcess:
    environ = {**os.environ, "RECTIFY_DATA_DIR": str(data_dir), "DATABASE_URL": "", **env}
    environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set in-process by the browser tests; never in a deployment
    return subprocess.run([sys.executable, "-m", "rectify.cli", *args], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=180)


def test_check_08_deploy_check_is_clean_with_production_settings(tmp_path):
    """`check --deploy` with the production switch (RECTIFY_HTTPS=1): Secure and HttpOnly cookies,
    HSTS, SSL redirect, no DEBUG — no warning left (the HSTS preload one is silenced with its
    reason in settings.py: an intranet host cannot be preloaded)."""
    done = _run_cli(["manage", "check", "--deploy"], tmp_path, RECTIFY_HTTPS="1", RECTIFY_DEBUG="0")
    assert done.returncode == 0, done.stderr
    assert "System check identified no issues" in done.stdout + done.stderr, done.stdout + done.stderr
    plain = _run_cli(["manage", "check", "--deploy"], tmp_path)
    assert "W012" in plain.stdout + plain.stderr  # without it the cookie is not Secure: the check can fail


def test_check_13_a_production_install_has_no_account_until_createadmin(tmp_path):
    """No default accounts: migrating a new data directory creates no user; the first
    administrator is created by `rectify createadmin` with a password that passes the policy."""
    assert _run_cli(["manage", "migrate"], tmp_path).returncode == 0
    import sqlite3

    database = sqlite3.connect(tmp_path / "rectify.sqlite3")
    assert database.execute("SELECT COUNT(*) FROM orgs_user").fetchone() == (0,)
    weak = _run_cli(["createadmin", "admin"], tmp_path, RECTIFY_ADMIN_PASSWORD="Admin@123456")
    assert weak.returncode == 2 and "未创建" in weak.stderr
    strong = _run_cli(["createadmin", "zhang.wei"], tmp_path,
                      RECTIFY_ADMIN_PASSWORD="Kx7#mQ2v!pLr9zTe")
    assert strong.returncode == 0, strong.stderr
    assert database.execute("SELECT username, role FROM orgs_user").fetchall() == [("zhang.wei", "office_admin")]
    database.close()


def test_check_17_a_raw_dump_of_the_database_holds_no_personal_plaintext(world, settings):
    """An objector's name and phone (the personal data the portal collects) are SM4-encrypted:
    reading every row of every table raw, as a database owner would, finds neither."""
    from tests.test_closeout_api import public_notice

    closeout = public_notice(world)
    name, phone = "欧阳明远", "13987654321"
    response = Client().post(f"/api/v1/public/closeouts/{closeout.pk}/objections",
                             json.dumps({"content": "排污口夜间仍在排放。", "name": name, "phone": phone}),
                             content_type="application/json")
    assert response.status_code == 201
    office = Client(HTTP_AUTHORIZATION="Bearer " + _token(world, "office_admin"))
    assert office.get(f"/api/v1/closeouts/{closeout.pk}").json()["objections"][0]["contact_name"] == name
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - table names from the schema
            for row in cursor.fetchall():
                text = repr(row)
                if name in text or phone in text or name.encode() in repr(row).encode():
                    found.append(table)
    assert not found, f"plaintext personal data in {sorted(set(found))}"


def _token(world, persona: str) -> str:
    from rectify.orgs.services import issue_api_token

    user = world.users[persona]
    return issue_api_token(actor=user, user=user, name="check")


# Every place that builds SQL text, and why it is safe: identifiers from the models, never input.
SQL_TEXT_ALLOWED = {
    ("rectify/backup.py", "table names from the models that keep files"),
    ("rectify/core/bulk.py", "a model's own table and key column, quoted"),
    ("rectify/core/audit.py", "the event table's own columns, quoted"),
    ("rectify/dashboard/facts.py", "the board facts' fixed table, trigger and function names and role values "
                                   "from constants; the triggers take no input"),
    ("rectify/core/paging.py", "EXPLAIN before the ORM's own compiled SQL, with its parameters; a count "
                               "statement of the module's callers (fixed text) beside the ORM's compiled SQL"),
    ("rectify/core/dbstats.py", "ANALYZE of an index a migration names, quoted; no input"),
    ("rectify/ledger/search.py", "the keyword index's fixed table and key column names; tokens, ids and the "
                                 "search expression are parameters"),
    ("rectify/ledger/migrations/0017_task_colour_order.py", "trigger names read from sqlite_master, quoted; "
                                                            "no input"),
}


def test_check_21_no_sql_is_built_from_strings_outside_the_listed_places():
    """SQL text is never formatted from input: every execute()/raw()/extra() call whose SQL is an
    f-string, a concatenation or a format call is listed above with its reason."""
    offenders = []
    allowed = {path for path, _ in SQL_TEXT_ALLOWED}
    for path in (ROOT / "rectify").rglob("*.py"):
        relative = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("execute", "executemany", "raw", "extra") and node.args):
                sql = node.args[0]
                built = isinstance(sql, ast.JoinedStr | ast.BinOp) or (
                    isinstance(sql, ast.Call) and isinstance(sql.func, ast.Attribute) and sql.func.attr == "format")
                if built and relative not in allowed:
                    offenders.append(f"{relative}:{node.lineno}")
    assert not offenders, offenders


def test_check_22_a_removed_attachment_leaves_storage(world, settings, tmp_path, django_capture_on_commit_callbacks):
    """Deleted attachments are removed from storage (a file no other record points to)."""
    import datetime as dt
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone
    from PIL import Image

    from rectify.dispatch import services as dispatch
    from rectify.dispatch.models import Evidence, ProgressReport

    settings.MEDIA_ROOT = tmp_path / "files"
    today = timezone.localdate()
    rnd, _ = dispatch.open_round(actor=world.users["office_admin"], office=world.office, period=f"{today:%Y-%m}",
                                 due_date=today + dt.timedelta(days=5))
    report = ProgressReport.objects.get(round=rnd, task=world.task_a, unit=world.county_a)
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (12, 200, 90)).save(buffer, "PNG")
    reporter = world.client("reporter_a")
    reporter.post(f"/dispatch/reports/{report.pk}/evidence/", {"file": SimpleUploadedFile("现场.png", buffer.getvalue())})
    evidence = Evidence.objects.get(report=report)
    stored = [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file() and evidence.digest in p.name]
    assert stored
    api = Client(HTTP_AUTHORIZATION="Bearer " + _token(world, "reporter_a"))
    with django_capture_on_commit_callbacks(execute=True):  # the file goes once the removal has committed
        assert api.delete(f"/api/v1/evidence/{evidence.pk}").status_code in (200, 204)
    assert not Evidence.objects.filter(pk=evidence.pk).exists()
    assert not [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file() and evidence.digest in p.name]


@pytest.mark.parametrize("number", range(1, 26))
def test_docs_security_has_a_row_per_check(number):
    doc = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    assert re.search(rf"^\| {number} \|", doc, flags=re.M), number
