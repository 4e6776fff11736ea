"""Watching a folder from `localagent chat`: the palette starts a real watcher (watchfiles) on a
folder, new, changed and deleted files reach the real index within seconds, the status line shows
the watch, and "Stop watching" ends it (later changes are not indexed)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.widgets import Input
from tui_helpers import SIZE, indexed_documents, make_app, sync, wait_until

from localagent.index import Index
from localagent.tui.screens import FolderScreen, MissingModelScreen

WITHIN_S = 15.0


def names() -> set[str]:
    with Index.open() as index:
        return {Path(d.path).name for d in index.list_documents("default")}


def finds(word: str) -> list[str]:
    with Index.open() as index:
        return sorted(Path(hit.file).name for hit in index.search(word))


async def palette(pilot, command: str) -> None:
    await pilot.press("ctrl+p", *command)
    await pilot.pause(0.3)
    await pilot.press("enter")


@sync
async def test_watch_a_folder_from_the_palette_and_stop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LOCALAGENT_MODEL", str(tmp_path / "no-model.gguf"))  # watching needs none
    indexed_documents(tmp_path / "docs")
    watched = tmp_path / "watched"
    watched.mkdir()
    (watched / "heron.txt").write_text("The heron nests by the river.\n")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, MissingModelScreen), 30, "model screen")
        await pilot.press("escape")
        await palette(pilot, "watch a folder")
        await wait_until(pilot, lambda: isinstance(app.screen, FolderScreen), 10, "the folder prompt")
        assert "whenever its files change" in str(app.screen.query_one(".dialog Label:last-of-type").render())
        app.screen.query_one("#folder", Input).value = str(watched)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.watching.endswith("up to date"), 60, "the first run")
        status = str(app.status_line.render())
        assert "watching watched · up to date" in status, status
        assert finds("heron") == ["heron.txt"]
        assert any("watching watched: 1 file(s) indexed" in n.message for n in app._notifications)

        (watched / "otter.txt").write_text("The otter swims at dawn.\n")
        await wait_until(pilot, lambda: finds("otter") == ["otter.txt"], WITHIN_S, "a new file")
        await wait_until(pilot, lambda: "indexed 1, removed 0" in app.watching, WITHIN_S, "the status")
        (watched / "heron.txt").write_text("The kingfisher dives by the river.\n")
        await wait_until(pilot, lambda: finds("kingfisher") == ["heron.txt"], WITHIN_S, "a change")
        assert finds("heron") == []
        (watched / "otter.txt").unlink()
        await wait_until(pilot, lambda: "otter.txt" not in names(), WITHIN_S, "a deletion")
        assert "lease.pdf" in names()  # the rest of the collection is untouched

        await palette(pilot, "watch a folder")  # a second watch is refused while one runs
        await pilot.pause(0.3)
        assert not isinstance(app.screen, FolderScreen)
        assert any("already watching watched" in n.message for n in app._notifications)

        await palette(pilot, "stop watching")
        await wait_until(pilot, lambda: not app.folder_watch.active, WITHIN_S, "the watch to stop")
        assert app.watching == "" and "watching" not in str(app.status_line.render())
        assert any(n.message == "stopped watching watched" for n in app._notifications)
        (watched / "grebe.txt").write_text("The grebe floats on the lake.\n")
        await asyncio.sleep(2.0)
        assert finds("grebe") == []
