"""Reading-comprehension examples for a reader model: numbered sources and questions in, a span
copied from one source plus its number (or "no answer") out, as token ids.

Each example is one context of sources (``contexts.pick_sources``, at least ``min_tokens`` of
text) followed by several questions, each answered in turn:

    <s> Sources: [1] ... [2] ... Question: q1 Answer: <span of [3]> [3]</s> Question: q2 Answer: </s> ...

The first question is laid out exactly as ``ask`` lays out its single question (see
``localagent.agent.reader_prompt``); the later ones reuse the same sources, which multiplies the
supervised tokens per forward pass. About a quarter of the questions cannot be answered: they were
written about a chunk that is not among the sources, or the sentence holding their answer was cut
out of its source. The loss mask marks the answer tokens (span, citation, end-of-sequence).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from localagent.agent.reader_prompt import (
    ReaderLayout,
    SourceText,
    build_prompt,
    citation_tokens,
    question_block,
)
from localagent.agent.terms import sentences
from quantize.qat.reading.contexts import Library, pick_sources
from quantize.qat.reading.questions import KIND_WEIGHT, Span, ask_about, find_spans, is_prose
from quantize.qat.reading.vocab import Vocab


@dataclass(frozen=True)
class BuildConfig:
    examples: int = 16000
    heldout_examples: int = 400
    heldout_percent: int = 5
    min_tokens: int = 1024
    max_tokens: int = 1400
    seq_len: int = 1600
    questions: int = 6
    unanswerable_share: float = 0.25
    seed: int = 1234
    question_first: bool = False  # the first question also before the sources (reader_prompt)
    hints: bool = False  # a line naming the sentences nearest each question (reader_hints)
    # draw the answerable questions without replacement (weighted), so that a context with room
    # for many questions asks that many different ones; unanswerable ones keep their share
    distinct_questions: bool = False
    # what the reply copies: "span" (just the answer) or "sentence" (the sentence, or for a long
    # one the clauses, that holds the answer: a quote the user can check at a glance)
    answer_unit: str = "span"


@dataclass
class QA:
    question: str
    answer: str  # "" when unanswerable
    source: int = 0  # the source number n, 0 when unanswerable
    kind: str = ""
    # how it was written: "natural", "rule", "model" (model-written); unanswerable: "other-document"
    # or "sentence-removed"
    how: str = ""
    sentence: str = ""  # the sentence holding the answer, and the sentences around it
    window: str = ""
    reply: str = ""  # what the reply copies: the answer, or the quote holding it (answer_unit)


@dataclass
class Example:
    chunk_ids: list[int]
    qas: list[QA] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)
    mask: list[int] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)  # the sources' token ranges in ``tokens``


NATURAL_WEIGHT = 4  # a question in users' words is asked this much more often than a cloze one
ModelQuestions = dict[tuple[str, str], str]  # (sentence, answer) -> a model-written question


def _candidates(
    text: str, rng: random.Random, written: ModelQuestions | None = None
) -> list[tuple[str, Span, str, str]]:
    """(sentence, span, question, how) of one chunk's text; a model-written question, where one
    was kept for the span, replaces the rule's most of the time."""
    out = []
    for sentence in sentences(text):
        if len(sentence) > 400 or not is_prose(sentence):
            continue
        for span in find_spans(sentence):
            asked = ask_about(sentence, span, rng)
            model = (written or {}).get((sentence, span.text(sentence)))
            if model and rng.random() < 0.8:
                out.append((sentence, span, model, "model"))
            elif asked:
                out.append((sentence, span, *asked))
    return out


MAX_QUOTE_CHARS = 160  # a longer sentence is quoted from the clauses around its answer
_CLAUSE_END = re.compile(r"[,;:] ")


def quote_of(sentence: str, answer: str, limit: int = MAX_QUOTE_CHARS) -> str:
    """The part of ``sentence`` a quoting reader copies for ``answer``: the whole sentence when it
    is short, else the clauses (cut after ", ", "; ", ": ") that hold the answer, else the answer."""
    if len(sentence) <= limit:
        return sentence
    at = sentence.find(answer)
    if at < 0:
        return answer
    cuts = [m.end() for m in _CLAUSE_END.finditer(sentence)]
    start = max([c for c in cuts if c <= at], default=0)
    end = min([c - 2 for c in cuts if c - 2 >= at + len(answer)], default=len(sentence))
    quote = sentence[start:end].strip()
    return quote if len(quote) <= limit and answer in quote else answer


