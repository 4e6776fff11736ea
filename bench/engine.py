"""Engine speed: load time, prompt tok/s and generation tok/s, side by side for several models.

    python bench/engine.py                      # the default model and every installed registry model
    python bench/engine.py A.gguf B.gguf ...    # these files (e.g. F16 vs TQ2_0 vs TQ1_0 of one model)
    python bench/engine.py --synthetic DIR      # one ~400M ternary model in seven types (below)

`--synthetic DIR` writes a ~400M-parameter TriLM-style checkpoint into DIR (hidden 1024, FFN 2816,
30 layers, 32000-token vocabulary: every width a multiple of 256) and the same weights as GGUF in
F16, Q8_0, TQ2_0, TQ1_0, Q1_0 and Q2_0 (`quantize convert`; embeddings and head Q8_0, F16 for the
F16 file) and Q4_0 (llama.cpp's own quantizer from the F16 file: head Q6_K, as llama.cpp does);
files already in DIR are reused. The table then shows what each format costs on this CPU, e.g.
Q2_0's generic (scalar) x86 path against TQ2_0's AVX2 one.

Each model is loaded fresh, then a ~250-token prompt is evaluated and 64 tokens generated (greedy),
`--repeats` times; the median is reported, and each figure also as a ratio to the first model.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # before bench/: its kernels.py shadows the package

from localagent.engine import Engine  # noqa: E402
from localagent.engine.system import physical_cores  # noqa: E402
from localagent.models import Registry  # noqa: E402

PROMPT = ("The following report describes the maintenance of a municipal water treatment plant. " * 20)[:1200]


def registry_models() -> list[tuple[str, Path]]:
    registry = Registry.load()
    found = []
    for entry in registry.entries:
        if entry.installed and entry.status == "ok":
            try:
                found.append((entry.name, registry.path_for(entry)))
            except Exception as exc:  # a broken entry should not stop the benchmark
                print(f"skip {entry.name}: {exc}", file=sys.stderr)
    return found


SYNTHETIC_SHAPE = {
    "hidden": 1024,
    "n_layers": 30,
    "n_heads": 16,
    "n_kv_heads": 4,
    "ffn": 2816,
    "vocab": 32000,
}
SYNTHETIC_TYPES = ("f16", "q8_0", "q4_0", "tq2_0", "tq1_0", "q1_0", "q2_0")


def llama_cpp_quantize(source: Path, out: Path, ftype: int) -> None:
    """llama.cpp's own quantizer (llama_model_quantize), to a temp file renamed into place."""
    import llama_cpp

    from localagent.engine.quiet import quiet_stderr

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    tmp = out.with_suffix(".tmp")
    with quiet_stderr():  # a line per tensor
        failed = llama_cpp.llama_model_quantize(str(source).encode(), str(tmp).encode(), params)
    if failed:
        raise SystemExit(f"llama.cpp could not quantize {source}")
    tmp.rename(out)


def synthetic_models(work: Path) -> list[tuple[str, Path]]:
    """The synthetic ~400M checkpoint in SYNTHETIC_TYPES (made once, reused from ``work``)."""
    import llama_cpp

    ckpt = work / "ckpt"
    if not (ckpt / "model.safetensors.index.json").is_file():
        sys.path.insert(1, str(REPO / "tests"))
        from checkpoints import TinyShape, write_sharded_ternary_llama

        started = time.perf_counter()
        total, _ = write_sharded_ternary_llama(
            ckpt, TinyShape(**SYNTHETIC_SHAPE), max_position_embeddings=2048
        )
        print(f"checkpoint: {total / 1e6:.0f} MB fp16 in {time.perf_counter() - started:.0f} s")
    models = []
    for qtype in SYNTHETIC_TYPES:
        out = work / f"synthetic-400m-{qtype}.gguf"
        if not out.is_file():
            if qtype == "q4_0":
                llama_cpp_quantize(work / "synthetic-400m-f16.gguf", out, llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_0)
            else:
                embed = ["--embed-type", "f16"] if qtype == "f16" else []
                command = [sys.executable, "-m", "quantize", "convert", str(ckpt), "-o", str(out)]
                subprocess.run(command + ["--type", qtype, *embed], check=True, cwd=REPO, capture_output=True)
        models.append((out.stem, out))
    return models


def measure(path: Path, threads: int, repeats: int, gen_tokens: int) -> dict[str, float]:
    loads, prompts, gens = [], [], []
    for _ in range(repeats):
        started = time.perf_counter()
        engine = Engine(path, n_ctx=1024, n_threads=threads)
        loads.append(time.perf_counter() - started)
        engine.llama.reset()
        "".join(engine.complete(PROMPT, max_tokens=gen_tokens, temperature=0))
        prompts.append(engine.stats.prompt_tok_s)
        gens.append(engine.stats.gen_tok_s)
        info = engine.info
        engine.close()
    return {
        "load_s": statistics.median(loads),
        "prompt_tok_s": statistics.median(prompts),
        "gen_tok_s": statistics.median(gens),
        "bpw": info.bits_per_weight,
        "type": info.main_type,
        "mb": info.file_size / 1e6,
        "prompt_tokens": engine.stats.prompt_tokens,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("models", nargs="*", type=Path)
    parser.add_argument(
        "--synthetic", type=Path, metavar="DIR", help="make and measure the ~400M model in seven types"
    )
    parser.add_argument("--threads", type=int, default=physical_cores())
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--gen-tokens", type=int, default=64)
    args = parser.parse_args()
    if args.synthetic:
        models = synthetic_models(args.synthetic)
    else:
        models = [(p.stem, p) for p in args.models] or registry_models()
    print(f"threads={args.threads} repeats={args.repeats} gen_tokens={args.gen_tokens}")
    header = (
        f"{'model':<28} {'type':<7} {'bits/w':>6} {'MB':>7} {'load s':>7} {'prompt tok/s':>13} "
        f"{'gen tok/s':>10} {'prompt x':>8} {'gen x':>6}"
    )
    print(header)
    base = None
    for name, path in models:
        r = measure(path, args.threads, args.repeats, args.gen_tokens)
        base = base or r
        print(
            f"{name[:28]:<28} {r['type']:<7} {r['bpw']:>6.2f} {r['mb']:>7.1f} {r['load_s']:>7.2f} "
            f"{r['prompt_tok_s']:>13.1f} {r['gen_tok_s']:>10.1f} "
            f"{r['prompt_tok_s'] / base['prompt_tok_s']:>8.2f} {r['gen_tok_s'] / base['gen_tok_s']:>6.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
