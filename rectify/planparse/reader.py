"""Read a plan from .docx bytes, text bytes or a pasted str into blocks (paragraphs, tables).

Input is checked by content, not by name: a zip is read as docx whatever its name, and a file
named .docx that is not a docx is refused. Sizes are capped so that hostile input stays cheap.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

from .model import Block, PlanParseError

MAX_INPUT_BYTES = 10 * 1024 * 1024  # a real plan is ~20-200 KB; 10 MB is generous
MAX_TEXT_CHARS = 4_000_000
# A .docx is a zip of XML: its size on disk says little about the memory it takes to open. A
# 282 KB file of 2 million table cells, or a 132 KB one of 15 million empty paragraphs, took
# python-docx beyond 1-2 GB and two minutes. So the package is measured before it is opened:
# entries, the uncompressed size, and the XML elements (counted as "<", whatever the prefix).
# A real 100-page plan has tens of entries, ~100 thousand tags and a few thousand paragraphs.
MAX_DOCX_ENTRIES = 1_000
MAX_DOCX_UNZIPPED = 40 * 1024 * 1024  # images included; the upload itself is capped at 10 MB
MAX_DOCX_XML_TAGS = 400_000
MAX_DOCX_BLOCKS = 20_000  # paragraphs and table cells of the body

ZIP_MAGIC = b"PK\x03\x04"
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .doc / .xls


def read_source(source: bytes | str, filename: str | None = None) -> tuple[list[Block], dict[str, Any]]:
    """Return the blocks of the document and a description of the source."""
    info: dict[str, Any] = {"filename": filename}
    if isinstance(source, str):
        if len(source) > MAX_TEXT_CHARS:
            raise PlanParseError(f"文本过长（超过 {MAX_TEXT_CHARS // 10000} 万字），请确认粘贴的是整改方案全文。")
        info.update(kind="text", encoding=None)
        return text_blocks(source), info
    if not isinstance(source, bytes | bytearray):
        raise PlanParseError("无法读取输入：应为文件内容或粘贴的文本。")
    data = bytes(source)
    if len(data) > MAX_INPUT_BYTES:
        raise PlanParseError(f"文件过大（{len(data) / 1024 / 1024:.1f} MB），整改方案文件不应超过 10 MB。")
    if not data.strip():
        raise PlanParseError("文件为空，请选择整改方案文件。")
    name = (filename or "").lower()
    if data.startswith(ZIP_MAGIC) or name.endswith(".docx"):
        info.update(kind="docx", encoding=None)
        return docx_blocks(data), info
    if data.startswith(OLE_MAGIC) or name.endswith(".doc"):
        raise PlanParseError("不支持旧版 Word（.doc）文件，请在 Word 中另存为 .docx 后再上传。")
    if data.startswith(b"%PDF"):
        raise PlanParseError("暂不支持 PDF 文件，请上传 .docx 或 .txt，或直接粘贴文本。")
    text, encoding = decode_text(data)
    info.update(kind="txt", encoding=encoding)
    return text_blocks(text), info


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030 (GBK/GB2312)."""
    if data.startswith(b"\xef\xbb\xbf"):
        candidates = ["utf-8-sig"]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    elif (guess := _utf16_without_bom(data)) is not None:
        candidates = [guess]
    else:
        if b"\x00" in data[:65536]:
            raise PlanParseError("文件不是文本文件（含二进制内容），请上传 .docx 或 .txt 整改方案。")
        candidates = ["utf-8", "gb18030"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _control_ratio(text) > 0.01:
            raise PlanParseError("文件不是文本文件（含大量控制字符），请上传 .docx 或 .txt 整改方案。")
        return text, encoding
    raise PlanParseError("无法识别文件的文字编码（应为 UTF-8 或 GB18030/GBK），请另存为 UTF-8 文本后重试。")


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 saved without a byte-order mark (Notepad's "Unicode" on some systems): zero bytes in
    the ASCII characters (digits, line ends). The byte order whose text is mostly Chinese wins."""
    if len(data) < 8 or len(data) % 2 or b"\x00" not in data[:65536]:
        return None
    best, best_share = None, 0.3  # at least 30 % common Chinese characters
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            sample = data[:65536].decode(encoding)
        except UnicodeDecodeError:
            continue
        letters = [ch for ch in sample if not ch.isspace()]
        share = sum(1 for ch in letters if "\u4e00" <= ch <= "\u9fff") / max(1, len(letters))
        if share > best_share and _control_ratio(sample) <= 0.01:
            best, best_share = encoding, share
    return best


def _control_ratio(text: str) -> float:
    sample = text[:65536]
    if not sample:
        return 0.0
    bad = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\r\n\t\f\v")
    return bad / len(sample)


def text_blocks(text: str) -> list[Block]:
    """One block per line; the cleaner decides which line breaks are real paragraphs."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return [Block("para", text=line) for line in text.split("\n")]


def check_docx_bounds(data: bytes) -> None:
    """Refuse (PlanParseError, in Chinese) a package too big to open: reads only the zip's
    directory, then streams its XML parts counting tags. Nothing is parsed."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            entries = zf.infolist()
            if len(entries) > MAX_DOCX_ENTRIES:
                raise PlanParseError(f"Word 文档内部条目过多（{len(entries)} 个），不是正常的整改方案文件。")
            if "word/document.xml" not in {e.filename for e in entries}:
                raise PlanParseError("文件不是有效的 Word（.docx）文档：压缩包中没有正文（word/document.xml）。")
            unzipped = sum(e.file_size for e in entries)
            if unzipped > MAX_DOCX_UNZIPPED:
                raise PlanParseError(f"Word 文档解压后超过 {MAX_DOCX_UNZIPPED // 1048576} MB（可能是压缩炸弹），拒绝处理。")
            tags = 0
            for entry in entries:
                if not entry.filename.endswith((".xml", ".rels")):
                    continue
                with zf.open(entry) as stream:
                    # file_size is what the directory claims; the stream is read no further than the cap.
                    read = 0
                    while chunk := stream.read(1 << 20):
                        read += len(chunk)
                        tags += chunk.count(b"<")
                        if tags > MAX_DOCX_XML_TAGS or read > MAX_DOCX_UNZIPPED:
                            raise PlanParseError(
                                "Word 文档的内容结构过于庞大（段落、表格单元格或其他元素过多），"
                                "不是正常的整改方案文件。请删除多余内容，或另存为 .txt 后上传。")
    except zipfile.BadZipFile as exc:
        raise PlanParseError("文件不是有效的 Word（.docx）文档，可能已损坏或只是改了扩展名。") from exc


def docx_blocks(data: bytes) -> list[Block]:
    """Paragraphs and tables of the document body in reading order."""
    check_docx_bounds(data)
    try:
        import docx  # python-docx
        from docx.text.paragraph import Paragraph

        document = docx.Document(io.BytesIO(data))
    except PlanParseError:
        raise
    except Exception as exc:  # python-docx raises many kinds on malformed packages
        raise PlanParseError("文件不是有效的 Word（.docx）文档，无法打开。") from exc

    blocks: list[Block] = []
    body = document.element.body
    if sum(1 for _ in body.iter(_W + "p", _W + "tc")) > MAX_DOCX_BLOCKS:
        raise PlanParseError(f"Word 文档的段落和表格单元格超过 {MAX_DOCX_BLOCKS} 个，不是正常的整改方案文件。"
                             "请删除多余内容后重试。")
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            blocks.append(Block("para", text=Paragraph(child, document).text))
        elif tag == "tbl":
            blocks.append(Block("table", rows=_table_rows(child, document)))
    return blocks


def _table_rows(table, document) -> list[list[str]]:
    """Each row's cells as written (one per <w:tc>): python-docx's ``row.cells`` repeats a merged
    cell once per grid column it spans, which a crafted gridSpan turns into billions of cells."""
    from docx.text.paragraph import Paragraph

    rows: list[list[str]] = []
    for tr in table.iterchildren(_W + "tr"):
        cells: list[str] = []
        for tc in tr.iterchildren(_W + "tc"):
            texts = (Paragraph(p, document).text.strip() for p in tc.iter(_W + "p"))
            cells.append("\n".join(t for t in texts if t))
        rows.append(cells)
    return rows
