"""Watching a folder from the UI: `localagent index --watch` in a thread worker.

`FolderWatch` is an object the app owns (`app.folder_watch`). The palette's "Watch a folder"
asks for a folder and starts watching it into the current collection: it is indexed at once,
then again after every batch of changes (new, changed, deleted and renamed files), by the same
`index.watch.watch_paths` the command line uses. "Stop watching" ends it between batches; a
file being read is finished first, so nothing is left half-indexed. What the watch is doing
shows in the status line through the app's reactive `watching` text; a batch with failures or
an error becomes a notification, and the side panel is redrawn after every batch.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from localagent.tui.guard import describe, shown_as_notification
from localagent.tui.jobs import chosen_path, start_process_helpers
from localagent.tui.screens import FolderScreen

if TYPE_CHECKING:
    from localagent.index.watch import WatchBatch
    from localagent.tui.app import ChatApp

WATCH_HINT = "enter: index it now, then again whenever its files change · esc: cancel"


class FolderWatch:
    """One watched folder at a time.

    Interface: ``active``, ``folder``, ``choose_folder()``, ``start(path)``, ``stop()``. It uses
    of the app: ``index_path``, ``config``, ``collection``, ``watching`` (reactive), ``threads``,
    ``post``, ``notify``, ``push_screen``, ``run_worker``, ``show_path`` and ``documents``
    (refresh_documents).
    """

    def __init__(self, app: ChatApp):
        self.app = app
        self.folder: Path | None = None
        self.collection = ""
        self.batches = 0
        self._stop = threading.Event()

    @property
    def active(self) -> bool:
        return self.folder is not None

    def _name(self) -> str:
        return self.app.show_path(str(self.folder)) if self.folder is not None else ""

    @shown_as_notification
    def choose_folder(self) -> None:
        if self.active:
            self.app.notify(
                f"already watching {self._name()}; stop watching it first", severity="warning", timeout=6
            )
            return
        self.app.push_screen(FolderScreen("Watch a folder", hint=WATCH_HINT), self._folder_chosen)

    @shown_as_notification
    def _folder_chosen(self, folder: str | None) -> None:
        path = chosen_path(self.app, folder)
        if path is not None:
            self.start(path)

    def start(self, path: Path) -> None:
        """Index ``path`` into the current collection now, then after every batch of changes."""
        app = self.app
        self.folder, self.collection, self.batches = path, app.collection, 0
        self._stop = threading.Event()
        app.watching = f"watching {self._name()} · first run…"
        stop, collection = self._stop, self.collection
        app.run_worker(lambda: self._watch(path, collection, stop), thread=True, group="watch")

    @shown_as_notification
    def stop(self) -> None:
        if self.active and not self._stop.is_set():
            self._stop.set()
            self.app.watching = f"stopping the watch on {self._name()}…"

    def cancel(self) -> None:
        """For quitting: stop without touching the (closing) UI."""
        self._stop.set()

    def _watch(self, path: Path, collection: str, stop: threading.Event) -> None:
        from localagent.index import Index
        from localagent.index.watch import watch_paths

        app = self.app
        with app.threads.running():
            try:
                start_process_helpers()
                with Index.open(app.index_path) as index:
                    watch_paths(
                        [path],
                        lambda batch: app.post(self._batch, batch),
                        stop,
                        collection=collection,
                        ready=lambda: app.post(self._ready),
                        index=index,
                        chunk_tokens=app.config.chunk_tokens,
                        chunk_overlap=app.config.chunk_overlap,
                    )
            except Exception as exc:  # a worker thread: whatever it was, the UI must hear of it
                app.post(self._ended, describe(exc))
                return
        app.post(self._ended, "")

    def _status(self, what: str) -> str:
        return f"watching {self._name()} · {what}"

    @shown_as_notification
    def _ready(self) -> None:
        if self.active and not self._stop.is_set():
            self.app.watching = self._status("up to date")

    @shown_as_notification
    def _batch(self, batch: WatchBatch) -> None:
        app = self.app
        self.batches += 1
        app.documents.refresh_documents()
        if self._stop.is_set():
            return
        stamp = time.strftime("%H:%M:%S")
        if batch.error:
            app.watching = self._status(f"{stamp} {batch.error}")
            app.notify(f"watching {self._name()}: {batch.error}", severity="warning", timeout=8)
            return
        summary = batch.summary
        if summary is None:
            return
        if not batch.changed:  # the first run
            app.notify(
                f"watching {self._name()}: {summary.indexed} file(s) indexed, {summary.pages} page(s); "
                "changes are indexed as they happen",
                timeout=6,
            )
        else:
            app.watching = self._status(
                f"{stamp} indexed {summary.indexed}, removed {summary.removed}"
                + (f", failed {len(summary.failed)}" if summary.failed else "")
            )
        failed = [f for f in summary.failed if not batch.changed or f.path in batch.changed]
        for item in failed[:3]:
            app.notify(
                f"{Path(item.path).name} could not be indexed: {item.reason}", severity="warning", timeout=8
            )

    @shown_as_notification
    def _ended(self, error: str) -> None:
        name = self._name()
        self.folder = None
        self.app.watching = ""
        if error:
            self.app.notify(f"watching {name} failed: {error}", severity="error", timeout=10)
        else:
            self.app.notify(f"stopped watching {name}", timeout=4)
