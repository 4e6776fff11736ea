"""Lookup drills: rows that teach a reader to find where a question points, then copy from there.

A reader must do two things: find the place in its sources that the question's words point at,
and copy the span there. Copy drills (``copying.py``) taught tern-reader the second. The first it
never learned from reading examples: after five phases it answered "The lease term ends on
when?" with "30 days" from the lease's sources, and "A security deposit of how many euros is held
by the landlord?" with "19 percent", although each question repeats its sentence word for word.
Its answers follow priors (the likeliest-looking number), not the sources.

A lookup drill is a reading example's sources in ``ask``'s layout, each source's words shuffled
(so only the sources, not knowledge of the language, can predict an answer), followed by many
questions, each a window of 2-5 words of one source (in order, or reordered, sometimes after a
wh-word), answered with the 1-4 words that follow the window there, up to the end of a clause
(a mark: "Maria Lopez" of "Maria Lopez. The", as reading answers end), and that source's number;
a fifth of the questions are windows of another row's words, answered with end-of-sequence (no
answer). The loss is on the replies, so a row teaches a few dozen lookups, where a reading row
teaches three or four answers.

    rows, weights = lookup_rows(reading_tokens, spans, vocab, rng, length)

Deterministic: the same rows and seed give the same drills.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from localagent.agent.reader_prompt import citation_tokens
from quantize.qat.reading.copying import (
    mix_into_reading,
    save_manifest,
    save_split,
    shuffle_words,
    word_starts,
)
from quantize.qat.reading.cues import (
    CLAUSE_END,
    CUE_WORDS,
    Sentences,
    answer_kind,
    answer_words,
    cue_question,
    holds_all,
    only_one_of_its_kind,
)

WINDOW_WORDS = (2, 5)  # words of a question
ANSWER_WORDS = (1, 4)  # words of its answer
UNANSWERABLE_SHARE = 0.2
CLAUSE_MARKS = CLAUSE_END.encode()
WH_WORDS = ("What", "Which", "Who", "When", "Where", "How many", "How much")


def _words(tokens: np.ndarray, starts_word: np.ndarray) -> list[np.ndarray]:
    cuts = np.nonzero(starts_word[tokens])[0]
    return [w for w in np.split(tokens, cuts[cuts > 0]) if len(w)]


class _Row:
    """A reading row's sources (their words shuffled for window lookups), and its words by source."""

    def __init__(
        self,
        row: np.ndarray,
        spans: list[list[int]],
        starts_word: np.ndarray,
        rng,
        budget: int,
        piece,
        shuffle: bool = True,
    ):
        self.piece = piece  # token id -> its bytes
        pieces: list[int] = row[: spans[0][0]].tolist()  # BOS, "Sources:", the first label
        self.words: list[list[np.ndarray]] = []  # per source
        self.flat: list[np.ndarray] = []  # per source, its shuffled tokens
        for i, (start, end) in enumerate(spans):
            if end > budget:
                break
            if i:
                pieces += row[spans[i - 1][1] : start].tolist()  # newline, the next label
            shuffled = shuffle_words(row[start:end], starts_word, rng) if shuffle else row[start:end]
            pieces += shuffled.tolist()
            self.words.append(_words(shuffled, starts_word))
            self.flat.append(shuffled)
        self.tokens = pieces
        self._sentences: list[Sentences] | None = None

    @property
    def sentences(self) -> list[Sentences]:
        """Each source's words by sentence (for cue lookups, on unshuffled sources)."""
        if self._sentences is None:
            text_of = lambda w: b"".join(self.piece(int(t)) for t in w).decode("utf-8", "replace")  # noqa: E731
            self._sentences = [Sentences(words, text_of) for words in self.words]
        return self._sentences


def _occurrences(sources: list[np.ndarray], needle: list[int]) -> int:
    """How many times the token run ``needle`` occurs in all sources."""
    count = 0
    n = len(needle)
    for flat in sources:
        for at in np.nonzero(flat[: max(0, len(flat) - n + 1)] == needle[0])[0]:
            count += flat[at : at + n].tolist() == needle
    return count


def _question(window: list[np.ndarray], detokenize, rng: np.random.Generator) -> str:
    order = list(range(len(window)))
    if rng.random() < 0.5:
        rng.shuffle(order)
    text = detokenize(np.concatenate([window[i] for i in order]).tolist()).strip()
    if rng.random() < 0.5:
        text = f"{WH_WORDS[int(rng.integers(len(WH_WORDS)))]} {text}"
    return text + "?"


