"""Mixed-precision policy: per tensor, the GGML type and the reason for it.

- linear weights (attention / FFN projections): the requested type;
- token embeddings and output head: --embed-type (Q8_0 by default);
- norms and other 1-D tensors: F32;
- a ternary type (TQ2_0 / TQ1_0, blocks of 256) on a row length that is not a multiple of 256 but is
  of 64 (SmolLM2's 576, Gemma-3's 640, Qwen2.5's 896): Q2_0, the ternary type with blocks of 64. A
  ternary x scale tensor packs into it without loss, so it is no fallback (no warning, allowed with
  --strict); the reason names it;
- any other row length (ggml ne0 = input features) that is not a multiple of the type's block: a
  named fallback (Q8_0 if the row divides by 32, else F16) with a warning, or a refusal with --strict.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from gguf import GGMLQuantizationType

from kernels import gguf_types
from quantize.errors import QuantizeError
from quantize.packing import block_size
from quantize.plan import EMBED, LINEAR, NORM, OUTPUT, TensorPlan

F32, F16, Q8_0 = GGMLQuantizationType.F32, GGMLQuantizationType.F16, GGMLQuantizationType.Q8_0
Q2_0 = gguf_types.Q2_0
TERNARY_256 = (GGMLQuantizationType.TQ2_0, GGMLQuantizationType.TQ1_0)  # Q2_0 takes their narrower rows
OFF_GRID_TOLERANCE = 1e-3  # |x/d| must be within this of 0 or 1 to count as ternary
OFF_GRID_LIMIT = 0.01  # a linear tensor with more off-grid values than this is not ternary x scale


@dataclass(frozen=True)
class TypeChoice:
    qtype: GGMLQuantizationType
    reason: str
    fallback: bool = False


def _fits(n_cols: int, qtype: GGMLQuantizationType) -> bool:
    return n_cols % block_size(qtype) == 0


def _fallback(n_cols: int) -> GGMLQuantizationType:
    return Q8_0 if n_cols % block_size(Q8_0) == 0 else F16


def choose_type(
    tensor: TensorPlan, weight_type: GGMLQuantizationType, embed_type: GGMLQuantizationType
) -> TypeChoice:
    """The GGML type of one tensor under the policy above."""
    if tensor.role == NORM or len(tensor.shape) < 2:
        return TypeChoice(F32, "norm / 1-D tensor: F32")
    if tensor.role in (EMBED, OUTPUT):
        wanted, why = (
            embed_type,
            f"{'token embeddings' if tensor.role == EMBED else 'output head'}: --embed-type",
        )
    elif tensor.role == LINEAR:
        wanted, why = weight_type, "linear weight: --type"
    else:
        raise AssertionError(f"unknown role {tensor.role}")
    if _fits(tensor.n_cols, wanted):
        return TypeChoice(wanted, f"{why} {wanted.name}")
    if wanted in TERNARY_256 and _fits(tensor.n_cols, Q2_0):
        return TypeChoice(
            Q2_0,
            f"{why} {wanted.name} needs rows % {block_size(wanted)} == 0, row is "
            f"{tensor.n_cols}: Q2_0 (ternary, blocks of {block_size(Q2_0)})",
        )
    other = _fallback(tensor.n_cols)
    return TypeChoice(
        other,
        f"{why} {wanted.name} needs rows % {block_size(wanted)} == 0, row is "
        f"{tensor.n_cols}: fallback {other.name}",
        fallback=True,
    )


def check_fallbacks(choices: dict[str, TypeChoice], strict: bool) -> list[str]:
    """Warning lines for fallbacks; with strict, a QuantizeError naming the tensors instead."""
    fell = [name for name, c in choices.items() if c.fallback]
    if not fell:
        return []
    listing = ", ".join(fell)
    if strict:
        raise QuantizeError(
            f"--strict: {len(fell)} tensor(s) cannot take the requested type "
            f"(row length not a multiple of the block): {listing}"
        )
    return [
        f"warning: {len(fell)} tensor(s) fell back to another type (row length not a multiple "
        f"of the block): {listing}"
    ]


def off_grid_count(x: np.ndarray) -> int:
    """Values that are not 0 or +-max of their 256-block (whole row if the row is not a multiple of 256).

    A tensor stored as ternary x scale (TriLM, BitNet QAT export) has none: TQ packing is lossless.
    """
    cols = x.shape[-1]
    group = 256 if cols % 256 == 0 else cols
    a = np.abs(x.reshape(-1, group))
    d = a.max(axis=1, keepdims=True)
    d[d == 0] = 1.0
    # on the grid: |x| / d below the tolerance, or within it of 1; as |x| <= d, off the grid is
    # tol * d <= |x| <= (1 - tol) * d (no division: two comparisons with per-group bounds)
    off = a >= d * np.float32(OFF_GRID_TOLERANCE)
    off &= a <= d * np.float32(1.0 - OFF_GRID_TOLERANCE)
    return int(np.count_nonzero(off))


def ternarize_absmean(x: np.ndarray, scale: float) -> np.ndarray:
    """BitNet b1.58 weight quantization: round(W / mean|W|) clamped to +-1, times mean|W|."""
    return np.clip(np.round(x / scale), -1.0, 1.0).astype(np.float32) * np.float32(scale)
