"""`python bench/batch.py --ray`: local --workers 2 vs --ray (2 single-thread Ray workers), one run.

Also measures the driver's own work per document, which does not spread over machines: reading
and hashing it, the size of the text sent to a worker, and writing its record (append + fsync +
journal commit). From those and the measured per-document model time, prints what 10 and 100
machines would do for 1 million documents and which limit binds first.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from statistics import mean
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from ray_local_cluster import kill_leftovers, start  # noqa: E402

NETWORK_BYTES_S = 125e6  # assumed: 1 Gbit/s into the driver's machine
MILLION = 1_000_000


def start_cluster(ray_tmp: Path) -> tuple[subprocess.Popen, str]:
    return start({"RAY_TMPDIR": str(ray_tmp), "RAY_USAGE_STATS_ENABLED": "0"}, workers=2, cpus=1, head_cpus=0)


def driver_costs(docs: Path, out: Path) -> dict[str, float]:
    """Seconds per document for the driver's read + sha256 and its write; bytes of text sent."""
    from localagent.batch.journal import Journal
    from localagent.batch.output import OutputFile
    from localagent.docs import read_document

    files = sorted(p for p in docs.iterdir() if p.is_file())
    started = time.perf_counter()
    sizes = []
    for path in files:
        hashlib.sha256(path.read_bytes()).hexdigest()
        sizes.append(len(pickle.dumps(read_document(path))))
    read_s = (time.perf_counter() - started) / len(files)
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    with tempfile.TemporaryDirectory(prefix="bench-write-") as tmp:
        output = OutputFile(Path(tmp) / "out.jsonl", "jsonl", [])
        journal = Journal(Path(tmp) / "out.jsonl.journal.sqlite")
        output.open()
        started = time.perf_counter()
        rounds = max(1, 200 // len(records))
        for n in range(rounds):
            for record in records:
                record = {**record, "file": f"{record['file']}.{n}"}
                journal.mark_written(record, output.append(record), "bench")
        write_s = (time.perf_counter() - started) / (rounds * len(records))
        output.close()
        journal.close()
    return {
        "read_s": read_s,
        "write_s": write_s,
        "text_bytes": mean(sizes),
        "model_s": mean(r["elapsed_s"] for r in records),
    }


def ray_round_trip_s(address: str, docs: Path, tasks: int = 1000) -> float:
    """Seconds per document of Ray alone at the driver: each document's pages sent to one of two
    echo actors and an answer back, in flight 2 per actor as in the batch runner (no model)."""
    from localagent.batch.ray_cluster import connect, disconnect
    from localagent.docs import read_document

    ray = connect(address)
    try:

        class Echo:  # defined here so that Ray sends it by value (no import on the workers)
            def process(self, name: str, pages: list) -> dict:
                return {"file": name, "status": "ok", "result": len(pages)}

        actors = [ray.remote(num_cpus=1)(Echo).remote() for _ in range(2)]
        texts = [(str(p), read_document(p)) for p in sorted(docs.iterdir())]
        ray.get([actor.process.remote("warm-up", []) for actor in actors])
        started = time.perf_counter()
        in_flight: list = []
        for n in range(tasks):
            if len(in_flight) >= 2 * len(actors):
                done, in_flight = ray.wait(in_flight, num_returns=1)
                ray.get(done)
            in_flight.append(actors[n % len(actors)].process.remote(*texts[n % len(texts)]))
        ray.get(in_flight)
        return (time.perf_counter() - started) / tasks
    finally:
        disconnect(ray)


def scale(costs: dict[str, float], workers_per_machine: int, machines: int) -> tuple[float, str]:
    """(hours for 1M documents, the limit that binds) for ``machines`` of ``workers_per_machine``."""
    limits = {
        "model time on the workers": machines * workers_per_machine / costs["model_s"],
        "driver write (append + fsync + journal)": 1 / costs["write_s"],
        "driver read + sha256 of the documents": 1 / costs["read_s"],
        "Ray task round trip at the driver": 1 / costs["ray_s"],
        "transfer of document text (1 Gbit/s)": NETWORK_BYTES_S / costs["text_bytes"],
    }
    binding = min(limits, key=limits.__getitem__)
    return MILLION / limits[binding] / 3600, binding


def main(args: Any, run_batch: Callable[..., dict], quality: Callable[..., str]) -> None:
    from batch_samples import make_invoices, make_short_documents, write_schema

    load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    ray_tmp = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))
    with tempfile.TemporaryDirectory(prefix="bench-batch-ray-") as tmp:
        root = Path(tmp)
        extra: list[str] = ["--model", args.model] if args.model else []
        if args.task == "extract":
            truth: dict = make_invoices(root / "docs", args.docs)
            extra += ["--schema", str(write_schema(root / "schema.json"))]
        else:
            truth = make_short_documents(root / "docs", args.docs)
        cluster, address = start_cluster(ray_tmp)
        try:
            rows: list[tuple[str, dict]] = []
            ray_env = {"RAY_TMPDIR": str(ray_tmp)}
            for n in range(args.rounds):  # alternate, so a change in machine load hits both alike
                local = run_batch(root / "docs", root / f"local-{n}.jsonl", args.task, 2, 2, extra)
                rows.append(("local --workers 2", local))
                on_ray = run_batch(
                    root / "docs",
                    root / f"ray-{n}.jsonl",
                    args.task,
                    2,
                    0,
                    [*extra, "--ray", address, "--ray-workers", "2", "--ray-threads", "1"],
                    ray_env,
                )
                rows.append(("--ray, 2 workers", on_ray))
            ray_s = ray_round_trip_s(address, root / "docs")
        finally:
            cluster.stdin.close()
            cluster.wait(timeout=120)
            kill_leftovers(str(ray_tmp))
        for label, summary in rows:
            if summary["processed"] + summary["reused"] != args.docs:
                sys.exit(
                    f"{label}: expected {args.docs} documents, got {summary['processed']} + {summary['reused']}"
                )
        same = all(
            _results(root / f"local-{n}.jsonl") == _results(root / f"ray-{n}.jsonl")
            for n in range(args.rounds)
        )
        costs = {**driver_costs(root / "docs", root / "ray-0.jsonl"), "ray_s": ray_s}
        answers = quality(root / "ray-0.jsonl", truth, args.task)
    print(
        f"localagent batch --task {args.task}: {args.docs} generated documents, "
        f"{args.model or 'default model'}, 1 thread per worker, {args.rounds} rounds alternating; "
        f"load average before: {load_before}"
    )
    print(
        f"{'run':>20} {'wall s':>8} {'docs/min (wall)':>16} {'docs/min (work)':>16} {'docs/min (steady)':>18}"
    )
    for label, s in rows:
        print(
            f"{label:>20} {s['wall_s']:>8.1f} {60 * args.docs / s['wall_s']:>16.1f} {s['docs_per_minute']:>16.1f} "
            f"{s['steady_dpm']:>18.1f}"
        )
    local = [s for label, s in rows if label.startswith("local")]
    ray = [s for label, s in rows if label.startswith("--ray")]
    wall = mean(60 * args.docs / s["wall_s"] for s in ray) / mean(60 * args.docs / s["wall_s"] for s in local)
    work = mean(s["docs_per_minute"] for s in ray) / mean(s["docs_per_minute"] for s in local)
    steady = mean(s["steady_dpm"] for s in ray) / mean(s["steady_dpm"] for s in local)
    print(
        f"--ray / local throughput: {wall:.2f}x wall (Ray overhead {100 * (1 - wall):.0f} %), "
        f"{work:.2f}x work phase ({100 * (1 - work):.0f} %), "
        f"{steady:.2f}x steady state, first record to last ({100 * (1 - steady):.0f} %)"
    )
    print(f"records equal (results + status): {same}; {answers}")
    print(
        f"driver per document: read + sha256 {1000 * costs['read_s']:.2f} ms, text sent "
        f"{costs['text_bytes']:.0f} B, write (append + fsync + journal) {1000 * costs['write_s']:.2f} ms, "
        f"Ray round trip (echo actors, no model) {1000 * costs['ray_s']:.2f} ms; "
        f"model time per document on one thread {costs['model_s']:.3f} s"
    )
    print(f"1M documents like these (network assumed {NETWORK_BYTES_S * 8 / 1e9:.0f} Gbit/s):")
    for per_machine in (2, 16):
        for machines in (10, 100):
            hours, binding = scale(costs, per_machine, machines)
            print(
                f"  {machines:>3} machines x {per_machine:>2} single-thread workers: {hours:7.1f} h, "
                f"bound by {binding}"
            )


def _results(path: Path) -> dict[str, tuple]:
    return {
        r["file"]: (r["status"], json.dumps(r["result"], sort_keys=True))
        for r in map(json.loads, path.read_text(encoding="utf-8").splitlines())
    }
