"""classify: the document gets exactly one of the given labels, enforced by a grammar."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from localagent.batch.constrained import generate_constrained
from localagent.batch.tasks import Task, TaskError, document_text, fit_tokens, prompt_budget
from localagent.docs import Page
from localagent.engine import Engine
from localagent.errors import LocalAgentError


def parse_labels(text: str) -> list[str]:
    """``a,b,c`` -> labels; empty or duplicate labels are a one-line error."""
    labels = [part.strip() for part in text.split(",")]
    if not any(labels):
        raise LocalAgentError("--labels is empty; give labels separated by commas, e.g. --labels invoice,letter")
    if not all(labels):
        raise LocalAgentError(f"--labels {text!r} has an empty label (two commas in a row?)")
    if len(set(labels)) != len(labels):
        raise LocalAgentError(f"--labels {text!r} names a label twice")
    return labels


def labels_grammar(labels: tuple[str, ...]) -> str:
    """GBNF: "n"? (for "a"/"an" before the label), a space, then one of the labels verbatim."""
    return 'root ::= "n"? " " (' + " | ".join(json.dumps(label) for label in labels) + ")"


@dataclass(frozen=True)
class ClassifyTask(Task):
    labels: tuple[str, ...] = ()

    name = "classify"

    def options(self) -> dict[str, Any]:
        return {"labels": list(self.labels)}  # max_tokens does not apply: a label is short

    @staticmethod
    def prompt(text: str) -> str:
        # The base model picks better when it continues a sentence than when it answers a listed
        # question (5 of 6 vs 2 of 6 on a small invoice/letter/recipe set); the grammar keeps it to
        # the labels.
        return f"Document:\n{text}\n\nThis document is a"

    def run(self, engine: Engine, pages: list[Page]) -> str:
        longest = max(len(engine.tokenize(" " + label)) for label in self.labels)
        reserve = len(engine.tokenize(self.prompt(""))) + 2
        text = fit_tokens(engine, document_text(pages), prompt_budget(engine, longest + 2, reserve))
        answer = generate_constrained(engine, self.prompt(text), labels_grammar(self.labels),
                                      max_tokens=longest + 2)
        answer = answer[1:] if answer.startswith("n ") else answer
        answer = answer.strip()
        if answer not in self.labels:
            raise TaskError(f"the model gave no label (got {answer!r})")
        return answer
