"""Where evidence files live under ``MEDIA_ROOT`` and how they are written there.

``evidence/ab/cd/<sm3>.<ext>`` for the files, ``thumbs/ab/cd/<sm3>-<size>.jpg`` for thumbnails:
names come from the digest and a canonical extension only, never from a client. Every write goes
to an ``.incoming-*`` file in the target directory and is renamed into place, so a reader never
sees half a file.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from rectify.evidence.filetypes import MIME_BY_EXT

EVIDENCE_DIR = "evidence"
THUMBS_DIR = "thumbs"
FILE_MODE = 0o640
DIR_MODE = 0o750
INCOMING_PREFIX = ".incoming-"

_DIGEST_RE = re.compile(r"^[0-9a-f]{64}$")


def check_name(digest: str, ext: str) -> None:
    """Refuse anything but a 64-hex digest and one of the store's own extensions."""
    if not (isinstance(digest, str) and _DIGEST_RE.match(digest)) or ext not in MIME_BY_EXT:
        raise ValueError(f"not a stored evidence name: {digest!r}.{ext!r}")


def file_relpath(digest: str, ext: str) -> str:
    check_name(digest, ext)
    return f"{EVIDENCE_DIR}/{digest[:2]}/{digest[2:4]}/{digest}.{ext}"


def thumbs_dir(root: Path, digest: str) -> Path:
    return root / THUMBS_DIR / digest[:2] / digest[2:4]


def mkdirs(path: Path) -> None:
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)


@contextmanager
def atomic_write(target: Path) -> Iterator[BinaryIO]:
    """A new file for ``target``: written under a temporary name beside it, then ``chmod``ed to
    ``FILE_MODE`` and renamed over it. Any exception inside the block leaves nothing behind."""
    mkdirs(target.parent)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=INCOMING_PREFIX)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
        os.chmod(tmp_name, FILE_MODE)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
