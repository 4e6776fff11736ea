"""Benchmark `quantize convert`: throughput and peak RSS per output type on a ~500 MB checkpoint.

Generates a sharded fp16 ternary x scale LlamaForCausalLM (TriLM style, LLaMA-1B-like widths,
3 layers, 32000-token vocabulary) with a SentencePiece tokenizer, then converts it once per output
type in a fresh process and prints MB/s (checkpoint bytes / wall time; per CPU-second too, steadier on
a shared machine) and the child's peak RSS
side by side with the budget: 1.5 x the largest tensor + 300 MB.

    python bench/quantize.py [--layers 3] [--types tq2_0,tq1_0,q1_0,q8_0,f16] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
# this script's folder would shadow the `quantize` package (same name): put the repo there instead
sys.path[0:1] = [str(REPO), str(REPO / "tests")]

from checkpoints import llama_config, save_safetensors, train_sentencepiece  # noqa: E402

HIDDEN, FFN, VOCAB, HEADS, KV_HEADS = 2048, 5632, 32000, 32, 4
MB = 1e6


def make_checkpoint(directory: Path, layers: int, seed: int = 0) -> tuple[int, int]:
    """Write the checkpoint one shard per layer; returns (total tensor bytes, largest tensor bytes)."""
    from checkpoints import TinyShape

    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    shape = TinyShape(hidden=HIDDEN, n_layers=layers, n_heads=HEADS, n_kv_heads=KV_HEADS, ffn=FFN, vocab=VOCAB)
    (directory / "config.json").write_text(json.dumps(llama_config(shape)))
    import sentencepiece as spm

    sp = train_sentencepiece(320)
    (directory / "tokenizer.model").write_bytes(sp)
    assert spm.SentencePieceProcessor(model_proto=sp).vocab_size() <= VOCAB
    hd = HIDDEN // HEADS
    shards: list[dict[str, np.ndarray]] = [{
        "model.embed_tokens.weight": rng.standard_normal((VOCAB, HIDDEN), dtype=np.float32).astype(np.float16),
        "model.norm.weight": np.ones(HIDDEN, np.float16),
    }]
    for i in range(layers):
        p = f"model.layers.{i}."
        layer = {p + "input_layernorm.weight": np.ones(HIDDEN, np.float16),
                 p + "post_attention_layernorm.weight": np.ones(HIDDEN, np.float16)}
        for name, (rows, cols) in {"self_attn.q_proj": (HIDDEN, HIDDEN), "self_attn.k_proj": (KV_HEADS * hd, HIDDEN),
                                   "self_attn.v_proj": (KV_HEADS * hd, HIDDEN), "self_attn.o_proj": (HIDDEN, HIDDEN),
                                   "mlp.gate_proj": (FFN, HIDDEN), "mlp.up_proj": (FFN, HIDDEN),
                                   "mlp.down_proj": (HIDDEN, FFN)}.items():
            codes = rng.integers(-1, 2, size=(rows, cols), dtype=np.int8)
            layer[p + name + ".weight"] = codes.astype(np.float16) * np.float16(1 / np.sqrt(cols))
        shards.append(layer)
    shards.append({"lm_head.weight": rng.standard_normal((VOCAB, HIDDEN), dtype=np.float32).astype(np.float16)})
    weight_map, total, largest = {}, 0, 0
    for k, tensors in enumerate(shards):
        fname = f"model-{k + 1:05d}-of-{len(shards):05d}.safetensors"
        save_safetensors(tensors, directory / fname)
        for n, a in tensors.items():
            weight_map[n] = fname
            total += a.nbytes
            largest = max(largest, a.nbytes)
    (directory / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    return total, largest


def convert_once(ckpt: Path, out: Path, qtype: str) -> tuple[float, float, int, int]:
    """(wall seconds, CPU seconds, peak RSS bytes of the converting process, output bytes)."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "quantize", "convert", str(ckpt), "-o", str(out), "--type", qtype,
                             "--json"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"convert --type {qtype} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, out.stat().st_size


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--types", default="tq2_0,tq1_0,q1_0,q8_0,f16")
    ap.add_argument("--keep", help="keep checkpoint and outputs in this directory")
    ap.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-quantize-"))
    try:
        t0 = time.perf_counter()
        if args.generate_only:
            print(json.dumps(make_checkpoint(work / "ckpt", args.layers)))
            return 0
        # generate in a child process: a converting child forked from a big parent would inherit its
        # peak RSS (ru_maxrss survives fork and exec)
        gen = subprocess.run([sys.executable, __file__, "--generate-only", "--keep", str(work), "--layers",
                              str(args.layers)], check=True, capture_output=True, text=True)
        total, largest = json.loads(gen.stdout.strip().splitlines()[-1])
        print(f"checkpoint: {total / MB:.0f} MB fp16 (sharded), largest tensor {largest / MB:.0f} MB, "
              f"generated in {time.perf_counter() - t0:.1f}s")
        budget = 1.5 * largest + 300 * MB
        print(f"peak RSS budget: 1.5 x {largest / MB:.0f} MB + 300 MB = {budget / MB:.0f} MB")
        print(f"{'type':<7} {'seconds':>8} {'MB/s':>7} {'CPU s':>6} {'MB/CPU-s':>9} {'out MB':>7} "
              f"{'peak RSS MB':>12} {'RSS/budget':>11}")
        worst = 0.0
        for qtype in args.types.split(","):
            seconds, cpu, rss, size = convert_once(work / "ckpt", work / f"out-{qtype}.gguf", qtype)
            worst = max(worst, rss / budget)
            print(f"{qtype:<7} {seconds:>8.1f} {total / MB / seconds:>7.1f} {cpu:>6.1f} {total / MB / cpu:>9.1f} "
                  f"{size / MB:>7.1f} {rss / MB:>12.0f} {rss / budget:>11.2f}")
            if not args.keep:
                (work / f"out-{qtype}.gguf").unlink()
        print(f"worst peak RSS / budget: {worst:.2f} ({'within' if worst <= 1 else 'OVER'} budget)")
        return 0 if worst <= 1 else 1
    finally:
        if not args.keep and not args.generate_only:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
