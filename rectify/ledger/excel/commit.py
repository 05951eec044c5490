"""Writing a clean preview: every row through the ledger services in one transaction, or nothing,
with one ``ledger_imported`` event for the file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction

from rectify.core.audit import record_event
from rectify.ledger.excel.preview import CREATE, UPDATE, ImportPreview
from rectify.ledger.services import StaleVersionError, create_task, update_task
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
    """Write a clean preview: every row through the ledger services in one transaction, or nothing.

    A task changed by someone else since the preview (a stale version) or a code taken meanwhile
    rolls the whole import back with the row named. ``progress(done, total)`` is called as rows are
    written (the background job shows it).
    """
    if preview.file_errors:
        return ImportResult(ok=False, errors=list(preview.file_errors))
    if preview.error_rows:
        return ImportResult(ok=False, errors=[f"有 {len(preview.error_rows)} 行存在错误，请修改文件后重新上传"])
    if not preview.rows:
        return ImportResult(ok=False, errors=["文件中没有可导入的数据行"])
    source = f"Excel 导入：{preview.filename}" if preview.filename else "Excel 导入"
    result = ImportResult(ok=True)
    current = None
    try:
        with transaction.atomic():
            total = len(preview.rows)
            for done, row in enumerate(preview.rows):
                current = row
                if progress is not None and done % 50 == 0:
                    progress(done, total)
                if row.action == CREATE:
                    create_task(actor=actor, campaign=preview.campaign, data=row.data, source=source)
                    result.created += 1
                elif row.action == UPDATE:
                    update_task(actor=actor, task=row.task, expected_version=row.version, data=row.data, source=source)
                    result.updated += 1
                else:
                    result.unchanged += 1
            current = None
            record_event(
                actor=actor, action="ledger_imported", obj=preview.campaign,
                summary=f"Excel 导入台账「{preview.filename}」：新增 {result.created} 条，更新 {result.updated} 条，"
                        f"无变化 {result.unchanged} 条",
                after={"file": preview.filename, "sm3": preview.digest, "size": preview.size, "sheet": preview.sheet,
                       "rows": len(preview.rows), "created": result.created, "updated": result.updated,
                       "unchanged": result.unchanged})
    except StaleVersionError as exc:
        return ImportResult(ok=False, errors=[f"第 {current.number} 行（{current.code}）：预览之后该任务已被他人修改，"
                                              f"请重新上传预览。{exc}"])
    except (ValidationError, PermissionDenied, DatabaseError) as exc:
        where = f"第 {current.number} 行（{current.code}）：" if current else ""
        return ImportResult(ok=False, errors=[where + _messages(exc)])
    return result
