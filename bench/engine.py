"""Engine speed: load time, prompt tok/s and generation tok/s, side by side for several models.

    python bench/engine.py                      # the default model and every installed registry model
    python bench/engine.py A.gguf B.gguf ...    # these files (e.g. F16 vs TQ2_0 vs TQ1_0 of one model)

Each model is loaded fresh, then a ~250-token prompt is evaluated and 64 tokens generated (greedy),
`--repeats` times; the median is reported, and each figure also as a ratio to the first model.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(
    0, str(Path(__file__).resolve().parents[1])
)  # before bench/: its kernels.py shadows the package

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
    parser.add_argument("--threads", type=int, default=physical_cores())
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--gen-tokens", type=int, default=64)
    args = parser.parse_args()
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
