"""Backup and restore (备份与恢复, SECURITY.md check 25): one archive of the database and the evidence
files, consistent while the server runs and writes; a restore that reports success only after the
audit chain and every evidence digest verify.

The archive (.zip, 0600) holds:

| entry | what |
| --- | --- |
| ``manifest.json`` | when, database vendor, the chain head of the snapshot, every file with its SM3 |
| ``database.sqlite3`` / ``database.pgdump`` | SQLite's online backup API (a consistent snapshot while others write) / ``pg_dump --format=custom`` (one transaction snapshot) |
| ``files/…`` | the evidence files the snapshot refers to, under their content-addressed names |
| ``audit-heads.log`` | the head log's lines up to the snapshot's head (the second record of the chain) |

Keys are NOT in the archive (``chain_key``, ``data_key``, the secret key): whoever steals a backup
must not get them with it. Keep them apart (the environment, or the key files copied once to the
restore host); a restore without them cannot verify the chain nor read personal data, and says so.

Evidence files are immutable and named by their digest, so copying them after the database
snapshot is safe: every file the snapshot names is copied and re-hashed; files uploaded later are
simply not in it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection

FORMAT = "rectify-backup/1"


@dataclass
class Outcome:
    ok: bool
    lines: list[str]


def _file_tables() -> list[str]:
    from rectify.evidence.models import concrete_file_models

    return [model._meta.db_table for model in concrete_file_models()]


def _referenced_files(cursor) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for table in _file_tables():
        cursor.execute(f'SELECT DISTINCT digest, extension FROM "{table}"')  # noqa: S608 - table names from models
        found.update((digest, ext) for digest, ext in cursor.fetchall())
    return found


def _head_of(cursor) -> tuple[int, str]:
    cursor.execute("SELECT seq, hash FROM core_event ORDER BY seq DESC LIMIT 1")
    row = cursor.fetchone()
    return (int(row[0]), row[1]) if row else (0, "")


def _pg_url() -> str:
    db = settings.DATABASES["default"]
    user = f"{db.get('USER')}@" if db.get("USER") else ""
    return f"postgresql://{user}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def _pg_env() -> dict:
    env = dict(os.environ)
    if settings.DATABASES["default"].get("PASSWORD"):
        env["PGPASSWORD"] = settings.DATABASES["default"]["PASSWORD"]
    return env


def backup(output: Path) -> Outcome:
    """Write the archive to ``output`` (a new file, 0600); the snapshot's head and file count in the lines."""
    from rectify.evidence.store import EvidenceStore

    store = EvidenceStore()
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=settings.DATA_DIR, prefix=".backup-") as scratch:
        work = Path(scratch)
        if connection.vendor == "sqlite":
            snapshot = work / "database.sqlite3"
            source = sqlite3.connect(settings.DATABASES["default"]["NAME"], timeout=30)
            target = sqlite3.connect(snapshot)
            try:
                source.backup(target)  # one step: a consistent snapshot even while the server writes
            finally:
                target.close()
                source.close()
            db_entry = "database.sqlite3"
            view = sqlite3.connect(snapshot)
            try:
                cursor = view.cursor()
                head, files = _head_of(cursor), _referenced_files(cursor)
            finally:
                view.close()
        elif connection.vendor == "postgresql":
            snapshot = work / "database.pgdump"
            # Repeatable read in one transaction: the dump is a snapshot; the head and the files are
            # read afterwards, so they are at least those of the snapshot (later ones are harmless).
            subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--file", str(snapshot), _pg_url()],
                           env=_pg_env(), check=True, capture_output=True, timeout=6 * 3600)
            db_entry = "database.pgdump"
            with connection.cursor() as live:
                files = _referenced_files(live)
            head = _dump_head(snapshot)
        else:  # pragma: no cover - the product runs on these two
            return Outcome(False, [f"不支持备份 {connection.vendor} 数据库。"])
        missing = [f"{d}.{e}" for d, e in sorted(files) if not store.path(d, e).exists()]
        manifest: dict = {"format": FORMAT, "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "database": connection.vendor, "chain_head": {"count": head[0], "hash": head[1]},
                    "files": [{"name": store.relative_path(d, e), "sm3": d} for d, e in sorted(files)
                              if f"{d}.{e}" not in missing]}
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(snapshot, db_entry)
            for item in manifest["files"]:
                archive.write(store.root / item["name"], f"files/{item['name']}", compress_type=zipfile.ZIP_STORED)
            archive.writestr("audit-heads.log", _heads_up_to(head[0]))
            archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
    lines = [f"备份完成：{output}",
             f"  数据库（{connection.vendor}）快照的审计链头 {head[0]}:{head[1]}",
             f"  佐证材料文件 {len(manifest['files'])} 个"]
    if missing:
        lines.append(f"  警告：数据库引用的 {len(missing)} 个文件在磁盘上已缺失，未能备份（{', '.join(missing[:5])}）")
    lines.append("  注意：密钥（chain_key、data_key、secret_key）不在备份中，请另行妥善保管。")
    return Outcome(not missing, lines)


