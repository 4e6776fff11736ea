"""Q2_0: ternary (plus +2), 64 per block, fp16 absmax scale first, then 16 bytes of 2-bit codes (18 bytes).

Layout (block_q2_0): d, qs[16]. Element j sits in byte j / 4, bits 2 (j % 4) .. 2 (j % 4) + 1, as
code = clamp((int)roundf(x / d) + 1, 0, 3); codes 0, 1, 2, 3 mean -1, 0, +1, +2 times d. The absmax
scale makes |x / d| <= 1, so quantize only writes 0..2; +2 comes from other writers (PrismML's files).
Dot product: with Q8_0 activations, two Q8_0 blocks per Q2_0 block.
"""

from __future__ import annotations

import numpy as np

from .common import absmax, as_blocks, byte_blocks, fp16_bytes, fp16_value, inverse_or_zero, roundf

BLOCK_SIZE = 64
TYPE_SIZE = 18
GGML_TYPE = 42
_SHIFTS = (2 * np.arange(4, dtype=np.uint8)).reshape(1, 1, 4)
_INT_RANGE = np.float32(2.0**31)  # (int) of a float outside (-2^31, 2^31) or NaN is INT_MIN on x86


def codes_of(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Block absmax scale d (n, 1) float32 and codes clamp((int)roundf(x * (1/d)) + 1, 0, 3) (n, 64) uint8."""
    d = absmax(blocks)
    inv = inverse_or_zero(d)
    v = blocks * inv
    if np.isfinite(d).all() and np.isfinite(inv).all():
        # every |v| = |x| * fl(1/d) <= 1 + 2^-23 < 1.5, so roundf(v) is -1 / 0 / +1 by comparisons
        codes = (v >= 0.5).view(np.uint8)
        codes += 1
        codes -= (v <= -0.5).view(np.uint8)
        return d, codes
    r = roundf(v)  # inf/nan input, or a subnormal d whose 1/d overflows: the C's cast gives INT_MIN -> 0
    in_range = np.abs(r) < _INT_RANGE
    codes = np.where(in_range, np.clip(np.where(in_range, r, 0) + 1, 0, 3), 0)
    return d, codes.astype(np.uint8)


def quantize_row_q2_0_ref(x: np.ndarray) -> np.ndarray:
    """float32 (..., n) -> bytes (n_blocks, 18), as ggml's quantize_row_q2_0_ref."""
    d, codes = codes_of(as_blocks(x, BLOCK_SIZE))
    c = codes.reshape(-1, 16, 4)
    qs = c[:, :, 0] | (c[:, :, 1] << 2) | (c[:, :, 2] << 4) | (c[:, :, 3] << 6)
    return np.concatenate([fp16_bytes(d), qs], axis=1)


def unpack_codes(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """bytes -> (codes in {0,1,2,3} as uint8 (n_blocks, 64), d float32 (n_blocks, 1))."""
    b = byte_blocks(data, TYPE_SIZE)
    codes = ((b[:, 2:, None] >> _SHIFTS) & 3).reshape(-1, BLOCK_SIZE)
    return codes, fp16_value(b[:, :2])


def dequantize_row_q2_0(data: np.ndarray) -> np.ndarray:
    """bytes (n_blocks * 18) -> float32 (n_blocks, 64), as ggml's dequantize_row_q2_0."""
    codes, d = unpack_codes(data)
    return (codes.astype(np.float32) - np.float32(1)) * d


quantize = quantize_row_q2_0_ref
dequantize = dequantize_row_q2_0
