"""ctypes access to ggml's own C (the libggml-base / libggml-cpu that llama-cpp-python installs).

Used only to cross-check the numpy kernels: `c_quantize` (ggml_quantize_chunk, or
quantize_row_q8_K_ref for Q8_K), `c_dequantize` (the type traits' to_float) and `c_vec_dot`
(ggml_vec_dot_<type>_<vec_dot_type>, generic C or the SIMD one this CPU runs).
"""

from __future__ import annotations

import ctypes
from functools import cache
from pathlib import Path

import numpy as np

from .formats import get_format

_TO_FLOAT = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64)
_VEC_DOT_ARGS = (
    ctypes.c_int,
    ctypes.c_void_p,
    ctypes.c_size_t,
    ctypes.c_void_p,
    ctypes.c_size_t,
    ctypes.c_void_p,
    ctypes.c_size_t,
    ctypes.c_int,
)
VEC_DOT_TYPE = {"tq1_0": "q8_k", "tq2_0": "q8_k", "q1_0": "q8_0", "q2_0": "q8_0", "q8_0": "q8_0"}


class _TypeTraits(ctypes.Structure):
    _fields_ = [
        ("type_name", ctypes.c_char_p),
        ("blck_size", ctypes.c_int64),
        ("blck_size_interleave", ctypes.c_int64),
        ("type_size", ctypes.c_size_t),
        ("is_quantized", ctypes.c_bool),
        ("to_float", ctypes.c_void_p),
        ("from_float_ref", ctypes.c_void_p),
    ]


def lib_dir() -> Path:
    """Folder of the shared libraries llama-cpp-python was built with."""
    import llama_cpp

    return Path(llama_cpp.__file__).parent / "lib"


@cache
def _lib(name: str) -> ctypes.CDLL:
    return ctypes.CDLL(str(lib_dir() / f"lib{name}.so"), mode=ctypes.RTLD_GLOBAL)


@cache
def _cpu() -> ctypes.CDLL:
    lib = _lib("ggml-cpu")
    lib.ggml_cpu_init()  # fills the fp16 -> fp32 table GGML_CPU_FP16_TO_FP32 reads
    return lib


def _base() -> ctypes.CDLL:
    lib = _lib("ggml-base")
    lib.ggml_quantize_chunk.restype = ctypes.c_size_t
    lib.ggml_quantize_chunk.argtypes = [
        ctypes.c_int,
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_int64,
        ctypes.c_int64,
        ctypes.c_int64,
        ctypes.c_void_p,
    ]
    lib.ggml_get_type_traits.restype = ctypes.POINTER(_TypeTraits)
    lib.ggml_get_type_traits.argtypes = [ctypes.c_int]
    lib.quantize_row_q8_K_ref.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
    return lib


def c_quantize(x: np.ndarray, qtype: str) -> np.ndarray:
    """ggml's C quantization of float32 rows (n_rows, n) -> uint8 (n_rows, row bytes)."""
    fmt = get_format(qtype)
    x = np.ascontiguousarray(x, dtype=np.float32).reshape(-1, x.shape[-1])
    rows, n = x.shape
    out = np.zeros((rows, fmt.row_bytes(n)), dtype=np.uint8)
    lib = _base()
    if fmt.name == "q8_k":  # not a storage type: ggml_quantize_chunk refuses it
        lib.quantize_row_q8_K_ref(x.ctypes.data, out.ctypes.data, x.size)
    else:
        lib.ggml_quantize_chunk(fmt.ggml_type, x.ctypes.data, out.ctypes.data, 0, rows, n, None)
    return out


def c_dequantize(data: np.ndarray, qtype: str, n_values: int) -> np.ndarray:
    """ggml's C to_float of packed blocks -> float32 (n_values,)."""
    fmt = get_format(qtype)
    data = np.ascontiguousarray(data, dtype=np.uint8)
    out = np.empty(n_values, dtype=np.float32)
    lib = _base()
    if fmt.name == "q8_k":  # no to_float in the type traits
        address = ctypes.cast(lib.dequantize_row_q8_K, ctypes.c_void_p).value
        if address is None:
            raise RuntimeError("ggml has no dequantize_row_q8_K")
        to_float = address
    else:
        to_float = lib.ggml_get_type_traits(fmt.ggml_type).contents.to_float
    _TO_FLOAT(to_float)(data.ctypes.data, out.ctypes.data, n_values)
    return out


def c_vec_dot(data: np.ndarray, qtype: str, xq: np.ndarray, generic: bool = True) -> np.ndarray:
    """Row-by-row ggml_vec_dot_<qtype>_<vec_dot_type>[_generic] of packed weights with packed activations."""
    fmt = get_format(qtype)
    data = np.ascontiguousarray(data, dtype=np.uint8)
    xq = np.ascontiguousarray(xq, dtype=np.uint8)
    rows = data.shape[0]
    n = data.shape[1] // fmt.type_size * fmt.block_size
    name = f"ggml_vec_dot_{fmt.name}_{VEC_DOT_TYPE[fmt.name]}".replace("q8_k", "q8_K")
    lib = _cpu()
    # a type with no SIMD kernel on this CPU (Q2_0 on x86) has only the generic C, which ggml's
    # arch-fallback.h names without the _generic suffix
    fn = (
        getattr(lib, name + "_generic") if generic and hasattr(lib, name + "_generic") else getattr(lib, name)
    )
    fn.restype = None
    fn.argtypes = list(_VEC_DOT_ARGS)
    out = np.empty(rows, dtype=np.float32)
    for r in range(rows):
        fn(n, out[r:].ctypes.data, 0, data[r].ctypes.data, 0, xq.ctypes.data, 0, 1)
    return out


@cache
def fuses_multiply_add() -> bool:
    """Does the installed ggml's generic C round `sumf += x * y` as one fused multiply-add? A
    compiler's choice (GCC contracts it unless told not to), so it is probed: a Q8_0 dot whose two
    readings differ, compared bit for bit with `kernels.gemv` each way. Raises where neither
    matches: then the numpy kernels do not compute what ggml does."""
    from . import gemv, quantize

    rng = np.random.default_rng(0)
    data = quantize(rng.standard_normal((16, 1024)).astype(np.float32), "q8_0")
    x = rng.standard_normal(1024).astype(np.float32)
    c = c_vec_dot(data, "q8_0", c_quantize(x[None], "q8_0")[0])
    fused, unfused = gemv(data, "q8_0", x, fused=True), gemv(data, "q8_0", x, fused=False)
    if np.array_equal(fused, unfused):
        raise RuntimeError("the probe's two readings agree: it cannot tell")
    if np.array_equal(c, fused) or np.array_equal(c, unfused):
        return bool(np.array_equal(c, fused))
    raise RuntimeError("ggml's generic vec_dot_q8_0_q8_0 equals neither reading of kernels.gemv")
