"""Qwen3ForCausalLM (PrismML Bonsai's base) -> GGUF `qwen3`.

The LLaMA layout with three differences llama.cpp's qwen3 graph expects: per-head RMSNorm of Q and
K before RoPE (`self_attn.q_norm` / `k_norm`, head_dim wide -> `blk.N.attn_q_norm` / `attn_k_norm`),
NeoX RoPE (Q/K rows stay in Hugging Face's order, no permutation), and a head_dim of its own
(Qwen3-0.6B: 16 heads x 128 over a hidden size of 1024, written as attention.key_length). No
biases: a checkpoint with `attention_bias` is refused. Embeddings are usually tied (no output.weight).
Ternary weights, packed or unpacked, and --allow-ptq behave as for llama.
"""

from __future__ import annotations

from quantize.archs.llama import build_llama_like
from quantize.checkpoint import Checkpoint
from quantize.errors import QuantizeError
from quantize.plan import ModelPlan


def build(ckpt: Checkpoint, low_bit: bool, allow_ptq: bool) -> ModelPlan:
    if ckpt.config.get("attention_bias"):
        raise QuantizeError(
            "Qwen3ForCausalLM with attention_bias: llama.cpp's qwen3 graph has no Q/K/V biases"
        )
    return build_llama_like(
        ckpt,
        low_bit,
        allow_ptq,
        arch="qwen3",
        source_arch="Qwen3ForCausalLM",
        rope_interleaved=False,
        head_norms=True,
    )
