"""Block packing of float32 rows into GGML types.

Goes through `kernels.quantize(x, qtype)` (the project's bit-exact reference of ggml) when that
module provides it, else through gguf-py's numpy quantizers (TQ1_0, TQ2_0, Q8_0; no Q1_0 / Q2_0).
"""

from __future__ import annotations

import numpy as np
from gguf import GGML_QUANT_SIZES, GGMLQuantizationType
from gguf import quants as gguf_quants

from kernels import gguf_types  # Q2_0 on gguf-py releases without it
from quantize.errors import QuantizeError

TYPE_BY_NAME = {
    "f32": GGMLQuantizationType.F32,
    "f16": GGMLQuantizationType.F16,
    "q8_0": GGMLQuantizationType.Q8_0,
    "q1_0": GGMLQuantizationType.Q1_0,
    "tq1_0": GGMLQuantizationType.TQ1_0,
    "tq2_0": GGMLQuantizationType.TQ2_0,
    "q2_0": gguf_types.Q2_0,
}
LOW_BIT = {GGMLQuantizationType.TQ1_0, GGMLQuantizationType.TQ2_0, GGMLQuantizationType.Q1_0, gguf_types.Q2_0}


def _kernels_quantize():
    try:
        from kernels import quantize as kq
    except ImportError:
        return None
    return kq if callable(kq) else None


def is_low_bit_type(qtype: GGMLQuantizationType) -> bool:
    return qtype in LOW_BIT


def block_size(qtype: GGMLQuantizationType) -> int:
    return GGML_QUANT_SIZES[qtype][0]


def tensor_nbytes(shape: tuple[int, ...], qtype: GGMLQuantizationType) -> int:
    block, type_size = GGML_QUANT_SIZES[qtype]
    n = int(np.prod(shape, dtype=np.int64))
    return n // block * type_size


def pack_rows(x: np.ndarray, qtype: GGMLQuantizationType) -> np.ndarray:
    """float32 rows (..., cols) -> bytes of the GGML type (uint8 for block types)."""
    if qtype == GGMLQuantizationType.F32:
        return np.ascontiguousarray(x, dtype=np.float32)
    if qtype == GGMLQuantizationType.F16:
        return np.ascontiguousarray(x, dtype=np.float16)
    kq = _kernels_quantize()
    if kq is not None:
        return np.ascontiguousarray(kq(np.ascontiguousarray(x, dtype=np.float32), qtype.name.lower()))
    if qtype in (GGMLQuantizationType.Q1_0, gguf_types.Q2_0):
        raise QuantizeError(
            f"{qtype.name.lower()} packing needs the kernels package (kernels.quantize), not available"
        )
    return gguf_quants.quantize(np.ascontiguousarray(x, dtype=np.float32), qtype)
