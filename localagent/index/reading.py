"""Reading and chunking documents, in worker processes that also bound each file's time and memory.

Workers only read and chunk; every database write stays in the indexing process, one
transaction per file, so a killed run loses at most the files being read. Workers are started
with "spawn" (safe from a thread, e.g. the TUI's), ignore Ctrl-C (the indexing process decides
when to stop) and exit when the indexing process goes away.

Limits (settings read_timeout_s, read_memory_mb): a worker's address space is capped with
RLIMIT_AS, and a file still being read after the time limit has its worker killed. Either way
that file is recorded as failed with the reason and the run goes on with a fresh worker. Files
that need a parser of untrusted binary formats (PDF, Word, images...) or are large go to a
worker whenever limits are on, even when one process would otherwise read everything.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from localagent.docs import MARKDOWN_SUFFIXES, Chunk, DocumentError, Page, chunk_pages, read_document
from localagent.hashing import sha256_file

MAX_AUTO_JOBS = 4
# Starting workers costs about half a second; worth it from this much work on.
MIN_PDFS_FOR_WORKERS = 4
MIN_BYTES_FOR_WORKERS = 8 * 1024 * 1024
# Plain text this small is read in the indexing process even when limits are on.
SAFE_TEXT_SUFFIXES = frozenset({".txt", ".text", ".log", ".csv", ".rst", *MARKDOWN_SUFFIXES})
SAFE_TEXT_BYTES = 16 * 1024 * 1024

K = TypeVar("K")


@dataclass(frozen=True)
class ReadLimits:
    """Per-file limits; 0 turns one off. ``ReadLimits()`` has none."""

    timeout_s: float = 0.0
    memory_mb: int = 0

    @property
    def active(self) -> bool:
        return self.timeout_s > 0 or self.memory_mb > 0

    @classmethod
    def from_settings(cls) -> ReadLimits:
        from localagent.config import load_config

        config = load_config()
        return cls(max(0.0, float(config.read_timeout_s)), max(0, int(config.read_memory_mb)))


@dataclass(frozen=True)
class ReadResult:
    """Pages and chunks of one file, or the reason it could not be read."""

    pages: list[Page] | None = None
    chunks: list[Chunk] | None = None
    error: str | None = None
    sha256: str | None = None
    seconds: float = 0.0


def _memory_limit_mb() -> int:
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        return 0 if soft == resource.RLIM_INFINITY else soft // 2**20
    except (ImportError, OSError, ValueError):
        return 0


def read_and_chunk(path: str, chunk_tokens: int, chunk_overlap: int, sha256: str | None = None) -> ReadResult:
    """Hash (unless ``sha256`` is known), read and chunk one file; a bad file is a result with
    ``error`` set, never an exception."""
    started = time.perf_counter()
    try:
        digest = sha256 or sha256_file(Path(path))
    except OSError as exc:
        return ReadResult(error=f"cannot read file: {exc.strerror or exc}")
    try:
        pages = read_document(Path(path))
        chunks = chunk_pages(pages, chunk_tokens, chunk_overlap)
        return ReadResult(pages, chunks, sha256=digest, seconds=time.perf_counter() - started)
    except DocumentError as exc:
        return ReadResult(error=exc.reason, sha256=digest)
    except MemoryError:
        limit = _memory_limit_mb()
        where = f"the {limit} MB limit per file (setting read_memory_mb)" if limit else "the memory there is"
        return ReadResult(error=f"needs more memory than {where}", sha256=digest)
    except (RecursionError, Exception) as exc:  # a reader bug must not end the run
        return ReadResult(
            error=f"unexpected error while reading: {type(exc).__name__}: {exc}"[:200], sha256=digest
        )


def worth_workers(paths: list[Path], sizes: list[int]) -> bool:
    """Enough PDFs (slow to extract) or bytes that worker processes pay for their start."""
    pdfs = sum(path.suffix.lower() == ".pdf" for path in paths)
    return pdfs >= MIN_PDFS_FOR_WORKERS or sum(sizes) >= MIN_BYTES_FOR_WORKERS


def needs_isolation(path: Path, size: int) -> bool:
    """True for files a worker should read when limits are on: binary formats, or large."""
    return path.suffix.lower() not in SAFE_TEXT_SUFFIXES or size > SAFE_TEXT_BYTES


def _init_worker(parent_pid: int, memory_mb: int) -> None:
    """Worker initializer: cap memory, leave Ctrl-C to the indexing process, and end this worker
    when the indexing process is gone (killed with SIGKILL it cannot shut its pool down, and a
    worker holds both ends of its queue, so it would otherwise wait forever)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if memory_mb > 0:
        try:
            import resource

            limit = memory_mb * 2**20
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        except (ImportError, OSError, ValueError):
            pass  # no RLIMIT_AS here (not Linux/macOS): the time limit still holds

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _ready() -> bool:
    """Run once in a new worker: unpickling it imports this module and the readers."""
    return True


def auto_jobs() -> int:
    """Reader processes when the caller does not say: one per core but one (the indexing
    process writes to SQLite meanwhile), at most 4; 1 on one or two cores."""
    cores = os.cpu_count() or 1
    return max(1, min(MAX_AUTO_JOBS, cores - 1)) if cores > 2 else 1


@dataclass
class _Pending(Generic[K]):
    key: K
    path: Path
    sha256: str | None
    submitted: float
    future: Future | None  # None: read in this process when its turn comes


