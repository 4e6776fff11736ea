"""Source architectures: Hugging Face `architectures[0]` -> a ModelPlan (one module each)."""

from __future__ import annotations

from quantize.archs import bitnet, llama, qwen3
from quantize.checkpoint import Checkpoint
from quantize.errors import QuantizeError
from quantize.plan import ModelPlan

SUPPORTED = ("LlamaForCausalLM", "Qwen3ForCausalLM", "BitnetForCausalLM")


def build_plan(ckpt: Checkpoint, low_bit: bool, allow_ptq: bool) -> ModelPlan:
    """The conversion plan of a checkpoint; refuses architectures llama.cpp would compute wrongly."""
    arch = ckpt.architecture
    if arch == "LlamaForCausalLM":
        return llama.build(ckpt, low_bit=low_bit, allow_ptq=allow_ptq)
    if arch == "Qwen3ForCausalLM":
        return qwen3.build(ckpt, low_bit=low_bit, allow_ptq=allow_ptq)
    if arch == "BitnetForCausalLM":
        return bitnet.build(ckpt)
    if arch == "BitNetForCausalLM":
        raise QuantizeError(bitnet.REFUSED_2B4T)
    raise QuantizeError(f"unknown architecture {arch!r}: supported are {', '.join(SUPPORTED)}")