def _to_clause_end(words: list[np.ndarray], piece) -> list[np.ndarray]:
    """The words up to the first that ends a clause ("Lopez." in "Maria Lopez. The"), without
    the marks that end it when they are tokens of their own: a reading answer sheds them too."""
    for i, word in enumerate(words):
        mark = piece(int(word[-1]))[-1:]
        if mark and mark in CLAUSE_MARKS:
            last = list(word)
            while last and all(c in CLAUSE_MARKS for c in piece(int(last[-1]))):
                last.pop()
            return [*words[:i], np.array(last, dtype=word.dtype)] if last else list(words[:i])
    return list(words)


def _looks_like_an_answer(word: np.ndarray, piece) -> bool:
    """Does a span starting with ``word`` look like what reading questions ask for: a name, a
    number, a version, an option or a path (capital, digit, "-" or "/" first)? Spans after a
    window of shuffled words are otherwise mostly "the", "of" and "in"."""
    first = b"".join(piece(int(t)) for t in word).strip()[:1]
    return first.isupper() or first.isdigit() or first in (b"-", b"/")


def _lookup(row: _Row, rng: np.random.Generator) -> tuple[list[np.ndarray], list[int], int] | None:
    """(question window, answer tokens, source number) of one lookup, or None where the drawn
    place is not unique, too short or not answer-like."""
    source = int(rng.integers(len(row.words)))
    words = row.words[source]
    size = int(rng.integers(WINDOW_WORDS[0], WINDOW_WORDS[1] + 1))
    length = int(rng.integers(ANSWER_WORDS[0], ANSWER_WORDS[1] + 1))
    if len(words) < size + length:
        return None
    at = int(rng.integers(len(words) - size - length + 1))
    window, answer = words[at : at + size], words[at + size : at + size + length]
    answer = _to_clause_end(answer, row.piece)
    if not answer or not _looks_like_an_answer(answer[0], row.piece):
        return None
    if _occurrences(row.flat, np.concatenate(window).tolist()) != 1:
        return None
    return window, np.concatenate(answer).tolist(), source + 1


def _cue_lookup(
    row: _Row, rng: np.random.Generator, asked: set[tuple[int, int]]
) -> tuple[str, list[int], int, list[str]] | None:
    """(question, answer tokens, source number, cue words) of one cue lookup (``cues.py``), or
    None where the drawn word starts no answer, was ``asked`` about already (it is added), or its
    cues are not unique to its sentence."""
    source = int(rng.integers(len(row.words)))
    sentences = row.sentences[source]
    if not sentences.texts:
        return None
    at = int(rng.integers(len(sentences.texts)))
    if (source, at) in asked:
        return None
    count = answer_words(sentences.texts, at, sentences.bounds[sentences.sentence[at]][0])
    answer = _to_clause_end(row.words[source][at : at + count], row.piece) if count else []
    if not answer:
        return None
    kind = answer_kind(sentences.texts[at])
    if not only_one_of_its_kind(sentences, at, len(answer), kind):
        return None
    made = cue_question(sentences, at, len(answer), kind, rng)
    if made is None or holds_all(row.sentences, made[1], skip=(source, made[2])):
        return None
    asked.add((source, at))
    return made[0], np.concatenate(answer).tolist(), source + 1, made[1]


def _cue_unanswerable(shown: _Row, elsewhere: _Row, rng: np.random.Generator) -> str | None:
    """A cue question about a sentence of ``elsewhere`` that no sentence of ``shown`` answers."""
    found = _cue_lookup(elsewhere, rng, set())
    return None if found is None or holds_all(shown.sentences, found[3]) else found[0]


