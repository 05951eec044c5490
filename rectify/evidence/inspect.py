"""Is this upload acceptable evidence? Type by content (magic bytes) and extension together, the
size caps, the zip-bomb checks for docx/xlsx, images that must decode — in one bounded pass that
also computes the SM3 digest and reads a photo's EXIF.

``inspect_upload`` returns an ``InspectedFile`` or raises ``EvidenceRejected`` with a Chinese
reason that names the file. Nothing is written here; ``store.EvidenceStore.save`` does that.
See docs/evidence.md ("How types are checked").
"""

from __future__ import annotations

import io
import os
import struct
import tempfile
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

from django.conf import settings
from PIL import Image, UnidentifiedImageError

from rectify.evidence.exif import PhotoMeta, read_photo_meta
from rectify.evidence.filetypes import (
    ACCEPTED_DESCRIPTION,
    AVIF,
    DOCX,
    HEIC,
    HEIF,
    HEIF_BRANDS,
    JPEG,
    PDF,
    PNG,
    XLSX,
    FileType,
)
from rectify.evidence.hashing import CHUNK, SM3Stream
from rectify.evidence.names import extension_of, sanitise_name

MB = 1024 * 1024

DEFAULT_MAX_BYTES = 20 * MB
DEFAULT_MAX_REPORT_BYTES = 100 * MB
DEFAULT_MAX_REPORT_FILES = 30  # a monthly report needs a handful of photos and documents
# docx/xlsx are zip archives: bound what they would expand to (SECURITY 19).
ZIP_MAX_UNCOMPRESSED = 200 * MB
ZIP_MAX_ENTRIES = 2_000
# Office XML rarely compresses better than ~50:1; 1 GB of zeros deflates about 1000:1.
ZIP_MAX_RATIO = 200
ZIP_RATIO_MIN_SIZE = 1 * MB  # tiny entries (empty parts) may have any ratio
CONTENT_TYPES_MAX = 1 * MB


