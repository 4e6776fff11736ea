"""kernels.formats: bytes equal to ggml's C (through ctypes) and to gguf-py; round-trip properties."""

from __future__ import annotations

import gguf
import numpy as np
import pytest
from gguf import quants as gguf_quants
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import kernels
from kernels.formats import FORMATS, FormatError
from kernels.ggml_c import c_dequantize, c_quantize

QTYPES = ["tq1_0", "tq2_0", "q1_0", "q2_0", "q8_0", "q8_k"]
ROWS, N = 6, 1024


def _case(name: str, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if name == "random":
        return rng.standard_normal((ROWS, N)).astype(np.float32)
    if name == "ternary-exact":  # values already on a ternary grid with a per-row scale
        return (rng.integers(-1, 2, (ROWS, N)) * rng.uniform(0.01, 3, (ROWS, 1))).astype(np.float32)
    if name == "ties":  # x/d lands on k + 0.5 exactly (TQ, Q2_0: d = 2 -> x/d = +-0.5, Q8_0: d = 127/127)
        x = rng.integers(-4, 5, (ROWS, N)).astype(np.float32) * np.float32(0.5)
        x[:, ::32] = 2.0
        return x
    if name == "all-zero":
        x = np.zeros((ROWS, N), np.float32)
        x[1] = -0.0  # sign bit matters for Q1_0 (-0.0 >= 0)
        return x
    if name == "huge":  # near float32 max: fp16 scales overflow to inf, C does not trap
        return (rng.standard_normal((ROWS, N)) * 3e37).astype(np.float32)
    if name == "subnormal":  # scales below fp16 range, 1/d overflows to inf (x86 behaviour of the C)
        return (rng.standard_normal((ROWS, N)) * 1e-39).astype(np.float32)
    raise AssertionError(name)


CASES = ["random", "ternary-exact", "ties", "all-zero", "huge", "subnormal"]


@pytest.mark.parametrize("qtype", QTYPES)
@pytest.mark.parametrize("case", CASES)
def test_quantize_bytes_equal_ggml_c(qtype: str, case: str) -> None:
    x = _case(case)
    ours = kernels.quantize(x, qtype)
    assert ours.dtype == np.uint8
    assert ours.shape == (ROWS, N // FORMATS[qtype].block_size * FORMATS[qtype].type_size)
    np.testing.assert_array_equal(ours, c_quantize(x, qtype))


@pytest.mark.parametrize("qtype", QTYPES)
@pytest.mark.parametrize("case", CASES)
def test_dequantize_equals_ggml_c(qtype: str, case: str) -> None:
    x = _case(case, seed=1)
    packed = c_quantize(x, qtype)
    ours = kernels.dequantize(packed, qtype, x.shape)
    assert ours.dtype == np.float32 and ours.shape == x.shape
    np.testing.assert_array_equal(ours.ravel(), c_dequantize(packed, qtype, x.size))


def test_dequantize_arbitrary_bytes_equals_ggml_c() -> None:
    """Any byte pattern (not only ones quantize makes) decodes like ggml: trit bytes > 242, code 3."""
    rng = np.random.default_rng(7)
    for qtype in QTYPES:
        fmt = FORMATS[qtype]
        data = rng.integers(0, 256, (4, 8 * fmt.type_size), dtype=np.uint8)
        for scale_at in range(0, 8 * fmt.type_size, fmt.type_size):  # keep scales finite
            if qtype == "q8_k":
                data[:, scale_at : scale_at + 4] = np.frombuffer(np.float32(0.01).tobytes(), np.uint8)
            else:
                at = scale_at + (fmt.type_size - 2 if qtype.startswith("tq") else 0)  # Q2_0: code 3 too
                data[:, at : at + 2] = np.frombuffer(np.float16(0.5).tobytes(), np.uint8)
        ours = kernels.dequantize(data, qtype, (4, 8 * fmt.block_size))
        np.testing.assert_array_equal(ours.ravel(), c_dequantize(data, qtype, 4 * 8 * fmt.block_size))


@pytest.mark.parametrize("qtype", ["tq1_0", "tq2_0", "q8_0"])
@pytest.mark.parametrize("case", ["random", "ternary-exact", "ties", "all-zero"])
def test_bytes_equal_gguf_py(qtype: str, case: str) -> None:
    x = _case(case, seed=2)
    gtype = gguf.GGMLQuantizationType[qtype.upper()]
    theirs = gguf_quants.quantize(x, gtype)
    np.testing.assert_array_equal(kernels.quantize(x, qtype), theirs)
    np.testing.assert_array_equal(
        kernels.dequantize(theirs, qtype, x.shape), gguf_quants.dequantize(theirs, gtype)
    )


def test_format_table_matches_ggml_and_gguf() -> None:
    for name, fmt in FORMATS.items():
        gtype = gguf.GGMLQuantizationType[name.upper()]
        assert fmt.ggml_type == int(gtype)
        if gtype in gguf.GGML_QUANT_SIZES:
            assert (fmt.block_size, fmt.type_size) == gguf.GGML_QUANT_SIZES[gtype]
    assert {n: (f.block_size, f.type_size, f.ggml_type) for n, f in FORMATS.items()} == {
        "tq1_0": (256, 54, 34),
        "tq2_0": (256, 66, 35),
        "q1_0": (128, 18, 41),
        "q2_0": (64, 18, 42),
        "q8_0": (32, 34, 8),
        "q8_k": (256, 292, 15),
    }


def test_bad_input_raises_format_error() -> None:
    with pytest.raises(FormatError, match="multiple of"):
        kernels.quantize(np.zeros((2, 100), np.float32), "tq2_0")
    with pytest.raises(FormatError, match="unknown quant type"):
        kernels.quantize(np.zeros((2, 256), np.float32), "q4_k")
    with pytest.raises(FormatError, match="do not hold"):
        kernels.dequantize(np.zeros(65, np.uint8), "tq2_0", (1, 256))


ternary_rows = hnp.arrays(np.int8, (3, 512), elements=st.integers(-1, 1))
scales = st.floats(0.0009765625, 1024.0, width=32)


@settings(max_examples=40, deadline=None)
@given(codes=ternary_rows, scale=scales, qtype=st.sampled_from(["tq1_0", "tq2_0", "q2_0"]))
def test_ternary_round_trip_is_exact(codes: np.ndarray, scale: float, qtype: str) -> None:
    """A block whose values are {-d, 0, d} comes back exactly (d representable in fp16)."""
    d = np.float32(np.float16(scale))
    x = codes.astype(np.float32) * d
    x[:, :: FORMATS[qtype].block_size] = d  # every block reaches its absmax, so the block scale is d
    y = kernels.dequantize(kernels.quantize(x, qtype), qtype, x.shape)
    np.testing.assert_array_equal(y, x)


@settings(max_examples=40, deadline=None)
@given(
    x=hnp.arrays(np.float32, (2, 512), elements=st.floats(-1e4, 1e4, width=32)), qtype=st.sampled_from(QTYPES)
)
def test_requantizing_dequantized_values_is_stable(x: np.ndarray, qtype: str) -> None:
    """quantize(dequantize(q)) == q for the ternary/binary types; q8 types stay within one step."""
    x[:, ::32] = 1.0  # keep every block's scale in fp16's normal range
    q = kernels.quantize(x, qtype)
    y = kernels.dequantize(q, qtype, x.shape)
    if qtype in ("tq1_0", "tq2_0", "q1_0", "q2_0"):
        np.testing.assert_array_equal(kernels.dequantize(kernels.quantize(y, qtype), qtype, x.shape), y)
    block = FORMATS[qtype].block_size
    amax = np.abs(x).reshape(-1, block).max(axis=1, keepdims=True)
    err = np.abs(y - x).reshape(-1, block)
    if qtype.startswith("q8"):
        assert np.all(err <= amax / 127 * (0.5 + 127 * 2.0**-11))  # rounding + fp16 scale
    elif qtype in ("tq1_0", "tq2_0", "q2_0"):
        assert np.all(err <= amax * (0.5 + 2.0**-11))


def test_q2_0_layout_and_plus_two_code() -> None:
    """Element j in byte 2 + j / 4 at bits 2 (j % 4); quantize writes codes 0..2, code 3 decodes to +2 d."""
    x = np.zeros((1, 64), np.float32)
    x[0, 0], x[0, 5], x[0, 63] = 4.0, -4.0, 1.0  # d = 4: codes 2, 0, 1 (0.25 rounds to 0)
    q = kernels.quantize(x, "q2_0")[0]
    assert q[:2].view("<f2")[0] == 4.0
    assert q[2] & 3 == 2 and (q[3] >> 2) & 3 == 0 and q[17] >> 6 == 1
    assert int(np.max((q[2:, None] >> np.array([0, 2, 4, 6], np.uint8)) & 3)) <= 2
    q[17] |= 0xC0  # element 63 -> code 3
    y = kernels.dequantize(q, "q2_0", (64,))
    assert y[63] == 8.0 and y[0] == 4.0 and y[5] == -4.0
    np.testing.assert_array_equal(y, c_dequantize(q, "q2_0", 64))


def test_roundf_matches_a_plain_transcription() -> None:
    """roundf (trunc(v + copysign(0.49999997, v))) equals C's roundf rule written out in float64."""
    from kernels.formats.common import roundf

    rng = np.random.default_rng(3)
    v = np.concatenate(
        [
            (rng.standard_normal(100_000) * 60).astype(np.float32),
            np.arange(-600, 600, dtype=np.float32) + np.float32(0.5),
            np.array(
                [
                    0.49999997,
                    -0.49999997,
                    0.5,
                    -0.5,
                    2.0**22 + 0.5,
                    2.0**23 - 0.5,
                    2.0**23 + 1,
                    3e38,
                    -0.0,
                    0.0,
                    1e-45,
                    -1e-45,
                    8388607.5,
                ],
                np.float32,
            ),
        ]
    )
    r64 = v.astype(np.float64)
    want = (np.sign(r64) * np.floor(np.abs(r64) + 0.5)).astype(np.float32)  # exact in float64
    got = roundf(v)
    np.testing.assert_array_equal(got, want)
    assert np.array_equal(np.signbit(got), np.signbit(v))  # -0.3 -> -0.0, as C gives
    assert (
        np.isnan(roundf(np.array([np.nan], np.float32)))[0]
        and roundf(np.array([-np.inf], np.float32))[0] == -np.inf
    )
