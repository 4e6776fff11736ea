"""Files that hold the user's content are owner-only (0600) from the moment they exist.

That is the index (document text), the chat history, the TUI's chat.log, batch outputs and their
journals, and the KV-state cache (an encoded prompt). SQLite creates its -wal and -shm files with
the mode of the main file, so creating the main file 0600 first covers them too.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_MODE = 0o600


def open_private(path: Path, flags: int) -> int:
    """``os.open`` that creates ``path`` owner-only when it does not exist yet."""
    return os.open(path, flags | os.O_CREAT, PRIVATE_MODE)


def create_private(path: Path) -> Path:
    """Make sure ``path`` (and its folder) exists; a file created here is 0600. An existing path
    (file, folder or anything else) is left as it is, for its opener to judge."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(open_private(path, os.O_WRONLY | os.O_EXCL))
    except FileExistsError:
        pass
    return path
