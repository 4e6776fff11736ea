"""Train the model's SentencePiece tokenizer (LLaMA-style BPE with byte fallback) and tokenize text.

Settings mirror the LLaMA tokenizer so that llama.cpp's SPM tokenizer reproduces the ids:
identity normalisation, a dummy prefix, whitespace kept, unk=0, bos=1, eos=2, byte fallback.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import sentencepiece as spm

from quantize.qat.corpus import read_documents

BOS_ID, EOS_ID = 1, 2


def train_tokenizer(
    train_text: Path, model_path: Path, vocab_size: int = 4096, max_sentences: int = 0
) -> Path:
    """Train a BPE SentencePiece model on the lines of train_text (all of them when max_sentences is 0)."""
    buffer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        input=str(train_text),
        model_writer=buffer,
        model_type="bpe",
        vocab_size=vocab_size,
        character_coverage=0.9995,
        byte_fallback=True,
        split_digits=True,
        allow_whitespace_only_pieces=True,
        remove_extra_whitespaces=False,
        normalization_rule_name="identity",
        add_dummy_prefix=True,
        unk_id=0,
        bos_id=BOS_ID,
        eos_id=EOS_ID,
        pad_id=-1,
        input_sentence_size=max_sentences,
        shuffle_input_sentence=False,
        num_threads=1,
        max_sentence_length=16384,
        minloglevel=2,
    )
    model_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = model_path.with_name(model_path.name + ".tmp")
    tmp.write_bytes(buffer.getvalue())
    tmp.replace(model_path)
    return model_path


def load_tokenizer(model_path: Path) -> spm.SentencePieceProcessor:
    return spm.SentencePieceProcessor(model_file=str(model_path))


def encode_corpus(corpus_file: Path, model_path: Path, out_file: Path) -> int:
    """Encode every document as BOS + ids + EOS into a flat uint16 array file; return the token count."""
    sp = load_tokenizer(model_path)
    if sp.get_piece_size() > np.iinfo(np.uint16).max:
        raise ValueError("vocabulary too large for uint16 token files")
    chunks = [
        np.asarray([BOS_ID, *sp.encode(doc), EOS_ID], dtype=np.uint16) for doc in read_documents(corpus_file)
    ]
    ids = np.concatenate(chunks)
    tmp = out_file.with_name(out_file.name + ".tmp")
    with open(tmp, "wb") as fh:
        np.save(fh, ids)
    tmp.replace(out_file)
    return int(ids.size)


def load_tokens(path: Path) -> np.ndarray:
    return np.load(path, mmap_mode="r")


def write_hf_tokenizer_files(model_path: Path, out_dir: Path, max_length: int) -> None:
    """Copy tokenizer.model and write tokenizer_config.json / special_tokens_map.json (HF LLaMA style)."""
    (out_dir / "tokenizer.model").write_bytes(model_path.read_bytes())
    config = {
        "tokenizer_class": "LlamaTokenizer",
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "add_bos_token": True,
        "add_eos_token": False,
        "model_max_length": max_length,
        "legacy": True,
        "clean_up_tokenization_spaces": False,
    }
    (out_dir / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n")
    special = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}
    (out_dir / "special_tokens_map.json").write_text(json.dumps(special, indent=2) + "\n")
