"""A numpy forward pass of a Hugging Face LLaMA / Qwen3 / 1bitLLM Bitnet checkpoint, written from the
Hugging Face modelling code (rotate-half RoPE, GQA, SiLU-gated FFN, optional BitNet sub-norms,
Qwen3's per-head q_norm / k_norm and head_dim).

Independent of the converter: it reads the safetensors directly, so comparing it with llama.cpp on
the converted GGUF checks the name mapping, the Q/K RoPE permutation and the sub-norm placement.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file


def _rmsnorm(x: np.ndarray, w: np.ndarray, eps: float) -> np.ndarray:
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w


def _rope(x: np.ndarray, theta: float) -> np.ndarray:
    """x: (heads, seq, dim), Hugging Face rotate_half convention."""
    dim, seq = x.shape[-1], x.shape[-2]
    inv = 1.0 / theta ** (np.arange(0, dim, 2, dtype=np.float64) / dim)
    ang = np.outer(np.arange(seq), inv)
    cos, sin = np.cos(np.concatenate([ang, ang], -1)), np.sin(np.concatenate([ang, ang], -1))
    half = dim // 2
    rotated = np.concatenate([-x[..., half:], x[..., :half]], -1)
    return x * cos + rotated * sin


def _absmean(w: np.ndarray) -> np.ndarray:
    s = max(float(np.abs(w).mean()), 1e-5)
    return np.clip(np.round(w / s), -1, 1) * s


def hf_logits(ckpt: Path, tokens: list[int]) -> np.ndarray:
    cfg = json.loads((ckpt / "config.json").read_text())
    t = {k: v.astype(np.float64) for k, v in load_file(str(ckpt / "model.safetensors")).items()}
    bitnet = cfg["architectures"][0] == "BitnetForCausalLM"
    n_h, n_kv = cfg["num_attention_heads"], cfg.get("num_key_value_heads") or cfg["num_attention_heads"]
    eps, theta = cfg["rms_norm_eps"], cfg.get("rope_theta", 10000.0)
    hd = cfg.get("head_dim") or cfg["hidden_size"] // n_h

    def w(name: str) -> np.ndarray:
        m = t[name]
        return _absmean(m) if bitnet and name.endswith("proj.weight") else m

    x = t["model.embed_tokens.weight"][tokens]
    seq = len(tokens)
    mask = np.triu(np.full((seq, seq), -np.inf), 1)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = _rmsnorm(x, t[p + "input_layernorm.weight"], eps)
        q = (h @ w(p + "self_attn.q_proj.weight").T).reshape(seq, n_h, hd).transpose(1, 0, 2)
        k = (h @ w(p + "self_attn.k_proj.weight").T).reshape(seq, n_kv, hd).transpose(1, 0, 2)
        v = (h @ w(p + "self_attn.v_proj.weight").T).reshape(seq, n_kv, hd).transpose(1, 0, 2)
        if p + "self_attn.q_norm.weight" in t:  # Qwen3: RMSNorm of each head before RoPE
            q = _rmsnorm(q, t[p + "self_attn.q_norm.weight"], eps)
            k = _rmsnorm(k, t[p + "self_attn.k_norm.weight"], eps)
        q, k = _rope(q, theta), _rope(k, theta)
        k, v = np.repeat(k, n_h // n_kv, 0), np.repeat(v, n_h // n_kv, 0)
        s = q @ k.transpose(0, 2, 1) / np.sqrt(hd) + mask
        a = np.exp(s - s.max(-1, keepdims=True))
        o = ((a / a.sum(-1, keepdims=True)) @ v).transpose(1, 0, 2).reshape(seq, n_h * hd)
        if bitnet:
            o = _rmsnorm(o, t[p + "self_attn.inner_attn_ln.weight"], eps)
        x = x + o @ w(p + "self_attn.o_proj.weight").T
        h = _rmsnorm(x, t[p + "post_attention_layernorm.weight"], eps)
        g = h @ w(p + "mlp.gate_proj.weight").T
        g = g / (1 + np.exp(-g)) * (h @ w(p + "mlp.up_proj.weight").T)
        if bitnet:
            g = _rmsnorm(g, t[p + "mlp.ffn_layernorm.weight"], eps)
        x = x + g @ w(p + "mlp.down_proj.weight").T
    x = _rmsnorm(x, t["model.norm.weight"], eps)
    head = t["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else t["lm_head.weight"]
    return x @ head.T
