"""Q1_0: binary, 128 per block, fp16 mean-|x| scale first, then 16 bytes of sign bits (18 bytes).

Layout (block_q1_0): d, qs[16]. Bit j % 8 of byte j / 8 is set when x[j] >= 0 (so -0.0 counts as
positive); it dequantizes to +d when set, -d when clear.
"""

from __future__ import annotations

import numpy as np

from .common import as_blocks, byte_blocks, fp16_bytes, fp16_value

BLOCK_SIZE = 128
TYPE_SIZE = 18
GGML_TYPE = 41


_CACHE_BLOCKS = 2048  # blocks summed per pass (1 MB of float32): the column adds stay in cache


def mean_abs(blocks: np.ndarray) -> np.ndarray:
    """sum |x| accumulated left to right in float32 (the C loop order), / 128 -> (n, 1) float32."""
    total = np.empty((blocks.shape[0], 1), dtype=np.float32)
    for start in range(0, blocks.shape[0], _CACHE_BLOCKS):
        a = np.abs(blocks[start : start + _CACHE_BLOCKS])
        acc = total[start : start + _CACHE_BLOCKS, 0]
        acc[:] = a[:, 0]
        for j in range(1, BLOCK_SIZE):  # one float32 add per column, in order: no pairwise sums
            acc += a[:, j]
    return total / np.float32(BLOCK_SIZE)


def quantize_row_q1_0_ref(x: np.ndarray) -> np.ndarray:
    """float32 (..., n) -> bytes (n_blocks, 18), as ggml's quantize_row_q1_0_ref."""
    blocks = as_blocks(x, BLOCK_SIZE)
    bits = np.packbits(blocks >= 0, axis=1, bitorder="little")
    return np.concatenate([fp16_bytes(mean_abs(blocks)), bits], axis=1)


def unpack_signs(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """bytes -> (sign bits (n_blocks, 128) uint8 in {0, 1}, d float32 (n_blocks, 1))."""
    b = byte_blocks(data, TYPE_SIZE)
    return np.unpackbits(b[:, 2:], axis=1, bitorder="little"), fp16_value(b[:, :2])


def dequantize_row_q1_0(data: np.ndarray) -> np.ndarray:
    """bytes (n_blocks * 18) -> float32 (n_blocks, 128), as ggml's dequantize_row_q1_0."""
    bits, d = unpack_signs(data)
    signs = bits.astype(np.float32)
    signs *= 2
    signs -= 1
    return signs * d  # exactly +d or -d


quantize = quantize_row_q1_0_ref
dequantize = dequantize_row_q1_0
