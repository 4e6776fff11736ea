"""Unpack a low-bit GGUF: every TQ1_0 / TQ2_0 / Q1_0 / Q2_0 tensor becomes F16, dequantized by the reference.

The result holds exactly the values the packed file means (±d, 0 and +2d are exact in fp16, since
each block's scale d is itself fp16), so comparing llama.cpp on the two files measures the packing
and the low-bit kernels alone: same weights, different storage. Everything else (metadata,
vocabulary, other tensors) is copied unchanged.

`rewrite_gguf` is the general form: a callback decides, tensor by tensor, a new type and the bytes
(bench/ptq_gguf.py uses it to re-quantize a released GGUF's weights into Q2_0).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from gguf import (
    GGML_QUANT_SIZES,
    GGMLQuantizationType,
    GGUFReader,
    GGUFValueType,
    GGUFWriter,
    Keys,
    LlamaFileType,
)

from kernels import gguf_types

from . import dequantize

UNPACKED_TYPES = {
    GGMLQuantizationType.TQ1_0,
    GGMLQuantizationType.TQ2_0,
    GGMLQuantizationType.Q1_0,
    gguf_types.Q2_0,
}
# tensor -> None (copy it) or (new type, a function making its data: float16 values or packed uint8 rows)
Retype = Callable[[object], tuple[GGMLQuantizationType, Callable[[], np.ndarray]] | None]


class UnpackError(Exception):
    """The input is not a GGUF file this tool can rewrite."""


def unpack_gguf(src: Path, dst: Path) -> int:
    """Write dst: src with its ternary / binary tensors stored as F16. Returns how many were unpacked."""

    def to_f16(tensor) -> tuple[GGMLQuantizationType, Callable[[], np.ndarray]] | None:
        if tensor.tensor_type not in UNPACKED_TYPES:
            return None
        qtype, shape = tensor.tensor_type.name.lower(), numpy_shape(tensor)
        return GGMLQuantizationType.F16, lambda: dequantize(tensor.data, qtype, shape).astype(np.float16)

    return rewrite_gguf(src, dst, to_f16, int(LlamaFileType.MOSTLY_F16))


def rewrite_gguf(src: Path, dst: Path, retype: Retype, file_type: int) -> int:
    """Write dst: src with the tensors `retype` picks stored anew. Returns how many were rewritten."""
    try:
        reader = GGUFReader(str(src))
    except (OSError, ValueError) as exc:
        raise UnpackError(f"cannot read {src} as GGUF: {exc}") from None
    arch = reader.fields.get(Keys.General.ARCHITECTURE)
    if arch is None:
        raise UnpackError(f"{src}: no {Keys.General.ARCHITECTURE} key")
    tmp = dst.with_name(dst.name + ".tmp")
    writer = GGUFWriter(str(tmp), arch=str(arch.contents()), endianess=reader.endianess)
    try:
        for field in reader.fields.values():
            if field.name == Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
                continue  # written by GGUFWriter itself
            value = field.contents()
            if field.name == Keys.General.FILE_TYPE:
                value = file_type
            if field.name == Keys.General.ALIGNMENT:
                writer.data_alignment = int(value)  # pad tensor data as the copied key says
            sub_type = field.types[-1] if field.types[0] == GGUFValueType.ARRAY else None
            writer.add_key_value(field.name, value, field.types[0], sub_type=sub_type)
        plans = [retype(tensor) for tensor in reader.tensors]
        for tensor, plan in zip(reader.tensors, plans, strict=True):
            if plan is not None:
                shape = numpy_shape(tensor)
                block, type_size = GGML_QUANT_SIZES[plan[0]]
                nbytes = int(np.prod(shape)) // block * type_size
                writer.add_tensor_info(tensor.name, shape, np.dtype(np.float32), nbytes, plan[0])
            else:
                writer.add_tensor_info(
                    tensor.name, tensor.data.shape, tensor.data.dtype, tensor.data.nbytes, tensor.tensor_type
                )
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_ti_data_to_file()
        for tensor, plan in zip(reader.tensors, plans, strict=True):  # one tensor in memory at a time
            data = tensor.data if plan is None else plan[1]()
            writer.write_tensor_data(data, tensor_endianess=reader.endianess)
        writer.close()
        os.replace(tmp, dst)
    finally:
        writer.close()
        tmp.unlink(missing_ok=True)
    return sum(plan is not None for plan in plans)


def numpy_shape(tensor) -> tuple[int, ...]:
    return tuple(int(n) for n in reversed(tensor.shape))  # GGUF lists ne0 (the row length) first
