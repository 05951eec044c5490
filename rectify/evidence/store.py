"""Content-addressed storage of evidence files under ``MEDIA_ROOT`` (``evidence/ab/cd/<sm3>.<ext>``):
save (re-hashed while copying), open, verify (SECURITY 18), serve after verifying, delete with
the thumbnails (SECURITY 22), and the check that lists missing, altered, stray and orphan files.

The same content is stored once, so ``delete`` must only be called when no row refers to the
digest any more (the caller counts references). No access control here: callers reach a file's
row through a scoped selector first.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.http import FileResponse

from rectify.evidence import thumbs
from rectify.evidence.filetypes import MIME_BY_EXT
from rectify.evidence.hashing import CHUNK, SM3Stream, sm3_of_file
from rectify.evidence.inspect import EvidenceRejected, InspectedFile
from rectify.evidence.layout import EVIDENCE_DIR, atomic_write, file_relpath
from rectify.evidence.serve import attachment_response


@dataclass(frozen=True)
class StoreProblem:
    problem: str  # "missing" | "altered" | "stray" | "orphan"
    relative_path: str
    digest: str | None = None
    extension: str | None = None
    detail: str = field(default="", compare=False)


class EvidenceAltered(Exception):
    """A stored file no longer hashes to its name (SECURITY 18)."""


class EvidenceStore:
    """Content-addressed files under ``MEDIA_ROOT``: ``evidence/ab/cd/<sm3>.<ext>``.

    Names are generated here from the digest and a canonical extension only; client names never
    touch the file system. The same content is stored once, so ``delete`` must only be called
    when no evidence row refers to the digest any more (the caller counts references).
    """

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root if root is not None else settings.MEDIA_ROOT)

    # names
    def relative_path(self, digest: str, ext: str) -> str:
        return file_relpath(digest, ext)

    def path(self, digest: str, ext: str) -> Path:
        return self.root / self.relative_path(digest, ext)

    def exists(self, digest: str, ext: str) -> bool:
        return self.path(digest, ext).is_file()

    # write
    def save(self, inspected: InspectedFile, source) -> str:
        """Store the inspected content; return its path relative to ``MEDIA_ROOT``.

        ``source`` is bytes, a path, or a binary file object with the same content that was
        inspected. It is re-hashed while copying, and refused if it changed since inspection.
        An existing intact copy is kept as is (same content, same name: stored once).
        """
        target = self.path(inspected.digest, inspected.extension)
        rel = self.relative_path(inspected.digest, inspected.extension)
        if target.is_file() and self.verify(inspected.digest, inspected.extension):
            return rel
        with atomic_write(target) as out:
            h, size = SM3Stream(), 0
            for chunk in _chunks(source):
                h.update(chunk)
                size += len(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
            if h.hexdigest() != inspected.digest or size != inspected.size:
                raise EvidenceRejected(f"文件“{inspected.original_name}”在检查之后发生了变化，请重新上传")
        return rel

    # read
    def open(self, digest: str, ext: str) -> BinaryIO:
        return open(self.path(digest, ext), "rb")  # the caller closes it

    def verify(self, digest: str, ext: str) -> bool:
        """Re-hash the stored file: True when present and intact (SECURITY 18)."""
        path = self.path(digest, ext)
        try:
            return sm3_of_file(path) == digest
        except FileNotFoundError:
            return False

    def response(self, digest: str, ext: str, *, download_name: str) -> FileResponse:
        """Verify, then serve as an attachment. Raises ``FileNotFoundError`` when missing and
        ``EvidenceAltered`` when the content no longer matches its digest. No access control:
        the caller has already found the evidence row through a scoped selector."""
        path = self.path(digest, ext)
        if not path.is_file():
            raise FileNotFoundError(self.relative_path(digest, ext))
        if not self.verify(digest, ext):
            raise EvidenceAltered(self.relative_path(digest, ext))
        return attachment_response(path, download_name=download_name, mime=MIME_BY_EXT[ext])

    # thumbnails (rectify.evidence.thumbs)
    def thumbnail_path(self, digest: str, ext: str, size: int = thumbs.DEFAULT_SIZE) -> Path:
        return thumbs.thumbnail_path(self.root, digest, ext, size)

    def thumbnail(self, digest: str, ext: str, size: int = thumbs.DEFAULT_SIZE) -> Path:
        """A JPEG no larger than ``size``×``size``, made once, upright and without EXIF."""
        return thumbs.make_thumbnail(self.root, digest, ext, size)

    # delete (SECURITY 22)
    def delete(self, digest: str, ext: str) -> bool:
        """Remove the file and its thumbnails; True if the file was there."""
        path = self.path(digest, ext)
        existed = path.is_file()
        path.unlink(missing_ok=True)
        thumbs.delete_thumbnails(self.root, digest)
        return existed

    def sweep_incoming(self, older_than: float = 3600) -> int:
        """Delete ``.incoming-*`` files that an interrupted write left behind (a killed process
        mid-upload) once they are older than ``older_than`` seconds; returns how many went."""
        import time

        from rectify.evidence.layout import INCOMING_PREFIX

        cutoff, removed = time.time() - older_than, 0
        if not self.root.is_dir():
            return 0
        for path in self.root.rglob(f"{INCOMING_PREFIX}*"):
            try:
                if path.is_file() and path.stat().st_mtime < cutoff:
                    path.unlink(missing_ok=True)
                    removed += 1
            except OSError:
                pass  # another process swept it first
        return removed

    # check command
    def missing_or_altered(self, expected: Iterable[tuple[str, str]] | None = None) -> list[StoreProblem]:
        """Re-hash every stored file. With ``expected`` — the (digest, extension) pairs the
        database knows — also list those missing and files nobody refers to ("orphan").

        Problems: "missing" (expected, not on disk), "altered" (content ≠ name), "stray" (a name
        this store would never generate, e.g. an interrupted upload), "orphan".
        """
        problems: list[StoreProblem] = []
        on_disk: set[tuple[str, str]] = set()
        base = self.root / EVIDENCE_DIR
        if base.is_dir():
            for path in sorted(p for p in base.rglob("*") if p.is_file()):
                rel = path.relative_to(self.root).as_posix()
                digest, _, ext = path.name.partition(".")
                try:
                    well_formed = self.relative_path(digest, ext) == rel
                except ValueError:
                    well_formed = False
                if not well_formed:
                    problems.append(StoreProblem("stray", rel))
                    continue
                on_disk.add((digest, ext))
                if sm3_of_file(path) != digest:
                    problems.append(StoreProblem("altered", rel, digest, ext, "内容与摘要不符"))
        if expected is not None:
            wanted = set()
            for digest, ext in expected:
                wanted.add((digest, ext))
                if (digest, ext) not in on_disk:
                    problems.append(StoreProblem("missing", self.relative_path(digest, ext), digest, ext))
            for digest, ext in sorted(on_disk - wanted):
                problems.append(StoreProblem("orphan", self.relative_path(digest, ext), digest, ext))
        return problems


def _chunks(source) -> Iterable[bytes]:
    if isinstance(source, bytes | bytearray | memoryview):
        yield bytes(source)
        return
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as fh:
            while chunk := fh.read(CHUNK):
                yield chunk
        return
    if callable(getattr(source, "seekable", None)) and source.seekable():
        source.seek(0)
    while chunk := source.read(CHUNK):
        yield chunk
