"""`python -m kernels verify`: llama.cpp's logits against the numpy reference, position by position.

Both sides get the same token ids (tokenized by llama.cpp). Per position: max |logit difference|,
whether the top-1 tokens agree, and KL(reference || llama.cpp) of the softmax distributions. The
check passes when top-1 agreement >= `min_top1` and mean KL < `max_kl`.

A near-tie is not a disagreement: where the reference's own logits for the two tokens differ by
less than `tie_margin` (0.05 by default), llama.cpp picking the other one is rounding (its f16 KV
cache and 8-bit activations move logits by about 0.1), not a wrong kernel; such positions count as
agreeing and are reported as ties. A wrong block or norm moves logits by whole units and fails.

Nor is a rounding tie: where the two disagree by more than that, the reference is run again
`ulp_runs` times (4 by default) with every input value moved by one ulp (the smallest change float32
allows); if the reference itself then picks llama.cpp's token at that position, float32 rounding
alone decides between the two, and llama.cpp's different summation order is not an error. Through
8-bit activations such a one-ulp change moves a trained model's logits by 0.1-0.3 after about 30
positions (measured on tern-reader: as much as llama.cpp's own difference), far less than the whole
units a wrong kernel gives, and the mean KL bound still holds on every position.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .reference import ReferenceModel, UnsupportedModelError

DEFAULT_TEXT = (
    "The reference kernels check that llama.cpp computes what a ternary or binary model means. "
    "Each weight block is unpacked, every activation is quantized the way ggml quantizes it, and "
    "the integer dot products are summed with popcounts before the scales are applied. A report "
    "lists the largest logit difference, the top-1 agreement and the mean KL divergence for every "
    "range of positions, so that a wrong block, a wrong rotation or a wrong norm shows up at once."
)


TIE_MARGIN = 0.05  # reference logits closer than this: llama.cpp choosing either one is not an error
ULP_RUNS = 4  # reference runs with one-ulp input changes, to tell rounding ties from disagreements


class VerifyError(Exception):
    """A verify run that cannot be carried out (bad input file, too few tokens, llama.cpp refused)."""


@dataclass
class Comparison:
    """Per-position agreement between llama.cpp logits and reference logits."""

    max_abs: np.ndarray  # (T,) max |llama - reference|
    top1_llama: np.ndarray  # (T,) argmax of llama.cpp
    top1_ref: np.ndarray  # (T,) argmax of the reference
    kl: np.ndarray  # (T,) KL(reference || llama.cpp), nats
    ref_gap: np.ndarray  # (T,) reference logit of its top-1 minus its logit of llama.cpp's top-1
    tie_margin: float = 0.0
    ulp_votes: np.ndarray | None = None  # (T,) one-ulp reference runs whose top-1 is llama.cpp's
    ulp_runs: int = 0

    @property
    def agree(self) -> np.ndarray:
        """Same top-1, a near-tie (the reference's logits of the two within tie_margin) or a rounding tie."""
        return (self.top1_llama == self.top1_ref) | self.ties | self.rounding_ties

    @property
    def ties(self) -> np.ndarray:
        return (self.top1_llama != self.top1_ref) & (self.ref_gap < self.tie_margin)

    @property
    def rounding_ties(self) -> np.ndarray:
        """Disagreements, not near-ties, where the reference picks llama.cpp's token after a one-ulp change."""
        if self.ulp_votes is None:
            return np.zeros(len(self.kl), dtype=bool)
        return (self.top1_llama != self.top1_ref) & ~self.ties & (self.ulp_votes > 0)

    def worst_position(self) -> int:
        """The position that fails first: a top-1 disagreement with the largest KL, else the largest KL."""
        bad = np.flatnonzero(~self.agree)
        candidates = bad if bad.size else np.arange(len(self.kl))
        return int(candidates[np.argmax(self.kl[candidates])])


def log_softmax(z: np.ndarray) -> np.ndarray:
    z = z.astype(np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def compare_logits(llama: np.ndarray, reference: np.ndarray, tie_margin: float = 0.0) -> Comparison:
    if llama.shape != reference.shape:
        raise VerifyError(f"logit shapes differ: llama.cpp {llama.shape}, reference {reference.shape}")
    lp_ref, lp_llama = log_softmax(reference), log_softmax(llama)
    kl = (np.exp(lp_ref) * (lp_ref - lp_llama)).sum(axis=-1)
    top1_llama, top1_ref = llama.argmax(axis=-1), reference.argmax(axis=-1)
    rows = np.arange(len(reference))
    return Comparison(
        max_abs=np.abs(llama.astype(np.float64) - reference).max(axis=-1),
        top1_llama=top1_llama,
        top1_ref=top1_ref,
        kl=np.maximum(kl, 0.0),
        ref_gap=(reference[rows, top1_ref] - reference[rows, top1_llama]).astype(np.float64),
        tie_margin=tie_margin,
    )


@dataclass
class VerifyResult:
    model: Path
    arch: str
    tensor_types: dict[str, int]
    tokens: list[int]
    pieces: list[str]
    comparison: Comparison
    max_kl: float
    min_top1: float
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def top1(self) -> float:
        return float(self.comparison.agree.mean())

    @property
    def mean_kl(self) -> float:
        return float(self.comparison.kl.mean())

    @property
    def passed(self) -> bool:
        return self.top1 >= self.min_top1 and self.mean_kl < self.max_kl


def _tensor_types(model: ReferenceModel) -> dict[str, int]:
    return dict(Counter(t.tensor_type.name.lower() for t in model.tensors.values() if len(t.shape) > 1))


def llama_logits(
    path: Path, text: str, n_tokens: int, n_threads: int | None
) -> tuple[list[int], list[str], np.ndarray]:
    """Tokenize `text` with llama.cpp (BOS as the model says), keep n_tokens, evaluate, all logits kept."""
    from localagent.engine.loader import open_llama  # AMX-safe llama_cpp.Llama

    n_ctx = max(64, n_tokens)
    try:
        llm = open_llama(
            path, n_ctx=n_ctx, n_batch=n_ctx, n_ubatch=n_ctx, logits_all=True, n_threads=n_threads, seed=0
        )
    except (ValueError, RuntimeError) as exc:
        raise VerifyError(f"llama.cpp cannot load {path}: {exc}") from None
    try:
        tokens = llm.tokenize(text.encode("utf-8"), add_bos=True, special=False)[:n_tokens]
        if len(tokens) < 2:
            raise VerifyError(f"the text gives only {len(tokens)} token(s); need at least 2")
        pieces = [llm.detokenize([t]).decode("utf-8", errors="replace") for t in tokens]
        llm.eval(tokens)
        logits = np.array(llm.scores[: len(tokens)], dtype=np.float32)
    finally:
        llm.close()
    return tokens, pieces, logits


def run_verify(
    model_path: str | Path,
    text: str = DEFAULT_TEXT,
    n_tokens: int = 64,
    reference_path: str | Path | None = None,
    max_kl: float = 1e-3,
    min_top1: float = 1.0,
    n_threads: int | None = None,
    tie_margin: float = TIE_MARGIN,
    ulp_runs: int = ULP_RUNS,
) -> VerifyResult:
    """llama.cpp on model_path vs the numpy reference computed from reference_path (default: the same file)."""
    model_path = Path(model_path)
    for p in (model_path, Path(reference_path) if reference_path else None):
        if p is not None and not p.is_file():
            raise VerifyError(f"no such model file: {p}")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    reference = ReferenceModel(reference_path or model_path)  # unsupported arch/type fails before llama.cpp
    timings["reference_load"] = time.perf_counter() - t0
    if reference_path:
        ReferenceModel(model_path)  # the checked file must itself be one the reference understands
    t0 = time.perf_counter()
    tokens, pieces, llama = llama_logits(model_path, text, n_tokens, n_threads)
    timings["llama_cpp"] = time.perf_counter() - t0
    if llama.shape[1] != reference.n_vocab:
        raise VerifyError(f"vocabularies differ: llama.cpp {llama.shape[1]}, reference {reference.n_vocab}")
    t0 = time.perf_counter()
    ref_logits = reference.forward(tokens)
    timings["reference"] = time.perf_counter() - t0
    comparison = compare_logits(llama, ref_logits, tie_margin)
    if ulp_runs > 0 and not comparison.agree.all():
        t0 = time.perf_counter()
        comparison.ulp_runs = ulp_runs
        comparison.ulp_votes = sum(
            (reference.forward(tokens, jitter_seed=seed).argmax(axis=-1) == comparison.top1_llama).astype(int)
            for seed in range(ulp_runs)
        )
        timings["reference_one_ulp"] = time.perf_counter() - t0
    return VerifyResult(
        model=model_path,
        arch=reference.hp.arch,
        tensor_types=_tensor_types(reference),
        tokens=list(tokens),
        pieces=pieces,
        comparison=comparison,
        max_kl=max_kl,
        min_top1=min_top1,
        seconds=timings,
    )


def position_ranges(n: int, range_size: int = 16) -> list[tuple[int, int]]:
    """[start, end) spans of range_size positions covering 0..n."""
    return [(s, min(s + range_size, n)) for s in range(0, n, range_size)]


def report_dict(result: VerifyResult, range_size: int = 16) -> dict:
    """The report as data (for --json)."""
    c = result.comparison

    def stats(a: int, b: int) -> dict:
        return {
            "positions": [a, b - 1],
            "max_abs_dlogit": float(c.max_abs[a:b].max()),
            "top1": float(c.agree[a:b].mean()),
            "mean_kl": float(c.kl[a:b].mean()),
        }

    worst = c.worst_position()
    return {
        "model": str(result.model),
        "arch": result.arch,
        "tensor_types": result.tensor_types,
        "tokens": len(result.tokens),
        "ranges": [stats(a, b) for a, b in position_ranges(len(result.tokens), range_size)],
        "all": stats(0, len(result.tokens)),
        "thresholds": {
            "min_top1": result.min_top1,
            "max_kl": result.max_kl,
            "tie_margin": c.tie_margin,
            "ulp_runs": c.ulp_runs,
        },  # fmt: skip
        "ties": [int(p) for p in np.flatnonzero(c.ties)],
        "rounding_ties": {str(p): int(c.ulp_votes[p]) for p in np.flatnonzero(c.rounding_ties)}
        if c.ulp_votes is not None
        else {},
        "passed": result.passed,
        "worst_position": {
            "position": worst,
            "token": result.pieces[worst],
            "kl": float(c.kl[worst]),
            "top1_llama_cpp": int(c.top1_llama[worst]),
            "top1_reference": int(c.top1_ref[worst]),
        },
        "seconds": result.seconds,
    }


def format_report(result: VerifyResult, range_size: int = 16) -> list[str]:
    """Human-readable lines: a table per position range, then PASS/FAIL naming the worst position."""
    c = result.comparison
    types = ", ".join(f"{k} x{v}" for k, v in sorted(result.tensor_types.items()))
    lines = [
        f"model: {result.model} (arch {result.arch}; matrices: {types})",
        f"tokens: {len(result.tokens)}; llama.cpp {result.seconds.get('llama_cpp', 0):.2f} s, "
        f"reference {result.seconds.get('reference', 0):.2f} s",
        f"{'positions':>10}  {'max|dlogit|':>11}  {'top-1':>7}  {'mean KL':>9}",
    ]
    n = len(result.tokens)
    spans = [*position_ranges(n, range_size), (0, n)]
    for i, (a, b) in enumerate(spans):
        label = "all" if i == len(spans) - 1 else f"{a}-{b - 1}"
        lines.append(
            f"{label:>10}  {c.max_abs[a:b].max():11.4g}  {100 * c.agree[a:b].mean():6.1f}%  {c.kl[a:b].mean():9.2e}"
        )
    ties, rounding = np.flatnonzero(c.ties), np.flatnonzero(c.rounding_ties)
    tied = (
        f"; near-ties at {', '.join(map(str, ties))} (reference logits within {c.tie_margin:g})"
        if ties.size
        else ""
    )
    if rounding.size and c.ulp_votes is not None:
        votes = ", ".join(f"{p} ({c.ulp_votes[p]} of {c.ulp_runs})" for p in rounding)
        tied += (
            f"; rounding ties at {votes} (the reference picks llama.cpp's token with its input one ulp away)"
        )
    verdict = (
        f"top-1 {100 * result.top1:.1f}% (need >= {100 * result.min_top1:.1f}%{tied}), "
        f"mean KL {result.mean_kl:.2e} (need < {result.max_kl:.0e})"
    )
    if result.passed:
        lines.append(f"PASS: {verdict}")
    else:
        w = c.worst_position()
        lines.append(
            f"FAIL: {verdict}; worst position {w} (token {result.pieces[w]!r}): KL {c.kl[w]:.2e}, "
            f"max|dlogit| {c.max_abs[w]:.4g}, top-1 llama.cpp {c.top1_llama[w]} vs reference {c.top1_ref[w]}"
        )
    return lines


__all__ = [
    "DEFAULT_TEXT", "TIE_MARGIN", "ULP_RUNS", "Comparison", "UnsupportedModelError", "VerifyError", "VerifyResult",
    "compare_logits", "format_report", "report_dict", "run_verify",
]  # fmt: skip