def _window(text: str, sentence: str, around: int = 3) -> str:
    parts = sentences(text)
    i = parts.index(sentence) if sentence in parts else 0
    return " ".join(parts[max(0, i - around) : i + around + 1])


def _span_tokens(vocab: Vocab, text: str, tokens: list[int], answer: str, sentence: str) -> list[int] | None:
    """The tokens of ``text`` that spell exactly ``answer`` at its place in ``sentence``."""
    offsets = vocab.offsets(text, tokens)
    at = text.find(sentence)
    if offsets is None or at < 0 or text.count(answer) != 1:
        return None
    start = len(text[: at + sentence.find(answer)].encode("utf-8"))
    end = start + len(answer.encode("utf-8"))
    byte_text = text.encode("utf-8")
    starts = {o: i for i, o in enumerate(offsets)}
    if start in starts:
        first = starts[start]
    elif start - 1 in starts and byte_text[start - 1 : start] == b" ":
        first = starts[start - 1]  # the token carries the space before the word
    else:
        return None
    if end not in starts:
        return None
    return tokens[first : starts[end]]


Candidate = tuple[float, QA, list[int]]  # (weight, question and answer, the span's tokens)


def _draw_distinct(items: list[Candidate], k: int, rng: random.Random) -> list[Candidate]:
    """Up to ``k`` items of (weight, qa, tokens) drawn by weight without replacement, one per
    question text (Efraimidis-Spirakis: the largest keys u ** (1 / weight))."""
    keyed = sorted(((rng.random() ** (1 / w), i) for i, (w, _, _) in enumerate(items)), reverse=True)
    picks: list[Candidate] = []
    asked: set[str] = set()
    for _, i in keyed:
        if len(picks) == k:
            break
        if items[i][1].question not in asked:
            asked.add(items[i][1].question)
            picks.append(items[i])
    return picks


