"""TQ2_0: ternary, 256 per block, 2 bits per weight, fp16 absmax scale last (66 bytes).

Layout (block_tq2_0): qs[64], d. Byte j+m (j in {0, 32}, m < 32) holds element 4*j + 32*n + m in
bits 2n..2n+1 (n < 4) as code + 1 in {0, 1, 2}.
"""

from __future__ import annotations

import numpy as np

from .common import (
    QK_K,
    absmax,
    as_blocks,
    byte_blocks,
    fp16_bytes,
    fp16_value,
    inverse_or_zero,
    round_half_away,
)

BLOCK_SIZE = QK_K
TYPE_SIZE = 66
GGML_TYPE = 35
_SHIFTS = (2 * np.arange(4, dtype=np.uint8)).reshape(1, 1, 4, 1)


def ternary_codes(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Block absmax scale d (n, 1) float32 and codes lroundf(x * (1/d)) + 1 (n, 256) uint8."""
    d = absmax(blocks)
    inv = inverse_or_zero(d)
    v = blocks * inv
    if np.isfinite(d).all() and np.isfinite(inv).all():
        # then every |v| = |x| * fl(1/d) <= 1 + 2^-23 < 1.5, so lroundf(v) is -1 / 0 / +1 by comparisons
        codes = (v >= 0.5).view(np.uint8)
        codes += 1
        codes -= (v <= -0.5).view(np.uint8)
        return d, codes
    return d, (round_half_away(v) + 1).astype(np.uint8)  # inf/nan, or subnormal d: 1/d overflows, as in C


def quantize_row_tq2_0_ref(x: np.ndarray) -> np.ndarray:
    """float32 (..., n) -> bytes (n_blocks, 66), as ggml's quantize_row_tq2_0_ref."""
    d, codes = ternary_codes(as_blocks(x, BLOCK_SIZE))
    c = codes.reshape(-1, 2, 4, 32)
    qs = c[:, :, 0] & 3
    for n in range(1, 4):
        qs |= (c[:, :, n] & 3) << (2 * n)
    qs = qs.reshape(-1, 64)
    return np.concatenate([qs, fp16_bytes(d)], axis=1)


def unpack_codes(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """bytes -> (codes in {0,1,2,3} as uint8 (n_blocks, 256), d float32 (n_blocks, 1))."""
    b = byte_blocks(data, TYPE_SIZE)
    qs = b[:, :64].reshape(-1, 2, 1, 32)
    codes = ((qs >> _SHIFTS) & 3).reshape(-1, BLOCK_SIZE)
    return codes, fp16_value(b[:, 64:66])


def dequantize_row_tq2_0(data: np.ndarray) -> np.ndarray:
    """bytes (n_blocks * 66) -> float32 (n_blocks, 256), as ggml's dequantize_row_tq2_0."""
    codes, d = unpack_codes(data)
    return (codes.astype(np.float32) - np.float32(1)) * d


quantize = quantize_row_tq2_0_ref
dequantize = dequantize_row_tq2_0
