"""What a batch task is: options that identify it, and `run(engine, pages) -> result`.

Tasks are plain picklable data (they travel to worker processes); the model is passed in. All
decoding is greedy, so the same document, options and model always give the same result.
Prompts are written for completion (base) models such as the default Gemma-3-270M: the document
first, then a short instruction whose answer the model continues.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from localagent.docs import Page
from localagent.engine import Engine
from localagent.errors import LocalAgentError

# Bump when prompts or decoding change, so journals do not treat results of old prompts as done.
PROMPT_VERSION = 3
TASKS = ("summarize", "extract", "classify")


class TaskError(Exception):
    """One document failed (the message goes into its error record)."""


@dataclass(frozen=True)
class Task:
    max_tokens: int = 256

    name = "task"

    def options(self) -> dict[str, Any]:
        """What besides the model decides the result (part of the journal key)."""
        return {"max_tokens": self.max_tokens}

    def run(self, engine: Engine, pages: list[Page]) -> Any:
        raise NotImplementedError


def document_text(pages: list[Page]) -> str:
    return "\n\n".join(page.text.strip() for page in pages if page.text.strip())


def fit_tokens(engine: Engine, text: str, budget: int) -> str:
    """``text`` cut (at a token boundary, keeping the start) to at most ``budget`` model tokens."""
    tokens = engine.tokenize(text)
    if len(tokens) <= budget:
        return text
    return engine.detokenize(tokens[: max(0, budget)]).rstrip() + " ..."


def prompt_budget(engine: Engine, max_tokens: int, reserve: int) -> int:
    """Tokens of document text that fit next to ``reserve`` prompt tokens and the answer."""
    budget = engine.n_ctx - max_tokens - reserve - 8
    if budget < 64:
        raise LocalAgentError(
            f"the {engine.n_ctx}-token context leaves no room for the document with "
            f"--max-tokens {max_tokens}; raise --n-ctx or lower --max-tokens"
        )
    return budget


def make_task(
    name: str, max_tokens: int, labels: list[str] | None = None, schema: dict[str, Any] | None = None
) -> Task:
    from localagent.batch.classify import ClassifyTask
    from localagent.batch.extract import ExtractTask
    from localagent.batch.summarize import SummarizeTask

    if name == "classify":
        if not labels:
            raise LocalAgentError("--task classify needs --labels a,b,c (at least one label)")
        return ClassifyTask(max_tokens=max_tokens, labels=tuple(labels))
    if labels:
        raise LocalAgentError(f"--labels is for --task classify, not {name}")
    if name == "extract":
        if schema is None:
            raise LocalAgentError("--task extract needs --schema SCHEMA.json (a JSON Schema)")
        return ExtractTask(max_tokens=max_tokens, schema_json=json.dumps(schema, ensure_ascii=False))
    if schema is not None:
        raise LocalAgentError(f"--schema is for --task extract, not {name}")
    if name == "summarize":
        return SummarizeTask(max_tokens=max_tokens)
    raise LocalAgentError(f"unknown task {name!r} (choose from {', '.join(TASKS)})")
