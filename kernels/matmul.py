"""Weight matrices of any GGUF tensor type the reference supports, multiplied the way ggml's CPU does.

`weight_matrix(data, qtype, shape)` returns an object with `.gemv(x)` and `.matmul(xs)`:
tq1_0 / tq2_0 / q1_0 / q2_0 go through the bit-plane kernels (kernels.bitwise); q8_0 uses integer block dots
with Q8_0 activations; f16 rounds the activations to fp16 first (ggml's vec_dot_type for F16); f32 is
a plain float32 product.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .bitwise import BIT_QTYPES, BitMatrix, dot_sum
from .formats import FormatError, get_format, q8_0

FLOAT_QTYPES = ("f32", "f16", "bf16")
MATMUL_QTYPES = (*BIT_QTYPES, "q8_0", *FLOAT_QTYPES)


@dataclass
class FloatMatrix:
    """f32 / f16 / bf16 weights as float32; activations rounded to the weight type first (ggml's rule)."""

    qtype: str
    weights: np.ndarray  # float32 (rows, n)

    @property
    def n(self) -> int:
        return self.weights.shape[1]

    def _round(self, xs: np.ndarray) -> np.ndarray:
        xs = np.asarray(xs, dtype=np.float32)
        if self.qtype == "f16":
            return xs.astype(np.float16).astype(np.float32)
        if self.qtype == "bf16":
            return bf16_to_f32(f32_to_bf16(xs))
        return xs

    def gemv(self, x: np.ndarray) -> np.ndarray:
        return self.weights @ self._round(x).reshape(-1)

    def matmul(self, xs: np.ndarray) -> np.ndarray:
        return self._round(xs).reshape(-1, self.n) @ self.weights.T


@dataclass
class Q8Matrix:
    """Q8_0 weights: per-32 integer dots with Q8_0 activations, `sumf += sumi * (d_w * d_x)`."""

    qs: np.ndarray  # float32 (blocks, rows, 32) holding the int8 values (exact in float32)
    scale: np.ndarray  # float32 (rows, blocks)

    @property
    def n(self) -> int:
        return self.qs.shape[0] * q8_0.BLOCK_SIZE

    def matmul(self, xs: np.ndarray, fused: bool = True) -> np.ndarray:
        xs = np.asarray(xs, dtype=np.float32).reshape(-1, self.n)
        qx, dx = q8_0.quantize_blocks(xs.reshape(-1, q8_0.BLOCK_SIZE))
        tokens, blocks = xs.shape[0], self.qs.shape[0]
        qx = qx.astype(np.float32).reshape(tokens, blocks, q8_0.BLOCK_SIZE).transpose(1, 2, 0)
        sums = np.matmul(self.qs, qx)  # (blocks, rows, tokens): integers below 2^24, exact
        dx = dx.astype(np.float16).astype(np.float32).reshape(tokens, blocks)
        scales = self.scale[None, :, :] * dx[:, None, :]  # (tokens, rows, blocks)
        return dot_sum(sums.transpose(2, 1, 0), scales, fused)

    def gemv(self, x: np.ndarray, fused: bool = True) -> np.ndarray:
        return self.matmul(np.asarray(x).reshape(1, -1), fused)[0]


def f32_to_bf16(x: np.ndarray) -> np.ndarray:
    """float32 -> bf16 bits (uint16), round to nearest even like ggml_compute_fp32_to_bf16."""
    bits = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return rounded.astype(np.uint16)


def bf16_to_f32(b: np.ndarray) -> np.ndarray:
    """bf16 bits (uint16) -> float32."""
    return (np.asarray(b, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


def weight_matrix(data: np.ndarray, qtype: str, shape: tuple[int, int]) -> BitMatrix | Q8Matrix | FloatMatrix:
    """A (rows, n) weight tensor stored as `qtype` (raw GGUF bytes or float values) -> a multipliable matrix."""
    qtype = qtype.lower()
    rows, n = (int(s) for s in shape)
    if qtype in BIT_QTYPES:
        return BitMatrix.from_packed(np.asarray(data).reshape(rows, -1).view(np.uint8), qtype)
    if qtype == "q8_0":
        qs, d = q8_0.unpack(np.asarray(data).reshape(-1).view(np.uint8))
        blocks = n // q8_0.BLOCK_SIZE
        qs = np.ascontiguousarray(
            qs.astype(np.float32).reshape(rows, blocks, q8_0.BLOCK_SIZE).transpose(1, 0, 2)
        )
        return Q8Matrix(qs, d.reshape(rows, blocks))
    if qtype == "f32":
        return FloatMatrix(qtype, np.asarray(data, dtype=np.float32).reshape(rows, n))
    if qtype == "f16":
        return FloatMatrix(qtype, np.asarray(data).view(np.float16).astype(np.float32).reshape(rows, n))
    if qtype == "bf16":
        return FloatMatrix(qtype, bf16_to_f32(np.asarray(data).view(np.uint16)).reshape(rows, n))
    raise FormatError(f"no matmul kernel for tensor type {qtype}; have {', '.join(MATMUL_QTYPES)}")


def gemv(data: np.ndarray, qtype: str, x: np.ndarray, fused: bool = True) -> np.ndarray:
    """Packed rows (rows, row_bytes) of a block type times x, as ggml's vec_dot for that type
    (``fused``: its float sums contracted to fused multiply-adds, see `kernels.bitwise.dot_sum`)."""
    qtype = qtype.lower()
    if qtype not in (*BIT_QTYPES, "q8_0"):
        raise FormatError(f"no kernel for gemv on {qtype}; have {', '.join((*BIT_QTYPES, 'q8_0'))}")
    data = np.asarray(data).view(np.uint8)
    data = data.reshape(1, -1) if data.ndim == 1 else data.reshape(-1, data.shape[-1])
    x = np.asarray(x, dtype=np.float32).reshape(-1)
    fmt = get_format(qtype)
    n = data.shape[1] // fmt.type_size * fmt.block_size
    if x.size != n:
        raise FormatError(f"gemv: vector of {x.size} values for rows of {n}")
    matrix = weight_matrix(data, qtype, (data.shape[0], n))
    assert isinstance(matrix, (BitMatrix, Q8Matrix))
    return matrix.gemv(x, fused)
