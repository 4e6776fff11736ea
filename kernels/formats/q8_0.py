"""Q8_0: int8, 32 per block, fp16 absmax/127 scale first (34 bytes). Q1_0's activation type."""

from __future__ import annotations

import numpy as np

from .common import absmax, as_blocks, byte_blocks, fp16_bytes, fp16_value, inverse_or_zero, roundf

BLOCK_SIZE = 32
TYPE_SIZE = 34
GGML_TYPE = 8


def quantize_blocks(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, 32) float32 -> (qs int8 (n, 32), d float32 (n, 1) before fp16 storage)."""
    d = absmax(blocks) / np.float32(127)
    qs = roundf(blocks * inverse_or_zero(d)).astype(np.int8)  # the C's int8_t = roundf(x * id)
    return qs, d


def quantize_row_q8_0_ref(x: np.ndarray) -> np.ndarray:
    """float32 (..., n) -> bytes (n_blocks, 34), as ggml's quantize_row_q8_0_ref."""
    qs, d = quantize_blocks(as_blocks(x, BLOCK_SIZE))
    return np.concatenate([fp16_bytes(d), qs.view(np.uint8)], axis=1)


def unpack(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """bytes -> (qs int8 (n_blocks, 32), d float32 (n_blocks, 1))."""
    b = byte_blocks(data, TYPE_SIZE)
    return b[:, 2:].view(np.int8), fp16_value(b[:, :2])


def dequantize_row_q8_0(data: np.ndarray) -> np.ndarray:
    """bytes (n_blocks * 34) -> float32 (n_blocks, 32), as ggml's dequantize_row_q8_0."""
    qs, d = unpack(data)
    return qs.astype(np.float32) * d


quantize = quantize_row_q8_0_ref
dequantize = dequantize_row_q8_0
