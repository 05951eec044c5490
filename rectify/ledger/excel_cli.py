"""`rectify import` and `rectify export`: the ledger Excel from the command line.

Exit status: 0 when the file is clean (and, with --commit, written), 1 when it has errors (nothing
is written), 2 when the command itself is wrong (unknown user, campaign or file).
"""

from __future__ import annotations

import sys
from pathlib import Path

MAX_ROWS_SHOWN = 200


def _user(username: str):
    from rectify.orgs.models import User

    user = User.objects.select_related("unit").filter(username=username, is_active=True).first()
    if user is None:
        print(f"用户不存在或已停用：{username}", file=sys.stderr)
    return user


def run_import(args) -> int:
    from django.core.exceptions import PermissionDenied

    from rectify.ledger.excel import commit_import, parse_workbook
    from rectify.ledger.models import Campaign

    user = _user(args.user)
    if user is None:
        return 2
    campaign = Campaign.objects.select_related("office").filter(code=args.campaign).first()
    if campaign is None:
        print(f"整改批次不存在：{args.campaign}", file=sys.stderr)
        return 2
    path = Path(args.file)
    if not path.is_file():
        print(f"文件不存在：{path}", file=sys.stderr)
        return 2
    try:
        preview = parse_workbook(path.read_bytes(), campaign=campaign, actor=user, filename=path.name)
    except PermissionDenied as exc:
        print(str(exc), file=sys.stderr)
        return 2

    print(f"文件：{path.name}（SM3 {preview.digest[:16]}…）  批次：{campaign.code} {campaign.name}")
    if preview.sheet:
        print(f"工作表：{preview.sheet}，表头在第 {preview.header_row} 行；识别的列："
              + "、".join(f"{written}→{label}" if written != label else label for written, label in preview.columns))
    if preview.ignored:
        print("未导入的列：" + "、".join(preview.ignored))
    for note in preview.notes:
        print("说明：" + note)
    for error in preview.file_errors:
        print("错误：" + error)
    shown = 0
    for row in preview.rows:
        for warning in row.warnings:
            if shown < MAX_ROWS_SHOWN:
                print(f"提示 第 {row.number} 行（{row.code or '无编号'}）：{warning}")
            shown += 1
    for row in preview.error_rows:
        print(f"错误 第 {row.number} 行（{row.code or '无编号'}）：" + "；".join(row.errors))
    print(preview.summary())
    if not preview.ok:
        print("文件有错误，未写入任何数据。请修改文件后重新导入。")
        return 1
    if not args.commit:
        print("仅预览，未写入。确认无误后加 --commit 写入。")
        return 0
    result = commit_import(preview, actor=user)
    print(result.summary())
    return 0 if result.ok else 1


def run_export(args) -> int:
    from rectify.ledger.excel import export_ledger
    from rectify.ledger.selectors import TaskFilter

    user = _user(args.user)
    if user is None:
        return 2
    out = Path(args.output)
    if out.suffix.lower() != ".xlsx":
        out = out.with_suffix(".xlsx")
    out.parent.mkdir(parents=True, exist_ok=True)
    count = export_ledger(user=user, filters=TaskFilter(campaign=getattr(args, "campaign", None)), target=str(out))
    print(f"已导出 {count} 条任务到 {out}")
    return 0
