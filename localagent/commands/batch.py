"""`localagent batch PATH... --task {summarize,extract,classify} --out FILE`: resumable batch runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from localagent.batch.tasks import TASKS
from localagent.commands.batch_progress import ProgressBar
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
    p = sub.add_parser(
        "batch",
        parents=[common],
        help="run a task over many documents (resumable)",
        description="Summarize, extract fields from, or classify every document under "
        "PATH, one record per document, into JSONL or CSV.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (folders are walked)")
    p.add_argument("--task", required=True, choices=TASKS, help="what to do with each document")
    p.add_argument("--out", required=True, type=Path, help="output file (appended to on reruns)")
    p.add_argument(
        "--format",
        choices=("jsonl", "csv"),
        help="output format (default: from the --out name ending, else jsonl)",
    )
    p.add_argument("--schema", type=Path, help="JSON Schema file for --task extract")
    p.add_argument("--labels", help="comma-separated labels for --task classify")
    add_model_options(p, threads_help="CPU threads in total (default: physical cores)")
    p.add_argument(
        "--workers", type=int, default=1, help="worker processes, each holding one model (default 1)"
    )
    p.add_argument(
        "--ray",
        nargs="?",
        const="",
        metavar="ADDRESS",
        help="run on a Ray cluster ([cluster] extra): its head's HOST:PORT, or none for a cluster "
        "running on this machine (else a new local one)",
    )
    p.add_argument(
        "--ray-workers",
        type=int,
        dest="ray_workers",
        help="Ray worker actors, each holding one model (default: cluster CPUs / --ray-threads)",
    )
    p.add_argument(
        "--ray-threads",
        type=int,
        dest="ray_threads",
        help="threads per Ray worker (default 1, or the cluster's CPUs shared out over --ray-workers)",
    )
    p.add_argument(
        "--ray-model-path",
        dest="ray_model_path",
        help="where the model file is on the Ray worker nodes (default: the same path as here)",
    )
    p.add_argument("--max-tokens", type=int, dest="max_tokens", help="most tokens per answer (default 256)")
    p.add_argument("--json", action="store_true", help="print the closing summary as JSON")
    p.set_defaults(func=run)


def _print_summary(summary: Any) -> None:
    parts = [f"{summary.inputs} documents: {summary.ok} ok, {summary.errors} errors"]
    if summary.already_done:
        parts.append(f"{summary.already_done} already done")
    if summary.reused:
        parts.append(f"{summary.reused} copied from identical documents")
    if summary.processed:
        parts.append(
            f"{summary.processed} processed in {summary.work_s:.1f} s "
            f"({summary.docs_per_minute:.1f} documents/minute)"
        )
    print("batch: " + "; ".join(parts), file=sys.stderr)
    if summary.repaired:
        print(f"batch: repaired the output: {summary.repaired}", file=sys.stderr)
    for file, error in summary.failures[:10]:
        print(f"  error: {file}: {error}", file=sys.stderr)
    if len(summary.failures) > 10:
        print(f"  ... and {len(summary.failures) - 10} more errors (see the output)", file=sys.stderr)
    if summary.retried:
        print(f"batch: {summary.retried} documents tried again after their worker died", file=sys.stderr)
    print(f"batch: output {summary.out}", file=sys.stderr)


def _ray_settings(args: argparse.Namespace) -> Any:
    ray_flags = {
        "--ray-workers": args.ray_workers,
        "--ray-threads": args.ray_threads,
        "--ray-model-path": args.ray_model_path,
    }
    if args.ray is None:
        given = [flag for flag, value in ray_flags.items() if value is not None]
        if given:
            raise LocalAgentError(f"{given[0]} is for runs on a Ray cluster: add --ray [ADDRESS]")
        return None
    if args.workers != 1:
        raise LocalAgentError("--workers is for local runs; with --ray use --ray-workers")
    from localagent.batch.ray_cluster import preflight
    from localagent.batch.ray_runner import RaySettings

    preflight(args.ray)
    model_path = str(Path(args.ray_model_path).expanduser().absolute()) if args.ray_model_path else None
    return RaySettings(
        address=args.ray, workers=args.ray_workers, threads=args.ray_threads, model_path=model_path
    )


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
    ray = _ray_settings(args)  # (checks the --ray flags and that the cluster answers)
    if args.workers < 1:
        raise LocalAgentError(f"--workers must be at least 1, got {args.workers}")
    model_path = resolve_model(config.model or None)
    threads = config.n_threads or physical_cores()
    spec = EngineSpec(
        model_path=str(model_path),
        model_name=model_path.stem,
        n_ctx=config.n_ctx,
        n_threads=max(1, threads // args.workers),
        n_batch=config.n_batch,
        verbose=config.verbose,
    )
    job = BatchJob(
        inputs=inputs,
        task=task,
        out=out,
        format=format_for(out, args.format),
        engine=spec,
        model_sha256=cached_sha256(model_path),
        workers=args.workers,
        ray=ray,
    )
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
