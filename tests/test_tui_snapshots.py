"""Snapshot tests (pytest-textual-snapshot) of the chat UI at 120x40: the main screen with a
reopened chat, the source view of a citation, and F1 help. Real default model and real index;
RAM and speed in the status line are pinned (tui_helpers.pinned_status), paths shown as names.
Update after an intended change: pytest tests/test_tui_snapshots.py --snapshot-update"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input
from tui_helpers import LEASE_FACT, QUESTION, SIZE, indexed_documents, make_app, wait_for_model

from localagent.index import Index
from localagent.tui.answering import CitedSource
from localagent.tui.history import ChatStore
from localagent.tui.widgets import CitationList

pytestmark = pytest.mark.model


def saved_chat(folder: Path) -> int:
    """A chat as the app stores it after answering QUESTION, citing the real chunk of page 3."""
    with Index.open() as index:
        hit = index.search("warehouse lease ends", limit=1)[0]
    assert hit.page == 3
    store = ChatStore.open()
    chat = store.new_chat(QUESTION, "default", "Gemma 3 270m")
    store.add_message(chat, "user", QUESTION)
    store.add_message(
        chat,
        "assistant",
        "The warehouse lease ends on **31 March 2031** [1].",
        found=True,
        citations=[CitedSource(1, hit.file, hit.page, hit.chunk_id, 1.25, LEASE_FACT)],
    )
    store.close()
    return chat


async def steady(pilot) -> None:
    """The model is loaded and the text cursor does not blink (a blink would change the picture)."""
    await wait_for_model(pilot)
    for box in pilot.app.query(Input):
        box.cursor_blink = False
    await pilot.pause()


def reopened(chat: int):
    async def run_before(pilot) -> None:
        await steady(pilot)
        await pilot.app.show_chat(chat)
        await pilot.pause()

    return run_before


def test_main_screen(snap_compare, tmp_path: Path, default_model: Path) -> None:
    chat = saved_chat(indexed_documents(tmp_path / "docs"))
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=reopened(chat))


def test_source_view(snap_compare, tmp_path: Path, default_model: Path) -> None:
    chat = saved_chat(indexed_documents(tmp_path / "docs"))

    async def open_citation(pilot) -> None:
        await reopened(chat)(pilot)
        citations = pilot.app.conversation.query_one(CitationList)
        citations.focus()
        citations.highlighted = 0
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=open_citation)


def test_help(snap_compare, tmp_path: Path, default_model: Path) -> None:
    indexed_documents(tmp_path / "docs")

    async def open_help(pilot) -> None:
        await steady(pilot)
        await pilot.press("f1")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=open_help)
