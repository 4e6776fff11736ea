"""Copy drills: rows that teach a reader to copy, mixed into its reading examples.

A reader answers by copying a span of a source, so it needs what transformers call induction:
having seen "... rent is 1,450 euros ..." once, predicting "450" after "1," the second time.
tern-18m, its starting point, never learned it (26.6M tokens of plain prose at a 256-token
window): on a 50-token text seen twice, its log-probability of the repeat is -4.50 per token
against -4.58 the first time, and 21% of the repeat's tokens are its top guess. Reading examples
teach it slowly, a few answer tokens per question.

A drill is a reading example's sources (cut to ``source_tokens``), their words shuffled, then
windows of that text repeated, each on its own line; the loss is on every repeated token after a
window's first (which cannot be predicted), at ``weight`` per token, so a drill row (about 600
such tokens) weighs a few times a reading row (about 30 answer tokens) in a batch, not a
hundred times. The words are shuffled because a repeat of ordinary prose can be predicted by
knowing the language: drills of unshuffled sources (``shuffle=False``) taught the reader
language modelling, not copying (after 275 steps, 2.05 nats per repeated token against 2.32 for
the same text the first time: copying was worth 0.27 nats).

    rows, mask = drill_rows(tokens, vocab_starts_word, question_ids, newline, rng)

Deterministic: the same rows and seed give the same drills.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

MIN_WINDOW, MAX_WINDOW = 6, 48


def find(row: np.ndarray, needle: list[int]) -> int:
    """Index of the first occurrence of ``needle`` in ``row``; -1 when absent."""
    n = len(needle)
    first = np.nonzero(row[: len(row) - n + 1] == needle[0])[0]
    for at in first:
        if row[at : at + n].tolist() == needle:
            return int(at)
    return -1


def word_starts(vocab) -> np.ndarray:
    """Per token id: does its piece start a word (begin with a space)?"""
    return np.array([vocab.piece(t)[:1].isspace() for t in range(vocab.llama.n_vocab())])


def shuffle_words(tokens: np.ndarray, starts_word: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The words of ``tokens`` (runs that start at a word-start token) in a random order."""
    cuts = np.nonzero(starts_word[tokens])[0]
    words = np.split(tokens, cuts[cuts > 0])
    return np.concatenate([words[i] for i in rng.permutation(len(words))])


def repeat_windows(
    shown: np.ndarray,
    starts_word: np.ndarray,
    newline: list[int],
    length: int,
    rng: np.random.Generator,
    weight: float,
    least_starts: int = 1,
) -> tuple[list[int], list[float]] | None:
    """``shown``, then windows of it (each starting at a word, on its own line) up to ``length``
    tokens; the loss weights (``weight`` on a window's tokens after its first). None when
    ``shown`` has fewer than ``least_starts`` words to start a window at."""
    starts = np.nonzero(starts_word[shown[1:]])[0] + 1  # word starts (never BOS)
    starts = starts[starts < len(shown) - MIN_WINDOW]
    if len(starts) < least_starts:
        return None
    tokens, mask = shown.tolist(), [0.0] * len(shown)
    while len(tokens) + len(newline) + MIN_WINDOW <= length:
        at = int(rng.choice(starts))
        size = int(rng.integers(MIN_WINDOW, MAX_WINDOW + 1))
        window = shown[at : at + size].tolist()[: length - len(tokens) - len(newline)]
        tokens += [*newline, *window]
        mask += [0.0] * (len(newline) + 1) + [weight] * (len(window) - 1)
    return tokens, mask


def drill(
    row: np.ndarray,
    starts_word: np.ndarray,
    question_ids: list[int],
    newline: list[int],
    rng: np.random.Generator,
    source_tokens: int = 1000,
    weight: float = 0.1,
    shuffle: bool = True,
) -> tuple[np.ndarray, np.ndarray] | None:
    """One drill row (tokens, loss weights) of the same length as ``row``; None when ``row``
    has no sources to repeat. With ``shuffle`` the sources' words are put in a random order
    first, so a repeat can be predicted only by copying, not by knowing the language."""
    end = find(row, question_ids)
    if end < 64:
        return None
    shown = row[: min(end, source_tokens)]
    if shuffle:
        shown = np.concatenate([shown[:1], shuffle_words(shown[1:], starts_word, rng)])
    made = repeat_windows(shown, starts_word, newline, len(row), rng, weight)
    if made is None:
        return None
    tokens, mask = made
    pad = len(row) - len(tokens)
    return (
        np.array(tokens + [int(row[-1])] * pad, dtype=row.dtype),
        np.array(mask + [0.0] * pad, dtype=np.float16),
    )


