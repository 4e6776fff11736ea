"""Helpers shared by the format modules: block views, fp16 scales, C rounding rules."""

from __future__ import annotations

import numpy as np

QK_K = 256


class FormatError(ValueError):
    """Input that a GGML block format cannot hold (wrong row length, wrong byte count)."""


def as_blocks(x: np.ndarray, block: int) -> np.ndarray:
    """View float data as (n_blocks, block) float32, checking the last axis is a whole number of blocks."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    n = x.shape[-1] if x.ndim else 0
    if x.ndim == 0 or n % block:
        raise FormatError(f"row length {n} is not a multiple of the block size {block}")
    return x.reshape(-1, block)


def byte_blocks(data: np.ndarray, type_size: int) -> np.ndarray:
    """View packed bytes as (n_blocks, type_size) uint8."""
    data = np.ascontiguousarray(data).view(np.uint8)
    if data.size % type_size:
        raise FormatError(f"{data.size} bytes is not a multiple of the block size {type_size} bytes")
    return data.reshape(-1, type_size)


def fp16_bytes(d: np.ndarray) -> np.ndarray:
    """float32 scales -> little-endian fp16 bytes (n, 2); round to nearest even like GGML_FP32_TO_FP16."""
    return np.asarray(d, dtype=np.float32).astype("<f2").view(np.uint8).reshape(-1, 2)


def fp16_value(b: np.ndarray) -> np.ndarray:
    """little-endian fp16 bytes (n, 2) -> float32 (n, 1), like GGML_FP16_TO_FP32."""
    return np.ascontiguousarray(b).view("<f2").astype(np.float32).reshape(-1, 1)


_JUST_BELOW_HALF = np.nextafter(np.float32(0.5), np.float32(0))


def roundf(v: np.ndarray) -> np.ndarray:
    """C roundf of float32 values (ties away from zero), as float32.

    trunc(v + copysign(0.49999997, v)) in float32 arithmetic: a fractional part of exactly 0.5 makes
    the sum land halfway between two floats above, and round-to-even carries it to the next integer;
    anything below 0.5 stays below (plain v + 0.5 would round 0.49999997 up to 1). From 2^23 on, v is
    an integer and the sum rounds back to v. Three passes, signed zeros and inf/nan preserved."""
    v = np.asarray(v, dtype=np.float32)
    r = np.copysign(_JUST_BELOW_HALF, v)
    r += v
    return np.trunc(r, out=r)


def round_half_away(v: np.ndarray) -> np.ndarray:
    """C lroundf of float32 values (ties away from zero), as int64."""
    return roundf(v).astype(np.int64)


def nearest_int(v: np.ndarray) -> np.ndarray:
    """ggml's nearest_int (magic-number add): float32 round half to even, as int64."""
    return np.rint(np.asarray(v, dtype=np.float32)).astype(np.int64)


def inverse_or_zero(d: np.ndarray) -> np.ndarray:
    """float32 1/d, 0 where d == 0 (the C `d ? 1.0f/d : 0.0f`)."""
    d = np.asarray(d, dtype=np.float32)
    out = np.zeros_like(d)
    np.divide(np.float32(1.0), d, out=out, where=d != 0)
    return out


def absmax(blocks: np.ndarray) -> np.ndarray:
    """Per-block max |x| as float32 (n_blocks, 1)."""
    return np.max(np.abs(blocks), axis=1, keepdims=True)
