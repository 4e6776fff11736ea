"""Export a trained checkpoint as a Hugging Face LlamaForCausalLM directory.

Linear weights of a ternary model are written unpacked (TriLM style) as codes x scale in
fp16, with the per-tensor scale itself rounded to fp16 first, so every stored value is
exactly one of {-s, 0, +s}. Embeddings, norms and lm_head are written as they are.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import torch
from safetensors.torch import save_file

from localagent.agent.reader_prompt import PLAIN, ReaderLayout
from quantize.qat.bitlinear import absmean_scale, ternary_codes
from quantize.qat.model import LlamaLM
from quantize.qat.tokenizer import BOS_ID, EOS_ID, write_hf_tokenizer_files

TERNARY_SUFFIXES = (
    "q_proj.weight",
    "k_proj.weight",
    "v_proj.weight",
    "o_proj.weight",
    "gate_proj.weight",
    "up_proj.weight",
    "down_proj.weight",
)


def ternary_export_weight(weight: torch.Tensor) -> torch.Tensor:
    """codes * fp16(s) as an fp16 tensor: exactly ternary x scale."""
    weight = weight.detach().float()
    scale = absmean_scale(weight)
    codes = ternary_codes(weight, scale)
    scale16 = scale.to(torch.float16)
    return codes.to(torch.float16) * scale16 + 0.0  # + 0.0 turns -0.0 into 0.0, as a packed block stores it


def export_state_dict(model: LlamaLM, dtype: torch.dtype = torch.float16) -> dict[str, torch.Tensor]:
    tensors = {}
    for name, tensor in model.state_dict().items():
        if model.cfg.ternary and name.endswith(TERNARY_SUFFIXES):
            tensors[name] = ternary_export_weight(tensor)
        elif tensor.dim() == 1:
            tensors[name] = tensor.detach().float().contiguous()  # norms stay fp32
        else:
            tensors[name] = tensor.detach().to(dtype).contiguous()
    return tensors


def hf_config(model: LlamaLM, role: str = "", layout: ReaderLayout = PLAIN) -> dict:
    cfg = model.cfg
    return (
        {
            "architectures": ["LlamaForCausalLM"],
            "model_type": "llama",
            "vocab_size": cfg.vocab_size,
            "hidden_size": cfg.hidden_size,
            "intermediate_size": cfg.intermediate_size,
            "num_hidden_layers": cfg.num_hidden_layers,
            "num_attention_heads": cfg.num_attention_heads,
            "num_key_value_heads": cfg.num_attention_heads,
            "head_dim": cfg.head_dim,
            "hidden_act": "silu",
            "max_position_embeddings": cfg.max_position_embeddings,
            "rms_norm_eps": cfg.rms_norm_eps,
            "rope_theta": cfg.rope_theta,
            "tie_word_embeddings": False,
            "attention_bias": False,
            "mlp_bias": False,
            "bos_token_id": BOS_ID,
            "eos_token_id": EOS_ID,
            "torch_dtype": "float16",
            "localagent_qat": {
                "recipe": "BitNet b1.58 (absmean ternary weights, per-token int8 activations)"
                if cfg.ternary
                else "full precision twin",
                "ternary": cfg.ternary,
            },
        }
        | ({"localagent_role": role} if role else {})
        | layout.config_keys()
    )


def export_hf(
    model: LlamaLM, tokenizer_model: Path, out_dir: Path, role: str = "", layout: ReaderLayout = PLAIN
) -> Path:
    """Write config.json, model.safetensors and tokenizer files into out_dir (replaced atomically)."""
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    save_file(export_state_dict(model), str(tmp / "model.safetensors"), metadata={"format": "pt"})
    (tmp / "config.json").write_text(json.dumps(hf_config(model, role, layout), indent=2) + "\n")
    write_hf_tokenizer_files(tokenizer_model, tmp, model.cfg.max_position_embeddings)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    os.replace(tmp, out_dir)
    return out_dir
