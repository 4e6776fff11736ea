"""Reference kernels: numpy twins of ggml's low-bit formats and integer dot products.

Contract (other packages and checks call these):
    quantize(x, qtype)          float32 (rows, n) -> uint8 (rows, n / block * type_size)
    dequantize(data, qtype, shape) -> float32 array of `shape`
    gemv(data, qtype, x)        what ggml's vec_dot_<qtype>_<vec_dot_type> returns, row by row
qtype names are ggml's lower-case names: "tq1_0", "tq2_0", "q1_0", "q2_0", "q8_0", "q8_k".
"""

from __future__ import annotations

import numpy as np

from . import gguf_types  # noqa: F401  (gguf-py learns Q2_0 if it predates it)
from .formats import FORMATS, Format, FormatError, get_format


def quantize(x: np.ndarray, qtype: str) -> np.ndarray:
    """Pack float32 rows into ggml blocks of `qtype`, bit-exact with ggml's quantize_row_<qtype>_ref."""
    fmt = get_format(qtype)
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 0:
        raise FormatError("quantize needs at least a 1-D array")
    row_bytes = fmt.row_bytes(x.shape[-1])
    with np.errstate(over="ignore", invalid="ignore"):  # ggml overflows silently on huge inputs
        packed = fmt.module.quantize(x)
    return packed.reshape(*x.shape[:-1], row_bytes)


def dequantize(data: np.ndarray, qtype: str, shape: tuple[int, ...] | list[int]) -> np.ndarray:
    """Unpack ggml blocks of `qtype` into a float32 array of `shape` (last axis = row length)."""
    fmt = get_format(qtype)
    shape = tuple(int(s) for s in shape)
    n_values = int(np.prod(shape))
    expected = fmt.row_bytes(shape[-1]) * (n_values // shape[-1] if shape[-1] else 0)
    data = np.asarray(data)
    if data.nbytes != expected:
        raise FormatError(f"{qtype}: {data.nbytes} bytes do not hold shape {shape} (need {expected})")
    with np.errstate(over="ignore", invalid="ignore"):
        values = fmt.module.dequantize(data.reshape(-1).view(np.uint8))
    return values.reshape(shape)


def gemv(data: np.ndarray, qtype: str, x: np.ndarray, fused: bool = True) -> np.ndarray:
    """Matrix (rows of `qtype` blocks) times float32 vector x, as ggml's CPU vec_dot computes it
    (``fused``: its float sums contracted to fused multiply-adds, as GCC may build them)."""
    from .matmul import gemv as _gemv

    return _gemv(data, qtype, x, fused)


__all__ = ["FORMATS", "Format", "FormatError", "dequantize", "gemv", "get_format", "quantize"]
