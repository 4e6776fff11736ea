"""LlamaForCausalLM -> GGUF `llama`.

Three kinds of checkpoint share this layout:
- ternary x scale stored unpacked in float (SpectraSuite TriLM, this project's QAT export): packed
  losslessly into TQ1_0 / TQ2_0;
- `quantization_config.quant_method == "bitnet"`: uint8-packed codes + `weight_scale`
  (Falcon3-1.58bit, Falcon-E), unpacked by archs/packed.py;
- full precision: only with --allow-ptq for ternary/binary types (per-tensor absmean ternarization).
"""

from __future__ import annotations

from quantize.archs.common import (
    LlamaShape,
    check_all_used,
    check_shape,
    float_reader,
    plain,
    rope_permuted,
    ternarized,
)
from quantize.archs.packed import packed_reader
from quantize.checkpoint import Checkpoint
from quantize.errors import QuantizeError
from quantize.plan import EMBED, LINEAR, NORM, OUTPUT, ModelPlan, TensorPlan
from quantize.policy import OFF_GRID_LIMIT, off_grid_count

PTQ_WARNING = (
    "warning: post-training ternarization of a full-precision model ruins its quality "
    "(Gemma-3-270M went from perplexity 21 to 1.8e11); use a ternary-trained checkpoint"
)

# (Hugging Face suffix inside model.layers.N., GGUF name inside blk.N., role)
LAYER_NORMS = [
    ("input_layernorm.weight", "attn_norm.weight"),
    ("post_attention_layernorm.weight", "ffn_norm.weight"),
]
HEAD_NORMS = [
    ("self_attn.q_norm.weight", "attn_q_norm.weight"),
    ("self_attn.k_norm.weight", "attn_k_norm.weight"),
]
LAYER_LINEARS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
GGUF_LINEAR = {
    "q_proj": "attn_q",
    "k_proj": "attn_k",
    "v_proj": "attn_v",
    "o_proj": "attn_output",
    "gate_proj": "ffn_gate",
    "up_proj": "ffn_up",
    "down_proj": "ffn_down",
}
HF_MODULE = {
    "q_proj": "self_attn",
    "k_proj": "self_attn",
    "v_proj": "self_attn",
    "o_proj": "self_attn",
    "gate_proj": "mlp",
    "up_proj": "mlp",
    "down_proj": "mlp",
}


def linear_shapes(s: LlamaShape) -> dict[str, tuple[int, int]]:
    q, kv = s.n_heads * s.head_dim, s.n_kv_heads * s.head_dim
    return {
        "q_proj": (q, s.hidden),
        "k_proj": (kv, s.hidden),
        "v_proj": (kv, s.hidden),
        "o_proj": (s.hidden, q),
        "gate_proj": (s.ffn, s.hidden),
        "up_proj": (s.ffn, s.hidden),
        "down_proj": (s.hidden, s.ffn),
    }


def is_bitnet_packed(config: dict) -> bool:
    qc = config.get("quantization_config") or {}
    return isinstance(qc, dict) and qc.get("quant_method") == "bitnet"


def looks_ternary(ckpt: Checkpoint, name: str) -> tuple[bool, float]:
    """Whether a float linear weight is ternary x scale, judged on its first rows."""
    t = ckpt.tensor(name)
    sample = float_reader(t)(0, min(t.n_rows, 256))
    frac = off_grid_count(sample) / sample.size
    return frac <= OFF_GRID_LIMIT, frac


def build(ckpt: Checkpoint, low_bit: bool, allow_ptq: bool) -> ModelPlan:
    return build_llama_like(ckpt, low_bit, allow_ptq, arch="llama", source_arch="LlamaForCausalLM")


def build_llama_like(
    ckpt: Checkpoint,
    low_bit: bool,
    allow_ptq: bool,
    arch: str,
    source_arch: str,
    rope_interleaved: bool = True,
    head_norms: bool = False,
) -> ModelPlan:
    """The LLaMA layout under GGUF architecture `arch`. rope_interleaved: permute Q/K rows to GGML's
    adjacent-pair RoPE (llama); False keeps Hugging Face's half-split order (NeoX RoPE, qwen3).
    head_norms: per-head RMSNorm weights self_attn.q_norm / k_norm (head_dim each, qwen3)."""
    s = LlamaShape.from_config(ckpt.config)
    packed = is_bitnet_packed(ckpt.config)
    plan = ModelPlan(
        arch=arch,
        source_arch=source_arch + (" (bitnet uint8-packed)" if packed else ""),
        hparams=s.hparams(arch),
    )
    ptq = False
    if not packed and low_bit:
        probe = "model.layers.0.self_attn.q_proj.weight"
        ternary, frac = looks_ternary(ckpt, probe)
        if not ternary:
            if not allow_ptq:
                raise QuantizeError(
                    f"weights are full precision, not ternary x scale ({frac:.0%} of {probe} off the ternary "
                    "grid): post-training ternarization ruins quality (Gemma-3-270M: perplexity 21 -> 1.8e11); "
                    "use --type q8_0/f16, or --allow-ptq to do it anyway"
                )
            ptq = True
            plan.notes.append(PTQ_WARNING)
    plan.source_arch += " (full precision, PTQ absmean)" if ptq else ""

    used: set[str] = set()
    embed = plain(ckpt, "model.embed_tokens.weight", "token_embd.weight", EMBED, (s.vocab, s.hidden))
    plan.tensors.append(embed)
    shapes = linear_shapes(s)
    for i in range(s.n_layers):
        hf, gg = f"model.layers.{i}.", f"blk.{i}."
        for hf_norm, gg_norm in LAYER_NORMS:
            plan.tensors.append(plain(ckpt, hf + hf_norm, gg + gg_norm, NORM, (s.hidden,)))
        if head_norms:
            for hf_norm, gg_norm in HEAD_NORMS:
                plan.tensors.append(plain(ckpt, hf + hf_norm, gg + gg_norm, NORM, (s.head_dim,)))
        for proj in LAYER_LINEARS:
            name = f"{hf}{HF_MODULE[proj]}.{proj}.weight"
            rows, cols = shapes[proj]
            if packed:
                read = packed_reader(ckpt, name, rows, cols)
                used.add(name + "_scale")
                dtype = "U8 packed"
            else:
                t = ckpt.tensor(name)
                check_shape(t, (rows, cols))
                read, dtype = float_reader(t), t.dtype
                if ptq:
                    read = ternarized(read, rows, cols)
            align = 1
            if rope_interleaved and proj in ("q_proj", "k_proj"):
                read, align = rope_permuted(read, s.head_dim), s.head_dim
            plan.tensors.append(
                TensorPlan(
                    name=f"{gg}{GGUF_LINEAR[proj]}.weight",
                    source=name,
                    source_dtype=dtype,
                    shape=(rows, cols),
                    role=LINEAR,
                    read_rows=read,
                    row_align=align,
                )
            )
    plan.tensors.append(plain(ckpt, "model.norm.weight", "output_norm.weight", NORM, (s.hidden,)))
    if ckpt.has("lm_head.weight") and not s.tied:
        plan.tensors.append(plain(ckpt, "lm_head.weight", "output.weight", OUTPUT, (s.vocab, s.hidden)))
    used.update(t.source for t in plan.tensors)
    if s.tied:
        used.add("lm_head.weight")
    check_all_used(ckpt, used, source_arch)
    return plan
