"""`localagent batch PATH... --task {summarize,extract,classify} --out FILE`: resumable batch runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from localagent.batch.tasks import TASKS
from localagent.commands.options import add_model_options, config_from_args
from localagent.commands.output import print_json
from localagent.errors import LocalAgentError

EPILOG = """\
examples:
  localagent batch ~/reports --task summarize --out summaries.jsonl
  localagent batch invoices/ --task extract --schema invoice.schema.json --out invoices.csv
  localagent batch inbox/ --task classify --labels invoice,contract,letter --out labels.jsonl --workers 2

Rerun the same command after an interruption (Ctrl-C, kill, power loss): finished documents are
skipped, nothing is written twice. The journal lives next to the output (FILE.journal.sqlite).
"""


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("batch", parents=[common], help="run a task over many documents (resumable)",
                       description="Summarize, extract fields from, or classify every document under "
                                   "PATH, one record per document, into JSONL or CSV.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (folders are walked)")
    p.add_argument("--task", required=True, choices=TASKS, help="what to do with each document")
    p.add_argument("--out", required=True, type=Path, help="output file (appended to on reruns)")
    p.add_argument("--format", choices=("jsonl", "csv"),
                   help="output format (default: from the --out name ending, else jsonl)")
    p.add_argument("--schema", type=Path, help="JSON Schema file for --task extract")
    p.add_argument("--labels", help="comma-separated labels for --task classify")
    add_model_options(p, threads_help="CPU threads in total (default: physical cores)")
    p.add_argument("--workers", type=int, default=1, help="worker processes, each holding one model (default 1)")
    p.add_argument("--max-tokens", type=int, dest="max_tokens", help="most tokens per answer (default 256)")
    p.add_argument("--json", action="store_true", help="print the closing summary as JSON")
    p.set_defaults(func=run)


class ProgressBar:
    """A rich progress bar on stderr: documents done, documents/s, ETA (silent when not a terminal)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self._progress: Any = None

    def start(self, total: int) -> None:
        if not self.enabled or total == 0:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]batch"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
            TextColumn("{task.fields[rate]} docs/s"), TextColumn("errors {task.fields[errors]}"),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=Console(stderr=True), transient=False)
        self._task = self._progress.add_task("batch", total=total, rate="-", errors=0)
        self._errors = 0
        self._progress.start()

    def advance(self, record: dict[str, Any]) -> None:
        if self._progress is None:
            return
        self._errors += record.get("status") != "ok"
        self._progress.advance(self._task)
        task = self._progress.tasks[0]
        rate = task.completed / task.elapsed if task.elapsed else 0.0
        self._progress.update(self._task, rate=f"{rate:.2f}", errors=self._errors)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def _print_summary(summary: Any) -> None:
    parts = [f"{summary.inputs} documents: {summary.ok} ok, {summary.errors} errors"]
    if summary.already_done:
        parts.append(f"{summary.already_done} already done")
    if summary.reused:
        parts.append(f"{summary.reused} copied from identical documents")
    if summary.processed:
        parts.append(f"{summary.processed} processed in {summary.work_s:.1f} s "
                     f"({summary.docs_per_minute:.1f} documents/minute)")
    print("batch: " + "; ".join(parts), file=sys.stderr)
    if summary.repaired:
        print(f"batch: repaired the output: {summary.repaired}", file=sys.stderr)
    for file, error in summary.failures[:10]:
        print(f"  error: {file}: {error}", file=sys.stderr)
    if len(summary.failures) > 10:
        print(f"  ... and {len(summary.failures) - 10} more errors (see the output)", file=sys.stderr)
    print(f"batch: output {summary.out}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from localagent.batch.classify import parse_labels
    from localagent.batch.extract import load_schema
    from localagent.batch.output import format_for
    from localagent.batch.runner import BatchJob, check_output_path, find_inputs, run_batch
    from localagent.batch.tasks import make_task
    from localagent.batch.workers import EngineSpec
    from localagent.engine.system import physical_cores
    from localagent.models import resolve_model
    from localagent.models.checksum import cached_sha256

    config = config_from_args(args)
    # cheap checks first: no model load for a typo
    out = check_output_path(args.out)
    labels = parse_labels(args.labels) if args.labels is not None else None
    schema = load_schema(args.schema) if args.schema is not None else None
    task = make_task(args.task, config.max_tokens, labels=labels, schema=schema)
    inputs = [Path(p) for p in args.paths]
    find_inputs(inputs)
    if args.workers < 1:
        raise LocalAgentError(f"--workers must be at least 1, got {args.workers}")
    model_path = resolve_model(config.model or None)
    threads = config.n_threads or physical_cores()
    spec = EngineSpec(model_path=str(model_path), model_name=model_path.stem, n_ctx=config.n_ctx,
                      n_threads=max(1, threads // args.workers), n_batch=config.n_batch, verbose=config.verbose)
    job = BatchJob(inputs=inputs, task=task, out=out, format=format_for(out, args.format), engine=spec,
                   model_sha256=cached_sha256(model_path), workers=args.workers)
    bar = ProgressBar(enabled=sys.stderr.isatty() and not args.json)
    try:
        summary = run_batch(job, bar)
    finally:
        bar.stop()
    if args.json:
        print_json(summary.as_dict())
    else:
        _print_summary(summary)
    return 0 if summary.ok else 1
