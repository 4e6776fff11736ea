"""Benchmark `quantize convert`: throughput and peak RSS per output type on a ~500 MB checkpoint.

Generates a sharded fp16 ternary x scale LlamaForCausalLM (TriLM style, LLaMA-1B-like widths,
3 layers, 32000-token vocabulary) with a SentencePiece tokenizer, then converts it once per output
type in a fresh process and prints MB/s (checkpoint bytes / wall time; per CPU-second too, steadier on
a shared machine) and the child's peak RSS
side by side with the budget: 1.5 x the largest tensor + 300 MB.

    python bench/quantize.py [--layers 3] [--types tq2_0,tq1_0,q1_0,q8_0,f16] [--keep DIR]

Side by side with llama.cpp's own converter (convert_hf_to_gguf.py from the llama-cpp-python 0.3.36
sdist, run by a python that has torch and transformers):

    python bench/quantize.py --layers 8 --types tq2_0 --llama-cpp SDIST_DIR [--llama-cpp-python PY] [--runs 3]

(or the environment variables LLAMA_CPP_SDIST / LLAMA_CPP_PYTHON). Both converters then run
alternately --runs times on the same checkpoint; the script prints the median wall time and peak RSS
of each, our/their ratios, and whether every tensor both files store in the same type is byte-identical.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
# this script's folder would shadow the `quantize` package (same name): put the repo there instead
sys.path[0:1] = [str(REPO), str(REPO / "tests")]


HIDDEN, FFN, VOCAB, HEADS, KV_HEADS = 2048, 5632, 32000, 32, 4
MB = 1e6


def make_checkpoint(directory: Path, layers: int, seed: int = 0) -> tuple[int, int]:
    """Write the checkpoint one shard per layer; returns (total tensor bytes, largest tensor bytes)."""
    from checkpoints import TinyShape, write_sharded_ternary_llama

    shape = TinyShape(
        hidden=HIDDEN, n_layers=layers, n_heads=HEADS, n_kv_heads=KV_HEADS, ffn=FFN, vocab=VOCAB
    )
    return write_sharded_ternary_llama(directory, shape, seed)


def convert_once(ckpt: Path, out: Path, qtype: str) -> tuple[float, float, int, int]:
    """(wall seconds, CPU seconds, peak RSS bytes of the converting process, output bytes)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "quantize", "convert", str(ckpt), "-o", str(out), "--type", qtype, "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(
            f"convert --type {qtype} failed: {proc.stderr.read().decode() if proc.stderr else ''}"
        )
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, out.stat().st_size