def _dump_head(dump: Path) -> tuple[int, str]:
    """The newest event in a pg_dump archive's data (read back with pg_restore, no database needed)."""
    result = subprocess.run(["pg_restore", "--data-only", "--table=core_event", "--file=-", str(dump)],
                            capture_output=True, check=True, timeout=3600)
    best = (0, "")
    in_copy, columns = False, []
    for line in result.stdout.decode("utf-8", "replace").splitlines():
        if line.startswith("COPY public.core_event"):
            columns = [c.strip().strip('"') for c in line[line.index("(") + 1:line.index(")")].split(",")]
            in_copy = True
            continue
        if in_copy:
            if line == "\\.":
                break
            values = line.split("\t")
            seq, digest = int(values[columns.index("seq")]), values[columns.index("hash")]
            if seq > best[0]:
                best = (seq, digest)
    return best


def _heads_up_to(count: int) -> str:
    path = getattr(settings, "AUDIT_HEAD_LOG", None)
    if not path or not os.path.exists(path):
        return ""
    kept = []
    with open(path, encoding="ascii", errors="replace") as log:
        for line in log:
            head = line.split(" ", 1)[0]
            seq = head.partition(":")[0]
            if seq.isdigit() and int(seq) <= count:
                kept.append(line if line.endswith("\n") else line + "\n")
    return "".join(kept)


def restore(archive_path: Path) -> Outcome:
    """Restore into the configured, empty installation; success only once the chain and every
    evidence digest verify."""
    from rectify.core.audit import logged_head, verify_chain
    from rectify.evidence.store import EvidenceStore

    try:
        archive = zipfile.ZipFile(archive_path)
        manifest = json.loads(archive.read("manifest.json"))
    except (OSError, KeyError, zipfile.BadZipFile, ValueError):
        return Outcome(False, [f"{archive_path} 不是 Rectify 的备份文件。"])
    if manifest.get("format") != FORMAT:
        return Outcome(False, [f"备份格式 {manifest.get('format')} 无法识别。"])
    if manifest["database"] != connection.vendor:
        return Outcome(False, [f"备份来自 {manifest['database']} 数据库，当前配置为 {connection.vendor}：请配置相同类型的数据库。"])
    if _has_data():
        return Outcome(False, ["目标数据库已有数据：恢复只能写入空的安装（新的数据目录，或新建的空 PostgreSQL 数据库），以免覆盖现有记录。"])
    with archive:
        if connection.vendor == "sqlite":
            target = Path(settings.DATABASES["default"]["NAME"])
            connection.close()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
            with archive.open("database.sqlite3") as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
        else:
            with tempfile.TemporaryDirectory(dir=settings.DATA_DIR, prefix=".restore-") as scratch:
                dump = Path(scratch) / "database.pgdump"
                with archive.open("database.pgdump") as src, open(dump, "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
                connection.close()
                subprocess.run(["pg_restore", "--no-owner", "--single-transaction", "--dbname", _pg_url(), str(dump)],
                               env=_pg_env(), check=True, capture_output=True, timeout=6 * 3600)
        store = EvidenceStore()
        for item in manifest["files"]:
            destination = store.root / item["name"]
            destination.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(f"files/{item['name']}") as src, open(destination, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
        heads = archive.read("audit-heads.log")
        if heads and getattr(settings, "AUDIT_HEAD_LOG", None):
            fd = os.open(str(settings.AUDIT_HEAD_LOG), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "ab") as out:
                out.write(heads)
    head = manifest["chain_head"]
    result = verify_chain(head=(head["count"], head["hash"]) if head["count"] else logged_head())
    problems = [p for p in store.missing_or_altered(
        [(item["sm3"], item["name"].rsplit(".", 1)[1]) for item in manifest["files"]]) if p.problem in
        ("missing", "altered")]
    lines = [f"已恢复 {archive_path}（备份时间 {manifest['created_at']}）",
             f"  审计链：{result.message}",
             f"  佐证材料：{len(manifest['files'])} 个文件，缺失或被改动 {len(problems)} 个"]
    if not result.ok:
        lines.append("恢复后审计链校验未通过：数据可能不完整或被改动，或本机的 chain_key 与备份时不同。数据已放在原处供检查。")
    if problems:
        lines += [f"  {p.problem}: {p.relative_path}" for p in problems[:20]]
    ok = result.ok and not problems
    lines.append("恢复成功：审计链与全部佐证材料摘要校验通过。" if ok else "恢复未通过校验。")
    return Outcome(ok, lines)


def _has_data() -> bool:
    tables = connection.introspection.table_names()
    if connection.vendor == "postgresql":
        return bool(tables)  # pg_restore creates the schema itself: the database must be new
    if "core_event" not in tables:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM (SELECT 1 FROM core_event LIMIT 1) AS probe")
        return bool(cursor.fetchone()[0])
