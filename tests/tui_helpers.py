"""Shared set-up for the TUI tests: a real indexed collection, a ChatApp with pinned volatile
numbers, and waiting helpers for Textual pilots."""

from __future__ import annotations

import asyncio
import functools
import time
from pathlib import Path
from typing import Any

from pdfs import make_pdf

from localagent.config import load_config
from localagent.index import index_paths
from localagent.tui import ChatApp
from localagent.tui.widgets import StatusInfo

SIZE = (120, 40)
LEASE_FACT = "The warehouse lease ends on 31 March 2031."
QUESTION = "When does the warehouse lease end?"


def make_documents(folder: Path) -> Path:
    """A 3-page PDF whose page 3 states LEASE_FACT, and a Markdown note."""
    folder.mkdir(parents=True, exist_ok=True)
    make_pdf(
        folder / "lease.pdf",
        [
            [
                "Warehouse lease agreement",
                "This agreement is made between Harbor Storage Ltd and Mira Foods.",
            ],
            ["Rent and payments", "The monthly rent is paid on the first working day of each month."],
            ["Term of the lease", LEASE_FACT, "After that date the tenant must return the keys."],
        ],
    )
    (folder / "notes.md").write_text(
        "# Team notes\n\nThe office plants are watered every Tuesday by Jonas.\n", encoding="utf-8"
    )
    return folder


def indexed_documents(folder: Path) -> Path:
    make_documents(folder)
    summary = index_paths([folder])
    assert summary.indexed == 2 and not summary.failed
    return folder


def pinned_status(info: StatusInfo) -> StatusInfo:
    """RAM and speed vary from run to run: pin them so snapshots compare."""
    return info.with_(rss_bytes=400 * 2**20, tok_s=12.5 if info.tok_s else 0.0)


def make_app(**kwargs: Any) -> ChatApp:
    kwargs.setdefault("status_view", pinned_status)
    kwargs.setdefault("show_path", lambda path: Path(path).name)
    return ChatApp(load_config(), **kwargs)


async def wait_until(pilot: Any, condition: Any, timeout: float = 120.0, what: str = "condition") -> None:
    """Let the app run until condition() is true (workers report through call_from_thread)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
        await pilot.pause()


async def wait_for_model(pilot: Any) -> None:
    app = pilot.app
    await wait_until(pilot, lambda: app.engine is not None or app.model_error, what="the model")
    assert app.engine is not None, app.model_error


def sync(test: Any) -> Any:
    """Run an async test with asyncio.run (no pytest asyncio plugin needed); fixtures still work."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return run
