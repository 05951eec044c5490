"""一案一档: one task's whole file, or every task of a selection, as one .zip an inspector can check
without the system.

Per task, a folder ``<编号>/`` holds:

- ``台账条目.json`` — the ledger entry (fields, units by role, measures);
- ``进展报送.json`` and ``佐证材料/…`` — every progress report and every evidence file;
- ``督办.json`` — escalations with their replies;
- ``销号.json``, ``销号材料/…`` and ``销号文书/…`` — close-outs with their self-assessments and 核查 records,
  their files, and the close-out's documents rendered from the record (销号申请表、整改情况公示、核查意见、销号备案表,
  each once its step is taken: ``documents.closeout_docs``);
- ``回头看.json`` and ``回头看材料/…`` — look-back checks and their files; the look-back's own report
  (回头看情况报告, one per look-back, covering many tasks) is written once, under ``回头看报告/`` at the top,
  and each check names it;
- ``领导批示.json`` — leader instructions (领导批示) on the task with each receiving unit's receipt (办理情况),
  as far as the exporter may see them (``Instruction.objects.visible_to``);
- ``审计事件.jsonl`` — the chain events about the task and those records, one per line, each with the
  exact fields its hash covers (``prev_hash`` included) and the hash.

At the top: ``索引.pdf`` (the tasks, their files with size and SM3) and ``manifest.json`` (the same, for
machines, with the chain head at export). Every file's SM3 is computed while it is copied, and equals
the digest it is stored under; ``rectify verify --head N:HASH`` (or HMAC-SM3 under the chain key over
the line's fields, canonical JSON) checks the events. Personal data stored encrypted (an objector's
name and phone) is left out.

Memory stays bounded: the archive is written to a file, member by member, files copied in 1 MiB
chunks, one task's records in memory at a time.
"""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from django.db import models
from django.utils import timezone

from rectify.closeout.models import (
    CheckRecord,
    Closeout,
    CloseoutFile,
    LookBackCheck,
    LookBackFile,
    SelfAssessment,
)
from rectify.core.audit import HASHED_FIELDS, _canonical_time, chain_head, jsonable
from rectify.core.crypto import EncryptedTextField
from rectify.core.models import Event
from rectify.dashboard.models import Instruction, InstructionReceipt
from rectify.dispatch.models import Evidence, ProgressReport
from rectify.documents import closeout_docs
from rectify.evidence.hashing import SM3Stream
from rectify.evidence.store import EvidenceStore
from rectify.ledger.models import Measure, Task, TaskUnit
from rectify.ledger.selectors import task_timeline
from rectify.supervision.models import Escalation

CHUNK = 1 << 20
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def safe_name(text: str, limit: int = 60) -> str:
    return (_UNSAFE.sub("_", text).strip(" .") or "_")[:limit]


def row(obj: models.Model) -> dict[str, Any]:
    """A record's own fields (foreign keys as ids), personal data (encrypted fields) left out."""
    out: dict[str, Any] = {}
    for f in obj._meta.concrete_fields:
        if isinstance(f, EncryptedTextField) or f.generated:  # generated: derived by the database
            continue
        out[f.attname] = jsonable(getattr(obj, f.attname))
    return out


def event_line(e: dict[str, Any]) -> dict[str, Any]:
    fields = {name: e[name] for name in HASHED_FIELDS}
    fields["created_at"] = _canonical_time(fields["created_at"])
    return {**fields, "hash": e["hash"]}


