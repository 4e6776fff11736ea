"""Answering with a reader model: the answer is a span copied from one source, never written.

    reader = ReaderAnswerer(engine, index, config)
    answer = reader.ask("When does the lease end?")
    answer.text        # a verbatim substring of the cited source's text
    answer.citations   # the one source the span was copied from

The reader (tern-reader) was trained on the prompt of ``reader_prompt`` and decodes under
``engine.spans.copy_span``: it cannot invent, paraphrase or copy across sources. What verification
is left is what a verbatim span does not settle:

- relevance: the cited source must share enough of the question's words (the reader may copy a
  plausible span from a passage about something else);
- kind: the span must be the kind of thing asked for (a number for "how many", a date for "when");
- confidence: the probability the reader gives its span must reach ``reader_min_confidence``,
  chosen on held-out reading examples (bench/reader_heldout.py), so that a cascade passes the
  questions the reader is unsure of to the next model instead of taking a guess.

Each source is cut to the sentences around the one that shares most of the question's words
(``READER_EXCERPT_TOKENS``): the reader reads four short windows, not four pages.

The word-support, salvage and "another passage matches better" checks of the generator pipeline
are moot for a verbatim span, and are not run. When the reader declines, the answer lists the
closest passages instead (``Answer.sources``), so the user can read them.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from localagent.agent.answer_types import expected_kind, kind_matches
from localagent.agent.context import build_sources
from localagent.agent.reader_hints import is_first_hint
from localagent.agent.reader_prompt import ReaderLayout, SourceText, build_prompt, span_end_tokens
from localagent.agent.retrieval import BM25Retriever, Retriever
from localagent.agent.types import NOT_FOUND, Answer, Citation, Source, Timings
from localagent.agent.verify import MIN_RELEVANCE, relevance_of
from localagent.config import DEFAULTS
from localagent.engine.spans import SpanReply, copy_span
from localagent.errors import LocalAgentError
from localagent.models.gguf_info import read_gguf_scalars

MAX_READER_SOURCES = 9  # the citation after a span is one digit
READER_SOURCE_TOKENS = 1400  # reader tokens of sources: the length it was trained on
# Per source: the sentences around the one sharing most of the question's words. On held-out
# long contexts (bench/reader_heldout.py --excerpt-tokens) sources cut to 120 tokens put the gold
# in 58% of the reader's quotes against 38% whole (260 let a 200-token chunk through whole), with
# a prompt of about 630 tokens instead of 880: an 18M reader finds a sentence among four short
# windows far better than among four pages, and reads them in two thirds of the time.
READER_EXCERPT_TOKENS = 120
DECLINE_BIAS = 0.0


class ReaderAnswerer:
    """Answers from one index with a reader engine (see the module docstring)."""

    def __init__(
        self,
        engine,
        index,
        config=None,
        retriever: Retriever | None = None,
        decline_bias: float = DECLINE_BIAS,
    ):
        self.engine = engine
        self.index = index
        self.retriever = retriever or BM25Retriever(index)
        wanted = getattr(config, "reader_sources", DEFAULTS.reader_sources) or DEFAULTS.reader_sources
        self.k = max(1, min(MAX_READER_SOURCES, int(wanted)))
        least = getattr(config, "reader_min_confidence", DEFAULTS.reader_min_confidence)
        self.min_confidence = float(least)
        self.collection = getattr(config, "collection", None)
        self.decline_bias = decline_bias
        self.source_budget = min(READER_SOURCE_TOKENS, engine.n_ctx - 160)
        self._newline = engine.tokenize("\n")
        self._end, self._numbers = span_end_tokens(engine.tokenize, MAX_READER_SOURCES)
        self.layout = reader_layout(engine)

    def count_tokens(self, text: str) -> int:
        return len(self.engine.tokenize(text))

    def retrieve(self, question: str, collection: str | None = None) -> list[Source]:
        hits = self.retriever.retrieve(question, collection, self.k * 2)
        return build_sources(
            hits,
            question,
            self.count_tokens,
            max_sources=self.k,
            budget_tokens=self.source_budget,
            source_tokens=READER_EXCERPT_TOKENS,
        )

    def ask(
        self,
        question: str,
        collection: str | None = None,
        on_token: Callable[[str], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> Answer:
        question = " ".join(question.split())
        if not question:
            raise LocalAgentError("the question is empty")
        started = time.perf_counter()
        timings = Timings()
        sources = self.retrieve(question, collection or self.collection)
        timings.retrieval_ms = (time.perf_counter() - started) * 1000

        def refuse(reason: str, draft: str = "") -> Answer:
            timings.total_ms = (time.perf_counter() - started) * 1000
            return Answer(question, NOT_FOUND, False, [], timings, reason, draft, sources)

        if not sources:
            return refuse("no indexed passage matches the question's words")
        shown = [SourceText(s.n, s.file, s.page, s.text) for s in sources]
        prompt = build_prompt(
            shown,
            question,
            self.engine.tokenize,
            self.engine.llama.token_bos(),
            self._newline,
            self.layout,
        )
        reply = copy_span(
            self.engine,
            prompt.tokens,
            [prompt.source_tokens(i) for i in range(len(sources))],
            self._end,
            [self._numbers[s.n - 1] for s in sources],
            self.engine.llama.token_eos(),
            self.decline_bias,
            cancel,
            on_token,
        )
        timings.ttft_ms = self.engine.stats.ttft_s * 1000
        timings.add_call(self.engine.stats)
        if reply.declined:
            return refuse(
                f"the reader found no answer in the sources (P(no answer) "
                f"{math.exp(reply.decline_logprob):.2f})"
            )
        source = sources[reply.source]
        text = span_text(
            self.engine, prompt.source_tokens(reply.source), reply.start, len(reply.tokens or [])
        )
        draft = f"{text} [{source.n}]"
        if text is None or text not in source.text:
            return refuse("the copied span does not map back to its source's text", draft)
        if not text.strip(" .,;:"):
            return refuse("the copied span has no words", draft)
        texts = [s.text for s in sources]
        agrees = is_first_hint(question, texts, reply.source, text) if self.layout.hints else None
        confidence = reader_confidence(reply, agrees)
        if confidence < self.min_confidence:
            why = "its quote is not the sentence the hints name first, " if agrees is False else ""
            return refuse(
                f"the reader is unsure of its answer ({why}confidence {confidence:.3g}, "
                f"reader_min_confidence {self.min_confidence:g})",
                draft,
            )
        if relevance_of(question, source) < MIN_RELEVANCE:
            return refuse(
                f"the passage holding the answer is not about the question "
                f"(relevance {relevance_of(question, source):.2f})",
                draft,
            )
        if not kind_matches(question, text):
            return refuse(
                f"the answer is not the kind the question asks for ({expected_kind(question)})", draft
            )
        timings.total_ms = (time.perf_counter() - started) * 1000
        return Answer(
            question,
            text,
            True,
            [Citation.of(source)],
            timings,
            f"copied from source [{source.n}] (confidence {confidence:.3g})",
            draft,
            sources,
        )


def reader_confidence(reply: SpanReply, agrees_with_hint: bool | None) -> float:
    """How sure the reader is of its span, for ``reader_min_confidence``.

    A reader without hints copies short spans: the probability of all the span's tokens. A reader
    with hints quotes a sentence, and the product over 10-70 copied tokens says more about the
    sentence's length than about whether it is the right one; its confidence is the probability
    of the tokens that locate the span (``SpanReply.locate_logprob``), and 0 unless the quote is
    the sentence the hint line names first. On long held-out contexts (bench/reader_heldout.py,
    data-hint-long, sources cut as ``ask`` cuts them) the quotes that agree with the first hint
    are right 143 times in 176, the others 18 in 103.
    """
    if agrees_with_hint is None:
        return math.exp(reply.logprob)
    return math.exp(reply.locate_logprob) if agrees_with_hint else 0.0


def reader_layout(engine) -> ReaderLayout:
    """The prompt layout this reader was trained on, as its GGUF says (reader_prompt)."""
    path = getattr(engine, "path", None)
    return ReaderLayout.from_gguf(read_gguf_scalars(path) if path is not None else {})


def span_text(engine, source_tokens: list[int], start: int, length: int) -> str | None:
    """The characters of a source that tokens [start, start+length) spell (no leading space)."""
    pieces = b"".join(engine.llama.detokenize([t]) for t in source_tokens[start : start + length])
    try:
        return pieces.decode("utf-8").strip()
    except UnicodeDecodeError:
        return None
