"""BitnetForCausalLM (1bitLLM bitnet_b1_58-*) -> GGUF `bitnet` with sub-norms.

Latent float weights are ternarized per tensor with absmean (as the model was trained, and as
convert_hf_to_gguf's BitnetModel.weight_quant does). llama.cpp's `bitnet` graph uses NEOX RoPE
(no Q/K permutation), SiLU-gated FFN, and the token embeddings as output head (no output tensor).
"""

from __future__ import annotations

from quantize.archs.common import LlamaShape, check_all_used, check_shape, float_reader, plain, ternarized
from quantize.archs.llama import GGUF_LINEAR, HF_MODULE, LAYER_LINEARS, LAYER_NORMS, linear_shapes
from quantize.checkpoint import Checkpoint
from quantize.errors import QuantizeError
from quantize.plan import EMBED, LINEAR, NORM, ModelPlan, TensorPlan

REFUSED_2B4T = (
    "BitNetForCausalLM (bitnet-b1.58-2B-4T) uses a gated squared-ReLU FFN, but the llama.cpp "
    "shipped here hard-codes gated SiLU in its `bitnet` graph: the converted model would compute "
    "wrong outputs, so it is refused"
)


def build(ckpt: Checkpoint) -> ModelPlan:
    s = LlamaShape.from_config(ckpt.config)
    if s.n_heads * s.head_dim != s.hidden:
        raise QuantizeError(
            "BitnetForCausalLM: llama.cpp's bitnet graph needs heads x head_dim == hidden_size"
        )
    if ckpt.has("lm_head.weight") and not s.tied:
        raise QuantizeError(
            "BitnetForCausalLM: untied lm_head.weight is not supported: llama.cpp's bitnet "
            "graph uses the token embeddings as output head"
        )
    plan = ModelPlan(
        arch="bitnet", source_arch="BitnetForCausalLM (absmean ternarization)", hparams=s.hparams("bitnet")
    )
    plan.hparams["bitnet.rope.scaling.type"] = "linear"
    plan.hparams["bitnet.rope.scaling.factor"] = 1.0
    plan.tensors.append(
        plain(ckpt, "model.embed_tokens.weight", "token_embd.weight", EMBED, (s.vocab, s.hidden))
    )
    shapes = linear_shapes(s)
    for i in range(s.n_layers):
        hf, gg = f"model.layers.{i}.", f"blk.{i}."
        for hf_norm, gg_norm in LAYER_NORMS:
            plan.tensors.append(plain(ckpt, hf + hf_norm, gg + gg_norm, NORM, (s.hidden,)))
        plan.tensors.append(
            plain(ckpt, hf + "self_attn.inner_attn_ln.weight", gg + "attn_sub_norm.weight", NORM, (s.hidden,))
        )
        plan.tensors.append(
            plain(ckpt, hf + "mlp.ffn_layernorm.weight", gg + "ffn_sub_norm.weight", NORM, (s.ffn,))
        )
        for proj in LAYER_LINEARS:
            name = f"{hf}{HF_MODULE[proj]}.{proj}.weight"
            rows, cols = shapes[proj]
            t = ckpt.tensor(name)
            check_shape(t, (rows, cols))
            plan.tensors.append(
                TensorPlan(
                    name=f"{gg}{GGUF_LINEAR[proj]}.weight",
                    source=name,
                    source_dtype=t.dtype,
                    shape=(rows, cols),
                    role=LINEAR,
                    read_rows=ternarized(float_reader(t), rows, cols),
                )
            )
    plan.tensors.append(plain(ckpt, "model.norm.weight", "output_norm.weight", NORM, (s.hidden,)))
    check_all_used(ckpt, {t.source for t in plan.tensors} | {"lm_head.weight"}, "BitnetForCausalLM")
    return plan
