"""Writing a clean preview: every row through ``ledger.services.write_tasks`` (checked and built
before the transaction, written in bulk inside one short one), or nothing, with one
``ledger_imported`` event for the file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError

from rectify.core.audit import record_event
from rectify.ledger.excel.preview import CREATE, UPDATE, ImportPreview
from rectify.ledger.services import BulkWriteError, StaleVersionError, TaskWrite, write_tasks
from rectify.orgs.models import User


@dataclass
class ImportResult:
    ok: bool
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if not self.ok:
            return "导入未执行，未写入任何数据：" + "；".join(self.errors)
        return f"导入完成：新增 {self.created} 条，更新 {self.updated} 条，无变化 {self.unchanged} 条。"


def _messages(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "；".join(exc.messages)
    return str(exc)


def commit_import(preview: ImportPreview, *, actor: User,
                  progress: Callable[[int, int], None] | None = None) -> ImportResult:
    """Write a clean preview: every new and changed row in one bulk write, or nothing.

    A task changed by someone else since the preview (a stale version) or a code taken meanwhile
    rolls the whole import back with the row named. ``progress(done, total)`` is called before
    the one bulk write, half-way inside it and after it (the background job shows it).
    """
    if preview.file_errors:
        return ImportResult(ok=False, errors=list(preview.file_errors))
    if preview.error_rows:
        return ImportResult(ok=False, errors=[f"有 {len(preview.error_rows)} 行存在错误，请修改文件后重新上传"])
    if not preview.rows:
        return ImportResult(ok=False, errors=["文件中没有可导入的数据行"])
    source = f"Excel 导入：{preview.filename}" if preview.filename else "Excel 导入"
    writes = [TaskWrite(data=row.data, key=row) for row in preview.rows if row.action == CREATE and row.data]
    writes += [TaskWrite(data=row.data, task=row.task, expected_version=row.version, key=row)
               for row in preview.rows if row.action == UPDATE and row.data]
    writes.sort(key=lambda w: w.key.number)  # events in the file's order
    result = ImportResult(ok=True, unchanged=sum(1 for r in preview.rows if r.action not in (CREATE, UPDATE)))

    def record_import(created: int, updated: int) -> None:
        result.created, result.updated = created, updated
        record_event(
            actor=actor, action="ledger_imported", obj=preview.campaign,
            summary=f"Excel 导入台账「{preview.filename}」：新增 {created} 条，更新 {updated} 条，"
                    f"无变化 {result.unchanged} 条",
            after={"file": preview.filename, "sm3": preview.digest, "size": preview.size, "sheet": preview.sheet,
                   "rows": len(preview.rows), "created": created, "updated": updated, "unchanged": result.unchanged})

    try:
        # checks and rows are prepared before write_tasks opens its (short) transaction; the
        # background job's progress reads 0 until the one short write has committed
        if progress is not None:
            progress(0, len(preview.rows))
        write_tasks(actor=actor, campaign=preview.campaign, writes=writes, source=source, then=record_import,
                    progress=progress)
    except BulkWriteError as exc:
        row = exc.write.key
        if isinstance(exc.cause, StaleVersionError):
            return ImportResult(ok=False, errors=[f"第 {row.number} 行（{row.code}）：预览之后该任务已被他人修改，"
                                                  f"请重新上传预览。{exc.cause}"])
        return ImportResult(ok=False, errors=[f"第 {row.number} 行（{row.code}）：" + _messages(exc.cause)])
    except (ValidationError, PermissionDenied, DatabaseError) as exc:
        return ImportResult(ok=False, errors=[_messages(exc)])
    if progress is not None:
        progress(len(preview.rows), len(preview.rows))
    return result
