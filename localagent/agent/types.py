"""What an answer is made of: numbered sources, citations, timings and the answer itself."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from localagent.engine.llama import EngineStats

from localagent.docs.cite import describe_place

NOT_FOUND = "Not found in your documents."


@dataclass(frozen=True)
class Source:
    """One numbered piece of evidence put in front of the model.

    ``text`` is what the model saw (the chunk, or its most relevant sentences); ``chunk_text``
    the whole chunk as indexed. ``score`` is the retrieval score (bm25, higher is better).
    """

    n: int
    file: str
    page: int
    chunk_id: int
    score: float
    text: str
    chunk_text: str = ""
    line_start: int = 0
    line_end: int = 0
    heading: str | None = None
    page_label: str | None = None

    @property
    def place(self) -> str:
        """ "page 42 (printed 32)", or "section “A > B”, paragraphs 3-5" for Word/HTML files."""
        return describe_place(
            self.file, self.page, self.page_label, self.heading, self.line_start, self.line_end
        )


@dataclass(frozen=True)
class Citation:
    """A source the answer was checked against: file, 1-based page and chunk, and ``place``,
    the way a person finds it (printed page label; section and paragraphs for Word/HTML)."""

    n: int
    file: str
    page: int
    chunk_id: int
    score: float
    text: str
    place: str = ""
    heading: str | None = None

    @classmethod
    def of(cls, source: Source) -> Citation:
        return cls(
            source.n,
            source.file,
            source.page,
            source.chunk_id,
            source.score,
            source.text,
            source.place,
            source.heading,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "page": self.page,
            "place": self.place or f"page {self.page}",
            "heading": self.heading,
            "chunk_id": self.chunk_id,
            "score": self.score,
        }


@dataclass
class Timings:
    """Milliseconds, except tokens_per_s. ``reused_tokens`` prompt tokens came from the KV cache
    of the previous question (their evaluation was saved); ``prompt_tokens`` were evaluated."""

    retrieval_ms: float = 0.0
    ttft_ms: float = 0.0
    tokens_per_s: float = 0.0
    prompt_tokens: int = 0
    reused_tokens: int = 0
    prompt_ms: float = 0.0
    generated_tokens: int = 0
    total_ms: float = 0.0

    def add_call(self, stats: EngineStats) -> None:
        """Add the figures of the engine's last generation call (an answer may take several)."""
        self.prompt_tokens += stats.prompt_tokens
        self.reused_tokens += stats.reused_tokens
        self.prompt_ms += stats.prompt_s * 1000
        self.generated_tokens += stats.gen_tokens
        self.tokens_per_s = stats.gen_tok_s

    def as_json(self) -> dict[str, Any]:
        return {k: round(v, 1) if isinstance(v, float) else v for k, v in asdict(self).items()}


@dataclass
class Answer:
    """The result of one question. ``found`` is False when the documents do not support an
    answer; then ``text`` is NOT_FOUND and ``reason`` says why (for --trace and tests).
    ``draft`` is what the model wrote before verification."""

    question: str
    text: str
    found: bool
    citations: list[Citation] = field(default_factory=list)
    timings: Timings = field(default_factory=Timings)
    reason: str = ""
    draft: str = ""
    sources: list[Source] = field(default_factory=list)
    trace: list[dict[str, Any]] = field(default_factory=list)
    model: str = ""  # the model that answered (set by agent.cascade)

    def closest(self, limit: int = 3) -> list[Source]:
        """The passages closest to the question, for a reply that found no answer."""
        return self.sources[:limit]

    def as_json(self) -> dict[str, Any]:
        out = {
            "answer": self.text,
            "found": self.found,
            "model": self.model,
            "citations": [c.as_json() for c in self.citations],
            "timings": self.timings.as_json(),
        }
        if not self.found:
            out["closest"] = [
                {"file": s.file, "page": s.page, "chunk_id": s.chunk_id, "snippet": snippet(s.text)}
                for s in self.closest()
            ]
        return out


def snippet(text: str, limit: int = 160) -> str:
    """The start of a passage, on one line, cut at a word."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit].rsplit(" ", 1)[0] + " …"
