"""SM3 of a stream or a file, read in chunks: the digest that names every stored file."""

from __future__ import annotations

import hashlib
import os

from rectify.core.sm3 import HAVE_OPENSSL, sm3_pure

CHUNK = 1024 * 1024

_HAVE_OPENSSL_SM3 = HAVE_OPENSSL  # rectify.core.sm3 probes OpenSSL once


class SM3Stream:
    """Incremental SM3: OpenSSL's through hashlib when present; else the pure-Python digest
    of the accumulated bytes (correct, but holds the data — uploads are capped, so bounded)."""

    def __init__(self, *, pure: bool = False):
        self._h = None if (pure or not _HAVE_OPENSSL_SM3) else hashlib.new("sm3")
        self._buf = bytearray()

    def update(self, data: bytes) -> None:
        if self._h is not None:
            self._h.update(data)
        else:
            self._buf += data

    def hexdigest(self) -> str:
        return self._h.hexdigest() if self._h is not None else sm3_pure(bytes(self._buf))


def sm3_of_file(path: str | os.PathLike) -> str:
    h = SM3Stream()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()
