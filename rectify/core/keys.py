"""Keys kept outside the database (密钥与数据分离存储, GB/T 39786).

Each key comes from the environment (``RECTIFY_<NAME>`` hex, or ``RECTIFY_<NAME>_FILE``, the way
container secrets are handed over) or, on an embedded install, from a file generated once in the
data directory with mode 0600. Whoever can write the database therefore still cannot re-key the
audit chain or read personal data without also holding these files.

| key | used for |
| --- | --- |
| ``chain_key`` | HMAC-SM3 links of the audit chain (core/audit.py) |
| ``data_key`` | SM4-GCM encryption of personal data and the keyed lookup hash (core/crypto.py) |
"""

from __future__ import annotations

import functools
import os
import secrets
from pathlib import Path

from django.conf import settings

from rectify.core.env import ConfigError, env_str

KEY_BYTES = 32


@functools.cache
def load_key(name: str) -> bytes:
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
