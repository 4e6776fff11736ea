"""Post-training ternarization of a released GGUF into Q2_0, and what it costs in perplexity.

    python bench/ptq_gguf.py MODEL.gguf --text FILE [--ctx 512] [--chars 40000] [--keep DIR]

The weights of every 2-D tensor of a 4/5/8-bit type (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) outside the
token embeddings / output head are dequantized with gguf-py and re-quantized to Q2_0 three ways:
  q2_0-absmax      Q2_0's own quantizer (what llama-quantize --type Q2_0 does): per 64, d = max|x|,
                   code = round(x / d), so only weights above half the block's largest survive;
  ternary-g64      per 64, d = mean|x|, code = clamp(round(x / d), -1, 1) (BitNet's absmean rule per
                   group), stored losslessly in Q2_0 (each group's absmax is then d);
  ternary-tensor   BitNet b1.58's rule with one mean|W| per tensor, stored losslessly in Q2_0.
Then llama.cpp's perplexity (quantize eval) of the original and of each file is printed side by side.
This is the question QAT answers: a model not trained ternary does not survive ternarization.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from kernels import gguf_types

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # before bench/: its kernels.py would shadow the kernels package

from gguf import GGMLQuantizationType  # noqa: E402
from gguf import quants as gguf_quants  # noqa: E402

import kernels  # noqa: E402
from kernels.unpack import numpy_shape, rewrite_gguf  # noqa: E402
from quantize.evaluate import perplexity  # noqa: E402

SOURCE_TYPES = {GGMLQuantizationType[n] for n in ("Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0")}
KEEP = ("token_embd.weight", "output.weight")


def ternary_g64(w: np.ndarray) -> np.ndarray:
    g = w.reshape(-1, 64)
    d = np.abs(g).mean(axis=1, keepdims=True)
    d = d.astype(np.float16).astype(np.float32)  # the stored scale
    safe = np.where(d > 0, d, 1)
    return (np.clip(np.round(g / safe), -1, 1) * d).reshape(w.shape).astype(np.float32)


def ternary_tensor(w: np.ndarray) -> np.ndarray:
    s = np.float32(np.float16(max(float(np.abs(w).mean()), 1e-5)))
    return (np.clip(np.round(w / s), -1, 1) * s).astype(np.float32)


METHODS = {"q2_0-absmax": lambda w: w, "ternary-g64": ternary_g64, "ternary-tensor": ternary_tensor}


def ptq(src: Path, dst: Path, method: str) -> int:
    prepare = METHODS[method]

    def retype(tensor):
        if tensor.tensor_type not in SOURCE_TYPES or tensor.name in KEEP or len(tensor.shape) < 2:
            return None
        if int(tensor.shape[0]) % 64:
            return None

        def data() -> np.ndarray:
            w = gguf_quants.dequantize(np.asarray(tensor.data), tensor.tensor_type).reshape(
                numpy_shape(tensor)
            )
            return kernels.quantize(prepare(w.astype(np.float32)), "q2_0")

        return gguf_types.Q2_0, data

    return rewrite_gguf(src, dst, retype, int(gguf_types.MOSTLY_Q2_0))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", type=Path)
    ap.add_argument("--text", type=Path, required=True, help="UTF-8 text for perplexity")
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--chars", type=int, default=40000, help="use the first N characters of the text")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--keep", type=Path, help="write the Q2_0 files here instead of a temp dir")
    args = ap.parse_args()
    text = args.text.read_text(encoding="utf-8")[: args.chars]
    folder = args.keep or Path(tempfile.mkdtemp(prefix="ptq_gguf-"))
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    t0 = time.perf_counter()
    base = perplexity(args.model, text, ctx=args.ctx, n_threads=args.threads)
    rows.append(("original", args.model.stat().st_size, base.perplexity, time.perf_counter() - t0))
    for method in METHODS:
        out = folder / f"{args.model.stem}.{method}.gguf"
        n = ptq(args.model, out, method)
        t0 = time.perf_counter()
        result = perplexity(out, text, ctx=args.ctx, n_threads=args.threads)
        rows.append(
            (f"{method} ({n} tensors)", out.stat().st_size, result.perplexity, time.perf_counter() - t0)
        )
    print(
        f"{args.model.name}: perplexity over {base.n_tokens} tokens ({base.n_windows} window(s) of {args.ctx})"
    )
    print(f"{'weights':<34} {'bytes':>12} {'perplexity':>14} {'ratio':>10} {'eval s':>8}")
    for name, size, ppl, secs in rows:
        print(f"{name:<34} {size:>12} {ppl:>14.2f} {ppl / base.perplexity:>10.2f} {secs:>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
