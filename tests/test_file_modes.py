"""What the product writes under its data directory is its owner's alone (SECURITY.md check 17):
directories 0700, files 0600, whatever umask the shell had."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path


def test_a_new_installation_keeps_its_database_keys_and_directories_private(tmp_path):
    data = tmp_path / "data"
    env = {**os.environ, "RECTIFY_DATA_DIR": str(data), "DATABASE_URL": ""}
    env.pop("RECTIFY_SECRET_KEY", None)
    rectify = Path(sys.executable).with_name("rectify")
    # A permissive umask in the calling shell must not leak into the files.
    subprocess.run(["sh", "-c", f"umask 022 && exec {rectify} manage migrate --verbosity 0"], env=env, check=True,
                   timeout=300)
    modes = {path.relative_to(data).as_posix(): stat.S_IMODE(path.stat().st_mode)
             for path in [data, *data.rglob("*")]}
    assert modes["."] == 0o700
    assert modes["rectify.sqlite3"] == 0o600 and modes["secret_key"] == 0o600
    loose = {name: oct(mode) for name, mode in modes.items() if mode & 0o077}
    assert loose == {}
