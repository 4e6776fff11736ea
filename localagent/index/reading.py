"""Reading and chunking documents, in worker processes when there is enough to read.

pypdf is pure Python, so text extraction is CPU-bound and a process per core is the way to use
more than one core. Workers only read and chunk; every database write stays in the indexing
process, one transaction per file, so a killed run loses at most the files being read.
Workers are started with "spawn" (safe from a thread, e.g. the TUI's) and exit when the
indexing process goes away.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from localagent.docs import Chunk, DocumentError, Page, chunk_pages, read_document
from localagent.hashing import sha256_file

MAX_AUTO_JOBS = 4
# Starting workers costs about half a second; worth it from this much work on.
MIN_PDFS_FOR_WORKERS = 4
MIN_BYTES_FOR_WORKERS = 8 * 1024 * 1024


@dataclass(frozen=True)
class ReadResult:
    """Pages and chunks of one file, or the reason it could not be read."""

    pages: list[Page] | None = None
    chunks: list[Chunk] | None = None
    error: str | None = None
    sha256: str | None = None


def read_and_chunk(path: str, chunk_tokens: int, chunk_overlap: int, sha256: str | None = None) -> ReadResult:
    """Hash (unless ``sha256`` is known), read and chunk one file; a bad file is a result with
    ``error`` set, never an exception."""
    try:
        digest = sha256 or sha256_file(Path(path))
    except OSError as exc:
        return ReadResult(error=f"cannot read file: {exc.strerror or exc}")
    try:
        pages = read_document(Path(path))
        return ReadResult(pages, chunk_pages(pages, chunk_tokens, chunk_overlap), sha256=digest)
    except DocumentError as exc:
        return ReadResult(error=exc.reason, sha256=digest)
    except (MemoryError, RecursionError, Exception) as exc:  # a reader bug must not end the run
        return ReadResult(error=f"unexpected error while reading: {type(exc).__name__}: {exc}"[:200],
                          sha256=digest)


def worth_workers(paths: list[Path], sizes: list[int]) -> bool:
    """Enough PDFs (slow to extract) or bytes that worker processes pay for their start."""
    pdfs = sum(path.suffix.lower() == ".pdf" for path in paths)
    return pdfs >= MIN_PDFS_FOR_WORKERS or sum(sizes) >= MIN_BYTES_FOR_WORKERS


def _exit_with_parent(parent_pid: int) -> None:
    """Worker initializer: a thread that ends this worker when the indexing process is gone
    (killed with SIGKILL it cannot shut its pool down, and a worker holds both ends of its queue,
    so it would otherwise wait forever)."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def auto_jobs() -> int:
    """Reader processes when the caller does not say: one per core but one (the indexing
    process writes to SQLite meanwhile), at most 4; 1 (no workers) on one or two cores."""
    cores = os.cpu_count() or 1
    return max(1, min(MAX_AUTO_JOBS, cores - 1)) if cores > 2 else 1


class DocumentReader:
    """``submit(path)`` -> Future[ReadResult]; in this process, or in ``jobs`` worker processes
    when ``jobs > 1`` and the work is big enough (see worth_workers)."""

    def __init__(self, chunk_tokens: int, chunk_overlap: int, jobs: int, worth_workers: bool):
        self.chunk_tokens, self.chunk_overlap = chunk_tokens, chunk_overlap
        self.jobs = jobs if jobs > 1 and worth_workers else 1
        self._pool: ProcessPoolExecutor | None = None
        if self.jobs > 1:
            self._pool = ProcessPoolExecutor(self.jobs, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_exit_with_parent, initargs=(os.getpid(),))

    @property
    def in_flight_limit(self) -> int:
        """How many files may be submitted before the oldest result must be taken."""
        return 2 * self.jobs if self._pool else 1

    def submit(self, path: Path, sha256: str | None) -> Future:
        if self._pool is not None:
            try:
                return self._pool.submit(read_and_chunk, str(path), self.chunk_tokens, self.chunk_overlap,
                                         sha256)
            except BrokenProcessPool:  # a worker died earlier: go on in this process
                self.close()
        future: Future = Future()
        future.set_result(self.read_here(path, sha256))
        return future

    def read_here(self, path: Path, sha256: str | None) -> ReadResult:
        """Read one file in this process."""
        return read_and_chunk(str(path), self.chunk_tokens, self.chunk_overlap, sha256)

    def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> DocumentReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
