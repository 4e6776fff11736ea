"""The typed seams between the parts: what the agent needs of an engine and of an index, and
what the CLI, the TUI and benchmarks need of an answerer. `Engine`, `Index`, `Answerer` and
`AgentLoop` satisfy them structurally; tests and new back-ends (another engine, a hybrid index)
only have to provide these methods.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from localagent.agent.types import Answer
    from localagent.engine.llama import EngineStats
    from localagent.index.records import ChunkRecord, DocumentRecord, SearchHit


class TextEngine(Protocol):
    """A loaded model that streams text (localagent.engine.Engine)."""

    path: Path
    stats: EngineStats  # the figures of the last generation call

    @property
    def n_ctx(self) -> int: ...

    @property
    def has_chat_template(self) -> bool: ...

    def tokenize(self, text: str, add_bos: bool = False) -> list[int]: ...

    def detokenize(self, tokens: list[int]) -> str: ...

    def complete(
        self,
        prompt: str,
        max_tokens: int = 256,
        temperature: float = 0.7,
        stop: list[str] | None = None,
        seed: int | None = None,
        grammar: Any = None,
        cancel: threading.Event | None = None,
        top_k: int = 40,
        top_p: float = 0.95,
        repeat_penalty: float = 1.0,
    ) -> Iterator[str]: ...

    def chat(
        self,
        messages: list[dict[str, str]],
        max_tokens: int = 256,
        temperature: float = 0.7,
        stop: list[str] | None = None,
        seed: int | None = None,
        grammar: Any = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[str]: ...

    def close(self) -> None: ...


class DocumentIndex(Protocol):
    """The read side of the document index (localagent.index.Index)."""

    def search(
        self, query: str, collection: str | None = None, limit: int = 10, skip_missing: bool = True
    ) -> list[SearchHit]: ...

    def list_documents(self, collection: str | None = None, failed: bool = False) -> list[DocumentRecord]: ...

    def list_collections(self) -> list[str]: ...

    def get_chunk(self, chunk_id: int) -> ChunkRecord | None: ...

    def page_text(self, file: str | Path, page: int) -> str | None: ...


class QuestionAnswerer(Protocol):
    """Answers one question from the documents (agent.Answerer, agent.loop.AgentLoop)."""

    def ask(
        self,
        question: str,
        collection: str | None = None,
        on_token: Callable[[str], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> Answer: ...
