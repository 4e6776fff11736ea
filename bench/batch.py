"""Batch throughput, 1 vs 2 workers: `python bench/batch.py [--docs 100] [--task classify]`;
local --workers 2 vs --ray (2 single-thread Ray workers): `python bench/batch.py --ray`.

1. Writes N short generated documents (invoices, letters, recipes; tests/batch_samples.py).
2. Runs `localagent batch` on them with the default model, once with --workers 1 and once with
   --workers 2 (fresh output each time, so nothing is skipped), through the real CLI in a
   subprocess: model loading and process start-up are part of the wall time.
3. Prints documents/minute (wall clock, over the work phase only, and steady state: first record
   to last) side by side with the ratio.

Short documents and a small --max-tokens keep the run bounded (classify: a label of a few tokens;
summarize/extract: --max-tokens 32/64). Threads are shared out: 1 worker gets every physical core,
2 workers get half each; a third run, 1 worker on 1 thread, separates "two processes" from "fewer
threads per process".

With --ray (bench/batch_ray.py): a Ray cluster on this machine (head + 2 one-CPU worker nodes,
loopback) is started first, as a running cluster would be; then local --workers 2 and --ray with
2 single-thread workers take turns (--rounds), and the ratio is Ray's overhead. The driver's own
costs per document (read + sha256, text size, append + fsync + journal) are measured too, and
a scale estimate for 10 and 100 machines and 1M documents is printed from them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))

from batch_samples import make_invoices, make_short_documents, write_schema  # noqa: E402

from localagent.engine.system import physical_cores  # noqa: E402

TASK_ARGS = {
    "classify": ["--labels", "invoice,letter,recipe"],
    "summarize": ["--max-tokens", "32"],
    "extract": ["--max-tokens", "64"],
}


def run_batch(
    docs: Path,
    out: Path,
    task: str,
    workers: int,
    threads: int,
    extra: list[str],
    env: dict[str, str] | None = None,
) -> dict:
    command = [
        sys.executable,
        "-m",
        "localagent",
        "batch",
        str(docs),
        "--task",
        task,
        "--out",
        str(out),
        "--json",
        *TASK_ARGS[task],
        *extra,
    ]
    if "--ray" not in extra:
        command += ["--workers", str(workers)]
    if threads:
        command += ["--threads", str(threads)]
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        process = subprocess.Popen(
            command, stdout=stdout, stderr=stderr, text=True, env={**os.environ, **(env or {})}
        )
        first, last = _watch_records(out, process)
        wall = time.perf_counter() - started
        stdout.seek(0)
        stderr.seek(0)
        if process.returncode != 0:
            sys.exit(f"batch failed ({process.returncode}): {stderr.read().strip()}")
        summary = json.loads(stdout.read())
    summary["wall_s"] = wall
    # steady state: records/minute from the first record written to the last (start-up left out)
    summary["steady_dpm"] = 60 * (last[0] - first[0]) / (last[1] - first[1]) if last[1] > first[1] else 0.0
    return summary


def _watch_records(out: Path, process: subprocess.Popen) -> tuple[tuple[int, float], tuple[int, float]]:
    """(records, time) when the first record landed and when the last did, polling every 10 ms."""
    first = last = (0, 0.0)
    while True:
        running = process.poll() is None
        count = out.read_bytes().count(b"\n") if out.exists() else 0
        if count > last[0]:
            last = (count, time.perf_counter())
            first = first if first[0] else last
        if not running:
            return first, last
        time.sleep(0.01)


def quality(out: Path, truth: dict, task: str) -> str:
    """How many answers are right: labels for classify, fields for extract (summaries: not judged)."""
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    if task == "classify":
        right = sum(r["result"] == truth[r["file"]] for r in records)
        return f"{right}/{len(records)} labels right"
    if task == "extract":
        fields = [(r.get("result") or {}).get(k) == v for r in records for k, v in truth[r["file"]].items()]
        valid = sum(r["status"] == "ok" for r in records)
        return f"{valid}/{len(records)} valid JSON, {sum(fields)}/{len(fields)} fields right"
    return f"{sum(r['status'] == 'ok' for r in records)}/{len(records)} summaries written"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=100)
    parser.add_argument("--task", choices=sorted(TASK_ARGS), default="classify")
    parser.add_argument("--ray", action="store_true", help="local --workers 2 vs --ray with 2 Ray workers")
    parser.add_argument("--rounds", type=int, default=2, help="--ray: turns of each, alternating")
    parser.add_argument("--model", help="model name or .gguf (default: the default model)")
    args = parser.parse_args()
    if args.ray:
        from batch_ray import main as ray_main

        ray_main(args, run_batch, quality)
        return
    load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        root = Path(tmp)
        extra: list[str] = ["--model", args.model] if args.model else []
        if args.task == "extract":
            truth: dict = make_invoices(root / "docs", args.docs)
            extra += ["--schema", str(write_schema(root / "schema.json"))]
        else:
            truth = make_short_documents(root / "docs", args.docs)
        rows = []
        # (workers, total threads): 0 = every physical core; 1 worker on 1 thread as a third point,
        # because on a busy machine OpenMP threads that wait on each other can cost more than they give
        for workers, threads in ((1, 0), (1, 1), (2, 0)):
            out = root / f"out-{workers}-{threads}.jsonl"
            summary = run_batch(root / "docs", out, args.task, workers, threads, extra)
            if summary["processed"] + summary["reused"] != args.docs:
                sys.exit(f"expected {args.docs} documents, got {summary['processed']} + {summary['reused']}")
            summary["quality"] = quality(out, truth, args.task)
            rows.append((workers, threads, summary))
    print(
        f"localagent batch --task {args.task}: {args.docs} generated documents, default model, "
        f"{physical_cores()} cores, load average before: {load_before}"
    )
    print(
        f"{'workers':>8} {'threads':>8} {'ok':>5} {'wall s':>8} {'docs/min (wall)':>16} {'docs/min (work)':>16}"
    )
    for workers, threads, s in rows:
        threads_each = max(1, (threads or physical_cores()) // workers)
        print(
            f"{workers:>8} {f'{threads_each} each':>8} {s['ok']:>5} {s['wall_s']:>8.1f} "
            f"{60 * args.docs / s['wall_s']:>16.1f} {s['docs_per_minute']:>16.1f}"
        )
    print(f"quality (run 1): {rows[0][2]['quality']}")
    base, single, two = rows[0][2], rows[1][2], rows[2][2]
    print(
        f"2 workers vs 1 worker (all cores): {base['wall_s'] / two['wall_s']:.2f}x wall, "
        f"{two['docs_per_minute'] / max(base['docs_per_minute'], 1e-9):.2f}x work phase"
    )
    print(
        f"2 workers vs 1 worker (1 thread):  {single['wall_s'] / two['wall_s']:.2f}x wall, "
        f"{two['docs_per_minute'] / max(single['docs_per_minute'], 1e-9):.2f}x work phase"
    )


if __name__ == "__main__":
    main()
