"""Integer dot products done with bits: AND and popcount (np.bitwise_count), shifts and adds.

Weights become bit-planes: ternary rows (TQ1_0, TQ2_0, Q2_0) a +1 mask and a -1 mask (plus a +2 mask
when a TQ2_0 / Q2_0 byte holds code 3, which ggml reads as +2: the +2 weights are in the +1 mask and
again in the extra one), binary rows (Q1_0) one sign mask. An int8
activation vector becomes 8 bit-planes of its two's complement: a = sum_k 2^k a_k - 2^7 a_7. So

    ternary: sum_i w_i a_i = sum_k (+/-) (popcount(plus & a_k) - popcount(minus & a_k)) << k
    binary:  sum_i s_i a_i = sum_k (+/-) ((popcount(sign & a_k) << 1) - popcount(a_k)) << k

(the binary form is the XNOR count: matches minus mismatches) per block; no multiplication touches the
weights or the activations. The per-block integer sums are
then scaled exactly the way ggml's generic vec_dot scales them (float32, same order), so `gemv` returns
ggml's `vec_dot_<type>_<vec_dot_type>` row by row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .formats import FormatError, get_format, q1_0, q2_0, q8_0, q8_k, tq1_0, tq2_0

BIT_QTYPES = ("tq1_0", "tq2_0", "q1_0", "q2_0")
Q8_0_PAIRED = ("q1_0", "q2_0")  # dot with Q8_0 activations (blocks of 32); the TQ types take Q8_K


def pack_mask(mask: np.ndarray, word: type = np.uint64) -> np.ndarray:
    """bool (..., n) -> words (..., n / bits(word)); element i goes to word i // bits, same order everywhere."""
    packed = np.packbits(np.ascontiguousarray(mask), axis=-1, bitorder="little")
    return packed.view(word)


def int8_planes(q: np.ndarray, word: type = np.uint64) -> np.ndarray:
    """int8 (n,) -> its 8 two's-complement bit-planes as words (8, n / bits(word))."""
    bits = np.unpackbits(np.ascontiguousarray(q).view(np.uint8).reshape(-1, 1), axis=1, bitorder="little")
    return pack_mask(np.ascontiguousarray(bits.T).astype(bool), word)


def weigh_planes(counts: np.ndarray) -> np.ndarray:
    """Per-plane counts (8, ...) -> sum_k counts_k << k - counts_7 << 7, by Horner's rule (shifts and adds)."""
    acc = -counts[7].astype(np.int32)
    for k in range(6, -1, -1):
        acc = np.left_shift(acc, 1) + counts[k]
    return acc


def plane_dot(
    masks: np.ndarray, act_planes: np.ndarray, words_per_block: int, signs: tuple[int, ...]
) -> np.ndarray:
    """sum over each block of the activations selected by the masks, each mask counted with its sign.

    masks (m, words, rows) uint; act_planes (8, words) same uint; signs: +1 / -1 per mask. Per plane k,
    d_k = sum_j sign_j * popcount(mask_j & plane_k) over the block's words; the planes are weighed by
    Horner's rule, sign plane first: acc = -d_7, then acc = (acc << 1) + d_k. Words run along the slow
    axis and rows along the fast one, so every AND and popcount streams a long contiguous row vector
    against one activation word, one plane at a time (the working set stays in cache).
    Returns int32 (blocks, rows).
    """
    m, words, rows = masks.shape
    blocks = words // words_per_block
    hits = np.empty_like(masks)
    counts = np.empty(masks.shape, dtype=np.uint8)
    acc = np.zeros((blocks, rows), dtype=np.int32)
    for k in range(7, -1, -1):
        np.bitwise_and(masks, act_planes[k][None, :, None], out=hits)
        np.bitwise_count(hits, out=counts)
        per_word = counts.reshape(m, blocks, words_per_block, rows)
        if m == 1 and words_per_block == 1:
            plane = per_word[0, :, 0]  # uint8, at most 32
        else:
            block_counts = per_word[:, :, 0].astype(np.int16)
            for w in range(1, words_per_block):
                block_counts += per_word[:, :, w]
            plane = block_counts[0]
            for j in range(1, m):
                plane = plane + block_counts[j] if signs[j] > 0 else plane - block_counts[j]
        if k == 7:
            np.subtract(acc, plane, out=acc)
        else:
            np.left_shift(acc, 1, out=acc)
            np.add(acc, plane, out=acc)
    return acc