class DossierWriter:
    def __init__(self, path: Path):
        self.archive = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True)
        self.store = EvidenceStore()
        self.manifest: list[dict[str, Any]] = []
        self.lookback_reports: dict[int, dict[str, Any]] = {}  # look-back id → its report's entry, written once
        self.instructed: set[int] | None = None  # tasks with an instruction the exporter sees, read once

    def write_bytes(self, name: str, data: bytes, task: str = "") -> dict[str, Any]:
        h = SM3Stream()
        h.update(data)
        with self.archive.open(name, "w", force_zip64=True) as out:
            out.write(data)
        entry = {"task": task, "path": name, "size": len(data), "sm3": h.hexdigest()}
        self.manifest.append(entry)
        return entry

    def write_json(self, name: str, value: Any, task: str = "") -> None:
        self.write_bytes(name, json.dumps(value, ensure_ascii=False, indent=1).encode("utf-8"), task)

    def write_stored(self, name: str, stored, task: str) -> None:
        """Copy a stored file in chunks, hashing as it goes; the digest must equal the one it is stored under."""
        h, size = SM3Stream(), 0
        # photos, PDF, docx and xlsx are compressed already: stored as they are (deflating them costs
        # most of an export's time and saves nothing)
        info = zipfile.ZipInfo(name, date_time=timezone.localtime().timetuple()[:6])
        info.compress_type = zipfile.ZIP_STORED
        with self.store.open(stored.digest, stored.extension) as src, self.archive.open(info, "w", force_zip64=True) as out:
            while chunk := src.read(CHUNK):
                h.update(chunk)
                out.write(chunk)
                size += len(chunk)
        digest = h.hexdigest()
        self.manifest.append({"task": task, "path": name, "size": size, "sm3": digest, "stored_sm3": stored.digest,
                              "intact": digest == stored.digest, "original_name": stored.original_name})

    def close(self) -> None:
        self.archive.close()


def _files(writer: DossierWriter, folder: str, files: Iterable, task: str) -> list[dict[str, Any]]:
    listed = []
    for n, f in enumerate(files, 1):
        name = f"{folder}/{n:03d}_{safe_name(f.original_name, 80)}"
        if not name.lower().endswith("." + f.extension.lower()):
            name += "." + f.extension
        try:
            writer.write_stored(name, f, task)
            listed.append({"path": name, "sm3": f.digest, "size": f.size, "original_name": f.original_name})
        except FileNotFoundError:
            listed.append({"path": "", "sm3": f.digest, "missing": True, "original_name": f.original_name})
    return listed


# the close-out's documents, in the order of the procedure; each exists once its step is taken
CLOSEOUT_DOCUMENTS = (
    ("application", closeout_docs.application_form_docx),
    ("notice", closeout_docs.public_notice_docx),
    ("verification", closeout_docs.verification_opinion_docx),
    ("filing", closeout_docs.filing_form_docx),
)


def _closeout_documents(writer: DossierWriter, base: str, closeout: Closeout) -> list[dict[str, Any]]:
    """销号文书: each document of the close-out whose step has been taken, rendered from the record as the
    close-out page would generate it (without recording a ``document_generated`` event per document:
    the export itself is the job's event)."""
    listed = []
    for kind, render in CLOSEOUT_DOCUMENTS:
        if not closeout_docs.availability(kind, closeout):
            continue
        title = closeout_docs.DOCUMENTS[kind][0]
        entry = writer.write_bytes(f"{base}/销号文书/{closeout.pk}_第{closeout.attempt}次_{title}.docx",
                                   render(closeout), base)
        listed.append({"document": kind, "title": title, "path": entry["path"], "sm3": entry["sm3"],
                       "size": entry["size"]})
    return listed


def _lookback_report(writer: DossierWriter, check: LookBackCheck, user) -> dict[str, Any]:
    """回头看情况报告 of the check's look-back, written once per archive (it lists every check of the
    look-back the exporter may see)."""
    entry = writer.lookback_reports.get(check.lookback_id)
    if entry is None:
        lookback = check.lookback
        entry = writer.write_bytes(f"回头看报告/{lookback.pk}_{safe_name(lookback.title, 60)}.docx",
                                   closeout_docs.lookback_report_docx_bytes(lookback, user))
        writer.lookback_reports[check.lookback_id] = entry
    return {"path": entry["path"], "sm3": entry["sm3"], "size": entry["size"]}


def _instructions(writer: DossierWriter, task: Task, user) -> list[dict[str, Any]]:
    """领导批示 on the task with each unit's receipt, as far as ``user`` may see them. Which tasks have any
    is read once per archive (instructions are few; a 2,000-task export would otherwise spend a scoped
    query per task on finding none)."""
    if writer.instructed is None:
        writer.instructed = set(Instruction.objects.visible_to(user).filter(task__isnull=False)
                                .values_list("task_id", flat=True))
    if task.pk not in writer.instructed:
        return []
    receipts = InstructionReceipt.objects.visible_to(user).select_related("unit", "acted_by")
    rows = (Instruction.objects.visible_to(user).filter(task=task).select_related("leader")
            .prefetch_related(models.Prefetch("receipts", queryset=receipts)).order_by("created_at", "id"))
    return [{**row(i), "leader": str(i.leader),
             "receipts": [{**row(r), "unit": r.unit.name, "status_label": r.get_status_display(),
                           "acted_by": str(r.acted_by) if r.acted_by else ""} for r in i.receipts.all()]}
            for i in rows]


