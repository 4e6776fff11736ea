"""Keeping a collection in step with folders as files change (`localagent index --watch`).

watchfiles (Rust ``notify``: inotify, FSEvents, ReadDirectoryChangesW) reports changes; they are
debounced into batches, and each batch that touches an indexable file runs the ordinary
incremental index over the watched paths. That one code path honours everything indexing does:
new and changed files are read, deleted ones leave the index, a rename is a deletion plus a new
file, hidden and binary files are skipped. The watcher starts before the first run, so nothing
that changes during it is missed. ``stop`` (Ctrl-C) ends watching between batches; a run in
progress finishes its current file first (each file is its own transaction).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from localagent.docs import skipped_in_walks
from localagent.errors import LocalAgentError
from localagent.index.indexer import IndexSummary, index_paths

DEBOUNCE_MS = 400


@dataclass(frozen=True)
class WatchBatch:
    """One run of the index after a batch of changes (``changed``: paths that changed)."""

    summary: IndexSummary | None
    changed: tuple[str, ...]
    error: str | None = None


class _Relevant:
    """watchfiles filter: changes to files an index walk would take (not hidden, not binary,
    not the index database itself when it lives in a watched folder)."""

    def __init__(self, roots: list[Path], ignore: list[Path]):
        self.roots = roots
        self.ignore = [str(p) for p in ignore]

    def __call__(self, change: object, path: str) -> bool:
        if any(path == i or path.startswith(i + "/") for i in self.ignore):
            return False
        candidate = Path(path)
        for root in self.roots:
            try:
                parts = candidate.relative_to(root).parts
            except ValueError:
                continue
            return not any(part.startswith(".") for part in parts) and not skipped_in_walks(candidate)
        return True


def watch_paths(
    paths: list[Path],
    on_batch: Callable[[WatchBatch], None],
    stop: threading.Event,
    collection: str = "default",
    debounce_ms: int = DEBOUNCE_MS,
    ready: Callable[[], None] | None = None,
    rebuild: bool = False,
    **index_options,
) -> None:
    """Index ``paths`` now and again after every batch of changes, until ``stop`` is set.

    ``on_batch`` gets the first run's result and each later one's; ``ready`` is called once the
    first run is done and changes are being watched. ``rebuild`` applies to the first run only;
    ``index_options`` go to index_paths.
    """
    from watchfiles import watch

    from localagent.paths import get_paths

    roots = [Path(p).expanduser().resolve() for p in paths]
    missing = [str(root) for root in roots if not root.exists()]
    if missing:
        raise LocalAgentError(f"cannot watch {missing[0]}: no such file or folder")
    data_dir = get_paths().data_dir.expanduser().resolve()
    relevant = _Relevant(roots, [data_dir])
    first = True
    for changes in watch(
        *roots,
        watch_filter=relevant,
        debounce=debounce_ms,
        step=50,
        stop_event=stop,
        rust_timeout=300,
        yield_on_timeout=True,
        raise_interrupt=False,
    ):
        if stop.is_set():
            break
        if not changes and not first:
            continue
        changed = tuple(sorted({path for _change, path in changes}))
        try:
            summary = index_paths(
                roots, collection=collection, cancel=stop, rebuild=rebuild and first, **index_options
            )
            on_batch(WatchBatch(summary, changed))
        except LocalAgentError as exc:  # e.g. every watched path deleted: say so, keep watching
            on_batch(WatchBatch(None, changed, str(exc)))
        if first:
            first = False
            if ready is not None:
                ready()
