"""Start a QAT run from a GGUF file the project made (tern-18m): its weights as a torch state dict.

The shipped GGUF is the only copy of tern-18m's weights in the repository, and it is exact: the
ternary tensors dequantize (with the reference kernels) to codes x s, which is what BitLinear
computes in its forward pass, so a model loaded from them gives the same logits as the GGUF.
BitLinear's scale is mean|W|: loaded as codes x s, a tensor's mean|W| would be s times the share p
of its non-zero codes, and its forward pass would use codes x s x p (until session 8 it did: on
held-out prose the warm-started tern-reader then agreed with its GGUF on the next token 38% of the
time; now 97%, int8 activations being rounded per block there and per token here). So the
latent weights are codes x s / p: mean|W| is s again, and W / mean|W| rounds to the same codes.

Q and K rows are stored in ggml's interleaved RoPE order; they are permuted back to Hugging
Face's half-split order (the inverse of ``quantize.archs.common.rope_permuted``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from quantize.errors import QuantizeError

_LAYER_NAMES = {
    "attn_q": "self_attn.q_proj",
    "attn_k": "self_attn.k_proj",
    "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj",
    "ffn_gate": "mlp.gate_proj",
    "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj",
    "attn_norm": "input_layernorm",
    "ffn_norm": "post_attention_layernorm",
}


def hf_name(gguf_name: str) -> str:
    """GGUF tensor name -> Hugging Face LlamaForCausalLM parameter name."""
    if gguf_name == "token_embd.weight":
        return "model.embed_tokens.weight"
    if gguf_name == "output_norm.weight":
        return "model.norm.weight"
    if gguf_name == "output.weight":
        return "lm_head.weight"
    parts = gguf_name.split(".")
    if len(parts) == 4 and parts[0] == "blk" and parts[2] in _LAYER_NAMES:
        return f"model.layers.{parts[1]}.{_LAYER_NAMES[parts[2]]}.{parts[3]}"
    raise QuantizeError(f"unexpected tensor {gguf_name!r} in a llama GGUF")


def unpermute_rope(rows: np.ndarray, head_dim: int) -> np.ndarray:
    """ggml's interleaved Q/K row order back to Hugging Face's half-split order."""
    return rows.reshape(-1, head_dim // 2, 2, rows.shape[-1]).swapaxes(1, 2).reshape(rows.shape)


def read_gguf_weights(path: Path) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """float32 arrays keyed by Hugging Face name, plus the model's shape (hidden, layers, heads, ...)."""
    from gguf import GGUFReader

    import kernels

    reader = GGUFReader(str(path))
    arch = str(bytes(reader.fields["general.architecture"].parts[-1]), "utf-8")
    if arch != "llama":
        raise QuantizeError(f"{path}: architecture {arch!r}; only llama GGUFs can start a QAT run")

    def scalar(key: str) -> int:
        return int(reader.fields[f"llama.{key}"].parts[-1][0])

    shape = {
        "hidden_size": scalar("embedding_length"),
        "intermediate_size": scalar("feed_forward_length"),
        "num_hidden_layers": scalar("block_count"),
        "num_attention_heads": scalar("attention.head_count"),
        "vocab_size": int(reader.tensors[0].shape[-1])
        if reader.tensors[0].name == "token_embd.weight"
        else 0,
    }
    head_dim = shape["hidden_size"] // shape["num_attention_heads"]
    weights = {}
    for tensor in reader.tensors:
        rows_cols = tuple(int(d) for d in reversed(tensor.shape))
        qtype = tensor.tensor_type.name.lower()
        if qtype in ("f32", "f16"):
            array = np.asarray(tensor.data, dtype=np.float32).reshape(rows_cols)
        else:
            array = kernels.dequantize(np.asarray(tensor.data), qtype, rows_cols)
            if qtype in ("tq1_0", "tq2_0") and (share := np.count_nonzero(array) / array.size):
                array = array / np.float32(share)  # BitLinear's mean|W| is then the GGUF's scale
        if tensor.name.endswith(("attn_q.weight", "attn_k.weight")):
            array = unpermute_rope(array, head_dim)
        weights[hf_name(tensor.name)] = array
    shape["vocab_size"] = weights["model.embed_tokens.weight"].shape[0]
    if "lm_head.weight" not in weights:
        weights["lm_head.weight"] = weights["model.embed_tokens.weight"]
    return weights, shape


# the projections that write a layer's output into the residual stream
_RESIDUAL_WRITERS = ("self_attn.o_proj.weight", "mlp.down_proj.weight")


def grow_layers(weights: dict[str, np.ndarray], layers: int, new_layers: int) -> dict[str, np.ndarray]:
    """A deeper model that computes exactly what ``weights`` compute: each of the ``layers`` layers
    is followed by copies of itself (``new_layers`` must be a multiple of ``layers``) whose output
    projections are zero, so every copy adds nothing to the residual stream until training moves
    those projections. A ternary layer with all-zero weights quantizes to zero codes; the latent
    weights still receive gradients, so the copies start learning at once."""
    if new_layers <= layers or new_layers % layers:
        raise QuantizeError(f"--grow-layers {new_layers}: must be a larger multiple of the {layers} layers")
    factor = new_layers // layers
    grown = {name: value for name, value in weights.items() if not name.startswith("model.layers.")}
    for name, value in weights.items():
        if not name.startswith("model.layers."):
            continue
        _, _, index, rest = name.split(".", 3)
        for copy in range(factor):
            zero = copy > 0 and rest.endswith(_RESIDUAL_WRITERS)
            grown[f"model.layers.{int(index) * factor + copy}.{rest}"] = (
                np.zeros_like(value) if zero else value
            )
    return grown


def write_sentencepiece_model(gguf_path: Path, out: Path) -> Path:
    """Rebuild a SentencePiece ``tokenizer.model`` from a llama GGUF's vocabulary (pieces, scores,
    types), so a model trained from that GGUF exports with the very same tokenizer."""
    import importlib

    from gguf import GGUFReader

    sp_pb2: Any = importlib.import_module("sentencepiece.sentencepiece_model_pb2")  # generated protobuf
    reader = GGUFReader(str(gguf_path))

    def array(key: str) -> list:
        field = reader.fields[key]
        return [field.parts[i] for i in field.data]

    tokens = [bytes(p).decode("utf-8") for p in array("tokenizer.ggml.tokens")]
    scores = [float(p[0]) for p in array("tokenizer.ggml.scores")]
    types = [int(p[0]) for p in array("tokenizer.ggml.token_type")]
    proto = sp_pb2.ModelProto()
    proto.trainer_spec.model_type = sp_pb2.TrainerSpec.BPE  # as quantize.qat.tokenizer trains it
    proto.trainer_spec.byte_fallback = 6 in types
    proto.normalizer_spec.name = "identity"
    proto.normalizer_spec.add_dummy_prefix = True
    proto.normalizer_spec.remove_extra_whitespaces = False
    proto.trainer_spec.split_digits = True
    for piece, score, kind in zip(tokens, scores, types, strict=True):
        entry = proto.pieces.add()
        entry.piece, entry.score, entry.type = piece, score, kind
    out.write_bytes(proto.SerializeToString())
    return out
