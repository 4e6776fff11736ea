"""sha256 of model files, with a stamp so an unchanged file is not hashed on every load.

A stamp records (sha256, size, mtime_ns) for a path in the cache dir. Any change of size or mtime
(a rewrite, a truncation, a copy over it) invalidates the stamp and the file is hashed again.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from localagent.hashing import sha256_file
from localagent.paths import ensure_dir, get_paths

__all__ = ["cached_sha256", "sha256_file", "write_stamp"]


def _stamp_path(path: Path) -> Path:
    key = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:24]
    return get_paths().cache_dir / "checksums" / f"{key}.json"


def cached_sha256(path: Path) -> str:
    """The file's sha256, hashing it only when size or mtime changed since the last time."""
    st = path.stat()
    stamp = _stamp_path(path)
    try:
        data = json.loads(stamp.read_text())
        if data["size"] == st.st_size and data["mtime_ns"] == st.st_mtime_ns:
            return str(data["sha256"])
    except (OSError, ValueError, KeyError):
        pass
    digest = sha256_file(path)
    write_stamp(path, digest)
    return digest


def write_stamp(path: Path, digest: str) -> None:
    st = path.stat()
    stamp = _stamp_path(path)
    ensure_dir(stamp.parent)
    tmp = stamp.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(
        json.dumps({"path": str(path), "sha256": digest, "size": st.st_size, "mtime_ns": st.st_mtime_ns})
    )
    os.replace(tmp, stamp)
