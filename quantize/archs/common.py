"""Pieces shared by the architecture modules: config reading, shape checks, row readers."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from quantize.checkpoint import Checkpoint, LazyTensor
from quantize.errors import QuantizeError
from quantize.plan import RowReader, TensorPlan

SKIPPED_SUFFIXES = ("rotary_emb.inv_freq",)


@dataclass(frozen=True)
class LlamaShape:
    """The hyper-parameters of a LLaMA-like config.json."""

    hidden: int
    n_layers: int
    n_heads: int
    n_kv_heads: int
    ffn: int
    vocab: int
    head_dim: int
    rms_eps: float
    rope_theta: float
    context: int
    tied: bool

    @classmethod
    def from_config(cls, config: dict) -> LlamaShape:
        def need(key: str) -> int:
            value = config.get(key)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise QuantizeError(f"config.json: '{key}' missing or not a positive integer")
            return value

        hidden, n_heads = need("hidden_size"), need("num_attention_heads")
        head_dim = config.get("head_dim") or hidden // n_heads
        rope_scaling = config.get("rope_scaling")
        if rope_scaling and rope_scaling.get("rope_type", rope_scaling.get("type")) not in (None, "default"):
            raise QuantizeError(
                f"config.json: rope_scaling {rope_scaling} is not supported by this converter"
            )
        return cls(
            hidden=hidden,
            n_layers=need("num_hidden_layers"),
            n_heads=n_heads,
            n_kv_heads=config.get("num_key_value_heads") or n_heads,
            ffn=need("intermediate_size"),
            vocab=need("vocab_size"),
            head_dim=int(head_dim),
            rms_eps=float(config.get("rms_norm_eps", 1e-6)),
            rope_theta=float(config.get("rope_theta", 10000.0)),
            context=int(config.get("max_position_embeddings", 2048)),
            tied=bool(config.get("tie_word_embeddings", False)),
        )

    def hparams(self, arch: str) -> dict[str, object]:
        """GGUF keys (without the tokenizer) every LLaMA-like llama.cpp architecture reads."""
        kv: dict[str, object] = {
            f"{arch}.context_length": self.context,
            f"{arch}.embedding_length": self.hidden,
            f"{arch}.block_count": self.n_layers,
            f"{arch}.feed_forward_length": self.ffn,
            f"{arch}.attention.head_count": self.n_heads,
            f"{arch}.attention.head_count_kv": self.n_kv_heads,
            f"{arch}.attention.layer_norm_rms_epsilon": self.rms_eps,
            f"{arch}.rope.freq_base": self.rope_theta,
            f"{arch}.rope.dimension_count": self.head_dim,
            f"{arch}.vocab_size": self.vocab,
        }
        if self.head_dim * self.n_heads != self.hidden:
            kv[f"{arch}.attention.key_length"] = self.head_dim
            kv[f"{arch}.attention.value_length"] = self.head_dim
        return kv


def check_shape(t: LazyTensor, expected: tuple[int, ...], what: str = "") -> None:
    if tuple(t.shape) != tuple(expected):
        raise QuantizeError(
            f"tensor {t.name} has shape {list(t.shape)}, config.json implies {list(expected)}{what}"
        )


def float_reader(t: LazyTensor) -> RowReader:
    if t.dtype not in ("F32", "F16", "BF16", "F64"):
        raise QuantizeError(f"tensor {t.name}: expected floating point weights, found {t.dtype}")
    if len(t.shape) == 1:
        return lambda start, stop: t.read().reshape(1, -1)
    return t.rows


def rope_permuted(read: RowReader, head_dim: int) -> RowReader:
    """LLaMA Q/K rows from Hugging Face's half-split RoPE order to GGML's interleaved order.

    Same as convert_hf_to_gguf's LlamaModel.permute, applied one whole head at a time.
    """

    def rows(start: int, stop: int) -> np.ndarray:
        x = read(start, stop)
        return x.reshape(-1, 2, head_dim // 2, x.shape[-1]).swapaxes(1, 2).reshape(x.shape)

    return rows


def absmean_scale(read: RowReader, n_rows: int, n_cols: int, step_rows: int) -> float:
    """mean |W| over the whole tensor, streamed (BitNet b1.58 per-tensor scale, clamped at 1e-5)."""
    total = 0.0
    for start in range(0, n_rows, step_rows):
        total += float(np.abs(read(start, min(n_rows, start + step_rows))).sum(dtype=np.float64))
    return max(total / (n_rows * n_cols), 1e-5)


def ternarized(read: RowReader, n_rows: int, n_cols: int) -> RowReader:
    """Rows of round(W / mean|W|) clamped to +-1, times mean|W| (scale computed on first use)."""
    from quantize.policy import ternarize_absmean

    step = max(1, (16 << 20) // max(1, n_cols * 4))
    scale: list[float] = []
    first_use = threading.Lock()  # chunks are packed in several threads

    def rows(start: int, stop: int) -> np.ndarray:
        with first_use:
            if not scale:
                scale.append(absmean_scale(read, n_rows, n_cols, step))
        return ternarize_absmean(read(start, stop), scale[0])

    return rows


def plain(ckpt: Checkpoint, hf_name: str, gguf_name: str, role: str, shape: tuple[int, ...]) -> TensorPlan:
    """A float tensor copied as is (after a shape check against the config)."""
    t = ckpt.tensor(hf_name)
    check_shape(t, shape)
    return TensorPlan(
        name=gguf_name,
        source=hf_name,
        source_dtype=t.dtype,
        shape=tuple(shape),
        role=role,
        read_rows=float_reader(t),
    )


def check_all_used(ckpt: Checkpoint, used: set[str], arch: str) -> None:
    extra = sorted(n for n in ckpt.tensors if n not in used and not n.endswith(SKIPPED_SUFFIXES))
    if extra:
        more = f" (+{len(extra) - 3} more)" if len(extra) > 3 else ""
        raise QuantizeError(f"{arch}: unexpected tensor(s) {', '.join(extra[:3])}{more}")