@dataclass
class BitMatrix:
    """A weight matrix of a low-bit type as bit-planes and per-block scales, ready for many gemv calls."""

    qtype: str
    n: int
    # ternary: (2 or 3, words, rows) +1 / -1 [/ +2] masks, uint64 (TQ) or uint32 (Q2_0, one word per
    # Q8_0 block); binary: (1, words, rows) uint32 signs
    masks: np.ndarray
    scale: np.ndarray  # float32 (rows, blocks): the fp16 block scale as float32

    @property
    def rows(self) -> int:
        return self.scale.shape[0]

    @classmethod
    def from_packed(cls, data: np.ndarray, qtype: str) -> BitMatrix:
        """Packed ggml rows (rows, row_bytes) of tq1_0 / tq2_0 / q1_0 / q2_0 -> bit-planes."""
        fmt = get_format(qtype)
        if fmt.name not in BIT_QTYPES:
            raise FormatError(f"no bit-plane kernel for {qtype}; have {', '.join(BIT_QTYPES)}")
        data = np.ascontiguousarray(data, dtype=np.uint8)
        data = data.reshape(1, -1) if data.ndim == 1 else data
        rows, row_bytes = data.shape
        if row_bytes % fmt.type_size:
            raise FormatError(f"{qtype}: row of {row_bytes} bytes is not whole blocks of {fmt.type_size}")
        blocks = row_bytes // fmt.type_size
        n = blocks * fmt.block_size
        if fmt.name == "q1_0":
            bits, d = q1_0.unpack_signs(data)
            masks = [pack_mask(bits.reshape(rows, n).astype(bool), np.uint32)]  # one word per Q8_0 block
        else:
            codes, d = {"tq2_0": tq2_0, "tq1_0": tq1_0, "q2_0": q2_0}[fmt.name].unpack_codes(data)
            codes = codes.reshape(rows, n)
            word = np.uint32 if fmt.name == "q2_0" else np.uint64
            masks = [pack_mask(codes >= 2, word), pack_mask(codes == 0, word)]
            if np.any(codes == 3):  # ggml reads code 3 as +2 (quantize never writes it)
                masks.append(pack_mask(codes == 3, word))
        stacked = np.ascontiguousarray(np.stack(masks).transpose(0, 2, 1))
        return cls(fmt.name, n, stacked, d.reshape(rows, blocks))

    def block_sums(self, act: np.ndarray) -> np.ndarray:
        """Integer sums per activation block, int32 (rows, activation blocks), for int8 activations act."""
        act = np.asarray(act, dtype=np.int8).reshape(-1)
        if self.qtype == "q2_0":  # Q8_0 blocks of 32, one uint32 word each; masks +1, -1 [, +2 as extra +1]
            return plane_dot(self.masks, int8_planes(act, np.uint32), 1, (1, -1, 1)[: len(self.masks)]).T
        if self.qtype == "q1_0":  # Q8_0 blocks of 32, one uint32 word each: +a where set, -a where clear
            a = int8_planes(act, np.uint32)
            selected = plane_dot(self.masks, a, 1, (1,))
            block_totals = weigh_planes(np.bitwise_count(a))  # (blocks,): sum of a over each block
            return (np.left_shift(selected, 1) - block_totals[:, None]).T
        a = int8_planes(act)  # Q8_K blocks of 256: 4 uint64 words each; masks +1, -1 [, +2 as extra +1]
        return plane_dot(self.masks, a, 4, (1, -1, 1)[: len(self.masks)]).T

    def gemv(self, x: np.ndarray, fused: bool = True) -> np.ndarray:
        """float32 vector (n,) -> float32 (rows,), what ggml's vec_dot returns for each row
        (``fused``: its float sums contracted to fused multiply-adds, see `dot_sum`)."""
        x = np.asarray(x, dtype=np.float32).reshape(-1)
        if x.size != self.n:
            raise FormatError(f"gemv: vector of {x.size} values for rows of {self.n}")
        if self.qtype in Q8_0_PAIRED:  # sumi += d_x * sum_32 over the weight block's Q8_0 blocks (4 or 2)
            per = get_format(self.qtype).block_size // q8_0.BLOCK_SIZE  # sumf += d_w * sumi
            qs, dx = q8_0.quantize_blocks(x.reshape(-1, q8_0.BLOCK_SIZE))
            dx = dx.astype(np.float16).astype(np.float32).reshape(1, -1, per)  # the stored fp16 scale
            sums = self.block_sums(qs).astype(np.float32).reshape(self.rows, -1, per)
            per_block = dot_sum(np.broadcast_to(dx, sums.shape), sums, fused)
            return dot_sum(self.scale, per_block, fused)
        qs, dx = q8_k.quantize_blocks(x.reshape(-1, q8_k.BLOCK_SIZE))  # sumf += sumi * (d_w * d_x)
        return dot_sum(self.block_sums(qs).astype(np.float32), self.scale * dx.reshape(1, -1), fused)

    def matmul(self, xs: np.ndarray) -> np.ndarray:
        """float32 (tokens, n) -> (tokens, rows): one gemv per token, as ggml's mul_mat does."""
        return np.stack([self.gemv(x) for x in np.asarray(xs, dtype=np.float32).reshape(-1, self.n)])


def dot_sum(a: np.ndarray, b: np.ndarray, fused: bool = True) -> np.ndarray:
    """float32 `acc += a[i] * b[i]` left to right along the last axis: ggml's `sumf += x * y` loop.

    How that C line rounds is the compiler's choice, and llama.cpp builds differ. ``fused``: GCC
    contracted it to fused multiply-adds, `acc = fmaf(a[i], b[i], acc)` (the float32 product is exact
    in float64, so a float64 add rounded once to float32 gives fmaf's result, barring a
    double-rounding tie, vanishingly rare). Not fused: the product is rounded to float32 before the
    add (ISO C, `-ffp-contract=off`). `kernels.ggml_c.fuses_multiply_add()` says which the installed
    llama.cpp does; the tests then find `gemv` bit-equal to its generic C.
    """
    a64 = np.asarray(a, dtype=np.float32).astype(np.float64)
    b64 = np.asarray(b, dtype=np.float32).astype(np.float64)
    a64, b64 = np.broadcast_arrays(a64, b64)
    acc = np.zeros(a64.shape[:-1], dtype=np.float32)
    for i in range(a64.shape[-1]):
        product = a64[..., i] * b64[..., i]
        acc = (acc + product).astype(np.float32) if fused else acc + product.astype(np.float32)
    return acc
