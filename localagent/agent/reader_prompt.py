"""The prompt a reader model sees, built as token ids, shared by `ask` and the training data.

A reader (tern-reader) is trained on exactly this layout, so the code that builds it lives in one
place: ``quantize qat reading`` writes its examples with ``build_prompt``, and ``ask`` reads with it.

    <s> Sources:\\n
     [1] lease.pdf, page 2: <the source's text, one line>\\n
     [2] ...\\n
     Question: <question>\\n
     Answer:

A reader's GGUF says which variant of the layout it was trained on (``ReaderLayout``):

- ``localagent.reader.question_first``: the question line also stands before "Sources:" (a causal
  model reads each source token once, and only what came before it can shape what it keeps);
- ``localagent.reader.hints``: a line "Near: [n] first words … [m] …" after each question names
  the sentences sharing the most of its rarer words (``reader_hints``).

Each piece is tokenized on its own (so a source's tokens are the same wherever it appears), which
is why the model's answer, copied token for token from a source, maps back to a character range of
that source's text. The reply is the copied span, then " [n]" and end-of-sequence; a reply that
starts with end-of-sequence means "the sources do not answer this".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from localagent.agent.reader_hints import hint_line
from localagent.agent.terms import one_line

Tokenize = Callable[[str], list[int]]  # text -> ids, no BOS


@dataclass(frozen=True)
class ReaderLayout:
    """The variant of the prompt a reader was trained on; its GGUF says which (see above)."""

    question_first: bool = False
    hints: bool = False

    def config_keys(self) -> dict[str, bool]:
        """The keys of an exported config.json (``quantize convert`` turns them into GGUF keys)."""
        return {f"localagent_reader_{f.name}": True for f in fields(self) if getattr(self, f.name)}

    @classmethod
    def from_gguf(cls, scalars: dict[str, Any]) -> ReaderLayout:
        return cls(**{f.name: bool(scalars.get(gguf_key(f.name), False)) for f in fields(cls)})


def gguf_key(name: str) -> str:
    return f"localagent.reader.{name}"


PLAIN = ReaderLayout()


@dataclass(frozen=True)
class SourceText:
    n: int
    file: str
    page: int | str
    text: str  # one line (see terms.one_line)


@dataclass
class ReaderPrompt:
    tokens: list[int]  # BOS first
    spans: list[tuple[int, int]]  # per source: [start, end) of its text tokens within ``tokens``
    numbers: list[int]  # per source: its number n

    def source_tokens(self, i: int) -> list[int]:
        start, end = self.spans[i]
        return self.tokens[start:end]


def label(n: int, file: str, page: int | str) -> str:
    return f"[{n}] {Path(file).name}, page {page}:"


def build_prompt(
    sources: Sequence[SourceText],
    question: str,
    tokenize: Tokenize,
    bos: int,
    newline: list[int],
    layout: ReaderLayout = PLAIN,
) -> ReaderPrompt:
    """Token ids of the reader prompt (see the module docstring), laid out as ``layout`` says."""
    tokens = [bos]
    if layout.question_first:
        tokens += [*tokenize("Question: " + one_line(question)), *newline]
    tokens += [*tokenize("Sources:"), *newline]
    spans = []
    for source in sources:
        tokens += tokenize(label(source.n, source.file, source.page))
        start = len(tokens)
        tokens += tokenize(source.text)
        spans.append((start, len(tokens)))
        tokens += newline
    tokens += question_block(sources, question, tokenize, newline, layout)
    return ReaderPrompt(tokens, spans, [s.n for s in sources])


def question_block(
    sources: Sequence[SourceText], question: str, tokenize: Tokenize, newline: list[int], layout: ReaderLayout
) -> list[int]:
    """ "Question: ...\n[Near: ...\n]Answer:" after the sources (a later question of a training
    example follows the previous reply and a newline)."""
    tokens = [*tokenize("Question: " + one_line(question)), *newline]
    if layout.hints:
        tokens += [
            *tokenize(hint_line(question, [s.n for s in sources], [s.text for s in sources])),
            *newline,
        ]
    return tokens + tokenize("Answer:")


def citation_tokens(n: int, tokenize: Tokenize) -> list[int]:
    """The tokens that follow a copied span: " [n]"."""
    return tokenize(f"[{n}]")


def span_end_tokens(tokenize: Tokenize, sources: int = 9) -> tuple[int, list[int]]:
    """What copy-constrained decoding needs of " [n]": the token that ends a span, and the token
    naming source n, for n = 1..sources (index n - 1)."""
    return citation_tokens(1, tokenize)[0], [citation_tokens(n, tokenize)[1] for n in range(1, sources + 1)]
