"""Benchmark the reference kernels, side by side in one run.

1. Bit-plane popcount GEMV (kernels.bitwise, prepared BitMatrix) vs numpy float32 GEMV of the same
   matrix dequantized, at 2816x1024 and 1024x2816 (FFN shapes of a ~1B model), for TQ2_0, TQ1_0, Q1_0.
   Both sides single-threaded (numpy's bit operations are; BLAS is pinned to one thread for fairness).
2. Wall time of `kernels.verify` (llama.cpp + numpy reference, 64 tokens) on a synthetic ~150M-parameter
   bitnet TQ2_0 model written for the run.

usage: python bench/kernels.py [--repeat N] [--skip-verify] [--layers N]
"""

from __future__ import annotations

import os
import sys

# this file is named kernels.py: keep its folder off sys.path so `import kernels` finds the package
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import kernels  # noqa: E402
from kernels.bitwise import BitMatrix  # noqa: E402

SHAPES = [(2816, 1024), (1024, 2816)]
QTYPES = ["tq2_0", "tq1_0", "q1_0"]


def best_of(fn, repeat: int) -> float:
    """Fastest of `repeat` timed calls, seconds (the machine is shared; the minimum is the stable figure)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bench_gemv(repeat: int) -> None:
    rng = np.random.default_rng(0)
    print(f"GEMV (best of {repeat}, one thread)")
    print(
        f"{'type':>6} {'rows x cols':>12} {'bit-plane ms':>13} {'float32 ms':>11} {'ratio':>6} {'rel.err':>8}"
    )
    for rows, cols in SHAPES:
        w = rng.standard_normal((rows, cols)).astype(np.float32)
        x = rng.standard_normal(cols).astype(np.float32)
        for qtype in QTYPES:
            packed = kernels.quantize(w, qtype)
            bits = BitMatrix.from_packed(packed, qtype)
            dense = kernels.dequantize(packed, qtype, (rows, cols))
            t_bits = best_of(lambda bits=bits, x=x: bits.gemv(x), repeat)
            t_dense = best_of(lambda dense=dense, x=x: dense @ x, repeat)
            exact = dense.astype(np.float64) @ x
            err = np.abs(bits.gemv(x) - exact).max() / np.abs(exact).max()  # activation quantization error
            print(
                f"{qtype:>6} {f'{rows}x{cols}':>12} {1e3 * t_bits:13.3f} {1e3 * t_dense:11.3f} "
                f"{t_bits / t_dense:5.1f}x {err:8.1e}"
            )


def bench_formats(repeat: int) -> None:
    """kernels.quantize / dequantize throughput on a 2816x1024 float32 matrix (11.5 MB)."""
    x = np.random.default_rng(1).standard_normal((2816, 1024)).astype(np.float32)
    print(f"\nquantize / dequantize 2816x1024 float32 (best of {max(repeat // 10, 3)})")
    for qtype in QTYPES:
        t_q = best_of(lambda qtype=qtype: kernels.quantize(x, qtype), max(repeat // 10, 3))
        packed = kernels.quantize(x, qtype)
        t_d = best_of(lambda q=qtype, p=packed: kernels.dequantize(p, q, x.shape), max(repeat // 10, 3))
        print(f"{qtype:>6}  quantize {1e3 * t_q:6.1f} ms ({x.nbytes / t_q / 1e6:4.0f} MB/s)  "
              f"dequantize {1e3 * t_d:6.1f} ms")  # fmt: skip


def bench_verify(layers: int) -> None:
    from kernels.synthetic import SyntheticConfig, corpus, write_synthetic_model
    from kernels.verify import format_report, run_verify

    cfg = SyntheticConfig(arch="bitnet", weight_type="tq2_0", n_embd=1024, n_ff=2816, n_head=16,
                          n_head_kv=8, n_layer=layers, context_length=512)  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "synthetic-150m.gguf"
        t0 = time.perf_counter()
        write_synthetic_model(path, cfg)
        t_write = time.perf_counter() - t0
        from gguf import GGUFReader

        n_params = sum(int(t.n_elements) for t in GGUFReader(path).tensors)
        print(f"\nverify: synthetic bitnet TQ2_0, {n_params / 1e6:.0f}M parameters, "
              f"{path.stat().st_size / 2**20:.0f} MiB (written in {t_write:.1f} s)")  # fmt: skip
        t0 = time.perf_counter()
        result = run_verify(path, " ".join(corpus(60, seed=3)), n_tokens=64, n_threads=2)
        total = time.perf_counter() - t0
        for line in format_report(result):
            print("  " + line)
        s = result.seconds
        print(f"  verify wall time {total:.1f} s = reference load {s['reference_load']:.1f} s + llama.cpp "
              f"{s['llama_cpp']:.1f} s + reference forward {s['reference']:.1f} s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--skip-verify", action="store_true")
    parser.add_argument("--layers", type=int, default=12, help="layers of the synthetic model (12 -> ~150M)")
    args = parser.parse_args()
    bench_gemv(args.repeat)
    bench_formats(args.repeat)
    if not args.skip_verify:
        bench_verify(args.layers)


if __name__ == "__main__":
    main()