def lookup_row(
    row: np.ndarray,
    spans: list[list[int]],
    other: np.ndarray,
    other_spans: list[list[int]],
    vocab,
    starts_word: np.ndarray,
    rng: np.random.Generator,
    length: int,
    source_budget: int,
    cues: bool = False,
) -> tuple[np.ndarray, np.ndarray] | None:
    """One drill of ``length`` tokens (tokens, loss weights) from a reading row's sources (those
    that end within ``source_budget`` tokens); ``other`` (another row) gives the unanswerable
    questions their words. None when no source fits. ``cues``: cue lookups on the sources as
    they are (``cues.py``), else window lookups on shuffled sources."""
    shown = _Row(row, spans, starts_word, rng, source_budget, vocab.piece, shuffle=not cues)
    if not shown.words:
        return None
    elsewhere = _Row(other, other_spans, starts_word, rng, len(other), vocab.piece, shuffle=not cues)
    detokenize = lambda ids: vocab.llama.detokenize(ids).decode("utf-8", "replace")  # noqa: E731
    tokens, weights = [*shown.tokens], [0.0] * len(shown.tokens)
    asked = declined = 0
    places: set[tuple[int, int]] = set()  # (source, word) asked about, for cue lookups
    for _ in range(600):
        if cues:
            unanswerable = rng.random() < UNANSWERABLE_SHARE and elsewhere.words
            if unanswerable and declined * 4 > asked:  # a row with few answers: not mostly declines
                continue
            made = (
                _cue_unanswerable(shown, elsewhere, rng) if unanswerable else _cue_lookup(shown, rng, places)
            )
            if made is None:
                continue
            question, reply = (
                (made, [vocab.eos])
                if isinstance(made, str)
                else (made[0], [*made[1], *citation_tokens(made[2], vocab.tokenize), vocab.eos])
            )
        elif rng.random() < UNANSWERABLE_SHARE and elsewhere.words:
            found = _lookup(elsewhere, rng)
            if found is None or _occurrences(shown.flat, np.concatenate(found[0]).tolist()):
                continue
            question, reply = _question(found[0], detokenize, rng), [vocab.eos]
        else:
            found = _lookup(shown, rng)
            if found is None:
                continue
            window, answer, n = found
            question = _question(window, detokenize, rng)
            reply = [*answer, *citation_tokens(n, vocab.tokenize), vocab.eos]
        prompt = [
            *vocab.newline,
            *vocab.tokenize("Question: " + question),
            *vocab.newline,
            *vocab.tokenize("Answer:"),
        ]
        if len(tokens) + len(prompt) + len(reply) > length:
            break
        tokens += prompt + reply
        weights += [0.0] * len(prompt) + [1.0] * len(reply)
        asked += 1
        declined += len(reply) == 1
    if not asked:
        return None
    pad = length - len(tokens)
    return (
        np.array(tokens + [vocab.eos] * pad, dtype=row.dtype),
        np.array(weights + [0.0] * pad, dtype=np.float16),
    )


def lookup_rows(
    tokens: np.ndarray,
    spans: list[list[list[int]]],
    vocab,
    rng: np.random.Generator,
    length: int,
    source_budget: int,
    cues: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """One drill per reading row (``tokens``: rows x width, ``spans``: each row's source token
    ranges), stacked; each row's unanswerable questions come from the row after it."""
    starts_word = word_starts(vocab)
    made = []
    for i, row in enumerate(tokens):
        j = (i + 1) % len(tokens)
        drill = lookup_row(
            row, spans[i], tokens[j], spans[j], vocab, starts_word, rng, length, source_budget, cues
        )
        if drill is not None:
            made.append(drill)
    return np.stack([t for t, _ in made]), np.stack([w for _, w in made])


def write_lookup_drills(
    data: Path,
    out: Path,
    tokenizer: Path,
    seed: int = 11,
    seq_len: int = 512,
    source_tokens: int = 360,
    heldout_rows: int = 400,
    with_reading: bool = False,
    cues: bool = False,
) -> dict:
    """``out``: lookup drills of ``seq_len`` + 1 tokens made from ``data``'s training rows (a
    `qat reading` build), the sources that end within ``source_tokens`` shown; the last
    ``heldout_rows`` kept as held-out (a lookup loss). ``with_reading``: the drills are mixed
    into the reading rows instead (same width), and the held-out rows are the reading build's
    (a reading loss). ``cues``: cue lookups (``cues.py``) instead of window lookups. Returns the
    manifest."""
    from quantize.qat.reading.builder import sha256_file
    from quantize.qat.reading.vocab import Vocab

    reading = np.load(data / "train.npz")["tokens"]
    if with_reading and reading.shape[1] != seq_len + 1:
        raise ValueError(f"reading rows are {reading.shape[1] - 1} tokens long, not --seq-len {seq_len}")
    vocab = Vocab(tokenizer)
    with open(data / "train.jsonl", encoding="utf-8") as lines:
        spans = [json.loads(line)["spans"] for line in lines]
    rows, weights = lookup_rows(
        reading, spans, vocab, np.random.default_rng(seed), seq_len + 1, source_tokens, cues
    )
    if with_reading:
        manifest = mix_into_reading(data, out, rows, weights)
        cut = len(rows)
    else:
        manifest = {}
        cut = save_split(out, rows, weights, heldout_rows)
    manifest |= {
        "lookup_drills": {
            "made_from": "the reading build's train.npz",
            "mixed_with_reading_rows": len(reading) if with_reading else 0,
            "rows": cut,
            "heldout_rows": len(rows) - cut,
            "seq_len": seq_len,
            "source_tokens": source_tokens,
            "questions": "cue words of the answer's sentence" if cues else "windows of shuffled sources",
            "window_words": list(CUE_WORDS if cues else WINDOW_WORDS),
            "answer_words": list(ANSWER_WORDS),
            "unanswerable_share": UNANSWERABLE_SHARE,
            "replies": int((weights > 0).sum()),
            "seed": seed,
            "train_npz_sha256": sha256_file(out / "train.npz"),
        }
    }
    save_manifest(out, manifest)
    return manifest
