"""Running a task over documents: in this process (one worker) or in N worker processes.

Each worker process loads the model once and takes documents from a queue; results come back to
the parent, which alone writes the output and the journal. Workers die with the parent (Linux
PDEATHSIG, plus a parent check), so a SIGKILLed batch leaves no stray model processes.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import queue
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localagent.batch.records import make_record
from localagent.batch.tasks import Task, TaskError
from localagent.docs import DocumentError, Page, read_document
from localagent.engine import Engine
from localagent.errors import LocalAgentError

# Keys a record carries from a worker to run_batch, which removes them before writing it:
TRANSIENT = "_transient"  # do not cache this result by content (a crash, not the document's fault)
WORKER = "_worker"  # the name of the (Ray) worker that made the record, for progress
RETRIES = "_retries"  # tries of this document that failed because a (Ray) worker died


@dataclass(frozen=True)
class WorkItem:
    file: str
    sha256: str


@dataclass(frozen=True)
class EngineSpec:
    model_path: str
    model_name: str
    n_ctx: int
    n_threads: int
    n_batch: int
    verbose: bool = False

    def load(self) -> Engine:
        return Engine(
            self.model_path,
            n_ctx=self.n_ctx,
            n_threads=self.n_threads,
            n_batch=self.n_batch,
            verbose=self.verbose,
        )


def process_document(
    engine: Engine, task: Task, item: WorkItem, model_name: str, pages: list[Page] | None = None
) -> dict[str, Any]:
    """The record for one document; every per-document failure becomes an error record.
    ``pages``: the document already read (by a Ray driver); else it is read here."""
    started = time.perf_counter()

    def record(result: Any = None, error: str | None = None) -> dict[str, Any]:
        return make_record(
            item.file,
            item.sha256,
            task.name,
            model_name,
            time.perf_counter() - started,
            result=result,
            error=error,
        )

    try:
        if pages is None:
            pages = read_document(Path(item.file))
        return record(result=task.run(engine, pages))
    except Exception as exc:  # noqa: BLE001 - see failure_message
        return record(error=failure_message(exc))


def failure_message(exc: Exception) -> str:
    """The ``error`` of a record whose document could not be read or processed."""
    if isinstance(exc, DocumentError):
        return f"cannot read document: {exc.reason}"
    if isinstance(exc, TaskError | LocalAgentError):
        return str(exc)
    return f"internal error: {type(exc).__name__}: {exc}"  # a bug or a llama.cpp failure: record it, go on


def run_in_process(spec: EngineSpec, task: Task, items: list[WorkItem]) -> Iterator[dict[str, Any]]:
    if not items:
        return
    engine = spec.load()
    try:
        for item in items:
            yield process_document(engine, task, item, spec.model_name)
    finally:
        engine.close()


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _worker_main(spec: EngineSpec, task: Task, jobs: Any, results: Any, parent: int) -> None:
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    try:
        engine = spec.load()
    except Exception as exc:  # noqa: BLE001 - reported to the parent as one line
        results.put(("fatal", os.getpid(), str(exc)))
        return
    results.put(("ready", os.getpid(), None))
    while os.getppid() == parent:
        try:
            item = jobs.get(timeout=1.0)
        except queue.Empty:
            continue
        if item is None:
            break
        results.put(("start", os.getpid(), item))
        results.put(("done", os.getpid(), process_document(engine, task, item, spec.model_name)))
    engine.close()


def run_in_workers(
    spec: EngineSpec,
    task: Task,
    items: list[WorkItem],
    workers: int,
    on_ready: Callable[[], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Records for ``items`` (in completion order) from ``workers`` processes, one model each."""
    if not items:
        return
    context = multiprocessing.get_context("spawn")  # no fork: llama.cpp/OpenMP threads do not survive it
    jobs, results = context.Queue(), context.Queue()
    for item in items:
        jobs.put(item)
    for _ in range(workers):
        jobs.put(None)
    processes = [
        context.Process(target=_worker_main, args=(spec, task, jobs, results, os.getpid()), daemon=True)
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    by_pid = {process.pid: process for process in processes}
    in_flight: dict[int, WorkItem] = {}
    remaining = len(items)
    try:
        while remaining:
            try:
                kind, pid, payload = results.get(timeout=1.0)
            except queue.Empty:
                for record in _crashed(by_pid, in_flight, spec, task):
                    remaining -= 1
                    yield record
                if remaining and not any(p.is_alive() for p in by_pid.values()):
                    raise LocalAgentError(
                        "every batch worker stopped; rerun to resume (finished documents are kept)"
                    ) from None
                continue
            if kind == "fatal":
                raise LocalAgentError(f"a batch worker could not load the model: {payload}")
            if kind == "ready" and on_ready is not None:
                on_ready()
            elif kind == "start":
                in_flight[pid] = payload
            elif kind == "done":
                in_flight.pop(pid, None)
                remaining -= 1
                yield payload
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
            process.join(timeout=5)
        jobs.close()
        results.close()


def _crashed(
    by_pid: dict[int | None, Any], in_flight: dict[int, WorkItem], spec: EngineSpec, task: Task
) -> Iterator[dict[str, Any]]:
    """Error records for documents whose worker died while working on them (e.g. a llama.cpp crash)."""
    for pid, process in list(by_pid.items()):
        if not process.is_alive() and pid in in_flight:
            item = in_flight.pop(pid)
            record = make_record(
                item.file,
                item.sha256,
                task.name,
                spec.model_name,
                0.0,
                error=f"the worker crashed on this document (exit code {process.exitcode})",
            )
            record[TRANSIENT] = True  # not cached by content: a rerun of another copy tries again
            yield record