class ExampleWriter:
    """Builds examples from a Library; one per call of ``build`` (deterministic per index)."""

    def __init__(
        self, library: Library, vocab: Vocab, cfg: BuildConfig, written: ModelQuestions | None = None
    ):
        self.library, self.vocab, self.cfg, self.written = library, vocab, cfg, written or {}
        self.count = lambda text: len(vocab.tokenize(text))

    def build(self, index: int, docs: list[int]) -> Example | None:
        cfg, library = self.cfg, self.library
        rng = random.Random(f"{cfg.seed}/{index}/{len(docs)}")
        gold_doc = docs[rng.randrange(len(docs))]
        if not library.by_doc[gold_doc]:
            return None
        gold = rng.choice(library.by_doc[gold_doc])
        chunk_ids = pick_sources(library, gold, rng, set(docs), self.count, cfg.min_tokens, cfg.max_tokens)
        texts = [library.chunks[c].text for c in chunk_ids]
        example = Example(chunk_ids)
        qas: list[QA] = []
        removed: int | None = None
        if rng.random() < 0.5:  # cut one answer sentence out of its source: a question about it has no answer
            i = rng.randrange(len(texts))
            found = _candidates(texts[i], rng, self.written)
            if found:
                sentence, span, question, _ = rng.choice(found)
                answer = span.text(sentence)
                texts[i] = texts[i].replace(sentence, "").replace("  ", " ").strip()
                if not any(answer in t for t in texts):
                    qas.append(QA(question, "", 0, span.kind, "sentence-removed"))
                    removed = i
        sources = [
            SourceText(n + 1, library.keys[library.chunks[c].doc].rsplit("/", 1)[-1], 1, texts[n])
            for n, c in enumerate(chunk_ids)
        ]
        prompt = build_prompt(sources, "", self.vocab.tokenize, self.vocab.bos, self.vocab.newline)
        answerable = []
        for i, text in enumerate(texts):
            for sentence, span, question, how in _candidates(text, rng, self.written):
                answer = span.text(sentence)
                reply = quote_of(sentence, answer) if cfg.answer_unit == "sentence" else answer
                if sum(t.count(reply) for t in texts) != 1:
                    continue  # the reader could not tell which source to cite
                tokens = _span_tokens(self.vocab, text, prompt.source_tokens(i), reply, sentence)
                if tokens:
                    weight = (3 if chunk_ids[i] == gold and i != removed else 1) * KIND_WEIGHT[span.kind]
                    weight *= NATURAL_WEIGHT if how == "natural" else 1
                    window = _window(text, sentence)
                    qa = QA(question, answer, i + 1, span.kind, how, sentence, window, reply)
                    answerable.append((weight, qa, tokens))
        if not answerable:
            return None
        wanted = cfg.questions - len(qas)
        n_unanswerable = sum(rng.random() < cfg.unanswerable_share for _ in range(wanted))
        if cfg.distinct_questions:
            picks = _draw_distinct(answerable, wanted - n_unanswerable, rng)
            share = cfg.unanswerable_share
            n_unanswerable = min(n_unanswerable, round(len(picks) * share / (1 - share)))
        else:
            picks = rng.choices(answerable, weights=[w for w, _, _ in answerable], k=wanted - n_unanswerable)
        span_tokens = {}
        for _, qa, tokens in picks:
            if qa.question not in {q.question for q in qas}:
                qas.append(qa)
                span_tokens[qa.question] = tokens
        for _ in range(n_unanswerable):  # questions about a chunk of another document
            other = library.chunks[rng.randrange(len(library.chunks))]
            if other.doc not in docs or any(library.chunks[c].doc == other.doc for c in chunk_ids):
                continue
            found = _candidates(other.text, rng, self.written)
            if found:
                sentence, span, question, _ = rng.choice(found)
                if not any(span.text(sentence) in t for t in texts):
                    qas.append(QA(question, "", 0, span.kind, "other-document"))
        rng.shuffle(qas)
        example.qas = qas
        self._tokenize(example, sources, span_tokens)
        return example

    def _tokenize(
        self, example: Example, sources: list[SourceText], span_tokens: dict[str, list[int]]
    ) -> None:
        vocab = self.vocab
        layout = ReaderLayout(question_first=self.cfg.question_first, hints=self.cfg.hints)
        tokens: list[int] = []
        mask: list[int] = []
        for number, qa in enumerate(example.qas):
            if number == 0:
                first = build_prompt(sources, qa.question, vocab.tokenize, vocab.bos, vocab.newline, layout)
                prompt, example.spans = first.tokens, first.spans
            else:
                prompt = [
                    *vocab.newline,
                    *question_block(sources, qa.question, vocab.tokenize, vocab.newline, layout),
                ]
            reply = [vocab.eos]
            if qa.answer:
                reply = [*span_tokens[qa.question], *citation_tokens(qa.source, vocab.tokenize), vocab.eos]
            if len(tokens) + len(prompt) + len(reply) > self.cfg.seq_len + 1:
                example.qas = example.qas[:number]
                break
            tokens += prompt + reply
            mask += [0] * len(prompt) + [1] * len(reply)
        example.tokens, example.mask = tokens, mask


def iter_examples(writer: ExampleWriter, docs: list[int], count: int, offset: int) -> Iterator[Example]:
    index = offset
    made = 0
    while made < count:
        example = writer.build(index, docs)
        index += 1
        if example is not None and example.qas:
            made += 1
            yield example


def write_split(path: Path, examples: list[Example], seq_len: int, pad: int, library: Library) -> None:
    """tokens (N, seq_len+1) int16 and mask (N, seq_len+1) uint8 as one .npz; text as .jsonl."""
    tokens = np.full((len(examples), seq_len + 1), pad, dtype=np.int16)
    mask = np.zeros((len(examples), seq_len + 1), dtype=np.uint8)
    for i, example in enumerate(examples):
        tokens[i, : len(example.tokens)] = example.tokens
        mask[i, : len(example.mask)] = example.mask
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, tokens=tokens, mask=mask)
    os.replace(tmp, path.with_suffix(".npz"))
    with open(path.with_suffix(".jsonl.tmp"), "w", encoding="utf-8") as out:
        for example in examples:
            documents = [library.keys[library.chunks[c].doc] for c in example.chunk_ids]
            out.write(
                json.dumps(
                    {
                        "documents": documents,
                        "spans": example.spans,
                        "qas": [qa.__dict__ for qa in example.qas],
                    }
                )
                + "\n"
            )
    os.replace(path.with_suffix(".jsonl.tmp"), path.with_suffix(".jsonl"))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
