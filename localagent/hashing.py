"""The sha256 of a file's content: one helper for models, the index and batch jobs."""

from __future__ import annotations

import hashlib
from pathlib import Path

BLOCK = 1 << 20  # bytes read at a time by code that hashes while it copies


def sha256_file(path: Path) -> str:
    """Hex sha256 of the file at ``path``, read in blocks (flat memory for multi-GB models)."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