class DocumentReader(Generic[K]):
    """``submit(key, path, sha256)`` files, then ``take()`` their results in submission order.

    Reads in this process, or in worker processes when there is enough work for ``jobs > 1``
    (see worth_workers), or when ``limits`` are on and a file needs isolation (one worker then).
    """

    def __init__(
        self,
        chunk_tokens: int,
        chunk_overlap: int,
        jobs: int,
        worth_workers: bool,
        limits: ReadLimits | None = None,
        isolate: bool = False,
    ):
        self.chunk_tokens, self.chunk_overlap = chunk_tokens, chunk_overlap
        self.limits = limits or ReadLimits()
        parallel = jobs > 1 and worth_workers
        self.jobs = jobs if parallel else 1
        self._use_pool = parallel or (self.limits.active and isolate)
        self._pending: deque[_Pending[K]] = deque()
        self._last_taken = time.monotonic()
        self._pool: ProcessPoolExecutor | None = self._new_pool(self.jobs) if self._use_pool else None

    def _new_pool(self, workers: int) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(os.getpid(), self.limits.memory_mb),
        )
        if self.limits.timeout_s > 0:  # a worker's start-up (about a second) is not the first file's time
            pool.submit(_ready).result()
            self._last_taken = time.monotonic()
        return pool

    @property
    def in_flight_limit(self) -> int:
        """How many files may be submitted before the oldest result must be taken."""
        return 2 * self.jobs if self._use_pool else 1

    @property
    def pending(self) -> int:
        return len(self._pending)

    def submit(self, key: K, path: Path, sha256: str | None) -> None:
        isolated = self._use_pool and (self.jobs > 1 or needs_isolation(path, _size(path)))
        self._pending.append(
            _Pending(
                key, path, sha256, time.monotonic(), self._pool_submit(path, sha256) if isolated else None
            )
        )

    def _pool_submit(self, path: Path, sha256: str | None) -> Future:
        if self._pool is None:
            self._pool = self._new_pool(self.jobs)
        return self._pool.submit(read_and_chunk, str(path), self.chunk_tokens, self.chunk_overlap, sha256)

    def read_here(self, path: Path, sha256: str | None) -> ReadResult:
        """Read one file in this process."""
        return read_and_chunk(str(path), self.chunk_tokens, self.chunk_overlap, sha256)

    def take(self) -> tuple[K, ReadResult]:
        """The oldest submitted file's result (waiting for it, within the time limit)."""
        entry = self._pending.popleft()
        if entry.future is None:
            result = self.read_here(entry.path, entry.sha256)
        else:
            result = self._wait(entry)
        self._last_taken = time.monotonic()
        return entry.key, result

    def _wait(self, entry: _Pending[K]) -> ReadResult:
        assert entry.future is not None
        timeout = None
        if self.limits.timeout_s > 0:  # it started when it was submitted or when the one before ended
            started = max(entry.submitted, self._last_taken)
            timeout = max(0.0, started + self.limits.timeout_s - time.monotonic())
        try:
            return entry.future.result(timeout=timeout)
        except FutureTimeout:
            self._restart()
            return ReadResult(error=_too_slow(self.limits.timeout_s))
        except BrokenProcessPool:
            self._restart()
            if not self.limits.active:
                return self.read_here(entry.path, entry.sha256)  # as before limits: go on here
            return self._read_alone(entry)

    def _read_alone(self, entry: _Pending[K]) -> ReadResult:
        """A worker died while this file was in flight: read it alone in a fresh worker, so a
        second death is surely this file's."""
        pool = self._new_pool(1)
        try:
            future = pool.submit(
                read_and_chunk, str(entry.path), self.chunk_tokens, self.chunk_overlap, entry.sha256
            )
            return future.result(timeout=self.limits.timeout_s or None)
        except FutureTimeout:
            return ReadResult(error=_too_slow(self.limits.timeout_s))
        except BrokenProcessPool:
            limit = f"{self.limits.memory_mb} MB" if self.limits.memory_mb else "no"
            return ReadResult(
                error=f"the reader process died on this file (out of memory with a {limit} "
                "limit per file, or a crash in its parser)"
            )
        finally:
            _kill(pool)

    def _restart(self) -> None:
        """Kill the workers (one is stuck or dead) and resubmit every other pending file."""
        if self._pool is not None:
            _kill(self._pool)
            self._pool = None
        now = time.monotonic()
        for entry in self._pending:
            if entry.future is not None:
                entry.future = self._pool_submit(entry.path, entry.sha256)
                entry.submitted = now

    def close(self) -> None:
        """Finish nothing more: pending files are dropped (take() them first to keep them)."""
        self._pending.clear()
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> DocumentReader[K]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if exc_info[0] is not None and self._pool is not None:  # interrupted: do not wait for workers
            _kill(self._pool)
            self._pool = None
        self.close()


def _too_slow(seconds: float) -> str:
    return f"took longer than {seconds:g} s to read (time limit per file; setting read_timeout_s)"


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _kill(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now, killing its workers (one may be stuck in C code that ignores signals)."""
    kill_workers = getattr(pool, "kill_workers", None)  # Python 3.14+
    if kill_workers is not None:
        kill_workers()
    else:
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.kill()
    pool.shutdown(wait=True, cancel_futures=True)
