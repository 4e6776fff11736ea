"""Keep the terminal for the UI while the app runs.

Textual draws on ``sys.__stderr__`` (fd 2). llama.cpp writes its log to fd 2 too, and the engine
silences it by pointing fd 2 at /dev/null while a model loads, which would also swallow the
frames Textual draws meanwhile (and let stray C-level lines garble the screen at other times).
So for the session the UI gets its own duplicate of the terminal, and fd 2 goes to a log file.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from localagent.privacy import open_private


@contextlib.contextmanager
def private_terminal(log_path: Path) -> Iterator[None]:
    """Inside: sys.__stderr__/sys.stderr write to the terminal, fd 2 appends to ``log_path``."""
    original = sys.__stderr__
    if original is None:
        yield
        return
    original.flush()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    saved_fd = os.dup(2)
    ui = os.fdopen(os.dup(2), "w", encoding=original.encoding or "utf-8", errors="replace")
    log_fd = open_private(log_path, os.O_WRONLY | os.O_APPEND)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    previous_stderr = sys.stderr
    sys.__stderr__ = sys.stderr = ui  # type: ignore[misc]  # Textual writes to sys.__stderr__
    try:
        yield
    finally:
        ui.flush()
        sys.__stderr__, sys.stderr = original, previous_stderr  # type: ignore[misc]
        os.dup2(saved_fd, 2)
        os.close(saved_fd)
        ui.close()
