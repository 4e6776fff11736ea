"""Unpack a low-bit GGUF: every TQ1_0 / TQ2_0 / Q1_0 tensor becomes F16, dequantized by the reference.

The result holds exactly the values the packed file means (±d and 0 are exact in fp16, since each
block's scale d is itself fp16), so comparing llama.cpp on the two files measures the packing and
the low-bit kernels alone: same weights, different storage. Everything else (metadata, vocabulary,
other tensors) is copied unchanged.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from gguf import GGMLQuantizationType, GGUFReader, GGUFValueType, GGUFWriter, Keys, LlamaFileType

from . import dequantize

UNPACKED_TYPES = {GGMLQuantizationType.TQ1_0, GGMLQuantizationType.TQ2_0, GGMLQuantizationType.Q1_0}


class UnpackError(Exception):
    """The input is not a GGUF file this tool can rewrite."""


def unpack_gguf(src: Path, dst: Path) -> int:
    """Write dst: src with its ternary / binary tensors stored as F16. Returns how many were unpacked."""
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
                value = int(LlamaFileType.MOSTLY_F16)
            if field.name == Keys.General.ALIGNMENT:
                writer.data_alignment = int(value)  # pad tensor data as the copied key says
            sub_type = field.types[-1] if field.types[0] == GGUFValueType.ARRAY else None
            writer.add_key_value(field.name, value, field.types[0], sub_type=sub_type)
        unpacked = 0
        for tensor in reader.tensors:
            if tensor.tensor_type in UNPACKED_TYPES:
                shape = _numpy_shape(tensor)
                writer.add_tensor_info(tensor.name, shape, np.dtype(np.float16), 2 * int(np.prod(shape)),
                                       GGMLQuantizationType.F16)
                unpacked += 1
            else:
                writer.add_tensor_info(tensor.name, tensor.data.shape, tensor.data.dtype, tensor.data.nbytes,
                                       tensor.tensor_type)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_ti_data_to_file()
        for tensor in reader.tensors:  # one tensor in memory at a time
            data = tensor.data
            if tensor.tensor_type in UNPACKED_TYPES:
                data = dequantize(data, tensor.tensor_type.name.lower(), _numpy_shape(tensor)).astype(np.float16)
            writer.write_tensor_data(data, tensor_endianess=reader.endianess)
        writer.close()
        os.replace(tmp, dst)
    finally:
        writer.close()
        tmp.unlink(missing_ok=True)
    return unpacked


def _numpy_shape(tensor) -> tuple[int, ...]:
    return tuple(int(n) for n in reversed(tensor.shape))  # GGUF lists ne0 (the row length) first
