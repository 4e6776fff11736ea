"""Synthetic `llama`, `bitnet` and `qwen3` GGUF files for verify tests and benchmarks (gguf-py writer, SentencePiece).

The tokenizer is trained here on generated sentences (byte fallback on, so any text tokenizes); the
weights are seeded random values packed with kernels.quantize into the requested low-bit type.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import gguf
import numpy as np
import sentencepiece as spm

from . import dequantize, quantize
from .formats import FORMATS
from .matmul import f32_to_bf16

WORDS = (
    "the a ternary binary model reads every page of the document and answers with a citation to "
    "file and line while the kernel packs weights into blocks of two hundred fifty six values "
    "llama cpp computes logits that the numpy reference checks position by position"
).split()


def corpus(n_sentences: int = 400, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=rng.integers(5, 14))) + "." for _ in range(n_sentences)]


def train_tokenizer(vocab_size: int = 320) -> spm.SentencePieceProcessor:
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus()),
        model_writer=model,
        vocab_size=vocab_size,
        model_type="bpe",
        byte_fallback=True,
        hard_vocab_limit=False,
        num_threads=1,
        minloglevel=2,
    )
    return spm.SentencePieceProcessor(model_proto=model.getvalue())


def _token_type(sp: spm.SentencePieceProcessor, i: int) -> int:
    if sp.is_unknown(i):
        return gguf.TokenType.UNKNOWN
    if sp.is_control(i):
        return gguf.TokenType.CONTROL
    if sp.is_byte(i):
        return gguf.TokenType.BYTE
    if sp.is_unused(i):
        return gguf.TokenType.UNUSED
    return gguf.TokenType.NORMAL


@dataclass(frozen=True)
class SyntheticConfig:
    arch: str = "llama"  # or "bitnet", or "qwen3" (per-head Q/K norms, tied embeddings: no output.weight)
    weight_type: str = (
        "tq2_0"  # tq1_0 / tq2_0 / q1_0 / q2_0 (or q8_0 / f16 / bf16 / f32) for every layer matrix
    )
    embed_type: str = (
        "f16"  # token_embd (also the output head of bitnet, qwen3); llama's output.weight is q8_0
    )
    n_embd: int = 256
    n_ff: int = 512
    n_head: int = 4
    n_head_kv: int = 2
    n_layer: int = 2
    context_length: int = 256
    seed: int = 0
    head_dim: int = 0  # 0: n_embd / n_head; else written as attention.key_length (Qwen3: 128 whatever n_embd)


def _ggml_type(name: str) -> gguf.GGMLQuantizationType:
    return gguf.GGMLQuantizationType[name.upper()]


def write_synthetic_model(
    path: Path, cfg: SyntheticConfig, sp: spm.SentencePieceProcessor | None = None
) -> Path:
    """Write a tiny model GGUF at path and return it."""
    sp = sp or train_tokenizer()
    rng = np.random.default_rng(cfg.seed)
    n_vocab = sp.get_piece_size()
    head_dim = cfg.head_dim or cfg.n_embd // cfg.n_head
    w = gguf.GGUFWriter(str(path), cfg.arch)
    w.add_name(f"synthetic-{cfg.arch}-{cfg.weight_type}")
    w.add_context_length(cfg.context_length)
    w.add_embedding_length(cfg.n_embd)
    w.add_block_count(cfg.n_layer)
    w.add_feed_forward_length(cfg.n_ff)
    w.add_head_count(cfg.n_head)
    w.add_head_count_kv(cfg.n_head_kv)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_freq_base(10000.0)
    w.add_rope_dimension_count(head_dim)
    if head_dim * cfg.n_head != cfg.n_embd:
        w.add_key_length(head_dim)
        w.add_value_length(head_dim)
    w.add_tokenizer_model("llama")
    w.add_token_list([sp.id_to_piece(i).encode() for i in range(n_vocab)])
    w.add_token_scores([float(sp.get_score(i)) for i in range(n_vocab)])
    w.add_token_types([int(_token_type(sp, i)) for i in range(n_vocab)])
    w.add_bos_token_id(sp.bos_id())
    w.add_eos_token_id(sp.eos_id())
    w.add_unk_token_id(sp.unk_id())
    w.add_add_bos_token(True)

    def vec(name: str, n: int) -> None:
        w.add_tensor(name, (1.0 + 0.1 * rng.standard_normal(n)).astype(np.float32))

    def mat(name: str, values: np.ndarray, qtype: str) -> None:
        if qtype == "f16":
            w.add_tensor(name, values.astype(np.float16))
        elif qtype == "f32":
            w.add_tensor(name, values.astype(np.float32))
        elif qtype == "bf16":
            w.add_tensor(name, f32_to_bf16(values), raw_dtype=gguf.GGMLQuantizationType.BF16)
        else:
            w.add_tensor(name, quantize(values, qtype), raw_dtype=_ggml_type(qtype))

    def weights(rows: int, cols: int, gain: float = 1.0) -> np.ndarray:
        """Variance-preserving random weights (rms of the output ~ gain x rms of the input)."""
        return (rng.standard_normal((rows, cols)) * gain / np.sqrt(cols)).astype(np.float32)

    # Conditioning: embeddings of rms 0.8/sqrt(n_embd) (0.05 at 256) and layer outputs adding up to
    # about as much give logits whose best token leads by a few units (p ~ 0.5) while every layer still
    # moves them; one rounding step of an int8 activation then moves a logit by ~1e-2, far below the
    # margins top-1 depends on. (Random weights at unit gain make a chaotic net instead, where one
    # rounding flip moves logits by whole units and no two implementations agree.)
    embd_rms = 0.8 / np.sqrt(cfg.n_embd)
    layer_gain = 0.8 * embd_rms * np.sqrt(2.0 / max(cfg.n_layer, 1))  # 0.04 for 256 wide, 2 layers
    embd = (embd_rms * rng.standard_normal((n_vocab, cfg.n_embd))).astype(np.float32)
    mat("token_embd.weight", embd, cfg.embed_type)
    vec("output_norm.weight", cfg.n_embd)
    if cfg.arch == "llama":  # separate output head: predicts the next id of the current token
        mat("output.weight", np.roll(embd, 1, axis=0), "q8_0")
    out_gain = 1.0 if cfg.arch == "bitnet" else layer_gain  # bitnet: the gain sits in the '.scale' tensors
    q_dim, kv = cfg.n_head * head_dim, cfg.n_head_kv * head_dim
    for il in range(cfg.n_layer):
        p = f"blk.{il}."
        vec(p + "attn_norm.weight", cfg.n_embd)
        vec(p + "ffn_norm.weight", cfg.n_embd)
        if cfg.arch == "qwen3":
            vec(p + "attn_q_norm.weight", head_dim)
            vec(p + "attn_k_norm.weight", head_dim)
        for name, rows, cols, gain in (
            ("attn_q", q_dim, cfg.n_embd, 2.0), ("attn_k", kv, cfg.n_embd, 2.0),
            ("attn_v", kv, cfg.n_embd, 1.0), ("attn_output", cfg.n_embd, q_dim, out_gain),
            ("ffn_gate", cfg.n_ff, cfg.n_embd, 1.0), ("ffn_up", cfg.n_ff, cfg.n_embd, 1.0),
            ("ffn_down", cfg.n_embd, cfg.n_ff, out_gain),
        ):  # fmt: skip
            mat(f"{p}{name}.weight", weights(rows, cols, gain), cfg.weight_type)
        if cfg.arch == "bitnet":
            vec(p + "attn_sub_norm.weight", cfg.n_embd)
            vec(p + "ffn_sub_norm.weight", cfg.n_ff)
            for name, value in (("attn_q", 1.0), ("attn_output", layer_gain), ("ffn_down", layer_gain)):
                w.add_tensor(f"{p}{name}.scale", np.array([value * rng.uniform(0.8, 1.25)], np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def corrupt_one_block(src: Path, dst: Path, tensor: str) -> Path:
    """Copy src to dst with the first block of `tensor` replaced (codes inverted, scale x64)."""
    reader = gguf.GGUFReader(src)
    t = next(t for t in reader.tensors if t.name == tensor)
    fmt = FORMATS[t.tensor_type.name.lower()]
    raw = bytearray(src.read_bytes())
    start = t.data_offset
    block = np.frombuffer(bytes(raw[start : start + fmt.type_size]), np.uint8)
    n = fmt.block_size
    values = -dequantize(block, fmt.name, (1, n)) * np.float32(64)
    raw[start : start + fmt.type_size] = quantize(values, fmt.name).tobytes()
    dst.write_bytes(bytes(raw))
    return dst
