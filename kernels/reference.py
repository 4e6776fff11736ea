"""A numpy forward pass of GGUF `llama`, `bitnet` and `qwen3` models, computed the way llama.cpp's CPU graph does.

Weights are read straight from the GGUF with gguf-py and multiplied with kernels.matmul (bit-plane
kernels for TQ1_0 / TQ2_0 / Q1_0 / Q2_0, integer Q8_0, f16 / f32). The graph follows llama.cpp's
src/models/llama.cpp, bitnet.cpp and qwen3.cpp: RMSNorm, RoPE (llama: adjacent pairs; bitnet, qwen3:
NeoX halves), grouped-query attention with an f16 KV cache, SiLU-gated FFN, BitNet's attn/ffn
sub-norms and optional per-tensor scales, Qwen3's per-head RMSNorm of Q and K before RoPE, tied or
separate output.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from gguf import GGUFReader

from . import dequantize, gguf_types  # noqa: F401  (gguf_types: GGUFReader reads Q2_0)
from .formats import FORMATS
from .matmul import MATMUL_QTYPES, bf16_to_f32, weight_matrix

SUPPORTED_ARCHS = ("llama", "bitnet", "qwen3")
NEOX_ROPE_ARCHS = ("bitnet", "qwen3")  # llama.cpp's llama_model_rope_type: LLAMA_ROPE_TYPE_NEOX
SEPARATE_OUTPUT_ARCHS = ("llama", "qwen3")  # output.weight when present, else the token embeddings


class UnsupportedModelError(ValueError):
    """A GGUF the reference cannot compute (architecture, tensor type, or feature)."""


@dataclass(frozen=True)
class Hparams:
    arch: str
    n_embd: int
    n_layer: int
    n_head: int
    n_head_kv: int
    head_dim: int
    n_ff: int
    rms_eps: float
    rope_base: float
    rope_freq_scale: float
    n_rot: int
    context_length: int

    @property
    def rope_neox(self) -> bool:
        return self.arch in NEOX_ROPE_ARCHS  # llama.cpp: NEOX for bitnet and qwen3, NORM for llama


def _field(reader: GGUFReader, key: str, default: Any = None) -> Any:
    field = reader.fields.get(key)
    if field is None:
        if default is None:
            raise UnsupportedModelError(f"GGUF has no '{key}' key")
        return default
    value = field.contents()
    return value


def read_hparams(reader: GGUFReader) -> Hparams:
    """The hyper-parameters llama.cpp reads for the llama / bitnet architectures."""
    arch = str(_field(reader, "general.architecture"))
    if arch not in SUPPORTED_ARCHS:
        raise UnsupportedModelError(
            f"unsupported architecture '{arch}' (reference supports: {', '.join(SUPPORTED_ARCHS)})"
        )
    if int(_field(reader, f"{arch}.expert_count", 0)):
        raise UnsupportedModelError(f"unsupported: mixture-of-experts {arch} model")
    scaling = str(_field(reader, f"{arch}.rope.scaling.type", "linear"))
    if scaling not in ("none", "linear"):
        raise UnsupportedModelError(f"unsupported RoPE scaling type '{scaling}'")
    factor = float(_field(reader, f"{arch}.rope.scaling.factor", 0.0))
    n_embd = int(_field(reader, f"{arch}.embedding_length"))
    n_head = int(_field(reader, f"{arch}.attention.head_count"))
    head_dim = int(_field(reader, f"{arch}.attention.key_length", n_embd // n_head))
    if int(_field(reader, f"{arch}.attention.value_length", head_dim)) != head_dim:
        raise UnsupportedModelError("unsupported: key and value head sizes differ")
    return Hparams(
        arch=arch,
        n_embd=n_embd,
        n_layer=int(_field(reader, f"{arch}.block_count")),
        n_head=n_head,
        n_head_kv=int(_field(reader, f"{arch}.attention.head_count_kv", n_head)),
        head_dim=head_dim,
        n_ff=int(_field(reader, f"{arch}.feed_forward_length")),
        rms_eps=float(_field(reader, f"{arch}.attention.layer_norm_rms_epsilon")),
        rope_base=float(_field(reader, f"{arch}.rope.freq_base", 10000.0)),
        rope_freq_scale=1.0 if factor == 0.0 else 1.0 / factor,
        n_rot=int(_field(reader, f"{arch}.rope.dimension_count", head_dim)),
        context_length=int(_field(reader, f"{arch}.context_length")),
    )


def rms_norm(x: np.ndarray, weight: np.ndarray, eps: float) -> np.ndarray:
    """ggml_rms_norm (sum of squares in double, float32 scale) then ggml_mul by the weight."""
    mean = (np.square(x.astype(np.float64)).sum(axis=-1, keepdims=True) / x.shape[-1]).astype(np.float32)
    scale = np.float32(1.0) / np.sqrt(mean + np.float32(eps))
    return (x * scale) * weight


def rope(x: np.ndarray, positions: np.ndarray, hp: Hparams, freq_factors: np.ndarray | None) -> np.ndarray:
    """ggml_rope_ext for (tokens, heads, head_dim): theta = p * base^(-2i/n_rot), accumulated in float32."""
    half = hp.n_rot // 2
    theta_scale = np.float32(hp.rope_base) ** np.float32(-2.0 / hp.n_rot)
    steps = np.concatenate([np.ones(1, np.float32), np.full(half - 1, theta_scale, np.float32)])
    theta = positions.astype(np.float32)[:, None] * np.multiply.accumulate(steps, dtype=np.float32)[None, :]
    if freq_factors is not None:
        theta = theta / freq_factors[None, :half]
    theta = theta * np.float32(hp.rope_freq_scale)
    cos, sin = np.cos(theta)[:, None, :], np.sin(theta)[:, None, :]
    out = x.copy()
    if hp.rope_neox:
        a, b = x[..., :half], x[..., half : hp.n_rot]
        out[..., :half], out[..., half : hp.n_rot] = a * cos - b * sin, a * sin + b * cos
    else:
        a, b = x[..., 0 : hp.n_rot : 2], x[..., 1 : hp.n_rot : 2]
        out[..., 0 : hp.n_rot : 2], out[..., 1 : hp.n_rot : 2] = a * cos - b * sin, a * sin + b * cos
    return out


def _f16(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float16).astype(np.float32)


def attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, scale: float) -> np.ndarray:
    """Causal GQA like llama.cpp without flash attention: K, V in an f16 cache, Q and the softmax
    probabilities rounded to f16 for the two f16 matrix products. q (T, H, D), k/v (T, Hkv, D)."""
    tokens, n_head, dim = q.shape
    group = n_head // k.shape[1]
    kk = np.repeat(_f16(k), group, axis=1).transpose(1, 2, 0)  # (H, D, T)
    vv = np.repeat(_f16(v), group, axis=1).transpose(1, 0, 2)  # (H, T, D)
    scores = np.matmul(_f16(q).transpose(1, 0, 2), kk) * np.float32(scale)  # (H, T, T)
    scores = scores + np.triu(np.full((tokens, tokens), -np.inf, np.float32), k=1)
    scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
    probs = (scores / scores.astype(np.float64).sum(axis=-1, keepdims=True)).astype(np.float32)
    out = np.matmul(_f16(probs), vv)  # (H, T, D)
    return out.transpose(1, 0, 2).reshape(tokens, n_head * dim)


def one_ulp_jitter(x: np.ndarray, seed: int) -> np.ndarray:
    """x with every value moved to its next float32 neighbour, up or down at random (seeded)."""
    up = np.random.default_rng(seed).random(x.shape) < 0.5
    x = x.astype(np.float32)
    return np.where(up, np.nextafter(x, np.float32(np.inf)), np.nextafter(x, np.float32(-np.inf)))


def silu(x: np.ndarray) -> np.ndarray:
    return x / (np.float32(1) + np.exp(-x))


def _as_float32(data: np.ndarray, qtype: str, count: int) -> np.ndarray:
    """Raw tensor data of any supported type -> float32 (count,), as ggml's to_float / get_rows give it."""
    if qtype in FORMATS:
        return dequantize(data, qtype, (count,))
    if qtype == "bf16":
        return bf16_to_f32(np.ascontiguousarray(data).view(np.uint16)).reshape(count)
    return np.asarray(data, dtype=np.float32).reshape(count)


