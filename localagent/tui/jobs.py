"""Indexing from the UI: a folder prompt, a thread worker running `index_paths`, progress in the
side panel. `Indexing` is an object the app owns (`app.documents`); it reads and sets the app's
reactive state (`indexing`, `activity`, `collection`) and shows documents in the side panel."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from textual.css.query import NoMatches

from localagent.errors import LocalAgentError
from localagent.tui.guard import describe, shown_as_notification
from localagent.tui.screens import FolderScreen
from localagent.tui.widgets import DocumentPanel

if TYPE_CHECKING:
    from localagent.index import IndexEvent, IndexSummary
    from localagent.tui.app import ChatApp

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


def chosen_path(app: ChatApp, folder: str | None) -> Path | None:
    """The folder (or file) a FolderScreen gave, resolved; None if it gave none or it does not
    exist (then a notification says so)."""
    if not folder:
        return None
    path = Path(folder).expanduser()
    if not path.exists():
        app.notify(f"no such file or folder: {path}", severity="error")
        return None
    return path.resolve()


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


class Indexing:
    """The documents side of the app.

    Interface: ``refresh_documents()`` redraws the side panel, ``collection_is_empty()``,
    ``choose_folder(screen)`` asks for a folder and indexes it into the current collection in a
    thread worker. It uses of the app: ``index``, ``index_path``, ``config``, ``collection``,
    ``indexing`` and ``activity`` (reactive), ``threads``, ``post``, ``notify``, ``push_screen``,
    ``run_worker`` and the main screen's DocumentPanel.
    """

    def __init__(self, app: ChatApp):
        self.app = app
        self._pending: list[str] = []
        self._last_tree_refresh = 0.0
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def document_panel(self) -> DocumentPanel:
        if self.app.main_screen is None:
            raise NoMatches("the main screen is not mounted")
        return self.app.main_screen.query_one(DocumentPanel)

    def collection_is_empty(self) -> bool:
        if self.app.index is None:
            return False
        try:
            return not any(d.status == "ok" for d in self.app.index.list_documents(self.app.collection))
        except LocalAgentError:
            return False

    def refresh_documents(self) -> None:
        app = self.app
        if app.index is None:
            return
        try:
            panel = self.document_panel
        except NoMatches:  # the main screen is not mounted (yet / any more)
            return
        try:
            documents = app.index.list_documents()
            collections = app.index.list_collections()
        except LocalAgentError as exc:
            app.notify(f"cannot read the index: {exc}", severity="error")
            return
        panel.show_documents(collections, documents, app.collection, self._pending if app.indexing else ())

    @shown_as_notification
    def choose_folder(self, screen: FolderScreen | None = None) -> None:
        if self.app.indexing:
            self.app.notify("already indexing; wait for it to finish", severity="warning")
            return
        self.app.push_screen(screen or FolderScreen(), self._folder_chosen)

    @shown_as_notification
    def _folder_chosen(self, folder: str | None) -> None:
        path = chosen_path(self.app, folder)
        if path is None:
            return
        self.app.indexing = True
        self._cancel = threading.Event()
        collection, cancel = self.app.collection, self._cancel
        self.app.run_worker(
            lambda: self._index_folder(path, collection, cancel), thread=True, exclusive=True, group="index"
        )

    def _index_folder(self, path: Path, collection: str, cancel: threading.Event) -> None:
        from localagent.index import Index, index_paths
        from localagent.index.walk import find_files

        app = self.app
        with app.threads.running():
            try:
                pending = [str(p) for p in find_files([path]).files]
                start_process_helpers()
                app.post(self._started, pending)
                with Index.open(app.index_path) as index:
                    summary = index_paths(
                        [path],
                        collection=collection,
                        index=index,
                        cancel=cancel,
                        progress=lambda event: app.post(self._progress, event),
                        chunk_tokens=app.config.chunk_tokens,
                        chunk_overlap=app.config.chunk_overlap,
                    )
            except Exception as exc:  # a worker thread: whatever it was, the UI must hear of it
                app.post(self._finished, None, describe(exc))
                return
        app.post(self._finished, summary, "")

    @shown_as_notification
    def _started(self, pending: list[str]) -> None:
        self._pending = pending
        self.app.activity = f"indexing 0/{len(pending)}"
        self.refresh_documents()

    @shown_as_notification
    def _progress(self, event: IndexEvent) -> None:
        self.document_panel.show_progress(event)
        if event.kind == "file":
            self.app.activity = f"indexing {event.files_done}/{event.files_total}"
            now = time.monotonic()
            if now - self._last_tree_refresh >= TREE_REFRESH_S:  # a big folder must not redraw per file
                self._last_tree_refresh = now
                self.refresh_documents()

    @shown_as_notification
    def _finished(self, summary: IndexSummary | None, error: str) -> None:
        app = self.app
        self._pending = []
        app.indexing = False  # redraws the documents (ChatApp.watch_indexing)
        self.document_panel.show_progress(None)
        app.activity = ""
        if summary is None:
            app.notify(f"indexing failed: {error}", severity="error", timeout=10)
            return
        failed = f", {len(summary.failed)} failed" if summary.failed else ""
        note = " (stopped)" if summary.cancelled else ""
        app.notify(
            f"indexed {summary.indexed} file(s), {summary.pages} page(s) into {summary.collection!r}"
            f"{failed}{note}",
            severity="warning" if summary.failed else "information",
            timeout=6,
        )
        if summary.files_seen == 0 and not summary.removed:
            app.notify(
                "no documents found there (PDF, text and Markdown are read; hidden and binary "
                "files are skipped)",
                severity="warning",
                timeout=8,
            )