class EvidenceRejected(ValueError):
    """An upload that is not accepted; ``message`` is Chinese, names the file and says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class InspectedFile:
    digest: str  # SM3 hex of the whole content
    size: int
    mime: str
    kind: str  # "photo" | "pdf" | "docx" | "xlsx"
    original_name: str  # sanitised, for display only; never used as a path
    extension: str  # canonical, decided by content ("jpeg" uploads become "jpg")
    exif: PhotoMeta | None = None  # a PhotoMeta for every photo, None for other kinds
    width: int | None = None
    height: int | None = None

    @property
    def storage_name(self) -> str:
        return f"{self.digest}.{self.extension}"


def _human_size(n: int) -> str:
    if n >= MB:
        return f"{n / MB:.1f}".removesuffix(".0") + " MB"
    return f"{max(n, 1) / 1024:.1f}".removesuffix(".0") + " KB"


def max_upload_bytes() -> int:
    return int(getattr(settings, "EVIDENCE_MAX_BYTES", DEFAULT_MAX_BYTES))


def check_report_total(total_bytes: int, *, files: int | None = None, max_bytes: int | None = None,
                       max_files: int | None = None) -> None:
    """Per-report caps (SECURITY 19): the sum of one report's attachments and, when ``files`` (the
    count with the new one) is given, their number."""
    if files is not None:
        most = max_files if max_files is not None else int(
            getattr(settings, "EVIDENCE_MAX_REPORT_FILES", DEFAULT_MAX_REPORT_FILES))
        if files > most:
            raise EvidenceRejected(f"每次报送最多上传 {most} 个附件，已达上限；请删除不需要的附件，或把同类照片合并后再上传")
    limit = max_bytes if max_bytes is not None else int(
        getattr(settings, "EVIDENCE_MAX_REPORT_BYTES", DEFAULT_MAX_REPORT_BYTES)
    )
    if total_bytes > limit:
        raise EvidenceRejected(
            f"本次报送的附件合计 {_human_size(total_bytes)}，超过每次报送 {_human_size(limit)} 的上限"
        )


# --- inspection ----------------------------------------------------------------------------


def inspect_upload(name: str, data_or_fileobj, *, max_bytes: int | None = None) -> InspectedFile:
    """Check one upload and describe it, or raise ``EvidenceRejected`` with a Chinese reason.

    ``data_or_fileobj`` is bytes, a path (``os.PathLike``), or a binary file object (a Django
    ``UploadedFile`` included). Seekable objects are read in place and left at position 0, so the
    same object can go on to ``EvidenceStore.save``; other streams are spooled to a temporary
    file. Reading stops as soon as the size cap is passed.
    """
    display = sanitise_name(name)
    limit = max_bytes if max_bytes is not None else max_upload_bytes()
    too_big = f"文件“{display}”超过单个文件 {_human_size(limit)} 的上限"

    if isinstance(data_or_fileobj, str):
        raise TypeError("pass bytes, a pathlib.Path or a binary file object, not a str")
    if isinstance(data_or_fileobj, bytes | bytearray | memoryview):
        data = bytes(data_or_fileobj)
        if len(data) > limit:
            raise EvidenceRejected(f"{too_big}（实际 {_human_size(len(data))}）")
        h = SM3Stream()
        h.update(data)
        return _inspect_stream(display, io.BytesIO(data), len(data), h.hexdigest())

    if isinstance(data_or_fileobj, os.PathLike):
        size = os.path.getsize(data_or_fileobj)
        if size > limit:
            raise EvidenceRejected(f"{too_big}（实际 {_human_size(size)}）")
        with open(data_or_fileobj, "rb") as fh:
            digest, size = _hash_bounded(fh, limit, too_big, sink=None)
            fh.seek(0)
            return _inspect_stream(display, fh, size, digest)

    fh = data_or_fileobj
    declared = getattr(fh, "size", None)  # Django's UploadedFile knows it already
    if isinstance(declared, int) and declared > limit:
        raise EvidenceRejected(f"{too_big}（实际 {_human_size(declared)}）")
    seekable = getattr(fh, "seekable", None)
    if callable(seekable) and seekable():
        fh.seek(0)
        digest, size = _hash_bounded(fh, limit, too_big, sink=None)
        try:
            fh.seek(0)
            return _inspect_stream(display, fh, size, digest)
        finally:
            fh.seek(0)
    temp_dir = getattr(settings, "FILE_UPLOAD_TEMP_DIR", None)
    with tempfile.SpooledTemporaryFile(max_size=4 * MB, dir=temp_dir) as spool:
        digest, size = _hash_bounded(fh, limit, too_big, sink=spool)
        spool.seek(0)
        return _inspect_stream(display, spool, size, digest)


def _hash_bounded(fh: BinaryIO, limit: int, too_big: str, *, sink: BinaryIO | None) -> tuple[str, int]:
    h = SM3Stream()
    size = 0
    while chunk := fh.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise EvidenceRejected(too_big)
        h.update(chunk)
        if sink is not None:
            sink.write(chunk)
    return h.hexdigest(), size


def _inspect_stream(display: str, fh: BinaryIO, size: int, digest: str) -> InspectedFile:
    if size == 0:
        raise EvidenceRejected(f"“{display}”：文件为空（0 字节），请重新选择")
    ext = extension_of(display)
    head = fh.read(32)
    fh.seek(0)

    ftype = _detect(display, fh, head, size)
    if ext not in ftype.accepted_extensions:
        shown = f"“.{ext}”" if ext else "（无扩展名）"
        raise EvidenceRejected(f"“{display}”：文件内容与扩展名不符（内容是{ftype.label}，扩展名为{shown}）")

    meta = None
    width = height = None
    if ftype.kind == "photo":
        ftype, meta, width, height = _check_image(display, fh, ftype)
    return InspectedFile(
        digest=digest,
        size=size,
        mime=ftype.mime,
        kind=ftype.kind,
        original_name=display,
        extension=ftype.ext,
        exif=meta,
        width=width,
        height=height,
    )


def _unsupported(display: str, detail: str = "") -> EvidenceRejected:
    return EvidenceRejected(f"文件“{display}”是不支持的文件类型{detail}；仅接受{ACCEPTED_DESCRIPTION}")


def _detect(display: str, fh: BinaryIO, head: bytes, size: int) -> FileType:
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"%PDF-"):
        fh.seek(max(0, size - 1024))
        tail = fh.read()
        fh.seek(0)
        if b"%%EOF" not in tail:
            raise EvidenceRejected(f"文件“{display}”不是完整的 PDF（缺少结束标记，可能上传中断或已损坏）")
        return PDF
    if head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        return HEIF  # refined to HEIC/AVIF (or refused) once Pillow has tried to open it
    if head.startswith(b"PK\x03\x04"):
        return _detect_ooxml(display, fh, size)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise _unsupported(display, "（旧版 .doc/.xls 或加密的 Office 文档），请另存为 .docx/.xlsx 后上传")
    raise _unsupported(display)


def _zip_declared_entries(fh: BinaryIO, size: int) -> int | None:
    """Entry count from the end-of-central-directory record, read before zipfile parses the
    whole directory (a directory of a million entries is itself the bomb)."""
    back = min(size, 22 + 65535)
    fh.seek(size - back)
    tail = fh.read(back)
    fh.seek(0)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        return None
    (total,) = struct.unpack("<H", tail[at + 10 : at + 12])
    return None if total == 0xFFFF else total  # 0xFFFF: zip64, zipfile reads the real count


def _detect_ooxml(display: str, fh: BinaryIO, size: int) -> FileType:
    declared = _zip_declared_entries(fh, size)
    if declared is not None and declared > ZIP_MAX_ENTRIES:
        raise EvidenceRejected(f"文件“{display}”包含 {declared} 个部件，超过 {ZIP_MAX_ENTRIES} 个的上限")
    try:
        with zipfile.ZipFile(fh) as zf:
            infos = zf.infolist()
            if len(infos) > ZIP_MAX_ENTRIES:
                raise EvidenceRejected(
                    f"文件“{display}”包含 {len(infos)} 个部件，超过 {ZIP_MAX_ENTRIES} 个的上限"
                )
            total = 0
            for info in infos:
                total += info.file_size
                ratio = info.file_size / max(info.compress_size, 1)
                if info.file_size > ZIP_RATIO_MIN_SIZE and ratio > ZIP_MAX_RATIO:
                    raise EvidenceRejected(
                        f"文件“{display}”中的部件压缩比异常（约 {ratio:.0f}:1），疑似压缩炸弹，已拒收"
                    )
            if total > ZIP_MAX_UNCOMPRESSED:
                raise EvidenceRejected(
                    f"文件“{display}”解压后约 {_human_size(total)}，超过 {_human_size(ZIP_MAX_UNCOMPRESSED)}"
                    "的上限，疑似压缩炸弹，已拒收"
                )
            names = {info.filename for info in infos}
            if "[Content_Types].xml" not in names:
                raise _unsupported(display, "（压缩包，不是 Office 文档）")
            if any(n.lower().endswith("vbaproject.bin") for n in names):
                raise EvidenceRejected(f"文件“{display}”含有宏，不予接收；请另存为不含宏的 .docx/.xlsx")
            ct_info = zf.getinfo("[Content_Types].xml")
            if ct_info.file_size > CONTENT_TYPES_MAX:
                raise _unsupported(display)
            content_types = zf.read(ct_info).decode("utf-8", "replace")
    except EvidenceRejected:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, KeyError, ValueError,
            struct.error) as exc:
        raise EvidenceRejected(f"文件“{display}”已损坏，无法作为 Office 文档读取") from exc
    finally:
        fh.seek(0)
    if "macroEnabled" in content_types:
        raise EvidenceRejected(f"文件“{display}”含有宏，不予接收；请另存为不含宏的 .docx/.xlsx")
    is_docx = "word/document.xml" in names
    is_xlsx = "xl/workbook.xml" in names
    if is_docx and not is_xlsx:
        return DOCX
    if is_xlsx and not is_docx:
        return XLSX
    raise _unsupported(display)


def _check_image(display: str, fh: BinaryIO, ftype: FileType):
    """Open, verify and fully decode an image; return the refined type, EXIF meta and size."""
    formats = {"jpg": ["JPEG"], "png": ["PNG"]}.get(ftype.ext)  # HEIF family: whatever plugin fits
    max_pixels = int(getattr(settings, "EVIDENCE_MAX_IMAGE_PIXELS", Image.MAX_IMAGE_PIXELS or 89_478_485))
    broken = EvidenceRejected(f"文件“{display}”无法解码为图片（文件可能已损坏）")
    too_large = f"文件“{display}”图片尺寸过大，请压缩后上传"
    # Our own pixel cap, checked before decoding; no warnings.catch_warnings() here — it is
    # process-global and the server is multi-threaded.
    try:
        try:
            im = Image.open(fh, formats=formats)
        except (UnidentifiedImageError, SyntaxError, OSError) as exc:
            if ftype is HEIF:
                raise EvidenceRejected(
                    f"文件“{display}”是 HEIC/HEIF 格式，本服务器暂不支持解码；请在手机相机设置中选择"
                    "“兼容性最佳”，或转换为 JPEG 后重新上传"
                ) from exc
            raise broken from exc
        with im:
            width, height = im.size
            if width * height > max_pixels:
                raise EvidenceRejected(f"{too_large}（{width}×{height} 像素）")
            if ftype is HEIF:
                ftype = AVIF if im.format == "AVIF" else HEIC
            im.verify()
        fh.seek(0)
        with Image.open(fh, formats=formats) as im:
            meta = read_photo_meta(im)
            if im.format == "JPEG":
                im.draft("RGB", (2048, 2048))  # decodes every scan, at reduced scale: cheap
            im.load()
    except EvidenceRejected:
        raise
    except Image.DecompressionBombError as exc:
        raise EvidenceRejected(too_large) from exc
    except Exception as exc:  # any other decoder failure means "not a usable image"
        raise broken from exc
    finally:
        fh.seek(0)
    return ftype, meta, width, height
