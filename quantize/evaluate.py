"""`quantize eval FILE.gguf --text FILE`: perplexity through llama.cpp (llama-cpp-python)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from quantize.errors import QuantizeError


@dataclass
class Perplexity:
    perplexity: float
    n_tokens: int  # tokens scored
    n_windows: int
    ctx: int


def load_llama(path: Path, n_ctx: int, logits_all: bool = True, n_threads: int | None = None):
    """A llama_cpp.Llama on a GGUF file, or a one-line QuantizeError."""
    from localagent.engine.loader import open_llama  # AMX-safe loading, shared by the whole project

    if not Path(path).is_file():
        raise QuantizeError(f"{path}: no such file")
    try:
        return open_llama(
            path, n_ctx=n_ctx, n_batch=min(512, n_ctx), logits_all=logits_all, n_threads=n_threads
        )
    except (ValueError, RuntimeError) as e:
        raise QuantizeError(f"{path}: llama.cpp cannot load it ({e})") from None


def log_softmax(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64)
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def perplexity(path: Path, text: str, ctx: int = 512, n_threads: int | None = None) -> Perplexity:
    """exp(mean negative log-likelihood) over non-overlapping windows of ctx tokens."""
    if ctx < 8:
        raise QuantizeError(f"--ctx {ctx}: must be at least 8")
    llm = load_llama(path, ctx, n_threads=n_threads)
    tokens = llm.tokenize(text.encode("utf-8"), add_bos=False)
    if len(tokens) < 2:
        raise QuantizeError(f"text has {len(tokens)} token(s): need at least 2 to measure perplexity")
    bos = llm.token_bos()
    step = ctx - 1 if bos >= 0 else ctx
    nll, scored, windows = 0.0, 0, 0
    for start in range(0, len(tokens) - 1, step):
        window = tokens[start : start + step]
        if len(window) < 2:
            break
        seq = ([bos] if bos >= 0 else []) + window
        llm.reset()
        llm.eval(seq)
        logits = np.asarray(llm.scores[: len(seq)])
        lp = log_softmax(logits[: len(seq) - 1])  # position i predicts seq[i + 1]
        targets = np.asarray(seq[1:])
        nll -= float(lp[np.arange(len(targets)), targets].sum())
        scored += len(targets)
        windows += 1
    return Perplexity(perplexity=math.exp(nll / scored), n_tokens=scored, n_windows=windows, ctx=ctx)
