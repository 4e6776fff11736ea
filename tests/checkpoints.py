"""Tiny, format-faithful Hugging Face checkpoints for the quantizer tests (and the QAT tests).

Safetensors are written by the `safetensors` package, SentencePiece tokenizers are trained with
`sentencepiece`, BPE tokenizer.json files are byte-level GPT-2 style, Falcon-style weights are
uint8-packed with an inverse `weight_scale`.
"""

from __future__ import annotations

import dataclasses
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

from quantize.archs.packed import pack_codes

CORPUS = [
    "the quick brown fox jumps over the lazy dog",
    "a ternary model stores each weight as minus one, zero or plus one",
    "llama.cpp runs quantized models on the cpu with low bit kernels",
    "documents are split into chunks and indexed for search",
    "the answer cites the file and the page where it was found",
    "numbers like 12345 and 678 appear in text too",
] * 20


@dataclass(frozen=True)
class TinyShape:
    hidden: int = 256
    n_layers: int = 2
    n_heads: int = 4
    n_kv_heads: int = 2
    ffn: int = 512
    vocab: int = 320
    head_size: int = 0  # 0: hidden / n_heads (Qwen3 sets its own)

    @property
    def head_dim(self) -> int:
        return self.head_size or self.hidden // self.n_heads


def train_sentencepiece(vocab_size: int = 320) -> bytes:
    """A tiny SentencePiece (BPE, byte fallback) model trained on CORPUS, as bytes."""
    import sentencepiece as spm

    out = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(CORPUS),
        model_writer=out,
        vocab_size=vocab_size,
        model_type="bpe",
        byte_fallback=True,
        character_coverage=1.0,
        num_threads=1,
        minloglevel=2,
    )
    return out.getvalue()


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte -> printable character table (byte-level BPE)."""
    bs = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs), strict=True))


def bpe_tokenizer_json(merges_wanted: int = 40) -> tuple[dict, int]:
    """A byte-level BPE tokenizer.json (GPT-2 pre-tokenizer) with merges learnt greedily from CORPUS."""
    table = bytes_to_unicode()
    vocab = {table[b]: i for i, b in enumerate(range(256))}
    words: dict[tuple[str, ...], int] = {}
    for line in CORPUS:
        for w in line.split(" "):
            key = tuple(table[b] for b in (" " + w).encode())
            words[key] = words.get(key, 0) + 1
    merges = []
    for _ in range(merges_wanted):
        pairs: dict[tuple[str, str], int] = {}
        for w, c in words.items():
            for a, b in zip(w, w[1:], strict=False):
                pairs[(a, b)] = pairs.get((a, b), 0) + c
        if not pairs:
            break
        best = max(pairs, key=lambda p: (pairs[p], p))
        merges.append(f"{best[0]} {best[1]}")
        vocab[best[0] + best[1]] = len(vocab)
        new_words = {}
        for w, c in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new_words[tuple(out)] = c
        words = new_words
    eos_id = len(vocab)
    doc = {
        "version": "1.0",
        "added_tokens": [
            {
                "id": eos_id,
                "content": "<|endoftext|>",
                "special": True,
                "single_word": False,
                "lstrip": False,
                "rstrip": False,
                "normalized": False,
            }
        ],
        "normalizer": None,
        "pre_tokenizer": {
            "type": "ByteLevel",
            "add_prefix_space": False,
            "trim_offsets": True,
            "use_regex": True,
        },
        "decoder": {"type": "ByteLevel"},
        "model": {"type": "BPE", "vocab": vocab, "merges": merges, "dropout": None, "unk_token": None},
    }
    return doc, eos_id + 1


def ternary(rng: np.random.Generator, shape: tuple[int, int], scale: float) -> tuple[np.ndarray, np.ndarray]:
    """(codes in {-1,0,1}, codes x scale in float32) with the scale exactly representable in fp16."""
    codes = rng.integers(-1, 2, size=shape).astype(np.float32)
    return codes, codes * np.float32(np.float16(scale))


def _linear_shapes(s: TinyShape) -> dict[str, tuple[int, int]]:
    q, kv = s.n_heads * s.head_dim, s.n_kv_heads * s.head_dim
    return {
        "self_attn.q_proj": (q, s.hidden),
        "self_attn.k_proj": (kv, s.hidden),
        "self_attn.v_proj": (kv, s.hidden),
        "self_attn.o_proj": (s.hidden, q),
        "mlp.gate_proj": (s.ffn, s.hidden),
        "mlp.up_proj": (s.ffn, s.hidden),
        "mlp.down_proj": (s.hidden, s.ffn),
    }


def llama_config(s: TinyShape, arch: str = "LlamaForCausalLM", **extra: object) -> dict:
    return {
        "architectures": [arch],
        "model_type": "llama",
        "hidden_size": s.hidden,
        "num_hidden_layers": s.n_layers,
        "num_attention_heads": s.n_heads,
        "num_key_value_heads": s.n_kv_heads,
        "intermediate_size": s.ffn,
        "vocab_size": s.vocab,
        "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0,
        "max_position_embeddings": 256,
        "tie_word_embeddings": False,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "torch_dtype": "float16",
        **extra,
    }


def save_safetensors(tensors: dict[str, np.ndarray], path: Path, bf16: bool = False) -> None:
    """safetensors.numpy.save_file, or with bf16=True floating tensors stored as BF16 (truncated)."""
    if not bf16:
        save_file(tensors, str(path), metadata={"format": "pt"})
        return
    from safetensors import TensorSpec, serialize_file

    keep, specs = [], {}
    for name, a in tensors.items():
        a = np.ascontiguousarray(a)
        if a.dtype.kind == "f":
            a = (a.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
            dtype = "bfloat16"
        else:
            dtype = a.dtype.name
        keep.append(a)
        specs[name] = TensorSpec(dtype=dtype, shape=list(a.shape), data_ptr=a.ctypes.data, data_len=a.nbytes)
    serialize_file(specs, str(path), metadata={"format": "pt"})


def _save(
    directory: Path,
    tensors: dict[str, np.ndarray],
    config: dict,
    sp_model: bytes | None,
    shards: int = 1,
    bf16: bool = False,
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(config, indent=1))
    if sp_model is not None:
        (directory / "tokenizer.model").write_bytes(sp_model)
        (directory / "tokenizer_config.json").write_text(
            json.dumps(
                {
                    "add_bos_token": True,
                    "add_eos_token": False,
                    "bos_token": "<s>",
                    "eos_token": "</s>",
                    "chat_template": "{% for m in messages %}{{ m['content'] }}{% endfor %}",
                }
            )
        )
    names = list(tensors)
    if shards == 1:
        save_safetensors(tensors, directory / "model.safetensors", bf16)
        return directory
    weight_map = {}
    for k in range(shards):
        part = names[k::shards]
        fname = f"model-{k + 1:05d}-of-{shards:05d}.safetensors"
        save_safetensors({n: tensors[n] for n in part}, directory / fname, bf16)
        weight_map.update({n: fname for n in part})
    (directory / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {}, "weight_map": weight_map})
    )
    return directory


def make_llama(
    directory: Path,
    sp_model: bytes | None,
    kind: str = "trilm",
    s: TinyShape = TinyShape(),
    seed: int = 0,
    dtype: type = np.float16,
    shards: int = 1,
    vocab: int | None = None,
    bf16: bool = False,
) -> Path:
    """A tiny LlamaForCausalLM: kind = trilm (ternary x scale, unpacked), falcon (uint8 packed + weight_scale),
    fp (full precision), bitnet (1bitLLM BitnetForCausalLM latent weights with sub-norms), or qwen3
    (Qwen3ForCausalLM, ternary x scale like Bonsai: per-head q_norm / k_norm, head_dim in the config,
    tied embeddings)."""
    rng = np.random.default_rng(seed)
    if vocab is not None:
        s = dataclasses.replace(s, vocab=vocab)
    t: dict[str, np.ndarray] = {
        "model.embed_tokens.weight": (rng.standard_normal((s.vocab, s.hidden)) * 0.5).astype(dtype),
        "model.norm.weight": np.ones(s.hidden, dtype=dtype),
        "lm_head.weight": (rng.standard_normal((s.vocab, s.hidden)) * 0.05).astype(dtype),
    }
    for i in range(s.n_layers):
        p = f"model.layers.{i}."
        t[p + "input_layernorm.weight"] = (1 + 0.1 * rng.standard_normal(s.hidden)).astype(dtype)
        t[p + "post_attention_layernorm.weight"] = (1 + 0.1 * rng.standard_normal(s.hidden)).astype(dtype)
        if kind == "qwen3":
            t[p + "self_attn.q_norm.weight"] = (1 + 0.1 * rng.standard_normal(s.head_dim)).astype(dtype)
            t[p + "self_attn.k_norm.weight"] = (1 + 0.1 * rng.standard_normal(s.head_dim)).astype(dtype)
        if kind == "bitnet":
            t[p + "self_attn.inner_attn_ln.weight"] = (1 + 0.1 * rng.standard_normal(s.hidden)).astype(dtype)
            t[p + "mlp.ffn_layernorm.weight"] = (1 + 0.1 * rng.standard_normal(s.ffn)).astype(dtype)
        for name, shape in _linear_shapes(s).items():
            scale = 1.0 / np.sqrt(shape[1])
            codes, w = ternary(rng, shape, scale)
            if kind == "falcon":
                t[p + name + ".weight"] = pack_codes(codes)
                t[p + name + ".weight_scale"] = np.array([1.0 / float(np.float16(scale))], dtype=np.float32)
            elif kind in ("fp", "bitnet"):
                t[p + name + ".weight"] = (rng.standard_normal(shape) * scale).astype(dtype)
            else:
                t[p + name + ".weight"] = w.astype(dtype)
    if kind == "bitnet":
        config = llama_config(s, "BitnetForCausalLM", tie_word_embeddings=True)
        del t["lm_head.weight"]
    elif kind == "qwen3":
        config = llama_config(
            s,
            "Qwen3ForCausalLM",
            model_type="qwen3",
            head_dim=s.head_dim,
            tie_word_embeddings=True,
            attention_bias=False,
            rope_theta=1000000.0,
        )
        del t["lm_head.weight"]
    elif kind == "falcon":
        config = llama_config(
            s,
            quantization_config={
                "quant_method": "bitnet",
                "linear_class": "autobitlinear",
                "quantization_mode": "offline",
            },
        )
    else:
        config = llama_config(s)
    return _save(directory, t, config, sp_model, shards=shards, bf16=bf16)


def make_bpe_llama(directory: Path, seed: int = 0) -> Path:
    """A tiny ternary LlamaForCausalLM with a byte-level BPE tokenizer.json (no tokenizer.model)."""
    doc, n_vocab = bpe_tokenizer_json()
    make_llama(directory, None, kind="trilm", seed=seed, vocab=n_vocab)
    (directory / "tokenizer.json").write_text(json.dumps(doc))
    (directory / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "bos_token": None,
                "eos_token": "<|endoftext|>",
                "add_bos_token": False,
                "added_tokens_decoder": {str(n_vocab - 1): {"content": "<|endoftext|>", "special": True}},
            }
        )
    )
    return directory


def write_sharded_ternary_llama(
    directory: Path, shape: TinyShape, seed: int = 0, **config: object
) -> tuple[int, int]:
    """A TriLM-style fp16 checkpoint (ternary codes x 1/sqrt(cols)), one safetensors shard per layer,
    random embeddings and head, a small SentencePiece tokenizer: for the benchmarks, which need
    realistic sizes (hundreds of MB). Returns (total tensor bytes, largest tensor bytes)."""
    import sentencepiece as spm

    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(llama_config(shape, **config)))
    sp = train_sentencepiece(320)
    (directory / "tokenizer.model").write_bytes(sp)
    assert spm.SentencePieceProcessor(model_proto=sp).vocab_size() <= shape.vocab

    def normal(rows: int, cols: int) -> np.ndarray:
        return rng.standard_normal((rows, cols), dtype=np.float32).astype(np.float16)

    shards: list[dict[str, np.ndarray]] = [
        {
            "model.embed_tokens.weight": normal(shape.vocab, shape.hidden),
            "model.norm.weight": np.ones(shape.hidden, np.float16),
        }
    ]
    for i in range(shape.n_layers):
        p = f"model.layers.{i}."
        layer = {
            p + "input_layernorm.weight": np.ones(shape.hidden, np.float16),
            p + "post_attention_layernorm.weight": np.ones(shape.hidden, np.float16),
        }
        for name, (rows, cols) in _linear_shapes(shape).items():
            codes = rng.integers(-1, 2, size=(rows, cols), dtype=np.int8)
            layer[p + name + ".weight"] = codes.astype(np.float16) * np.float16(1 / np.sqrt(cols))
        shards.append(layer)
    shards.append({"lm_head.weight": normal(shape.vocab, shape.hidden)})
    weight_map, total, largest = {}, 0, 0
    for k, tensors in enumerate(shards):
        fname = f"model-{k + 1:05d}-of-{len(shards):05d}.safetensors"
        save_safetensors(tensors, directory / fname)
        for n, a in tensors.items():
            weight_map[n] = fname
            total += a.nbytes
            largest = max(largest, a.nbytes)
    (directory / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {}, "weight_map": weight_map})
    )
    return total, largest
