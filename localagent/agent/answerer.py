"""Grounded question answering: retrieve -> numbered sources -> prompt -> streamed draft ->
verification -> answer with citations, or "not found in your documents".

    answerer = Answerer(engine, index, config)
    answer = answerer.ask("When does the lease end?", on_token=print)
    answer.text, answer.found, answer.citations[0].page, answer.timings.ttft_ms

One Answerer per session: follow-up questions reuse the KV cache of the fixed prompt header
(and of the sources, when they are the same), which `answer.timings.reused_tokens` reports.
Safe to call from a worker thread; one question at a time per engine.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace

from localagent.agent.answer_types import complete_date
from localagent.agent.context import build_sources
from localagent.agent.kvcache import restore_prefix
from localagent.agent.prompts import FEW_SHOT, STOP, chat_messages, completion_prompt, parse_reply
from localagent.agent.retrieval import BM25Retriever, Retriever
from localagent.agent.types import NOT_FOUND, Answer, Citation, Source, Timings
from localagent.agent.verify import MIN_RELEVANCE, Verdict, focus_of, relevance_of, salvage, verify
from localagent.config import DEFAULTS, Settings
from localagent.errors import LocalAgentError
from localagent.protocols import DocumentIndex, TextEngine

DEFAULT_MAX_TOKENS = 48  # answers are short spans copied from a source
CANDIDATES_PER_SOURCE = 3  # retrieve this many chunks per source slot, then re-rank


class Answerer:
    """Answers questions from one index with one engine (see the module docstring)."""

    def __init__(
        self,
        engine: TextEngine,
        index: DocumentIndex,
        config: Settings | None = None,
        retriever: Retriever | None = None,
        prompt_style: str = "auto",
        max_tokens: int = DEFAULT_MAX_TOKENS,
    ):
        self.engine = engine
        self.index = index
        self.retriever = retriever or BM25Retriever(index)
        settings = config or DEFAULTS
        self.k = settings.retrieval_k
        self.source_budget = settings.ask_source_tokens
        self.collection = config.collection if config is not None else None  # None: every collection
        self.max_tokens = max_tokens
        if prompt_style == "auto":
            prompt_style = "chat" if getattr(engine, "has_chat_template", False) else "completion"
        if prompt_style not in ("chat", "completion"):
            raise LocalAgentError(f"unknown prompt style {prompt_style!r} (use chat or completion)")
        self.prompt_style = prompt_style
        self.retry_focused = True  # second try with only the most relevant source when the first fails
        self.cache_prefix = True  # keep the prompt header's KV state on disk (see agent.kvcache)

    def count_tokens(self, text: str) -> int:
        return len(self.engine.tokenize(text))

    def _budget(self, question: str) -> int:
        """Source tokens that fit next to the header, the question and the reply."""
        fixed = self.count_tokens(completion_prompt([], question)) + self.max_tokens + 16
        return max(64, min(self.source_budget, self.engine.n_ctx - fixed))

    def retrieve(self, question: str, collection: str | None = None) -> list[Source]:
        """The numbered sources ``ask`` would show the model for ``question``."""
        hits = self.retriever.retrieve(question, collection, self.k * CANDIDATES_PER_SOURCE)
        return build_sources(
            hits, question, self.count_tokens, max_sources=self.k, budget_tokens=self._budget(question)
        )

    def _generate(
        self,
        sources: list[Source],
        question: str,
        on_token: Callable[[str], None] | None,
        cancel: threading.Event | None,
        started: float,
        timings: Timings,
    ) -> str:
        if self.prompt_style == "chat":
            stream = self.engine.chat(
                chat_messages(sources, question),
                max_tokens=self.max_tokens,
                temperature=0.0,
                stop=["\n\n"],
                cancel=cancel,
            )
        else:
            stream = self.engine.complete(
                completion_prompt(sources, question),
                max_tokens=self.max_tokens,
                temperature=0.0,
                stop=STOP,
                cancel=cancel,
            )
        pieces: list[str] = []
        for piece in stream:
            if not pieces:
                timings.ttft_ms = (time.perf_counter() - started) * 1000
            pieces.append(piece)
            if on_token is not None:
                on_token(piece)
        timings.add_call(self.engine.stats)
        return "".join(pieces)

    def ask(
        self,
        question: str,
        collection: str | None = None,
        on_token: Callable[[str], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> Answer:
        """Answer ``question`` from ``collection`` (default: the config's; None in config: all).

        ``on_token`` gets the model's draft piece by piece as it is generated (when the first
        draft fails verification, a "\n" piece announces a second draft from the single most
        relevant source); the returned Answer is the verified result, which replaces the draft
        (its text may be NOT_FOUND even after a draft streamed). ``cancel`` stops generation.
        """
        question = " ".join(question.split())
        if not question:
            raise LocalAgentError("the question is empty")
        collection = collection or self.collection
        started = time.perf_counter()
        timings = Timings()
        sources = self.retrieve(question, collection)
        timings.retrieval_ms = (time.perf_counter() - started) * 1000

        def refuse(reason: str, draft: str = "") -> Answer:
            timings.total_ms = (time.perf_counter() - started) * 1000
            return Answer(question, NOT_FOUND, False, [], timings, reason, draft, sources)

        if not sources:
            return refuse("no indexed passage matches the question's words")
        if max(relevance_of(question, s) for s in sources) < MIN_RELEVANCE:
            return refuse("no passage shares enough words with the question")
        prefix = (
            restore_prefix(self.engine, FEW_SHOT)
            if self.prompt_style == "completion" and self.cache_prefix
            else "skipped"
        )
        attempts = [sources]
        focused = max(sources, key=lambda s: (focus_of(question, s), relevance_of(question, s)))
        if len(sources) > 1 and self.retry_focused:
            attempts.append([replace(focused, n=1)])
        for attempt, shown in enumerate(attempts):
            if attempt and on_token is not None:
                on_token("\n")  # a second draft follows
            draft = self._generate(shown, question, on_token, cancel, started, timings)
            if cancel is not None and cancel.is_set():
                return refuse("cancelled", draft)
            text, cited = parse_reply(draft)
            verdict = verify(text, cited, shown, question)
            if verdict.found:
                break
        if not verdict.found:
            rescued = salvage(draft, sources, question) if verdict.paraphrase else None
            if rescued is None:
                return refuse(verdict.reason, draft)
            text, source = rescued
            verdict = Verdict(
                True,
                f"the draft was not copied word for word ({verdict.reason}); "
                f"answered with the source sentence it drew on",
                cited=[source],
            )
        verdict.cited = [next(s for s in sources if s.chunk_id == c.chunk_id) for c in verdict.cited]
        text = complete_date(text, verdict.cited[0].text)
        timings.total_ms = (time.perf_counter() - started) * 1000
        return Answer(
            question,
            text,
            True,
            [Citation.of(s) for s in verdict.cited],
            timings,
            verdict.reason,
            draft,
            sources,
            [{"kv_prefix": prefix}],
        )
