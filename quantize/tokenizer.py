"""Tokenizer files -> GGUF vocabulary keys.

- SentencePiece `tokenizer.model` (read with `sentencepiece`): tokens, scores, token types (byte
  fallback pieces are BYTE), GGUF tokenizer model "llama";
- Hugging Face BPE `tokenizer.json`: tokens, merges, GGUF tokenizer model "gpt2" with a
  `tokenizer.ggml.pre` llama.cpp knows (recognised from the pre-tokenizer regex, or --bpe-pre);
- special token ids, add-bos/eos flags and the chat template through gguf-py's SpecialVocab
  (tokenizer_config.json, tokenizer.json, config.json).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from gguf import GGUFWriter, SpecialVocab, TokenType

from quantize.errors import QuantizeError

LLAMA3_REGEX = (
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+"
    "[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
)
GPT2_REGEX = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"
QWEN2_REGEX = (
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+"
    "[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
)  # Qwen2 / Qwen3 (PrismML Bonsai)
KNOWN_PRE = {LLAMA3_REGEX: "llama-bpe", GPT2_REGEX: "gpt-2", QWEN2_REGEX: "qwen2"}


@dataclass
class Vocab:
    model: str  # GGUF tokenizer.ggml.model: llama / gpt2
    pre: str
    tokens: list[str]
    scores: list[float] | None
    types: list[TokenType]


def _added_tokens(directory: Path) -> dict[int, tuple[str, bool]]:
    """id -> (content, special) from tokenizer_config.json's added_tokens_decoder and added_tokens.json."""
    added: dict[int, tuple[str, bool]] = {}
    path = directory / "added_tokens.json"
    if path.is_file():
        for content, token_id in json.loads(path.read_text()).items():
            added[int(token_id)] = (content, False)
    path = directory / "tokenizer_config.json"
    if path.is_file():
        for token_id, data in (json.loads(path.read_text()).get("added_tokens_decoder") or {}).items():
            added[int(token_id)] = (data["content"], bool(data.get("special", False)))
    return added


def _pad(n_vocab: int, tokens: list[str], what: str) -> tuple[list[str], list[TokenType]]:
    if len(tokens) > n_vocab:
        raise QuantizeError(f"{what} has {len(tokens)} tokens, more than config.json vocab_size {n_vocab}")
    missing = n_vocab - len(tokens)
    return tokens + [f"[PAD{i}]" for i in range(len(tokens), n_vocab)], [TokenType.UNUSED] * missing


def sentencepiece_vocab(path: Path, n_vocab: int) -> Vocab:
    from sentencepiece import SentencePieceProcessor

    sp = SentencePieceProcessor()
    try:
        sp.LoadFromFile(str(path))
    except (OSError, RuntimeError) as e:
        raise QuantizeError(f"{path}: not a SentencePiece model ({str(e).splitlines()[0]})") from None
    tokens, scores, types = [], [], []
    for i in range(sp.vocab_size()):
        tokens.append(sp.IdToPiece(i))
        scores.append(float(sp.GetScore(i)))
        types.append(
            TokenType.UNKNOWN
            if sp.IsUnknown(i)
            else TokenType.CONTROL
            if sp.IsControl(i)
            else TokenType.UNUSED
            if sp.IsUnused(i)
            else TokenType.BYTE
            if sp.IsByte(i)
            else TokenType.NORMAL
        )
    tokens, pad_types = _pad(n_vocab, tokens, str(path))
    scores += [-10000.0] * len(pad_types)
    types += pad_types
    for token_id, (content, special) in _added_tokens(path.parent).items():
        if token_id >= sp.vocab_size() and token_id < n_vocab:  # pieces of the model itself keep their type
            tokens[token_id] = content
            types[token_id] = TokenType.CONTROL if special else TokenType.USER_DEFINED
    return Vocab(model="llama", pre="default", tokens=tokens, scores=scores, types=types)


