"""Personal data encrypted at rest with SM4 (GB/T 32907) and looked up by a keyed SM3 hash.

An objector's or complainant's name and phone, a person concerned in an accountability case: each
is stored as ``sm4gcm:1:<base64(nonce ‖ ciphertext ‖ tag)>`` under the data key (core/keys.py),
with the column's name as associated data, so a value copied into another column does not
decrypt. SM4-GCM comes from OpenSSL through the ``cryptography`` package. A keyed HMAC-SM3 of the
normalised value (``lookup_hash``) lets the office find "every objection by this phone number"
without decrypting every row. ``mask_name`` and ``mask_phone`` are what every screen but the
office's shows.
"""

from __future__ import annotations

import base64
import functools
import os
import unicodedata

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.db import models

from rectify.core.keys import latest_version, load_key
from rectify.core.sm3 import sm3_hmac

PREFIX = "sm4gcm:1:"  # version 1 of the data key; ``sm4gcm:<n>:`` after rotations (core/rotation.py)


@functools.cache
def current_version() -> int:
    """The data key version new values are written under: the newest that exists. Cached per
    process: after ``rectify rotate-key --data`` the server processes are restarted."""
    return latest_version("data_key")


def _keys(version: int = 1) -> tuple[bytes, bytes]:
    master = load_key("data_key", version)
    # Two purposes, two keys: derived so that one stored secret serves both.
    return sm3_hmac(master, b"rectify sm4 encryption")[:16], sm3_hmac(master, b"rectify lookup hash")


def token_version(token: str) -> int | None:
    """The data key version of a stored value (None when it is not an SM4 token)."""
    if not token.startswith("sm4gcm:"):
        return None
    version = token[7:].partition(":")[0]
    return int(version) if version.isdigit() and len(version) < 6 else None


class DecryptionError(ValueError):
    pass


def encrypt(text: str, *, context: str) -> str:
    if text == "":
        return ""
    version = current_version()
    key, _ = _keys(version)
    nonce = os.urandom(12)
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(context.encode())
    sealed = encryptor.update(text.encode("utf-8")) + encryptor.finalize()
    return f"sm4gcm:{version}:" + base64.b64encode(nonce + sealed + encryptor.tag).decode("ascii")


def decrypt(token: str, *, context: str) -> str:
    if token == "":
        return ""
    version = token_version(token)
    if version is None:
        raise DecryptionError("not an SM4 token")
    blob = base64.b64decode(token.split(":", 2)[2])
    nonce, sealed, tag = blob[:12], blob[12:-16], blob[-16:]
    key, _ = _keys(version)
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(context.encode())
    try:
        return (decryptor.update(sealed) + decryptor.finalize()).decode("utf-8")
    except InvalidTag as exc:
        raise DecryptionError("SM4 tag mismatch: wrong key, wrong column or altered value") from exc


def normalise(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).lower()


def lookup_hash(text: str, *, context: str) -> str:
    """Keyed HMAC-SM3 of the normalised value ("" for empty), for equality lookups."""
    if not text.strip():
        return ""
    _, key = _keys(current_version())
    return sm3_hmac(key, f"{context}\x00{normalise(text)}".encode()).hex()


# Keyed-hash columns and the encrypted column each is computed from, so that a rotation of the data
# key (core/rotation.py) recomputes them: (model label, hash field, source field, hash context).
LOOKUP_COLUMNS: list[tuple[str, str, str, str]] = []


def register_lookup(model_label: str, hash_field: str, source_field: str, context: str) -> None:
    if (model_label, hash_field, source_field, context) not in LOOKUP_COLUMNS:
        LOOKUP_COLUMNS.append((model_label, hash_field, source_field, context))


def mask_name(name: str) -> str:
    """张三丰 → 张**; empty stays empty."""
    name = name.strip()
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def mask_phone(phone: str) -> str:
    """13812345678 → 138****5678."""
    digits = phone.strip()
    if len(digits) <= 4:
        return "*" * len(digits)
    return digits[:3] + "*" * max(len(digits) - 7, 1) + digits[-4:]


class EncryptedTextField(models.TextField):
    """A text column stored SM4-encrypted; the Python value is the plain text.

    ``context`` defaults to ``<app_label>.<model>.<field>`` once the field is bound to a model.
    """

    def __init__(self, *args, context: str = "", **kwargs):
        self.context = context
        super().__init__(*args, **kwargs)

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        if not self.context:
            self.context = f"{cls._meta.label_lower}.{name}"

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.context:
            kwargs["context"] = self.context
        return name, path, args, kwargs

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value, context=self.context)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value), context=self.context)