class ReferenceModel:
    """A GGUF llama / bitnet model computed in numpy; `forward(tokens)` -> float32 logits (T, vocab)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.reader = GGUFReader(self.path)
        except (ValueError, OSError) as exc:  # gguf-py raises ValueError on a bad magic / layout
            raise UnsupportedModelError(f"cannot read GGUF {self.path}: {exc}") from None
        self.hp = read_hparams(self.reader)
        self.tensors = {t.name: t for t in self.reader.tensors}
        self._matrices: dict[str, object] = {}
        for name, t in self.tensors.items():
            qtype = t.tensor_type.name.lower()
            if len(t.shape) > 1 and qtype not in MATMUL_QTYPES:
                raise UnsupportedModelError(f"unsupported tensor type {t.tensor_type.name} ({name})")
        for name in self.required_tensors():
            if name not in self.tensors:
                raise UnsupportedModelError(
                    f"GGUF has no tensor '{name}' (needed by the {self.hp.arch} graph)"
                )

    def required_tensors(self) -> list[str]:
        """The tensors llama.cpp's graph for this architecture cannot do without."""
        per_layer = [
            "attn_norm",
            "attn_q",
            "attn_k",
            "attn_v",
            "attn_output",
            "ffn_norm",
            "ffn_gate",
            "ffn_up",
        ]
        per_layer.append("ffn_down")
        if self.hp.arch == "bitnet":
            per_layer += ["attn_sub_norm", "ffn_sub_norm"]
        if self.hp.arch == "qwen3":
            per_layer += ["attn_q_norm", "attn_k_norm"]
        names = ["token_embd.weight", "output_norm.weight"]
        return names + [f"blk.{i}.{part}.weight" for i in range(self.hp.n_layer) for part in per_layer]

    @cached_property
    def n_vocab(self) -> int:
        return int(self.tensors["token_embd.weight"].shape[1])

    def has(self, name: str) -> bool:
        return name in self.tensors

    def vector(self, name: str) -> np.ndarray:
        """A 1-D tensor (norm weight, bias, scale) as float32."""
        t = self.tensors[name]
        return _as_float32(np.asarray(t.data), t.tensor_type.name.lower(), int(np.prod(t.shape)))

    def matrix(self, name: str):  # -> BitMatrix | Q8Matrix | FloatMatrix
        if name not in self._matrices:
            t = self.tensors[name]
            n, rows = int(t.shape[0]), int(np.prod(t.shape[1:]))
            self._matrices[name] = weight_matrix(np.asarray(t.data), t.tensor_type.name.lower(), (rows, n))
        return self._matrices[name]

    def embed(self, tokens: np.ndarray) -> np.ndarray:
        """ggml_get_rows on token_embd: the rows dequantized."""
        t = self.tensors["token_embd.weight"]
        rows = np.asarray(t.data)[tokens]
        n = int(t.shape[0])
        return _as_float32(rows, t.tensor_type.name.lower(), len(tokens) * n).reshape(len(tokens), n)

    def linear(self, name: str, x: np.ndarray, bias_before_scale: bool = False) -> np.ndarray:
        """x @ W^T with the optional '.scale' (BitNet) and '.bias' tensors, in llama.cpp's order."""
        base = name.removesuffix(".weight")
        out = self.matrix(name).matmul(x).astype(np.float32)
        scale = self.vector(f"{base}.scale") if self.has(f"{base}.scale") else None
        bias = self.vector(f"{base}.bias") if self.has(f"{base}.bias") else None
        if bias is not None and bias_before_scale:
            out = out + bias
        if scale is not None:
            out = out * scale
        if bias is not None and not bias_before_scale:
            out = out + bias
        return out

    def forward(self, tokens: list[int] | np.ndarray, jitter_seed: int | None = None) -> np.ndarray:
        """Logits (T, vocab) float32 for every position of one sequence starting at position 0.

        jitter_seed: move every input value (the embedded rows) by one ulp, up or down as a generator
        seeded so says: the smallest change a float32 computation can make, to measure which logits
        float32 rounding alone decides (verify's rounding ties)."""
        hp = self.hp
        tokens = np.asarray(tokens, dtype=np.int64)
        if tokens.size == 0 or tokens.min() < 0 or tokens.max() >= self.n_vocab:
            raise UnsupportedModelError(f"token ids must lie in [0, {self.n_vocab})")
        positions = np.arange(len(tokens))
        freq = self.vector("rope_freqs.weight") if self.has("rope_freqs.weight") else None
        x = self.embed(tokens)
        if jitter_seed is not None:
            x = one_ulp_jitter(x, jitter_seed)
        for il in range(hp.n_layer):
            x = self._layer(f"blk.{il}.", x, positions, freq)
        x = rms_norm(x, self.vector("output_norm.weight"), hp.rms_eps)
        separate = hp.arch in SEPARATE_OUTPUT_ARCHS and self.has("output.weight")
        head = "output.weight" if separate else "token_embd.weight"
        return self.linear(head, x)

    def _layer(self, p: str, x: np.ndarray, positions: np.ndarray, freq: np.ndarray | None) -> np.ndarray:
        hp, bitnet = self.hp, self.hp.arch == "bitnet"
        h = rms_norm(x, self.vector(p + "attn_norm.weight"), hp.rms_eps)
        tokens = x.shape[0]
        q = self.linear(p + "attn_q.weight", h).reshape(tokens, hp.n_head, hp.head_dim)
        k = self.linear(p + "attn_k.weight", h).reshape(tokens, hp.n_head_kv, hp.head_dim)
        v = self.linear(p + "attn_v.weight", h).reshape(tokens, hp.n_head_kv, hp.head_dim)
        if hp.arch == "qwen3":  # RMSNorm over each head's head_dim values, before RoPE
            q = rms_norm(q, self.vector(p + "attn_q_norm.weight"), hp.rms_eps)
            k = rms_norm(k, self.vector(p + "attn_k_norm.weight"), hp.rms_eps)
        q, k = rope(q, positions, hp, freq), rope(k, positions, hp, freq)
        a = attention(q, k, v, 1.0 / np.sqrt(np.float32(hp.head_dim)))
        if bitnet:
            a = rms_norm(a, self.vector(p + "attn_sub_norm.weight"), hp.rms_eps)
        x = x + self.linear(p + "attn_output.weight", a)
        h = rms_norm(x, self.vector(p + "ffn_norm.weight"), hp.rms_eps)
        up = self.linear(p + "ffn_up.weight", h, bias_before_scale=True)
        gate = self.linear(p + "ffn_gate.weight", h, bias_before_scale=True)
        f = silu(gate) * up
        if bitnet:
            f = rms_norm(f, self.vector(p + "ffn_sub_norm.weight"), hp.rms_eps)
            return x + self.linear(p + "ffn_down.weight", f)
        return x + self.linear(p + "ffn_down.weight", f, bias_before_scale=True)
