"""The kinds of file accepted as evidence: photo, PDF, Word, Excel — their MIME types, the
extensions each may carry and the canonical extension the store names them with."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FileType:
    kind: str  # "photo" | "pdf" | "docx" | "xlsx"
    mime: str
    ext: str  # canonical extension the store uses
    accepted_extensions: frozenset[str]
    label: str  # Chinese, for messages


JPEG = FileType("photo", "image/jpeg", "jpg", frozenset({"jpg", "jpeg"}), "JPEG 图片")
PNG = FileType("photo", "image/png", "png", frozenset({"png"}), "PNG 图片")
_HEIF_EXTS = frozenset({"heic", "heif", "avif"})  # one container family; the codec decides the rest
HEIF = FileType("photo", "image/heif", "heif", _HEIF_EXTS, "HEIC/HEIF 照片")  # detected, not yet decoded
HEIC = FileType("photo", "image/heic", "heic", _HEIF_EXTS, "HEIC 照片")
AVIF = FileType("photo", "image/avif", "avif", _HEIF_EXTS, "AVIF 照片")
PDF = FileType("pdf", "application/pdf", "pdf", frozenset({"pdf"}), "PDF 文档")
DOCX = FileType(
    "docx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "docx",
    frozenset({"docx"}),
    "Word 文档（.docx）",
)
XLSX = FileType(
    "xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xlsx",
    frozenset({"xlsx"}),
    "Excel 表格（.xlsx）",
)
ALL_TYPES = (JPEG, PNG, HEIF, HEIC, AVIF, PDF, DOCX, XLSX)
MIME_BY_EXT = {t.ext: t.mime for t in ALL_TYPES}
PHOTO_EXTS = frozenset(t.ext for t in ALL_TYPES if t.kind == "photo")
ACCEPTED_DESCRIPTION = "照片（JPEG、PNG，以及服务器能解码的 HEIC）、PDF、Word（.docx）、Excel（.xlsx）"

# ISO-BMFF major brands of HEIF-family stills (HEIC from phones, AVIF).
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis"}
