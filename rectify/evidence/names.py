"""Client-supplied file names, made safe for display and download names. The store never uses
them: files are named by their digest only."""

from __future__ import annotations

import re
import unicodedata

# Controls, bidi overrides (the "photo\u202egpj.exe" trick), and characters no file system likes.
_BAD_NAME_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]')


def sanitise_name(name: str, *, max_length: int = 120) -> str:
    """A display-safe version of a client-supplied file name (the store never uses it)."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[\\/]", name)[-1]  # browsers on Windows may send a full path
    name = _BAD_NAME_CHARS.sub("", name).strip().lstrip(".").strip()
    if len(name) > max_length:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[: max_length - len(ext) - 1] + "." + ext
        else:
            name = name[:max_length]
    return name or "未命名文件"


def extension_of(name: str) -> str:
    """The lower-case extension of a name, "" when it has none ("README", ".bashrc")."""
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""
