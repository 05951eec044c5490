"""Uploads that wait between their preview and the user's confirmation (上传预览暂存): the ledger
Excel import and the plan import keep what was uploaded here until the user confirms, cancels,
or a day passes.

An entry is two files in ``UPLOAD_DIR/<kind>/``, named by a random token only (never by the
user's file name): ``<token><suffix>`` holds the payload exactly as given (bytes, or JSON), and
``<token>.meta`` (JSON) records the owner's user id, when it was made and the caller's metadata.
The token is kept in the owner's session, and ``get`` answers 404 unless the token is in this
session *and* the entry names this user as its owner — missing, expired and someone else's look
the same, so a token learnt by another user is useless. Files are created 0600 in a directory
0700. Every ``put`` sweeps entries older than a day, for every kind the same way.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import Http404

MAX_AGE_SECONDS = 24 * 3600
DIR_MODE = 0o700
FILE_MODE = 0o600
META_SUFFIX = ".meta"
_TOKEN = re.compile(r"[0-9a-f]{32}")
_KIND = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_SUFFIX = re.compile(r"(\.[a-z0-9]{1,10})?")
_INCOMING_PREFIX = ".incoming-"


@dataclass(frozen=True)
class StashEntry:
    token: str
    owner: int
    created: float  # time.time() when it was put
    meta: dict  # what the caller gave ``put``
    path: Path  # the payload

    def read_bytes(self) -> bytes:
        return self.path.read_bytes()

    def read_json(self) -> Any:
        return json.loads(self.path.read_text(encoding="utf-8"))


class Stash:
    """One kind of waiting upload, e.g. ``Stash("imports", suffix=".xlsx")``.

    ``keep`` is how many entries of this kind one session holds: a ``put`` beyond it discards the
    oldest (the Excel import keeps one pending file, plan drafts the last five).
    """

    def __init__(self, kind: str, *, suffix: str = "", keep: int = 1):
        if not _KIND.fullmatch(kind) or not _SUFFIX.fullmatch(suffix) or suffix == META_SUFFIX or keep < 1:
            raise ValueError(f"bad stash kind/suffix/keep: {kind!r} {suffix!r} {keep!r}")
        self.kind, self.suffix, self.keep = kind, suffix, keep
        self.session_key = f"stash:{kind}"

    # --- where ---------------------------------------------------------------------------

    @property
    def directory(self) -> Path:
        path = Path(settings.UPLOAD_DIR) / self.kind
        path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        if path.stat().st_mode & 0o777 != DIR_MODE:
            os.chmod(path, DIR_MODE)  # a directory made before the stash (or under another umask)
        return path

    def _payload_path(self, token: str) -> Path:
        return self.directory / f"{token}{self.suffix}"

    def _meta_path(self, token: str) -> Path:
        return self.directory / f"{token}{META_SUFFIX}"

    # --- the four operations -------------------------------------------------------------

    def put(self, request, payload, meta: dict | None = None) -> str:
        """Keep ``payload`` for ``request.user`` and return its token (also kept in the session).

        ``payload`` is bytes, a Django ``UploadedFile`` (copied chunk by chunk) or anything
        ``json.dumps`` takes; ``meta`` is a small JSON-able dict given back by ``get``.
        """
        if request.user.pk is None:
            raise ValueError("only a signed-in user can stash an upload")
        self.sweep()
        token = secrets.token_hex(16)
        if isinstance(payload, bytes | bytearray | memoryview):
            chunks = [bytes(payload)]
        elif callable(getattr(payload, "chunks", None)):
            chunks = payload.chunks()
        else:
            chunks = [json.dumps(payload, ensure_ascii=False).encode("utf-8")]
        self._write(self._payload_path(token), chunks)
        # The meta file is written last: an entry without one is incomplete and never served.
        record = {"owner": request.user.pk, "created": time.time(), "meta": meta or {}}
        self._write(self._meta_path(token), [json.dumps(record, ensure_ascii=False).encode("utf-8")])
        tokens = [*self.tokens(request), token]
        for old in tokens[: -self.keep]:
            self._remove_if_owned(old, request.user.pk)
        request.session[self.session_key] = tokens[-self.keep:]
        return token

    def get(self, request, token) -> StashEntry:
        """This user's entry, or ``Http404`` — for a bad, unknown, expired or another user's token."""
        if not isinstance(token, str) or not _TOKEN.fullmatch(token) or token not in self.tokens(request):
            raise Http404
        record = self._record(token)
        if record is None or request.user.pk is None or record.get("owner") != request.user.pk:
            raise Http404
        path = self._payload_path(token)
        if time.time() - record.get("created", 0) > MAX_AGE_SECONDS or not path.is_file():
            self._remove_if_owned(token, request.user.pk)
            raise Http404
        return StashEntry(token=token, owner=record["owner"], created=record["created"],
                          meta=record.get("meta") or {}, path=path)

    def discard(self, request, token) -> None:
        """Forget the token in this session and delete the entry if it is this user's."""
        tokens = self.tokens(request)
        if token in tokens:
            tokens.remove(token)
            request.session[self.session_key] = tokens
            self._remove_if_owned(token, request.user.pk)

    def sweep(self, older_than: float = MAX_AGE_SECONDS) -> int:
        """Delete every file of this kind last written more than ``older_than`` seconds ago
        (entries previewed but never confirmed or cancelled, interrupted writes, files left by
        earlier versions); returns how many files went."""
        cutoff = time.time() - older_than
        removed = 0
        for path in self.directory.iterdir():
            try:
                if path.is_file() and path.stat().st_mtime < cutoff:
                    path.unlink(missing_ok=True)
                    removed += 1
            except OSError:
                pass  # another process swept it first
        return removed

    def tokens(self, request) -> list[str]:
        """The tokens of this kind in the request's session, oldest first."""
        tokens = request.session.get(self.session_key) or []
        return [t for t in tokens if isinstance(t, str)]

    # --- files ---------------------------------------------------------------------------

    def _write(self, target: Path, chunks) -> None:
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=_INCOMING_PREFIX)  # mode 0600
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
            os.chmod(tmp_name, FILE_MODE)
            os.replace(tmp_name, target)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise

    def _record(self, token: str) -> dict | None:
        try:
            record = json.loads(self._meta_path(token).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) else None

    def _remove_if_owned(self, token: str, owner: int | None) -> None:
        if not _TOKEN.fullmatch(token):
            return
        record = self._record(token)
        if record is not None and (owner is None or record.get("owner") != owner):
            return  # someone else's entry under a token this session should not have had
        self._payload_path(token).unlink(missing_ok=True)
        self._meta_path(token).unlink(missing_ok=True)
