"""Copy drills: rows that teach a reader to copy, mixed into its reading examples.

A reader answers by copying a span of a source, so it needs what transformers call induction:
having seen "... rent is 1,450 euros ..." once, predicting "450" after "1," the second time.
tern-18m, its starting point, never learned it (26.6M tokens of plain prose at a 256-token
window): on a 50-token text seen twice, its log-probability of the repeat is -4.50 per token
against -4.58 the first time, and 21% of the repeat's tokens are its top guess. Reading examples
teach it slowly, a few answer tokens per question.

A drill is a reading example's sources (the same layout, cut to ``source_tokens``) followed by
windows of them repeated, each on its own line; the loss is on every repeated token after a
window's first (which cannot be predicted), at ``weight`` per token, so a drill row (about 600
such tokens) weighs a few times a reading row (about 30 answer tokens) in a batch, not a
hundred times.

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


def drill(
    row: np.ndarray,
    starts_word: np.ndarray,
    question_ids: list[int],
    newline: list[int],
    rng: np.random.Generator,
    source_tokens: int = 1000,
    weight: float = 0.1,
) -> tuple[np.ndarray, np.ndarray] | None:
    """One drill row (tokens, loss weights) of the same length as ``row``; None when ``row``
    has no sources to repeat."""
    end = find(row, question_ids)
    if end < 64:
        return None
    shown = row[: min(end, source_tokens)]
    starts = np.nonzero(starts_word[shown[1:]])[0] + 1  # word starts (never BOS)
    starts = starts[starts < len(shown) - MIN_WINDOW]
    if not len(starts):
        return None
    tokens, mask = list(shown), [0.0] * len(shown)
    while len(tokens) + len(newline) + MIN_WINDOW <= len(row):
        at = int(rng.choice(starts))
        length = int(rng.integers(MIN_WINDOW, MAX_WINDOW + 1))
        window = shown[at : at + length].tolist()[: len(row) - len(tokens) - len(newline)]
        tokens += [*newline, *window]
        mask += [0.0] * (len(newline) + 1) + [weight] * (len(window) - 1)
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
) -> tuple[np.ndarray, np.ndarray]:
    """Drills made from reading rows (``tokens``: examples x length), one per row that has
    sources, stacked."""
    made = [drill(row, starts_word, question_ids, newline, rng, source_tokens, weight) for row in tokens]
    kept = [m for m in made if m is not None]
    return np.stack([t for t, _ in kept]), np.stack([m for _, m in kept])


def add_drills(
    data: Path,
    out: Path,
    tokenizer: Path,
    share: float = 1.0,
    seed: int = 1234,
    source_tokens: int = 1000,
    weight: float = 0.1,
) -> dict:
    """``out``: the reading examples of ``data`` (a `qat reading` build) with drills made from
    the first ``share`` of its training rows mixed in; held-out examples are copied unchanged
    (held-out loss stays a reading loss). Returns the manifest written with them."""
    from quantize.qat.reading.builder import sha256_file
    from quantize.qat.reading.vocab import Vocab

    if not 0 < share <= 1:
        raise ValueError(f"--share must be in (0, 1], not {share}")
    vocab = Vocab(tokenizer)
    starts_word = np.array([vocab.piece(t)[:1].isspace() for t in range(vocab.llama.n_vocab())])
    question_ids = vocab.tokenize("Question:")[:3]
    reading = np.load(data / "train.npz")
    tokens, mask = reading["tokens"], reading["mask"]
    count = int(round(len(tokens) * share))
    rows, weights = drill_rows(
        tokens[:count],
        starts_word,
        question_ids,
        vocab.newline,
        np.random.default_rng(seed),
        source_tokens,
        weight,
    )
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / "train.tmp.npz"
    np.savez(
        tmp,
        tokens=np.concatenate([tokens, rows]),
        mask=np.concatenate([mask.astype(np.float16), weights]),
    )
    os.replace(tmp, out / "train.npz")
    for name in ("heldout.npz", "heldout.jsonl", "train.jsonl"):
        shutil.copyfile(data / name, out / f"{name}.tmp")
        os.replace(out / f"{name}.tmp", out / name)
    manifest = json.loads((data / "manifest.json").read_text())
    manifest["copy_drills"] = {
        "rows": len(rows),
        "reading_rows": len(tokens),
        "made_from": f"the first {count} training rows",
        "source_tokens": source_tokens,
        "window_tokens": [MIN_WINDOW, MAX_WINDOW],
        "weight": weight,
        "seed": seed,
        "train_npz_sha256": sha256_file(out / "train.npz"),
    }
    (out / "manifest.json.tmp").write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(out / "manifest.json.tmp", out / "manifest.json")
    return manifest