def llama_cpp_once(
    script: Path, python: str, ckpt: Path, out: Path, qtype: str
) -> tuple[float, float, int, int]:
    """llama.cpp's convert_hf_to_gguf.py: (wall seconds, CPU seconds, peak RSS bytes, output bytes)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [python, str(script), str(ckpt), "--outfile", str(out), "--outtype", qtype],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        err = proc.stderr.read().decode()[-2000:] if proc.stderr else ""
        raise SystemExit(f"llama.cpp's converter failed: {err}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, out.stat().st_size


def same_tensors(ours: Path, theirs: Path) -> tuple[int, int, list[str]]:
    """(tensors in both files with the same type, how many of them are byte-identical, names that differ)."""
    from gguf import GGUFReader

    a = {t.name: t for t in GGUFReader(ours).tensors}
    b = {t.name: t for t in GGUFReader(theirs).tensors}
    common = [n for n in a if n in b and a[n].tensor_type == b[n].tensor_type]
    differ = [n for n in common if np.asarray(a[n].data).tobytes() != np.asarray(b[n].data).tobytes()]
    return len(common), len(common) - len(differ), differ


def side_by_side(work: Path, total: int, qtype: str, sdist: Path, python: str, runs: int) -> int:
    script = sdist / "vendor" / "llama.cpp" / "convert_hf_to_gguf.py"
    if not script.is_file():
        raise SystemExit(
            f"{script}: not found (--llama-cpp must point at the unpacked llama-cpp-python sdist)"
        )
    ours, theirs = [], []
    for _ in range(runs):  # alternate, so a change in machine load hits both
        ours.append(convert_once(work / "ckpt", work / "ours.gguf", qtype))
        theirs.append(llama_cpp_once(script, python, work / "ckpt", work / "theirs.gguf", qtype))
    med = {
        name: [statistics.median(r[i] for r in rows) for i in range(4)]
        for name, rows in (("quantize convert", ours), ("llama.cpp convert_hf_to_gguf", theirs))
    }
    print(f"\n{qtype}, {runs} alternating run(s) each, medians ({total / MB:.0f} MB checkpoint):")
    print(f"{'converter':<30} {'wall s':>8} {'CPU s':>7} {'peak RSS MB':>12} {'out MB':>8}")
    for name, (wall, cpu, rss, size) in med.items():
        print(f"{name:<30} {wall:>8.1f} {cpu:>7.1f} {rss / MB:>12.0f} {size / MB:>8.1f}")
    (w1, c1, r1, _), (w2, c2, r2, _) = med.values()
    print(f"ratio ours/theirs: wall {w1 / w2:.2f}, CPU {c1 / c2:.2f}, peak RSS {r1 / r2:.2f}")
    n, same, differ = same_tensors(work / "ours.gguf", work / "theirs.gguf")
    print(
        f"tensors stored in the same type by both: {n}; byte-identical: {same}"
        + (f"; differ: {', '.join(differ[:5])}" if differ else "")
    )
    return 0 if not differ else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--types", default="tq2_0,tq1_0,q1_0,q8_0,f16")
    ap.add_argument("--keep", help="keep checkpoint and outputs in this directory")
    ap.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument(
        "--llama-cpp",
        default=os.environ.get("LLAMA_CPP_SDIST"),
        help="unpacked llama-cpp-python sdist: also run its convert_hf_to_gguf.py side by side",
    )
    ap.add_argument(
        "--llama-cpp-python",
        default=os.environ.get("LLAMA_CPP_PYTHON", sys.executable),
        help="python with torch + transformers for llama.cpp's converter",
    )
    ap.add_argument("--runs", type=int, default=3, help="alternating runs per converter in the side-by-side")
    args = ap.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-quantize-"))
    try:
        t0 = time.perf_counter()
        if args.generate_only:
            print(json.dumps(make_checkpoint(work / "ckpt", args.layers)))
            return 0
        # generate in a child process: a converting child forked from a big parent would inherit its
        # peak RSS (ru_maxrss survives fork and exec)
        made = work / "ckpt" / "bench-sizes.json"  # a kept checkpoint of the same depth is reused
        if made.is_file() and json.loads(made.read_text())["layers"] == args.layers:
            total, largest = json.loads(made.read_text())["sizes"]
        else:
            gen = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--generate-only",
                    "--keep",
                    str(work),
                    "--layers",
                    str(args.layers),
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            total, largest = json.loads(gen.stdout.strip().splitlines()[-1])
            made.write_text(json.dumps({"layers": args.layers, "sizes": [total, largest]}))
        print(
            f"checkpoint: {total / MB:.0f} MB fp16 (sharded), largest tensor {largest / MB:.0f} MB, "
            f"generated in {time.perf_counter() - t0:.1f}s"
        )
        budget = 1.5 * largest + 300 * MB
        print(f"peak RSS budget: 1.5 x {largest / MB:.0f} MB + 300 MB = {budget / MB:.0f} MB")
        print(
            f"{'type':<7} {'seconds':>8} {'MB/s':>7} {'CPU s':>6} {'MB/CPU-s':>9} {'out MB':>7} "
            f"{'peak RSS MB':>12} {'RSS/budget':>11}"
        )
        worst = 0.0
        for qtype in args.types.split(","):
            seconds, cpu, rss, size = convert_once(work / "ckpt", work / f"out-{qtype}.gguf", qtype)
            worst = max(worst, rss / budget)
            print(
                f"{qtype:<7} {seconds:>8.1f} {total / MB / seconds:>7.1f} {cpu:>6.1f} {total / MB / cpu:>9.1f} "
                f"{size / MB:>7.1f} {rss / MB:>12.0f} {rss / budget:>11.2f}"
            )
            if not args.keep:
                (work / f"out-{qtype}.gguf").unlink()
        print(f"worst peak RSS / budget: {worst:.2f} ({'within' if worst <= 1 else 'OVER'} budget)")
        status = 0 if worst <= 1 else 1
        if args.llama_cpp:
            qtype = args.types.split(",")[0]
            status |= side_by_side(work, total, qtype, Path(args.llama_cpp), args.llama_cpp_python, args.runs)
        return status
    finally:
        if not args.keep and not args.generate_only:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
