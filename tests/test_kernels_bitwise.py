"""kernels.bitwise / kernels.gemv: popcount sums equal int64 matmul; gemv equals ggml's integer vec_dot."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import kernels
from kernels.bitwise import BitMatrix
from kernels.formats import FORMATS, FormatError, q1_0, q2_0, q8_0, q8_k, tq1_0, tq2_0
from kernels.ggml_c import c_quantize, c_vec_dot, fuses_multiply_add

ACT = {"tq1_0": "q8_k", "tq2_0": "q8_k", "q1_0": "q8_0", "q2_0": "q8_0"}
BIT_TYPES = list(ACT)


def _weight_ints(data: np.ndarray, qtype: str) -> np.ndarray:
    """Packed rows -> the integer each weight has inside ggml's dot (-1/0/+1[/+2] or -1/+1), int64."""
    rows = data.shape[0]
    if qtype == "q1_0":
        bits, _ = q1_0.unpack_signs(data)
        return (bits.astype(np.int64) * 2 - 1).reshape(rows, -1)
    codes, _ = {"tq2_0": tq2_0, "tq1_0": tq1_0, "q2_0": q2_0}[qtype].unpack_codes(data)
    return (codes.astype(np.int64) - 1).reshape(rows, -1)


def _int64_block_sums(data: np.ndarray, qtype: str, act: np.ndarray) -> np.ndarray:
    """Plain int64 matmul per activation block."""
    w = _weight_ints(data, qtype)
    block = 32 if ACT[qtype] == "q8_0" else 256
    a = act.astype(np.int64).reshape(-1, block)
    return np.einsum("rbk,bk->rb", w.reshape(w.shape[0], -1, block), a)


