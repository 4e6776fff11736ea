"""summarize: a few sentences per document; map-reduce over chunks when it does not fit the context.

Short document: one prompt. Long document: cut into chunks that fit (docs.chunk_pages, then cut
exactly with the model's tokenizer), summarize each chunk (map), then summarize the joined partial
summaries (reduce), in groups and again while they still do not fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from localagent.batch.tasks import Task, TaskError, document_text, fit_tokens, prompt_budget
from localagent.docs import Page, chunk_pages
from localagent.engine import Engine
from localagent.errors import LocalAgentError

STOP = ["\n\n", "\nDocument:", "\nText:"]
MAX_ROUNDS = 6


@dataclass(frozen=True)
class SummarizeTask(Task):
    name = "summarize"

    def options(self) -> dict[str, Any]:
        return {"max_tokens": self.max_tokens}

    @staticmethod
    def prompt(text: str, partial: bool = False) -> str:
        what = "these notes on one document" if partial else "the text above"
        return f"Text:\n{text}\n\nA short summary of {what}, in two or three sentences:\n"

    def _summarize(self, engine: Engine, text: str, partial: bool = False) -> str:
        pieces = engine.complete(
            self.prompt(text, partial),
            max_tokens=self.max_tokens,
            temperature=0.0,
            stop=STOP,
            repeat_penalty=1.15,
        )
        summary = " ".join("".join(pieces).split())
        if not summary:
            raise TaskError("the model wrote an empty summary")
        return summary

    def run(self, engine: Engine, pages: list[Page]) -> str:
        budget = prompt_budget(engine, self.max_tokens, len(engine.tokenize(self.prompt("", True))))
        if budget < 2 * self.max_tokens + 16:
            raise LocalAgentError(
                f"--max-tokens {self.max_tokens} is too large for map-reduce in a "
                f"{engine.n_ctx}-token context; lower it or raise --n-ctx"
            )
        text = document_text(pages)
        if not text:
            raise TaskError("the document has no text")
        if len(engine.tokenize(text)) <= budget:
            return self._summarize(engine, text)
        # map: the heuristic token count of chunk_pages runs ~15% off, so aim below the budget
        chunks = chunk_pages(pages, target_tokens=max(32, int(budget * 0.7)), overlap_tokens=0)
        partials = [
            self._summarize(engine, fit_tokens(engine, chunk.text, budget))
            for chunk in chunks
            if chunk.text.strip()
        ]
        # reduce: group partial summaries that fit together, until one group holds them all
        for _ in range(MAX_ROUNDS):
            groups = self._groups(engine, partials, budget)
            if len(groups) == 1:
                return self._summarize(engine, "\n".join(groups[0]), partial=True)
            partials = [self._summarize(engine, "\n".join(group), partial=True) for group in groups]
        raise TaskError(f"summaries did not shrink to fit the context after {MAX_ROUNDS} rounds")

    @staticmethod
    def _groups(engine: Engine, partials: list[str], budget: int) -> list[list[str]]:
        groups: list[list[str]] = [[]]
        used = 0
        for summary in partials:
            size = len(engine.tokenize(summary + "\n"))
            if groups[-1] and used + size > budget:
                groups.append([])
                used = 0
            groups[-1].append(summary)
            used += size
        return groups
