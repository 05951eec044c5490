"""``rectify parse-plan FILE``: print the proposed structure of a plan as JSON.

FILE is a .docx or .txt path, or ``-`` for stdin. Exit 0 with the JSON on stdout, or 2 with
the Chinese error message on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .model import PlanParseError
from .parser import parse_plan
from .reader import MAX_INPUT_BYTES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rectify parse-plan", description="整改方案（txt/docx）→ 结构化建议（JSON）")
    parser.add_argument("file", help="方案文件路径（.docx / .txt），或 - 表示从标准输入读取")
    parser.add_argument("--compact", action="store_true", help="不缩进输出")
    args = parser.parse_args(argv)
    try:
        if args.file == "-":
            data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
            name = None
        else:
            path = Path(args.file)
            if not path.is_file():
                raise PlanParseError(f"找不到文件：{args.file}")
            if path.stat().st_size > MAX_INPUT_BYTES:
                raise PlanParseError(f"文件过大（{path.stat().st_size / 1024 / 1024:.1f} MB），整改方案文件不应超过 10 MB。")
            data, name = path.read_bytes(), path.name
        result = parse_plan(data, filename=name)
    except PlanParseError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    try:
        json.dump(result.to_dict(), sys.stdout, ensure_ascii=False, indent=None if args.compact else 2)
        sys.stdout.write("\n")
    except BrokenPipeError:  # `rectify parse-plan f | head` is fine
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