def _splitters(node: object) -> list[str]:
    """The splitting steps of a tokenizer.json pre_tokenizer: regexes, or '?<type>' for other kinds."""
    if not isinstance(node, dict):
        return []
    kind = node.get("type")
    if kind == "Sequence":
        return [step for child in node.get("pretokenizers") or [] for step in _splitters(child)]
    if kind == "Split":
        pattern = node.get("pattern") or {}
        return [pattern["Regex"]] if isinstance(pattern, dict) and "Regex" in pattern else ["?Split"]
    if kind == "ByteLevel":
        return [GPT2_REGEX] if node.get("use_regex", True) else []
    return [f"?{kind}"]


def recognise_pre(pre_tokenizer: object) -> str | None:
    """The llama.cpp pre-tokenizer name for exactly one known regex split (+ byte-level), else None."""
    steps = _splitters(pre_tokenizer)
    return KNOWN_PRE.get(steps[0]) if len(steps) == 1 else None


def bpe_vocab(path: Path, n_vocab: int, pre: str | None) -> Vocab:
    try:
        data = json.loads(path.read_text())
        model = data["model"]
    except (ValueError, KeyError, TypeError) as e:
        raise QuantizeError(f"{path}: not a Hugging Face tokenizer.json ({e})") from None
    if model.get("type") != "BPE":
        raise QuantizeError(f"{path}: tokenizer model {model.get('type')!r} is not supported (BPE only)")
    if pre is None:
        pre = recognise_pre(data.get("pre_tokenizer"))
        if pre is None:
            raise QuantizeError(
                f"{path}: pre-tokenizer not recognised (known: llama-bpe, gpt-2, qwen2); "
                "pass --bpe-pre NAME with a name llama.cpp knows (e.g. falcon3, llama-bpe)"
            )
    by_id = {int(i): tok for tok, i in model["vocab"].items()}
    types_by_id = {i: TokenType.NORMAL for i in by_id}
    for added in data.get("added_tokens") or []:
        by_id[int(added["id"])] = added["content"]
        types_by_id[int(added["id"])] = TokenType.CONTROL if added.get("special") else TokenType.USER_DEFINED
    size = max(by_id) + 1 if by_id else 0
    if size > n_vocab:
        raise QuantizeError(f"{path} has {size} tokens, more than config.json vocab_size {n_vocab}")
    tokens = [by_id.get(i, f"[PAD{i}]") for i in range(n_vocab)]
    types = [types_by_id.get(i, TokenType.UNUSED) for i in range(n_vocab)]
    return Vocab(model="gpt2", pre=pre, tokens=tokens, scores=None, types=types)


def load_vocab(directory: Path, n_vocab: int, bpe_pre: str | None = None) -> Vocab:
    if (directory / "tokenizer.model").is_file():
        return sentencepiece_vocab(directory / "tokenizer.model", n_vocab)
    if (directory / "tokenizer.json").is_file():
        return bpe_vocab(directory / "tokenizer.json", n_vocab, bpe_pre)
    raise QuantizeError(f"{directory}: no tokenizer.model (SentencePiece) or tokenizer.json (BPE)")


def add_vocab(writer: GGUFWriter, directory: Path, vocab: Vocab) -> None:
    """Write the tokenizer keys; special ids come from tokenizer_config.json / config.json."""
    writer.add_tokenizer_model(vocab.model)
    writer.add_tokenizer_pre(vocab.pre)
    writer.add_token_list(vocab.tokens)
    if vocab.scores is not None:
        writer.add_token_scores(vocab.scores)
    writer.add_token_types(vocab.types)
    special = SpecialVocab(directory, load_merges=vocab.model == "gpt2", n_vocab=len(vocab.tokens))
    if vocab.model == "gpt2" and not special.merges:
        raise QuantizeError(f"{directory / 'tokenizer.json'}: BPE tokenizer without merges")
    if vocab.model == "llama":
        _spm_special_defaults(directory / "tokenizer.model", special)
    special.add_to_gguf(writer, quiet=True)


def _spm_special_defaults(path: Path, special: SpecialVocab) -> None:
    from sentencepiece import SentencePieceProcessor

    sp = SentencePieceProcessor()
    sp.LoadFromFile(str(path))
    for kind, token_id in (
        ("bos", sp.bos_id()),
        ("eos", sp.eos_id()),
        ("unk", sp.unk_id()),
        ("pad", sp.pad_id()),
    ):
        if token_id >= 0 and kind not in special.special_token_ids:
            special.special_token_ids[kind] = token_id