def drill_rows(
    tokens: np.ndarray,
    starts_word: np.ndarray,
    question_ids: list[int],
    newline: list[int],
    rng: np.random.Generator,
    source_tokens: int = 1000,
    weight: float = 0.1,
    shuffle: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Drills made from reading rows (``tokens``: examples x length), one per row that has
    sources, stacked."""
    made = [
        drill(row, starts_word, question_ids, newline, rng, source_tokens, weight, shuffle) for row in tokens
    ]
    kept = [m for m in made if m is not None]
    return np.stack([t for t, _ in kept]), np.stack([m for _, m in kept])


def _save_rows(path: Path, tokens: np.ndarray, mask: np.ndarray) -> None:
    """tokens and loss weights as one .npz (written to a temporary file, then renamed)."""
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, tokens=tokens, mask=mask)
    os.replace(tmp, path)


def save_manifest(out: Path, manifest: dict) -> None:
    (out / "manifest.json.tmp").write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(out / "manifest.json.tmp", out / "manifest.json")


def mix_into_reading(data: Path, out: Path, rows: np.ndarray, weights: np.ndarray) -> dict:
    """Write ``out``: the training rows of ``data`` (a `qat reading` build) followed by ``rows``
    (drills of the same width, loss ``weights``), its held-out examples unchanged (held-out loss
    stays a reading loss). Returns ``data``'s manifest, for the caller to add to and save."""
    reading = np.load(data / "train.npz")
    out.mkdir(parents=True, exist_ok=True)
    _save_rows(
        out / "train.npz",
        np.concatenate([reading["tokens"], rows]),
        np.concatenate([reading["mask"].astype(np.float16), weights]),
    )
    for name in ("heldout.npz", "heldout.jsonl", "train.jsonl"):
        shutil.copyfile(data / name, out / f"{name}.tmp")
        os.replace(out / f"{name}.tmp", out / name)
    return json.loads((data / "manifest.json").read_text())


def save_split(out: Path, rows: np.ndarray, weights: np.ndarray, heldout_rows: int) -> int:
    """Write drills alone to ``out``, the last ``heldout_rows`` as held-out; returns how many train."""
    cut = len(rows) - heldout_rows
    out.mkdir(parents=True, exist_ok=True)
    for name, part in (("train", slice(0, cut)), ("heldout", slice(cut, None))):
        _save_rows(out / f"{name}.npz", rows[part], weights[part])
    return cut


def add_drills(
    data: Path,
    out: Path,
    tokenizer: Path,
    share: float = 1.0,
    seed: int = 1234,
    source_tokens: int = 1000,
    weight: float = 0.1,
    shuffle: bool = True,
) -> dict:
    """``out``: the reading examples of ``data`` (a `qat reading` build) with drills made from
    the first ``share`` of its training rows mixed in; held-out examples are copied unchanged
    (held-out loss stays a reading loss). Returns the manifest written with them."""
    from quantize.qat.reading.builder import sha256_file
    from quantize.qat.reading.vocab import Vocab

    if not 0 < share <= 1:
        raise ValueError(f"--share must be in (0, 1], not {share}")
    vocab = Vocab(tokenizer)
    starts_word = word_starts(vocab)
    question_ids = vocab.tokenize("Question:")[:3]
    tokens = np.load(data / "train.npz")["tokens"]
    count = int(round(len(tokens) * share))
    rows, weights = drill_rows(
        tokens[:count],
        starts_word,
        question_ids,
        vocab.newline,
        np.random.default_rng(seed),
        source_tokens,
        weight,
        shuffle,
    )
    manifest = mix_into_reading(data, out, rows, weights)
    manifest["copy_drills"] = {
        "rows": len(rows),
        "reading_rows": len(tokens),
        "made_from": f"the first {count} training rows",
        "source_tokens": source_tokens,
        "window_tokens": [MIN_WINDOW, MAX_WINDOW],
        "weight": weight,
        "words_shuffled": shuffle,
        "seed": seed,
        "train_npz_sha256": sha256_file(out / "train.npz"),
    }
    save_manifest(out, manifest)
    return manifest


def short_drills(
    tokens: np.ndarray,
    starts_word: np.ndarray,
    newline: list[int],
    bos: int,
    eos: int,
    rng: np.random.Generator,
    seq_len: int = 256,
    source_tokens: int = 128,
) -> tuple[np.ndarray, np.ndarray]:
    """Drills alone, short: for each reading row, ``source_tokens`` of its words (from a random
    point of its first 600 tokens) shuffled, then windows of them repeated up to ``seq_len`` + 1
    tokens, every repeated token after a window's first weighted 1. A fresh start for a model
    that cannot copy: at 256 tokens a step is cheap and the only way down is copying (tern-reader
    learned to copy in 100 steps of these, after 600 steps of long drills taught it nothing)."""
    length = seq_len + 1
    rows, masks = [], []
    for row in tokens:
        offset = int(rng.integers(0, 600))
        text = row[1 + offset :][: source_tokens * 2]
        shown = np.concatenate([[bos], shuffle_words(text, starts_word, rng)[: source_tokens - 1]])
        made = repeat_windows(shown, starts_word, newline, length, rng, 1.0, least_starts=10)
        if made is None:  # padding, not text
            continue
        out, mask = made
        pad = length - len(out)
        rows.append(out + [eos] * pad)
        masks.append(mask + [0.0] * pad)
    return np.array(rows, dtype=np.int16), np.array(masks, dtype=np.float16)


def write_short_drills(
    data: Path,
    out: Path,
    tokenizer: Path,
    seed: int = 7,
    seq_len: int = 256,
    source_tokens: int = 128,
    heldout_rows: int = 850,
) -> dict:
    """``out``: short drills (see ``short_drills``) made from ``data``'s training rows, the last
    ``heldout_rows`` of them kept as held-out (a copying loss). Returns the manifest."""
    from quantize.qat.reading.builder import sha256_file
    from quantize.qat.reading.vocab import Vocab

    vocab = Vocab(tokenizer)
    starts_word = word_starts(vocab)
    tokens = np.load(data / "train.npz")["tokens"]
    rows, masks = short_drills(
        tokens,
        starts_word,
        vocab.newline,
        vocab.bos,
        vocab.eos,
        np.random.default_rng(seed),
        seq_len,
        source_tokens,
    )
    cut = save_split(out, rows, masks, heldout_rows)
    manifest = {
        "short_copy_drills": {
            "made_from": "the reading build's train.npz",
            "rows": cut,
            "heldout_rows": len(rows) - cut,
            "seq_len": seq_len,
            "source_tokens": source_tokens,
            "window_tokens": [MIN_WINDOW, MAX_WINDOW],
            "seed": seed,
            "train_npz_sha256": sha256_file(out / "train.npz"),
        }
    }
    save_manifest(out, manifest)
    return manifest
