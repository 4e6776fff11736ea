"""Unpacking of BitNet-style uint8 ternary weights (Falcon3-1.58bit, Falcon-E, bitnet-b1.58-2B-4T).

A packed tensor of shape (out/4, in) holds 4 codes (value + 1) per byte: bits 2i..2i+1 of packed row
r are the code of output row i*(out/4) + r. The per-tensor `weight_scale` is inverse: W = (code-1)/s
(as in convert_hf_to_gguf's dequant_bitnet).
"""

from __future__ import annotations

import numpy as np

from quantize.checkpoint import Checkpoint
from quantize.errors import QuantizeError
from quantize.plan import RowReader


def packed_reader(ckpt: Checkpoint, weight_name: str, out_features: int, in_features: int) -> RowReader:
    """Rows of the unpacked float32 weight (out_features, in_features)."""
    t = ckpt.tensor(weight_name)
    if t.dtype != "U8":
        raise QuantizeError(f"tensor {weight_name}: packed ternary weights must be uint8, found {t.dtype}")
    quarter = out_features // 4
    if out_features % 4 or tuple(t.shape) != (quarter, in_features):
        raise QuantizeError(
            f"packed tensor {weight_name} has shape {list(t.shape)}, impossible for a "
            f"{out_features}x{in_features} weight (expected [{out_features / 4:g}, {in_features}])"
        )
    scale_name = weight_name + "_scale"
    scale_values = ckpt.tensor(scale_name).read().reshape(-1)
    if scale_values.size != 1 or not np.isfinite(scale_values[0]) or scale_values[0] == 0:
        raise QuantizeError(
            f"tensor {scale_name}: expected one finite non-zero scale, found {scale_values[:4]}"
        )
    inverse = np.float32(1.0 / float(scale_values[0]))

    def rows(start: int, stop: int) -> np.ndarray:
        parts = []
        r = start
        while r < stop:
            i, pr = divmod(r, quarter)
            end = min(stop, (i + 1) * quarter)
            codes = (t.raw_rows(pr, pr + end - r) >> np.uint8(2 * i)) & np.uint8(3)
            parts.append((codes.astype(np.float32) - 1.0) * inverse)
            r = end
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    return rows


def pack_codes(w: np.ndarray) -> np.ndarray:
    """Inverse of the unpacking above for a ternary {-1,0,1} matrix (used to build test checkpoints)."""
    out = w.shape[0]
    if out % 4:
        raise ValueError("rows must be a multiple of 4")
    codes = (np.asarray(w) + 1).astype(np.uint8).reshape(4, out // 4, -1)
    packed = np.zeros(codes.shape[1:], dtype=np.uint8)
    for i in range(4):
        packed |= codes[i] << np.uint8(2 * i)
    return packed
