"""`run_batch`: find the documents, reconcile output and journal, run what is left, write durably.

Crash safety, in order, for every record: append it to the output and fsync (output.py), then
mark it written in the journal (journal.py). On start the output is scanned: records past what the
journal knows are adopted (killed between fsync and journal commit), a torn last record is cut
off (killed mid-write). Nothing before the journal's last known record is ever truncated.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from localagent.batch.extract import ExtractTask
from localagent.batch.journal import Journal, journal_path
from localagent.batch.memory import check_workers_fit
from localagent.batch.output import OutputFile, Scan
from localagent.batch.records import csv_columns, make_record
from localagent.batch.tasks import PROMPT_VERSION, Task
from localagent.batch.workers import (
    RETRIES,
    TRANSIENT,
    WORKER,
    EngineSpec,
    WorkItem,
    run_in_process,
    run_in_workers,
)
from localagent.errors import LocalAgentError
from localagent.hashing import sha256_file
from localagent.index.walk import find_files

if TYPE_CHECKING:
    from localagent.batch.ray_runner import RaySettings


class Reporter(Protocol):
    def start(self, total: int) -> None: ...
    def advance(self, record: dict[str, Any], worker: str | None = None) -> None: ...


@dataclass
class BatchJob:
    inputs: list[Path]
    task: Task
    out: Path
    format: str
    engine: EngineSpec
    model_sha256: str
    workers: int = 1
    ray: RaySettings | None = None  # run on a Ray cluster instead of local processes

    def fingerprint(self) -> str:
        return json.dumps(
            {
                "task": self.task.name,
                "options": self.task.options(),
                "model": self.model_sha256,
                "prompt_version": PROMPT_VERSION,
            },
            sort_keys=True,
        )


@dataclass
class Summary:
    inputs: int = 0
    ok: int = 0
    errors: int = 0
    already_done: int = 0  # records found in the output from earlier runs
    reused: int = 0  # same content already processed by this job: record copied, no model run
    processed: int = 0  # run through the model now
    retried: int = 0  # tries that failed because a (Ray) worker died, tried again elsewhere
    repaired: str = ""
    elapsed_s: float = 0.0
    work_s: float = 0.0
    out: str = ""
    failures: list[tuple[str, str]] = field(default_factory=list)  # (file, error), this run's inputs

    @property
    def docs_per_minute(self) -> float:
        return 60.0 * self.processed / self.work_s if self.work_s > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs,
            "ok": self.ok,
            "errors": self.errors,
            "already_done": self.already_done,
            "reused": self.reused,
            "processed": self.processed,
            "retried": self.retried,
            "repaired": self.repaired,
            "elapsed_s": round(self.elapsed_s, 2),
            "docs_per_minute": round(self.docs_per_minute, 2),
            "out": self.out,
            "failures": [{"file": f, "error": e} for f, e in self.failures],
        }


def check_output_path(out: Path) -> Path:
    out = Path(out).expanduser().absolute()
    if out.is_dir():
        raise LocalAgentError(f"--out {out} is a folder; give a file name such as {out / 'results.jsonl'}")
    if not out.parent.is_dir():
        raise LocalAgentError(f"--out {out}: the folder {out.parent} does not exist")
    return out


def find_inputs(paths: list[Path]) -> list[Path]:
    found = find_files(paths)
    if found.missing:
        raise LocalAgentError(f"{found.missing[0]}: no such file or folder")
    if not found.files:
        raise LocalAgentError(f"no documents found in {', '.join(str(p) for p in paths)}")
    return found.files


def _same_job(scan: Scan, job: BatchJob) -> bool:
    """For an output whose journal is gone: do its records come from this task and model?"""
    return all(
        r.get("task") == job.task.name and r.get("model") == job.engine.model_name for r, _ in scan.records
    )


def reconcile(output: OutputFile, journal: Journal, job: BatchJob) -> tuple[dict[tuple[str, str], str], str]:
    """Make output and journal agree; returns {(file, sha256): status} of records in the output and
    a note on any repair."""
    fingerprint = job.fingerprint()
    scan = output.scan()
    known = journal.job()
    if scan.records and known != fingerprint and (known is not None or not _same_job(scan, job)):
        raise LocalAgentError(
            f"{output.path} holds results of another job (other task, options or model); choose another --out"
        )
    note = ""
    if scan.bad_reason:
        committed = journal.committed_end()
        if scan.good_end < committed and known == fingerprint:
            raise LocalAgentError(
                f"{output.path}: {scan.bad_reason} at byte {scan.good_end}, inside records "
                f"already written; fix or move the file, then rerun"
            )
        note = f"cut off an unfinished last record ({scan.size - scan.good_end} bytes)"
        output.truncate(scan.good_end)
    journal.set_job(fingerprint)
    journal.replace_written([(r["file"], r.get("sha256") or "", end) for r, end in scan.records])
    for record, end in scan.records:  # adopt records written just before a kill (and old ones)
        if (
            output.format == "jsonl"
            and record.get("sha256")
            and journal.cached(record["sha256"], fingerprint) is None
        ):
            journal.mark_written(record, end, fingerprint)
    return {(r["file"], r.get("sha256") or ""): r.get("status", "") for r, _ in scan.records}, note


def _records(job: BatchJob, work: list[WorkItem]) -> Iterator[dict[str, Any]]:
    if job.ray is not None:
        from localagent.batch.ray_runner import run_in_ray

        return run_in_ray(job.ray, job.engine, job.task, work, job.model_sha256)
    if job.workers == 1 or len(work) == 1:
        return run_in_process(job.engine, job.task, work)
    return run_in_workers(job.engine, job.task, work, min(job.workers, len(work)))


def run_batch(job: BatchJob, reporter: Reporter | None = None) -> Summary:
    started = time.perf_counter()
    out = check_output_path(job.out)
    files = find_inputs(job.inputs)
    schema = job.task.schema if isinstance(job.task, ExtractTask) else None
    output = OutputFile(out, job.format, csv_columns(schema))
    journal = Journal(journal_path(out))
    summary = Summary(inputs=len(files), out=str(out))
    try:
        done, summary.repaired = reconcile(output, journal, job)
        fingerprint = job.fingerprint()
        statuses: dict[str, str] = {}
        ready: list[dict[str, Any]] = []  # records known without the model
        work: list[WorkItem] = []
        copies: dict[str, list[str]] = {}  # sha256 -> more files with that content
        for path in files:
            try:
                sha = sha256_file(path)
            except OSError as exc:
                sha = ""
                if (str(path), sha) not in done:
                    ready.append(
                        make_record(
                            str(path),
                            None,
                            job.task.name,
                            job.engine.model_name,
                            0.0,
                            error=f"cannot read file: {exc.strerror or exc}",
                        )
                    )
                    continue
            if (str(path), sha) in done:
                statuses[str(path)] = done[(str(path), sha)]
                summary.already_done += 1
            elif (cached := journal.cached(sha, fingerprint)) is not None:
                ready.append({**cached, "file": str(path)})
                summary.reused += 1
            elif sha in copies:  # same content as a document earlier in this run: written with it
                copies[sha].append(str(path))
                summary.reused += 1
            else:
                work.append(WorkItem(str(path), sha))
                copies[sha] = []
        if work and job.ray is None:
            check_workers_fit(job.workers, Path(job.engine.model_path), job.engine.n_ctx)
        output.open()

        def write(record: dict[str, Any]) -> None:
            cacheable = not record.pop(TRANSIENT, False)
            end = output.append(record)
            journal.mark_written(record, end, fingerprint, cacheable=cacheable)
            statuses[record["file"]] = record["status"]
            if record["status"] != "ok":
                summary.failures.append((record["file"], record.get("error") or ""))

        for record in ready:
            write(record)
        if reporter is not None:
            reporter.start(len(work))
        work_started = time.perf_counter()
        for record in _records(job, work):
            worker = record.pop(WORKER, None)
            summary.retried += record.pop(RETRIES, 0)
            write(record)
            for file in copies.get(record["sha256"] or "", []):
                write({**record, "file": file})
            summary.processed += 1
            if reporter is not None:
                reporter.advance(record, worker)
        summary.work_s = time.perf_counter() - work_started
    finally:
        output.close()
        journal.close()
    summary.ok = sum(1 for s in statuses.values() if s == "ok")
    summary.errors = len(statuses) - summary.ok
    summary.elapsed_s = time.perf_counter() - started
    return summary
