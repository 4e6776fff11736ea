"""The TUI's one seam to the answering code (`localagent.agent`, issue #7).

The UI only sees `Reply` and `CitedSource`, so a change in the agent's types touches this file
alone. `AnswerService.ask` runs in a worker thread: `on_token` is called there, `cancel` is
checked by the engine between tokens.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from localagent.config import Settings
from localagent.errors import LocalAgentError
from localagent.protocols import DocumentIndex, QuestionAnswerer, TextEngine


@dataclass(frozen=True)
class CitedSource:
    """One numbered source of an answer: a chunk of a file, on a page."""

    n: int
    file: str
    page: int
    chunk_id: int | None = None
    score: float = 0.0
    text: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_any(cls, item: Any, position: int = 1) -> CitedSource:
        """From the agent's Citation object, or from a stored dict."""
        get = (
            item.get if isinstance(item, Mapping) else (lambda key, default=None: getattr(item, key, default))
        )
        chunk_id = get("chunk_id")
        return cls(
            n=int(get("n", position) or position),
            file=str(get("file", "")),
            page=int(get("page", 0) or 0),
            chunk_id=int(chunk_id) if chunk_id is not None else None,
            score=float(get("score", 0.0) or 0.0),
            text=str(get("text", "") or ""),
        )


@dataclass
class Reply:
    """What the conversation shows for one question."""

    text: str
    found: bool
    citations: list[CitedSource] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    cancelled: bool = False
    closest: list[CitedSource] = field(default_factory=list)  # when not found: passages to read instead
    model: str = ""


AnswererFactory = Callable[[TextEngine, DocumentIndex, Settings], QuestionAnswerer]


def agent_answerer(engine: TextEngine, index: DocumentIndex, config: Settings) -> QuestionAnswerer:
    """The real answerer: the cascade of `answer_models` (one model unless configured); the model
    of the cascade that the app loaded uses the app's engine instead of loading a second copy."""
    try:
        from localagent.agent.cascade import Cascade, answer_models
    except ImportError as exc:
        raise LocalAgentError(f"answering is not available in this install ({exc})") from exc
    from localagent.models import resolve_model

    models = answer_models(config)
    loaded = Path(getattr(engine, "path", "")).resolve()
    # the first match only: a later model is resolved (and assembled, if need be) when reached
    same = next((m for m in models if Path(resolve_model(m)).resolve() == loaded), None)
    return Cascade(index, config, models, engines={same: engine} if same else {})


def reply_from(answer: Any, cancelled: bool = False) -> Reply:
    """Turn the agent's Answer (or a mapping of the same fields) into a Reply."""
    get = (
        answer.get
        if isinstance(answer, Mapping)
        else (lambda key, default=None: getattr(answer, key, default))
    )
    citations = [CitedSource.from_any(c, i) for i, c in enumerate(get("citations", None) or [], start=1)]
    timings = get("timings", None) or {}
    if not isinstance(timings, Mapping):
        timings = asdict(timings) if hasattr(timings, "__dataclass_fields__") else dict(vars(timings))
    text = str(get("text", None) or get("answer", None) or "")
    if cancelled:  # what was written before esc, not the agent's refusal
        text = str(get("draft", None) or "")
    found = bool(get("found", False)) and not cancelled
    closest = (
        []
        if found or cancelled
        else [CitedSource.from_any(s, i) for i, s in enumerate((get("sources", None) or [])[:3], start=1)]
    )
    return Reply(
        text=text,
        found=found,
        citations=citations,
        closest=closest,
        model=str(get("model", "") or ""),
        timings={k: float(v) for k, v in timings.items() if isinstance(v, int | float)},
        cancelled=cancelled,
    )


class AnswerService:
    """Answers questions over the index with a loaded engine (one question at a time)."""

    def __init__(
        self,
        engine: TextEngine,
        index: DocumentIndex,
        config: Settings,
        factory: AnswererFactory | None = None,
    ):
        self._answerer = (factory or agent_answerer)(engine, index, config)

    def ask(
        self, question: str, collection: str | None, on_token: Callable[[str], None], cancel: threading.Event
    ) -> Reply:
        answer = self._answerer.ask(question, collection=collection, on_token=on_token, cancel=cancel)
        return reply_from(answer, cancelled=cancel.is_set())