def write_task(writer: DossierWriter, task: Task, user) -> None:
    base = safe_name(task.code or str(task.pk), 40)
    units = [{"role": tu.role, "unit": tu.unit.name, "unit_id": tu.unit_id}
             for tu in TaskUnit.objects.filter(task=task).select_related("unit").order_by("role", "ordinal", "id")]
    measures = [row(m) for m in Measure.objects.filter(task=task).order_by("ordinal", "id")]
    writer.write_json(f"{base}/台账条目.json", {"task": row(task), "units": units, "measures": measures}, base)

    reports = list(ProgressReport.objects.filter(task=task).select_related("round", "unit").order_by("round_id", "id"))
    evidence: dict[int, list[Evidence]] = {}
    for item in Evidence.objects.filter(report__task=task).order_by("id"):  # one query for all the task's reports
        evidence.setdefault(item.report_id, []).append(item)
    report_rows = []
    for report in reports:
        files = _files(writer, f"{base}/佐证材料/{safe_name(report.round.period)}_{safe_name(report.unit.name, 20)}",
                       evidence.get(report.pk, []), base)
        report_rows.append({**row(report), "round": report.round.title, "unit": report.unit.name, "evidence": files})
    writer.write_json(f"{base}/进展报送.json", report_rows, base)

    escalations = list(Escalation.objects.filter(task=task).order_by("issued_at", "id"))
    writer.write_json(f"{base}/督办.json", [row(e) for e in escalations], base)

    closeouts = list(Closeout.objects.filter(task=task).order_by("id"))
    closeout_rows = []
    for c in closeouts:
        files = _files(writer, f"{base}/销号材料/{c.pk}", CloseoutFile.objects.filter(closeout=c).order_by("id"), base)
        closeout_rows.append({**row(c), "self_assessments": [row(a) for a in SelfAssessment.objects.filter(closeout=c)],
                              "checks": [row(r) for r in CheckRecord.objects.filter(closeout=c)], "files": files,
                              "documents": _closeout_documents(writer, base, c)})
    writer.write_json(f"{base}/销号.json", closeout_rows, base)

    checks = list(LookBackCheck.objects.visible_to(user).filter(task=task).select_related("lookback").order_by("id"))
    check_rows = []
    for check in checks:
        files = _files(writer, f"{base}/回头看材料/{check.pk}", LookBackFile.objects.filter(lookback_check=check)
                       .order_by("id"), base)
        check_rows.append({**row(check), "files": files, "report": _lookback_report(writer, check, user)})
    writer.write_json(f"{base}/回头看.json", check_rows, base)

    # 批示 and their receipts; their events are on the task (instruction_issued, instruction_handled), so
    # the task's timeline below carries them
    writer.write_json(f"{base}/领导批示.json", _instructions(writer, task, user), base)

    # one indexed probe (event_object_idx) per kind of record: an OR across kinds would scan the chain
    events: list[dict[str, Any]] = []
    # the task's own events as its timeline shows them to this user (ledger.timeline_hidden: e.g. that
    # accountability was proposed, which only case handlers read)
    events += task_timeline(task, user).values(*HASHED_FIELDS, "hash")
    for label, keys in (("dispatch.progressreport", [o.pk for o in reports]),
                        ("supervision.escalation", [o.pk for o in escalations]),
                        ("closeout.closeout", [o.pk for o in closeouts]),
                        ("closeout.lookbackcheck", [o.pk for o in checks])):
        if keys:
            events += Event.objects.filter(object_type=label, object_id__in=[str(k) for k in keys]).values(
                *HASHED_FIELDS, "hash")
    events.sort(key=lambda e: e["seq"])
    lines = [json.dumps(event_line(e), ensure_ascii=False, sort_keys=True) for e in events]
    writer.write_bytes(f"{base}/审计事件.jsonl", ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8"), base)


def _index_pdf(writer: DossierWriter, tasks: list[tuple[str, str]], head: tuple[int, str], path: Path) -> None:
    """索引.pdf: one line per task (its files and bytes); every file with its SM3 is in manifest.json.
    Drawn line by line on the canvas: wrapped table cells cost seconds per hundred rows."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    from rectify.reports.sixmonth import register_font

    font = register_font()
    per_task: dict[str, list[int]] = {}
    for m in writer.manifest:
        counts = per_task.setdefault(m["task"], [0, 0])
        counts[0] += 1
        counts[1] += m["size"]
    canvas = Canvas(str(path), pagesize=A4, pageCompression=1)
    canvas.setTitle("一案一档索引")
    width, height = A4
    lines = [f"导出时间：{timezone.localtime():%Y-%m-%d %H:%M}　任务 {len(tasks)} 项　文件 {len(writer.manifest)} 个",
             f"审计链头：{head[0]}:{head[1]}", "每个文件的 SM3 摘要见 manifest.json；每项任务的审计事件见其 审计事件.jsonl。", ""]
    # the documents rendered into the archive (close-out forms, look-back reports) are few: each is
    # listed under its task with its SM3, so a reader of the index checks them without the manifest
    documents: dict[str, list[dict[str, Any]]] = {}
    for m in writer.manifest:
        if "/销号文书/" in m["path"]:
            documents.setdefault(m["task"], []).append(m)
    for code, title in tasks:
        lines.append(f"{code}　{title[:40]}　文件 {per_task.get(code, [0, 0])[0]} 个，{per_task.get(code, [0, 0])[1]:,} 字节")
        for m in documents.get(code, []):
            lines += [f"　　{m['path'].rsplit('/', 1)[-1][:60]}", f"　　　SM3 {m['sm3']}"]
    reports = [m for m in writer.manifest if m["path"].startswith("回头看报告/")]
    if reports:
        lines += ["", "回头看情况报告："]
        for m in reports:
            lines += [f"　　{m['path'][:70]}", f"　　　SM3 {m['sm3']}"]
    y, page = height - 20 * mm, 1
    canvas.setFont(font, 16)
    canvas.drawCentredString(width / 2, y, "一案一档 · 档案索引")
    y -= 12 * mm
    for line in lines:
        if y < 20 * mm:
            canvas.setFont(font, 8)
            canvas.drawCentredString(width / 2, 10 * mm, f"— {page} —")
            canvas.showPage()
            page += 1
            y = height - 20 * mm
        canvas.setFont(font, 9)
        canvas.drawString(18 * mm, y, line)
        y -= 5.2 * mm
    canvas.setFont(font, 8)
    canvas.drawCentredString(width / 2, 10 * mm, f"— {page} —")
    canvas.save()


def write_dossier(user, tasks, path: Path, *, progress: Callable[[int, int], None] | None = None) -> tuple[int, int]:
    """Write the dossier of ``tasks`` (a queryset the caller scoped) to ``path``; (tasks, files) written."""
    total = tasks.count()
    writer = DossierWriter(path)
    listed: list[tuple[str, str]] = []
    try:
        for done, task in enumerate(tasks.order_by("code", "id").iterator(chunk_size=200), 1):
            write_task(writer, task, user)
            listed.append((safe_name(task.code or str(task.pk), 40), task.title))
            if progress is not None:
                progress(done, total)
        head = chain_head()
        index = path.with_name(path.name + ".index.pdf")
        try:
            _index_pdf(writer, listed, head, index)
            with open(index, "rb") as src, writer.archive.open("索引.pdf", "w", force_zip64=True) as out:
                shutil.copyfileobj(src, out, CHUNK)
        finally:
            index.unlink(missing_ok=True)
        files = len(writer.manifest)
        manifest = {"exported_at": timezone.localtime().isoformat(), "exported_by": user.get_username(),
                    "chain_head": {"count": head[0], "hash": head[1]}, "tasks": [c for c, _ in listed],
                    "files": writer.manifest,
                    "events": "each 审计事件.jsonl line: hash = HMAC-SM3(chain key, canonical JSON of the other fields, "
                              "keys sorted, no spaces); rectify verify --head N:HASH checks the chain"}
        writer.write_json("manifest.json", manifest)
    finally:
        writer.close()
    return total, files

