"""extract: fill a JSON Schema from the document.

The schema becomes a llama.cpp grammar (llama-cpp-python's json_schema_to_gbnf), so the model can
only write JSON of that shape; the result is then validated with `jsonschema` (the grammar cannot
express every keyword, and a reply cut off at --max-tokens is not JSON). A failed attempt is
retried once with the validation error in the prompt and twice the token budget; a second failure
becomes the document's error record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from localagent.batch.tasks import Task, TaskError, document_text, fit_tokens, prompt_budget
from localagent.docs import Page
from localagent.engine import Engine
from localagent.engine.constrained import generate_constrained
from localagent.errors import LocalAgentError


def load_schema(path: Path) -> dict[str, Any]:
    """Read and check a JSON Schema file; one-line errors for unreadable, non-JSON or invalid schemas."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LocalAgentError(f"{path}: schema file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LocalAgentError(
            f"{path}: cannot read the schema: {getattr(exc, 'strerror', None) or exc}"
        ) from None
    try:
        schema = json.loads(text)
    except ValueError as exc:
        raise LocalAgentError(f"{path}: schema is not valid JSON ({exc})") from None
    check_schema(schema, str(path))
    return schema


def check_schema(schema: Any, where: str) -> None:
    import jsonschema

    if not isinstance(schema, dict):
        raise LocalAgentError(f"{where}: a JSON Schema must be an object, got {type(schema).__name__}")
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as exc:
        at = "/".join(str(p) for p in exc.path)
        raise LocalAgentError(
            f"{where}: not a valid JSON Schema: {exc.message}" + (f" (at {at})" if at else "")
        ) from None
    try:
        schema_grammar(schema)
    except Exception as exc:  # json_schema_to_gbnf raises plain exceptions for what it cannot express
        raise LocalAgentError(f"{where}: this schema cannot be turned into a grammar ({exc})") from None


def schema_grammar(schema: dict[str, Any]) -> str:
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    return json_schema_to_gbnf(json.dumps(schema))


def field_names(schema: dict[str, Any]) -> str:
    """ "a, b, c" for the top-level properties, or a phrase for a schema without properties."""
    properties = schema.get("properties") or {}
    return ", ".join(properties) if properties else f"a JSON value of type {schema.get('type', 'any')}"


def _complete_json(text: str) -> bool:
    stripped = text.rstrip()
    if not stripped.endswith(("}", "]")):
        return False
    try:
        json.loads(stripped)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class ExtractTask(Task):
    schema_json: str = "{}"

    name = "extract"

    @cached_property
    def schema(self) -> dict[str, Any]:
        return json.loads(self.schema_json)

    def options(self) -> dict[str, Any]:
        return {"schema": self.schema, "max_tokens": self.max_tokens}

    def prompt(self, text: str, problem: str = "") -> str:
        # Field names only: the base model copies descriptions into the values. This wording scored
        # best of those tried on the generated invoices (see tests/test_batch_model.py).
        retry = f"(A previous answer was rejected: {problem}.)\n" if problem else ""
        return (
            f"Document:\n{text}\n\n{retry}The fields {field_names(self.schema)} copied exactly from "
            f"the document, as JSON:\n"
        )

    def run(self, engine: Engine, pages: list[Page]) -> Any:
        import jsonschema

        grammar = schema_grammar(self.schema)
        validator = jsonschema.validators.validator_for(self.schema)(self.schema)
        reserve = len(engine.tokenize(self.prompt("", "x" * 200)))
        text = fit_tokens(engine, document_text(pages), prompt_budget(engine, 2 * self.max_tokens, reserve))
        problem = ""
        for attempt in (1, 2):
            reply = generate_constrained(
                engine,
                self.prompt(text, problem),
                grammar,
                max_tokens=self.max_tokens * attempt,
                done=_complete_json,
            )
            try:
                value = json.loads(reply)
            except ValueError:
                problem = f"the JSON was cut off after {self.max_tokens * attempt} tokens"
                continue
            error = jsonschema.exceptions.best_match(validator.iter_errors(value))
            if error is None:
                return value
            problem = f"{'/'.join(str(p) for p in error.path) or 'value'}: {error.message}"[:200]
        raise TaskError(f"no valid JSON for the schema after 2 attempts ({problem})")
