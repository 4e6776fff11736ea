"""Q8_K: int8, 256 per block, float32 scale, int16 sums of 16 (292 bytes). TQ1_0/TQ2_0's activation type.

Layout (block_q8_K): float d, int8 qs[256], int16 bsums[16]. iscale = -127 / max where max is the
signed value of largest magnitude (first one on ties); q = nearest_int(iscale * x) (half to even),
capped at 127; d = 1 / iscale. An all-zero block stores d = 0 and zero quants.
"""

from __future__ import annotations

import numpy as np

from .common import QK_K, as_blocks, byte_blocks, nearest_int

BLOCK_SIZE = QK_K
TYPE_SIZE = 4 + QK_K + 2 * (QK_K // 16)
GGML_TYPE = 15


def quantize_blocks(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, 256) float32 -> (qs int8 (n, 256), d float32 (n, 1))."""
    first_max = np.argmax(np.abs(blocks), axis=1)[:, None]
    signed_max = np.take_along_axis(blocks, first_max, axis=1)
    zero = signed_max == 0
    safe_max = np.where(zero, np.float32(1), signed_max)
    iscale = np.float32(-127) / safe_max
    qs = np.minimum(nearest_int(blocks * iscale), 127)
    qs = np.where(zero, 0, qs).astype(np.int8)
    d = np.where(zero, np.float32(0), np.float32(1) / iscale).astype(np.float32)
    return qs, d


def quantize_row_q8_K_ref(x: np.ndarray) -> np.ndarray:
    """float32 (..., n) -> bytes (n_blocks, 292), as ggml's quantize_row_q8_K_ref."""
    qs, d = quantize_blocks(as_blocks(x, BLOCK_SIZE))
    bsums = qs.astype(np.int16).reshape(-1, QK_K // 16, 16).sum(axis=2, dtype=np.int16)
    return np.concatenate(
        [d.astype("<f4").view(np.uint8), qs.view(np.uint8), bsums.astype("<i2").view(np.uint8)], axis=1
    )


def unpack(data: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """bytes -> (qs int8 (n, 256), d float32 (n, 1), bsums int16 (n, 16))."""
    b = byte_blocks(data, TYPE_SIZE)
    d = np.ascontiguousarray(b[:, :4]).view("<f4").astype(np.float32)
    qs = b[:, 4 : 4 + QK_K].view(np.int8)
    bsums = np.ascontiguousarray(b[:, 4 + QK_K :]).view("<i2").astype(np.int16)
    return qs, d, bsums


def dequantize_row_q8_K(data: np.ndarray) -> np.ndarray:
    """bytes (n_blocks * 292) -> float32 (n_blocks, 256), as ggml's dequantize_row_q8_K."""
    qs, d, _ = unpack(data)
    return d * qs.astype(np.float32)


quantize = quantize_row_q8_K_ref
dequantize = dequantize_row_q8_K
