"""Running a batch task on Ray actors (`localagent batch --ray`); the driver stays the only writer.

The driver reads each document (so documents need to be on the driver's machine only) and sends
its pages to a worker actor (ray_actor.py), at most ``in_flight`` documents per worker at a time.
Records come back in completion order and go to run_batch, which writes them exactly as for a
local run (append, fsync, then journal). A document whose worker dies is sent to another worker;
after ``max_tries`` failed tries it becomes an error record. Two transient keys ride on each
record for run_batch, which removes them before writing: the worker's name and the retry count.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from localagent.batch.ray_actor import BatchActor, WorkerFacts, check_worker, software_versions
from localagent.batch.ray_cluster import DISCOVER, connect, disconnect, shape
from localagent.batch.records import make_record
from localagent.batch.tasks import Task
from localagent.batch.workers import RETRIES, TRANSIENT, WORKER, EngineSpec, WorkItem, failure_message
from localagent.docs import Page, read_document
from localagent.errors import LocalAgentError

START_TIMEOUT_S = 600.0  # model load on every worker


@dataclass(frozen=True)
class RaySettings:
    address: str = DISCOVER
    workers: int | None = None  # default: one per cluster CPU / threads
    threads: int | None = None  # per worker; default: see ClusterShape.plan
    model_path: str | None = None  # the model's path on the worker nodes; default: the driver's path
    in_flight: int = 2  # documents sent to one worker and not yet answered
    max_tries: int = 3


@dataclass
class _Worker:
    actor: Any
    name: str
    busy: int = 0
    alive: bool = True


@dataclass
class _Doc:
    item: WorkItem
    pages: list[Page]
    failed_on: set[str] = field(default_factory=set)
    last_error: str = ""


def run_in_ray(
    settings: RaySettings, spec: EngineSpec, task: Task, items: list[WorkItem], model_sha256: str
) -> Iterator[dict[str, Any]]:
    """Records for ``items`` (completion order) from Ray actors, one model each."""
    if not items:
        return
    # Ray's driver threads print notes such as "A worker died ..." on stdout, where --json output
    # goes: while connected they go to stderr with --verbose, else nowhere (run_batch counts retries)
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sys.stderr if spec.verbose else sink):
        ray = connect(settings.address)
        try:
            workers = _start_workers(ray, settings, spec, task, model_sha256, len(items))
            yield from _schedule(ray, workers, settings, spec, task, items)
        finally:
            disconnect(ray)


def _start_workers(
    ray: ModuleType, settings: RaySettings, spec: EngineSpec, task: Task, model_sha256: str, n_items: int
) -> list[_Worker]:
    count, threads = shape(ray).plan(settings.workers, settings.threads)
    count = min(count, n_items)
    actor_class = ray.remote(num_cpus=threads, max_restarts=0, max_task_retries=0)(BatchActor)
    model_path = settings.model_path or spec.model_path
    actors = [
        actor_class.remote(replace(spec, n_threads=threads), task, model_path, model_sha256)
        for _ in range(count)
    ]
    try:
        facts: list[WorkerFacts] = ray.get(
            [actor.hello.remote() for actor in actors], timeout=START_TIMEOUT_S
        )
    except ray.exceptions.GetTimeoutError:
        raise LocalAgentError(
            f"the Ray workers did not load the model within {START_TIMEOUT_S:.0f} s; "
            f"is the cluster busy with another job?"
        ) from None
    except ray.exceptions.RayError as exc:
        raise LocalAgentError(f"a Ray worker could not start: {last_line(exc)}") from None
    addresses = {node["NodeID"]: node["NodeManagerAddress"] for node in ray.nodes()}
    driver_versions = software_versions()
    workers = []
    for actor, fact in zip(actors, facts, strict=True):
        where = addresses.get(fact.node_id, fact.node_id[:12])
        check_worker(fact, where, driver_versions)
        workers.append(_Worker(actor, f"{where} pid {fact.pid}"))
    return workers


def _schedule(
    ray: ModuleType,
    workers: list[_Worker],
    settings: RaySettings,
    spec: EngineSpec,
    task: Task,
    items: list[WorkItem],
) -> Iterator[dict[str, Any]]:
    fresh = deque(items)
    retry: deque[_Doc] = deque()
    in_flight: dict[Any, tuple[_Worker, _Doc]] = {}
    while fresh or retry or in_flight:
        for worker in sorted((w for w in workers if w.alive), key=lambda w: w.busy):
            while worker.busy < settings.in_flight and (fresh or retry):
                doc = _take_retry(retry, worker, workers)
                if doc is None and fresh:
                    item = fresh.popleft()
                    pages = _read(item, spec, task)
                    if isinstance(pages, dict):  # unreadable: its error record, no worker needed
                        yield pages
                        continue
                    doc = _Doc(item, pages)
                if doc is None:
                    break
                in_flight[worker.actor.process.remote(doc.item, doc.pages)] = (worker, doc)
                worker.busy += 1
        if not in_flight:
            raise LocalAgentError(
                "every Ray worker died; rerun the same command to resume (finished documents are kept)"
            )
        ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=5.0)
        for ref in ready:
            worker, doc = in_flight.pop(ref)
            worker.busy -= 1
            try:
                record = ray.get(ref)
            except ray.exceptions.RayError as exc:
                if isinstance(exc, ray.exceptions.RayActorError):
                    worker.alive = False
                doc.failed_on.add(worker.name)
                doc.last_error = last_line(exc)
                if len(doc.failed_on) < settings.max_tries:
                    retry.append(doc)
                else:
                    yield _gave_up(doc, spec, task, settings.max_tries)
                continue
            record[WORKER] = worker.name
            record[RETRIES] = len(doc.failed_on)
            yield record


def _take_retry(retry: deque[_Doc], worker: _Worker, workers: list[_Worker]) -> _Doc | None:
    """A document to try again, preferably one that has not failed on this worker already."""
    for doc in retry:
        if worker.name not in doc.failed_on:
            retry.remove(doc)
            return doc
    if retry and not any(w.alive and w.name not in retry[0].failed_on for w in workers):
        return retry.popleft()  # no other worker left to try it on
    return None


def _read(item: WorkItem, spec: EngineSpec, task: Task) -> list[Page] | dict[str, Any]:
    try:
        return read_document(Path(item.file))
    except Exception as exc:  # noqa: BLE001 - the same error record a local worker writes
        return make_record(
            item.file, item.sha256, task.name, spec.model_name, 0.0, error=failure_message(exc)
        )


def _gave_up(doc: _Doc, spec: EngineSpec, task: Task, tries: int) -> dict[str, Any]:
    record = make_record(
        doc.item.file,
        doc.item.sha256,
        task.name,
        spec.model_name,
        0.0,
        error=f"failed on {tries} Ray workers ({doc.last_error})",
    )
    record[TRANSIENT] = True  # not cached by content: a rerun tries again
    record[RETRIES] = tries - 1  # the first try was not a retry
    return record


def last_line(exc: BaseException) -> str:
    """The telling line of a Ray error (its message carries a remote traceback)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    for line in reversed(lines):
        if "Error:" in line or "error:" in line:
            return line[:300]
    return (lines[-1] if lines else type(exc).__name__)[:300]