def _ggml_generic_transcription(data: np.ndarray, qtype: str, x: np.ndarray) -> np.ndarray:
    """ggml's generic vec_dot written out: per-block integer sums times scales, float sums (no bits)."""
    rows = data.shape[0]
    w = _weight_ints(data, qtype)
    out = np.zeros(rows, np.float64)
    if ACT[qtype] == "q8_0":
        fmt = FORMATS[qtype]
        xb = c_quantize(x[None], "q8_0")[0].reshape(-1, q8_0.TYPE_SIZE)
        dx = xb[:, :2].copy().view("<f2").astype(np.float64).ravel()
        qx = xb[:, 2:].view(np.int8).astype(np.int64)
        dw = data.reshape(rows, -1, fmt.type_size)[:, :, :2].copy().view("<f2").astype(np.float64)[..., 0]
        sums = np.einsum("rbk,bk->rb", w.reshape(rows, -1, 32), qx)  # (rows, n/32)
        per_block = (sums * dx).reshape(rows, -1, fmt.block_size // 32).sum(axis=2)
        return (per_block * dw).sum(axis=1)
    xb = c_quantize(x[None], "q8_k")[0].reshape(-1, q8_k.TYPE_SIZE)
    dx = xb[:, :4].copy().view("<f4").astype(np.float64).ravel()
    qx = xb[:, 4:260].view(np.int8).astype(np.int64)
    ts = FORMATS[qtype].type_size
    dw = data.reshape(rows, -1, ts)[:, :, ts - 2 :].copy().view("<f2").astype(np.float64)[..., 0]
    sums = np.einsum("rbk,bk->rb", w.reshape(rows, -1, 256), qx)
    out = (sums * dw * dx).sum(axis=1)
    return out


def _weights(qtype: str, rows: int, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return kernels.quantize(rng.standard_normal((rows, n)).astype(np.float32), qtype)


@pytest.mark.parametrize("qtype", BIT_TYPES)
def test_bit_plane_sums_equal_int64_matmul(qtype: str) -> None:
    data = _weights(qtype, 40, 1024, seed=1)
    rng = np.random.default_rng(2)
    for act in (
        rng.integers(-128, 128, 1024).astype(np.int8),
        np.full(1024, -128, np.int8),
        np.full(1024, 127, np.int8),
        np.zeros(1024, np.int8),
    ):
        got = BitMatrix.from_packed(data, qtype).block_sums(act)
        np.testing.assert_array_equal(got, _int64_block_sums(data, qtype, act))


@settings(max_examples=30, deadline=None)
@given(
    raw=hnp.arrays(np.uint8, (3, 2 * 66), elements=st.integers(0, 255)),
    act=hnp.arrays(np.int8, 512, elements=st.integers(-128, 127)),
)
def test_bit_plane_sums_any_tq2_0_bytes(raw: np.ndarray, act: np.ndarray) -> None:
    """Hand-made TQ2_0 bytes may hold code 3 (= +2 in ggml's dot); the bit path still matches int64."""
    got = BitMatrix.from_packed(raw, "tq2_0").block_sums(act)
    np.testing.assert_array_equal(got, _int64_block_sums(raw, "tq2_0", act))


@settings(max_examples=30, deadline=None)
@given(
    qtype=st.sampled_from(BIT_TYPES),
    seed=st.integers(0, 2**32 - 1),
    scale=st.sampled_from([1e-3, 1.0, 1e3]),
)
def test_gemv_equals_integer_transcription(qtype: str, seed: int, scale: float) -> None:
    rng = np.random.default_rng(seed)
    data = kernels.quantize((rng.standard_normal((8, 768)) * scale).astype(np.float32), qtype)
    x = (rng.standard_normal(768) * rng.uniform(0.1, 10)).astype(np.float32)
    got = kernels.gemv(data, qtype, x)
    want = _ggml_generic_transcription(data, qtype, x)
    assert got.dtype == np.float32 and got.shape == (8,)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())


@pytest.mark.parametrize("qtype", BIT_TYPES)
@pytest.mark.parametrize(("rows", "n"), [(16, 2816), (96, 1024)])
def test_gemv_bit_equal_to_ggml_generic_c(qtype: str, rows: int, n: int) -> None:
    data = _weights(qtype, rows, n, seed=rows + n)
    x = np.random.default_rng(3).standard_normal(n).astype(np.float32)
    xq = c_quantize(x[None], ACT[qtype])[0]
    got = kernels.gemv(data, qtype, x, fused=fuses_multiply_add())
    np.testing.assert_array_equal(got, c_vec_dot(data, qtype, xq, generic=True))
    simd = c_vec_dot(data, qtype, xq, generic=False)  # what llama.cpp runs on this CPU
    np.testing.assert_allclose(got, simd, rtol=1e-5, atol=1e-5 * np.abs(simd).max())


@settings(max_examples=30, deadline=None)
@given(
    raw=hnp.arrays(np.uint8, (3, 8 * 18), elements=st.integers(0, 255)),
    act=hnp.arrays(np.int8, 512, elements=st.integers(-128, 127)),
)
def test_bit_plane_sums_any_q2_0_bytes(raw: np.ndarray, act: np.ndarray) -> None:
    """Q2_0 code 3 (+2, as in PrismML's files) rides on an extra plane; the sums still match int64."""
    got = BitMatrix.from_packed(raw, "q2_0").block_sums(act)
    np.testing.assert_array_equal(got, _int64_block_sums(raw, "q2_0", act))


def test_q2_0_gemv_with_plus_two_codes_bit_equal_to_ggml_c() -> None:
    """Rows holding code 3 (+2) everywhere it can: the bit-plane gemv still equals ggml's generic dot."""
    rng = np.random.default_rng(11)
    data = _weights("q2_0", 12, 576, seed=12)
    blocks = data.reshape(12, -1, q2_0.TYPE_SIZE)
    blocks[:, :, 2:] |= rng.integers(0, 256, blocks[:, :, 2:].shape, dtype=np.uint8) & 0xFF
    assert np.any(q2_0.unpack_codes(data)[0] == 3)
    x = rng.standard_normal(576).astype(np.float32)
    got = kernels.gemv(data, "q2_0", x, fused=fuses_multiply_add())
    np.testing.assert_array_equal(got, c_vec_dot(data, "q2_0", c_quantize(x[None], "q8_0")[0]))


def test_gemv_of_ternary_matrix_matches_dequantized_matmul() -> None:
    data = _weights("tq2_0", 32, 512, seed=5)
    x = np.random.default_rng(6).standard_normal(512).astype(np.float32)
    w = kernels.dequantize(data, "tq2_0", (32, 512))
    xd = kernels.dequantize(kernels.quantize(x, "q8_k"), "q8_k", (512,))
    np.testing.assert_allclose(kernels.gemv(data, "tq2_0", x), w @ xd, rtol=1e-4, atol=1e-4)


def test_gemv_bad_input() -> None:
    data = _weights("tq2_0", 2, 256, seed=0)
    with pytest.raises(FormatError, match="vector of 100"):
        kernels.gemv(data, "tq2_0", np.zeros(100, np.float32))
    with pytest.raises(FormatError, match="no kernel|no bit-plane"):
        kernels.gemv(data, "q8_k", np.zeros(256, np.float32))


def test_q8_0_gemv_bit_equal_to_ggml_generic_c() -> None:
    """Q8_0 weights (output layers) take the integer path: equal to vec_dot_q8_0_q8_0 bit for bit."""
    data = _weights("q8_0", 24, 1024, seed=9)
    x = np.random.default_rng(10).standard_normal(1024).astype(np.float32)
    got = kernels.gemv(data, "q8_0", x, fused=fuses_multiply_add())
    np.testing.assert_array_equal(got, c_vec_dot(data, "q8_0", c_quantize(x[None], "q8_0")[0]))
