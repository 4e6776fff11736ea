"""Incremental indexing: new and changed files in, deleted files out, finished files kept.

A file is unchanged when its size and mtime match what the index holds (and the chunk settings
are the same); if only the mtime moved, the sha256 decides. Each file is committed on its own,
so an interrupted run loses at most the files it was reading, and the next run goes on from
there. Reading (the slow part) may run in worker processes; see index.reading.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from localagent.errors import LocalAgentError
from localagent.hashing import sha256_file
from localagent.index.reading import (
    DocumentReader,
    ReadLimits,
    ReadResult,
    auto_jobs,
    needs_isolation,
    worth_workers,
)
from localagent.index.store import Index
from localagent.index.walk import find_files, is_under

CHUNKER_VERSION = 2  # 2: PDFs through PDFium (spaces kept, labels), Word/HTML/OCR


@dataclass(frozen=True)
class IndexEvent:
    """Progress report: kind "start" (files_total known), "file" (one file finished) or "done".

    ``status`` of a file: "indexed", "unchanged", "failed" (``error`` says why) or "removed".
    """

    kind: str
    files_done: int
    files_total: int
    pages_done: int
    elapsed: float
    path: str | None = None
    status: str | None = None
    error: str | None = None
    pages: int = 0


@dataclass(frozen=True)
class FailedFile:
    path: str
    reason: str


@dataclass
class IndexSummary:
    """What a run did. ``failed`` lists every file that is failed after the run, with reasons;
    ``ocr_pages`` pages got their text from OCR, which took ``ocr_seconds`` (reading time)."""

    collection: str
    indexed: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: list[FailedFile] = field(default_factory=list)
    skipped: int = 0
    missing: list[str] = field(default_factory=list)
    pages: int = 0
    chunks: int = 0
    bytes_read: int = 0
    elapsed: float = 0.0
    cancelled: bool = False
    ocr_pages: int = 0
    ocr_seconds: float = 0.0

    @property
    def files_seen(self) -> int:
        return self.indexed + self.unchanged + len(self.failed)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["failed"] = [{"path": f.path, "reason": f.reason} for f in self.failed]
        return data


def chunker_signature(target_tokens: int, overlap_tokens: int) -> str:
    """Stored with each document: a change of chunk settings re-indexes the file."""
    return f"v{CHUNKER_VERSION}:{target_tokens}:{overlap_tokens}"


@dataclass(frozen=True)
class _ToRead:
    path: Path
    size: int
    mtime_ns: int
    digest: str | None  # None: a new file, hashed by the reader


class _Run:
    def __init__(
        self,
        index: Index,
        collection: str,
        rebuild: bool,
        chunk_tokens: int,
        chunk_overlap: int,
        progress: Callable[[IndexEvent], None] | None,
    ):
        self.index, self.collection, self.rebuild = index, collection, rebuild
        self.chunk_tokens, self.chunk_overlap = chunk_tokens, chunk_overlap
        self.chunker = chunker_signature(chunk_tokens, chunk_overlap)
        self.progress = progress
        self.summary = IndexSummary(collection)
        self.started = time.perf_counter()
        self.done = 0
        self.total = 0

    def emit(self, kind: str, **fields) -> None:
        if self.progress is not None:
            self.progress(
                IndexEvent(
                    kind,
                    self.done,
                    self.total,
                    self.summary.pages,
                    time.perf_counter() - self.started,
                    **fields,
                )
            )

    def remove_gone(self, roots: list[Path], present: set[str]) -> None:
        for path in self.index.paths_in(self.collection):
            if path not in present and is_under(path, roots):
                self.summary.removed += self.index.remove(path, self.collection)
                self.emit("file", path=path, status="removed")

    def check(self, path: Path) -> _ToRead | None:
        """Settle a file that needs no reading (unchanged, gone, unreadable); else what to read."""
        key = str(path)
        try:
            stat = path.stat()
        except FileNotFoundError:  # deleted since the walk: same as deleted before it
            self._gone(key)
            return None
        except OSError as exc:
            self._fail(key, 0, 0, None, f"cannot read file: {exc.strerror or exc}")
            return None
        known = self.index.get_document(key, self.collection)
        if known is None:
            return _ToRead(path, stat.st_size, stat.st_mtime_ns, None)
        same_settings = known.chunker == self.chunker and not self.rebuild
        if same_settings and known.size == stat.st_size and known.mtime_ns == stat.st_mtime_ns:
            self._unchanged(known)
            return None
        try:
            digest = sha256_file(path)
        except OSError as exc:
            self._fail(key, stat.st_size, stat.st_mtime_ns, None, f"cannot read file: {exc.strerror or exc}")
            return None
        if same_settings and known.sha256 == digest and known.size == stat.st_size:
            self.index.touch_document(known.id, stat.st_mtime_ns)
            self._unchanged(known)
            return None
        return _ToRead(path, stat.st_size, stat.st_mtime_ns, digest)

    def store(self, item: _ToRead, result: ReadResult) -> None:
        """Write what a reader produced for one file (its own transaction)."""
        key = str(item.path)
        if result.error is not None and not item.path.exists():
            self._gone(key)  # deleted while it waited to be read
            return
        if result.error is not None or result.pages is None or result.chunks is None:
            self._fail(key, item.size, item.mtime_ns, result.sha256, result.error or "unreadable")
            return
        self.index.write_document(
            self.collection,
            key,
            size=item.size,
            mtime_ns=item.mtime_ns,
            sha256=result.sha256 or "",
            pages=result.pages,
            chunks=result.chunks,
            chunker=self.chunker,
        )
        self.summary.indexed += 1
        self.summary.pages += len(result.pages)
        ocr = [page for page in result.pages if page.ocr_seconds]
        self.summary.ocr_pages += sum(page.ocr_confidence is not None for page in ocr)
        self.summary.ocr_seconds += sum(page.ocr_seconds for page in ocr)
        self.summary.chunks += len(result.chunks)
        self.summary.bytes_read += item.size
        self.done += 1
        self.emit("file", path=key, status="indexed", pages=len(result.pages))

    def read_all(
        self, to_read: list[_ToRead], jobs: int, cancel: threading.Event | None, limits: ReadLimits
    ) -> None:
        """Read files (in workers if worth it, or to bound a file's time and memory) and store
        each as soon as its turn comes."""
        worth = worth_workers([item.path for item in to_read], [item.size for item in to_read])
        isolate = any(needs_isolation(item.path, item.size) for item in to_read)
        reading: DocumentReader[_ToRead] = DocumentReader(
            self.chunk_tokens, self.chunk_overlap, jobs, worth, limits, isolate
        )
        with reading as reader:
            for item in to_read:
                if cancel is not None and cancel.is_set():
                    self.summary.cancelled = True
                    break
                reader.submit(item, item.path, item.digest)
                while reader.pending >= reader.in_flight_limit:
                    self.store(*reader.take())
            while reader.pending:  # files already being read are finished and kept, even on cancel
                self.store(*reader.take())

    def _gone(self, key: str) -> None:
        if self.index.remove(key, self.collection):
            self.summary.removed += 1
        self.done += 1
        self.emit("file", path=key, status="removed")

    def _unchanged(self, known) -> None:
        self.done += 1
        if known.status == "failed":
            self.summary.failed.append(FailedFile(known.path, known.error or "failed"))
            self.emit("file", path=known.path, status="failed", error=known.error)
        else:
            self.summary.unchanged += 1
            self.emit("file", path=known.path, status="unchanged")

    def _fail(self, key: str, size: int, mtime_ns: int, digest: str | None, reason: str) -> None:
        self.index.write_failure(
            self.collection,
            key,
            size=size,
            mtime_ns=mtime_ns,
            sha256=digest,
            error=reason,
            chunker=self.chunker,
        )
        self.summary.failed.append(FailedFile(key, reason))
        self.done += 1
        self.emit("file", path=key, status="failed", error=reason)


def index_paths(
    paths: list[Path],
    collection: str = "default",
    rebuild: bool = False,
    index: Index | None = None,
    progress: Callable[[IndexEvent], None] | None = None,
    cancel: threading.Event | None = None,
    chunk_tokens: int | None = None,
    chunk_overlap: int | None = None,
    jobs: int = 0,
    limits: ReadLimits | None = None,
) -> IndexSummary:
    """Index files and folders into ``collection``; see the module docstring.

    Chunk sizes default to the chunk_tokens / chunk_overlap settings. Per-file failures are
    recorded and reported in the summary; LocalAgentError only when none of the paths exists.
    ``cancel`` is checked between files (files being read are finished and kept first).
    ``jobs``: processes reading documents (0: see reading.auto_jobs; used for big runs only).
    ``limits``: time and memory per file (default: settings read_timeout_s, read_memory_mb;
    ``ReadLimits()`` for none); a file over a limit is recorded as failed, the run goes on.
    """
    if chunk_tokens is None or chunk_overlap is None:
        from localagent.config import load_config

        config = load_config()
        chunk_tokens = config.chunk_tokens if chunk_tokens is None else chunk_tokens
        chunk_overlap = config.chunk_overlap if chunk_overlap is None else chunk_overlap
    if chunk_tokens < 16:
        raise LocalAgentError(f"chunk_tokens must be at least 16, got {chunk_tokens}")
    if not collection or not collection.strip():
        raise LocalAgentError("the collection name must not be empty")
    own = index is None
    if index is None:
        index = Index.open()
    try:
        run = _Run(index, collection, rebuild, chunk_tokens, max(0, chunk_overlap), progress)
        found = find_files(paths)
        run.summary.skipped = found.skipped
        run.summary.missing = [str(p) for p in found.missing]
        run.total = len(found.files)
        run.emit("start")
        run.remove_gone(found.roots, {str(p) for p in found.files})
        if found.missing and len(found.missing) == len(found.roots) and not run.summary.removed:
            raise LocalAgentError(f"no such file or folder: {found.missing[0]}")
        to_read: list[_ToRead] = []
        for path in found.files:
            if cancel is not None and cancel.is_set():
                run.summary.cancelled = True
                break
            item = run.check(path)
            if item is not None:
                to_read.append(item)
        if not run.summary.cancelled:
            run.read_all(
                to_read,
                auto_jobs() if jobs <= 0 else jobs,
                cancel,
                ReadLimits.from_settings() if limits is None else limits,
            )
        run.summary.elapsed = time.perf_counter() - run.started
        run.emit("done")
        return run.summary
    finally:
        if own:
            index.close()
