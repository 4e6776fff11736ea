"""Finding the files to index under the paths a user gives."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from localagent.docs import skipped_in_walks


@dataclass
class Found:
    """Files to index, files skipped as clearly binary, and paths that do not exist."""

    files: list[Path] = field(default_factory=list)
    skipped: int = 0
    missing: list[Path] = field(default_factory=list)
    roots: list[Path] = field(default_factory=list)  # folders walked and files named, absolute


def _hidden(name: str) -> bool:
    return name.startswith(".")


def find_files(paths: Iterable[Path]) -> Found:
    """Walk folders (skipping hidden entries and binary name endings, see docs.skipped_in_walks;
    not following links to folders); a file named directly is always taken. Roots are resolved (symlinks, ``..``), so
    the same file named two ways is one document. Paths are absolute, sorted, unique."""
    found = Found()
    seen: set[Path] = set()
    for raw in paths:
        root = Path(raw).expanduser().resolve()  # one spelling per file, however it was named
        found.roots.append(root)
        if root.is_file():
            if root not in seen:
                seen.add(root)
                found.files.append(root)
            continue
        if not root.is_dir():
            found.missing.append(root)
            continue
        for folder, dirs, names in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not _hidden(d))
            for name in sorted(names):
                path = Path(folder, name)
                if _hidden(name) or skipped_in_walks(path) or not path.is_file():
                    found.skipped += 1
                    continue
                if path not in seen:
                    seen.add(path)
                    found.files.append(path)
    return found


def is_under(path: str, roots: Iterable[Path]) -> bool:
    """True when ``path`` is one of ``roots`` or inside one of them."""
    for root in roots:
        text = str(root)
        if path == text or path.startswith(text.rstrip(os.sep) + os.sep):
            return True
    return False
