"""Indexing from the UI: a folder prompt, a thread worker running `index_paths`, progress in the
side panel. Mixed into ChatApp (which provides notify, post, index, collection, config)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from textual import work

from localagent.tui.guard import describe, shown_as_notification
from localagent.tui.screens import FolderScreen
from localagent.tui.widgets import DocumentPanel

TREE_REFRESH_S = 0.5


class ThreadCount:
    """How many worker threads are busy, so `localagent chat` can tell whether quitting has to wait."""

    def __init__(self) -> None:
        self._busy = 0
        self._changed = threading.Condition()

    @contextmanager
    def running(self) -> Iterator[None]:
        with self._changed:
            self._busy += 1
        try:
            yield
        finally:
            with self._changed:
                self._busy -= 1
                self._changed.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """True once no worker is busy; False if some still are after ``timeout`` seconds."""
        with self._changed:
            return self._changed.wait_for(lambda: self._busy == 0, timeout)


_helpers_lock = threading.Lock()


def start_process_helpers() -> None:
    """Start multiprocessing's resource tracker with the real stderr.

    The indexer reads big folders in spawned worker processes. Spawning starts the tracker,
    which passes ``sys.stderr.fileno()`` to it; inside a running Textual app sys.stderr is a
    capture whose fileno() is -1 and the spawn fails ("bad value(s) in fds_to_keep"). Started
    once here with the real stderr, the tracker is reused by every later spawn.
    """
    from multiprocessing import resource_tracker

    with _helpers_lock:
        captured = sys.stderr
        try:
            if sys.__stderr__ is not None:
                sys.stderr = sys.__stderr__
            resource_tracker.ensure_running()
        finally:
            sys.stderr = captured


class IndexingMixin:
    """Needs: self.index, self.index_path, self.collection, self.config, self.post, self.notify,
    self.set_activity, self.get_screen, self.push_screen."""

    indexing = False
    _pending: list[str] = []
    _last_tree_refresh = 0.0

    @property
    def document_panel(self) -> DocumentPanel:
        return self.main_screen.query_one(DocumentPanel)  # type: ignore[attr-defined]

    def collection_is_empty(self) -> bool:
        try:
            return not any(d.status == "ok" for d in self.index.list_documents(self.collection))
        except Exception:
            return False

    def refresh_documents(self) -> None:
        if self.index is None:
            return
        try:
            documents = self.index.list_documents()
            collections = self.index.list_collections()
        except Exception as exc:
            self.notify(f"cannot read the index: {exc}", severity="error")  # type: ignore[attr-defined]
            return
        try:
            panel = self.document_panel
        except Exception:  # main screen not mounted
            return
        panel.show_documents(collections, documents, self.collection,
                             self._pending if self.indexing else ())

    @shown_as_notification
    def action_index_folder(self, screen: FolderScreen | None = None) -> None:
        if self.indexing:
            self.notify("already indexing; wait for it to finish", severity="warning")  # type: ignore
            return
        self.push_screen(screen or FolderScreen(), self._folder_chosen)  # type: ignore[attr-defined]

    @shown_as_notification
    def _folder_chosen(self, folder: str | None) -> None:
        if not folder:
            return
        path = Path(folder).expanduser()
        if not path.exists():
            self.notify(f"no such file or folder: {path}", severity="error")  # type: ignore[attr-defined]
            return
        self.indexing = True
        self._cancel_index = threading.Event()
        self.index_folder(path.resolve(), self.collection, self._cancel_index)

    @work(thread=True, exclusive=True, group="index")
    def index_folder(self, path: Path, collection: str, cancel: threading.Event) -> None:
        with self.threads.running():  # type: ignore[attr-defined]
            self._index_folder(path, collection, cancel)

    def _index_folder(self, path: Path, collection: str, cancel: threading.Event) -> None:
        from localagent.index import Index, index_paths
        from localagent.index.walk import find_files

        try:
            pending = [str(p) for p in find_files([path]).files]
            start_process_helpers()
            self.post(self._index_started, pending)
            with Index.open(self.index_path) as index:
                summary = index_paths([path], collection=collection, index=index, cancel=cancel,
                                      progress=lambda event: self.post(self._index_progress, event),
                                      chunk_tokens=self.config.chunk_tokens,
                                      chunk_overlap=self.config.chunk_overlap)
        except Exception as exc:
            self.post(self._index_finished, None, describe(exc))
            return
        self.post(self._index_finished, summary, "")

    @shown_as_notification
    def _index_started(self, pending: list[str]) -> None:
        self._pending = pending
        self.set_activity(f"indexing 0/{len(pending)}")  # type: ignore[attr-defined]
        self.refresh_documents()

    @shown_as_notification
    def _index_progress(self, event: Any) -> None:
        self.document_panel.show_progress(event)
        if event.kind == "file":
            self.set_activity(f"indexing {event.files_done}/{event.files_total}")  # type: ignore
            now = time.monotonic()
            if now - self._last_tree_refresh >= TREE_REFRESH_S:  # a big folder must not redraw per file
                self._last_tree_refresh = now
                self.refresh_documents()

    @shown_as_notification
    def _index_finished(self, summary: Any, error: str) -> None:
        self.indexing = False
        self._pending = []
        self.document_panel.show_progress(None)
        self.set_activity("")  # type: ignore[attr-defined]
        self.refresh_documents()
        if summary is None:
            self.notify(f"indexing failed: {error}", severity="error", timeout=10)  # type: ignore
            return
        failed = f", {len(summary.failed)} failed" if summary.failed else ""
        note = " (stopped)" if summary.cancelled else ""
        self.notify(f"indexed {summary.indexed} file(s), {summary.pages} page(s) into {summary.collection!r}"
                    f"{failed}{note}", severity="warning" if summary.failed else "information",
                    timeout=6)
        if summary.files_seen == 0 and not summary.removed:
            self.notify("no documents found there (PDF, text and Markdown are read; hidden and binary "
                        "files are skipped)", severity="warning", timeout=8)
