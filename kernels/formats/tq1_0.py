"""TQ1_0: ternary, 256 per block, base-3 packing of 5 trits per byte, fp16 absmax scale last (54 bytes).

Layout (block_tq1_0): qs[48], qh[4], d. qs[0..31]: byte m holds elements m + 32n (n < 5), first trit
most significant; qs[32..47]: elements 160 + m + 16n; qh[0..3]: elements 240 + j + 4n (n < 4), then
one more x3. Each byte is scaled by 256/243 with ceiling division so that (q * 3^n mod 256) * 3 >> 8
reads trit n back.
"""

from __future__ import annotations

import numpy as np

from .common import QK_K, as_blocks, byte_blocks, fp16_bytes, fp16_value
from .tq2_0 import ternary_codes

BLOCK_SIZE = QK_K
TYPE_SIZE = 54
GGML_TYPE = 34
_POW3 = np.array([1, 3, 9, 27, 81], dtype=np.uint8)


# the C's `q = ((uint16_t)q * 256 + (243 - 1)) / 243` stored in a uint8_t, for every byte q
_SCALE_BYTE = ((np.arange(256, dtype=np.uint32) * 256 + 242) // 243).astype(np.uint8)


def _scale_byte(q: np.ndarray) -> np.ndarray:
    """ceil(q * 256 / 243) of uint8 q (q < 243 for codes in {0, 1, 2}, so it fits a byte)."""
    return _SCALE_BYTE[q]


def quantize_row_tq1_0_ref(x: np.ndarray) -> np.ndarray:
    """float32 (..., n) -> bytes (n_blocks, 54), as ggml's quantize_row_tq1_0_ref."""
    d, codes = ternary_codes(as_blocks(x, BLOCK_SIZE))
    c = codes
    q32 = _base3(c[:, :160].reshape(-1, 5, 32))
    q16 = _base3(c[:, 160:240].reshape(-1, 5, 16))
    qh = _base3(c[:, 240:].reshape(-1, 4, 4)) * 3  # 4 trits, shifted to the most significant place
    return np.concatenate([_scale_byte(q32), _scale_byte(q16), _scale_byte(qh), fp16_bytes(d)], axis=1)


def _base3(trits: np.ndarray) -> np.ndarray:
    """(n, k, m) trits -> (n, m) uint8, first trit most significant (the C's uint8_t `q *= 3; q += xi`)."""
    q = trits[:, 0].copy()
    for t in range(1, trits.shape[1]):
        q *= 3
        q += trits[:, t]
    return q


def _trits(b: np.ndarray, n_trits: int) -> np.ndarray:
    """bytes (n, k) -> trits (n, n_trits, k) in {0,1,2}: ((b * 3^t mod 256) * 3) >> 8."""
    q = b[:, None, :] * _POW3[:n_trits].reshape(1, -1, 1)  # uint8 wraps mod 256 like the C
    return ((q.astype(np.uint16) * 3) >> 8).astype(np.uint8)


def unpack_codes(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """bytes -> (codes in {0,1,2} as uint8 (n_blocks, 256), d float32 (n_blocks, 1))."""
    b = byte_blocks(data, TYPE_SIZE)
    n = b.shape[0]
    codes = np.concatenate(
        [
            _trits(b[:, :32], 5).reshape(n, 160),
            _trits(b[:, 32:48], 5).reshape(n, 80),
            _trits(b[:, 48:52], 4).reshape(n, 16),
        ],
        axis=1,
    )
    return codes, fp16_value(b[:, 52:54])


def dequantize_row_tq1_0(data: np.ndarray) -> np.ndarray:
    """bytes (n_blocks * 54) -> float32 (n_blocks, 256), as ggml's dequantize_row_tq1_0."""
    codes, d = unpack_codes(data)
    return (codes.astype(np.float32) - np.float32(1)) * d


quantize = quantize_row_tq1_0_ref
dequantize = dequantize_row_tq1_0
