"""A cascade of answering models: the first that finds an answer gives it.

    cascade = Cascade(index, config, ["tern-reader", "gemma3-270m"])
    answer = cascade.ask("When does the lease end?")
    answer.model       # which model answered ("" when none did)
    answer.trace       # one {"model", "found", "reason", "ms"} step per model tried

A reader model (registry role "reader") answers with a span copied from a source
(``agent.reader``); any other model drafts and verifies (``agent.answerer``). Each engine is
loaded the first time the cascade needs it and kept for the next question, so a question the
ternary reader answers never loads the larger model.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from localagent.agent.types import Answer
from localagent.errors import LocalAgentError

EngineLoader = Callable[[Any, str], Any]


def answer_models(config: Any) -> list[str]:
    """The models `ask` and `chat` try in turn: a --model flag alone when given, else the setting
    answer_models, else the model setting alone, else the registry's default answer models (the
    user's default model, or the shipped cascade: tern-reader, then gemma3-270m)."""
    from localagent.models.registry import Registry

    names = [n.strip() for n in (config.answer_models or "").split(",") if n.strip()]
    if config.model and config.source("model").startswith("flag"):
        return [config.model]
    if names:
        return names
    return [config.model] if config.model else Registry.load().default_answer_models


def model_role(name: str) -> str:
    """ "reader" or "generator": a registry name's role, or a GGUF path's ``localagent.role`` key
    (which ``quantize convert`` writes for reader models)."""
    from localagent.models import resolve_model
    from localagent.models.gguf_info import read_gguf_scalars
    from localagent.models.registry import Registry

    registry = Registry.load()
    if name in {e.name for e in registry.entries}:
        return registry.get(name).role
    return str(read_gguf_scalars(resolve_model(name)).get("localagent.role", "generator"))


def make_answerer(engine: Any, index: Any, config: Any, role: str) -> Any:
    if role == "reader":
        from localagent.agent.reader import ReaderAnswerer

        return ReaderAnswerer(engine, index, config)
    from localagent.agent.answerer import Answerer

    return Answerer(engine, index, config)


def _load(config: Any, name: str) -> Any:
    from localagent.engine import load_engine

    return load_engine(config, model=name)


class Cascade:
    """Answers with each model in turn until one finds an answer (see the module docstring)."""

    def __init__(
        self,
        index: Any,
        config: Any,
        models: list[str],
        load: EngineLoader = _load,
        engines: dict[str, Any] | None = None,
    ):
        if not models:
            raise LocalAgentError("the cascade has no models (setting answer_models)")
        self.index, self.config, self.models, self._load = index, config, models, load
        self.engines: dict[str, Any] = dict(engines or {})
        self._answerers: dict[str, Any] = {}

    def answerer(self, spec: str) -> Any:
        """The answerer of a model; "name@reader" (or "@generator") forces how it answers, e.g. to
        measure the copy constraint with a model that was not trained for it."""
        if spec not in self._answerers:
            name, _, role = spec.partition("@")
            if name not in self.engines:
                self.engines[name] = self._load(self.config, name)
            self._answerers[spec] = make_answerer(
                self.engines[name], self.index, self.config, role or model_role(name)
            )
        return self._answerers[spec]

    def ask(
        self,
        question: str,
        collection: str | None = None,
        on_token: Callable[[str], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> Answer:
        steps: list[dict[str, Any]] = []
        answer: Answer | None = None
        for position, name in enumerate(self.models):
            if position and on_token is not None:
                on_token("\n")  # the next model's draft replaces this one
            started = time.perf_counter()
            answer = self.answerer(name).ask(
                question, collection=collection, on_token=on_token, cancel=cancel
            )
            steps.append(
                {
                    "model": name,
                    "found": answer.found,
                    "reason": answer.reason,
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                }
            )
            if answer.found or (cancel is not None and cancel.is_set()):
                answer.model = name
                break
        assert answer is not None
        answer.trace = steps + answer.trace
        return answer
