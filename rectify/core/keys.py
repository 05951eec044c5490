"""Keys kept outside the database (密钥与数据分离存储, GB/T 39786).

Each key comes from the environment (``RECTIFY_<NAME>`` hex, or ``RECTIFY_<NAME>_FILE``, the way
container secrets are handed over) or, on an embedded install, from a file generated once in the
data directory with mode 0600. Whoever can write the database therefore still cannot re-key the
audit chain or read personal data without also holding these files.

| key | used for |
| --- | --- |
| ``chain_key`` | HMAC-SM3 links of the audit chain (core/audit.py) |
| ``data_key`` | SM4-GCM encryption of personal data and the keyed lookup hash (core/crypto.py) |

**Versions (rotation).** ``rectify rotate-key`` (core/rotation.py) adds a version: version 1 is
``RECTIFY_<NAME>`` or the file ``<name>``; version *n* ≥ 2 is ``RECTIFY_<NAME>_V<n>`` or the file
``<name>.v<n>`` (created 0600 by the rotation when the environment does not give it). Old versions
stay: the audit chain's earlier links are checked with the key they were made with, and backups
taken before a rotation of the data key still decrypt with theirs.
"""

from __future__ import annotations

import functools
import os
import secrets
from pathlib import Path

from django.conf import settings

from rectify.core.env import ConfigError, env_str

KEY_BYTES = 32


def _env_name(name: str, version: int) -> str:
    return f"RECTIFY_{name.upper()}" + (f"_V{version}" if version > 1 else "")


def _path(name: str, version: int) -> Path:
    return Path(settings.DATA_DIR) / (name if version == 1 else f"{name}.v{version}")


def key_exists(name: str, version: int) -> bool:
    return version == 1 or bool(env_str(_env_name(name, version))) or _path(name, version).exists()


def latest_version(name: str) -> int:
    """The highest version of the key that exists (1 when never rotated)."""
    version = 1
    while key_exists(name, version + 1):
        version += 1
    return version


def create_version(name: str, version: int) -> None:
    """Make version ``version`` of the key exist: given by the environment, or a new random file
    (0600 from the start). Refused if that version's file already exists (nothing is overwritten)."""
    if version < 2:
        raise ConfigError("key versions to create start at 2")
    if env_str(_env_name(name, version)):
        load_key(name, version)  # check it parses
        return
    path = _path(name, version)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise ConfigError(f"{path} already exists") from exc
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_bytes(KEY_BYTES).hex())


def remove_version(name: str, version: int) -> None:
    """Undo :func:`create_version` after a rotation that did not commit (the file only)."""
    if version > 1 and not env_str(_env_name(name, version)):
        _path(name, version).unlink(missing_ok=True)
    load_key.cache_clear()


@functools.cache
def load_key(name: str, version: int = 1) -> bytes:
    if version > 1:
        return _load_version(name, version)
    env_name = f"RECTIFY_{name.upper()}"
    raw = env_str(env_name)
    if raw:
        try:
            key = bytes.fromhex(raw.strip())
        except ValueError as exc:
            raise ConfigError(f"{env_name} must be {KEY_BYTES * 2} hex digits") from exc
        if len(key) < 16:
            raise ConfigError(f"{env_name} must be at least 16 bytes (32 hex digits)")
        return key
    path = Path(settings.DATA_DIR) / name
    try:
        if path.exists():
            return bytes.fromhex(path.read_text().strip())
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(KEY_BYTES)
        # Created 0600 from the start (no window in which another user could read it).
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key.hex())
        return key
    except FileExistsError:
        return bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot keep the {name} in {path}: {exc}; set {env_name}") from exc


def _load_version(name: str, version: int) -> bytes:
    env_name = _env_name(name, version)
    raw = env_str(env_name)
    try:
        key = bytes.fromhex((raw or _path(name, version).read_text()).strip())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{name} version {version} is missing or unreadable ({_path(name, version)} or "
                          f"{env_name}): {exc}") from exc
    if len(key) < 16:
        raise ConfigError(f"{env_name} must be at least 16 bytes (32 hex digits)")
    return key
