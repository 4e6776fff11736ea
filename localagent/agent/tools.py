"""Read-only tools for the agent loop, confined to the indexed documents of one collection.

    search(query)            best passages of the collection (bm25)
    read(document, page)     one page of an indexed document
    list_documents()         the indexed documents with their page counts
    answer(text, sources)    the final answer, citing result numbers

Every call the model makes is generated under a llama.cpp grammar built from `call_schema()`,
whose ``document`` field is an enum of the indexed documents, so the model cannot even write
another path; `DocumentTools.run` checks again and refuses anything outside the collection.
Text returned by tools is flattened to one line: documents are data, never instructions.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from localagent.agent.context import best_excerpt, build_sources
from localagent.agent.retrieval import Retriever
from localagent.agent.terms import flatten, one_line, terms
from localagent.agent.types import Source

MAX_QUERY_CHARS = 80
MAX_ANSWER_CHARS = 200
MAX_ENUM_DOCUMENTS = 300  # above this the grammar takes any string and the tool checks it
RESULT_TOKENS = 70  # tokens of text per search result or page shown to the model


@dataclass
class ToolResult:
    """What a call returned: ``text`` for the model, ``sources`` numbered evidence it can cite,
    ``refused`` when the call was not allowed (e.g. a path outside the collection)."""

    text: str
    sources: list[Source] = field(default_factory=list)
    refused: bool = False


class Evidence:
    """Numbers every passage the tools returned, once (the same chunk or page keeps its number)."""

    def __init__(self) -> None:
        self.sources: list[Source] = []
        self._keys: dict[tuple, int] = {}

    def add(self, source: Source) -> Source:
        key = (source.file, source.page, source.chunk_id, source.text)
        if key in self._keys:
            return self.sources[self._keys[key] - 1]
        numbered = replace(source, n=len(self.sources) + 1)
        self.sources.append(numbered)
        self._keys[key] = numbered.n
        return numbered

    def get(self, numbers: list[int]) -> list[Source]:
        return [self.sources[n - 1] for n in numbers if 1 <= n <= len(self.sources)]


class DocumentTools:
    """The tools over one collection of ``index``; ``count`` counts model tokens."""

    def __init__(
        self, index: Any, collection: str | None, retriever: Retriever, count: Any, search_k: int = 3
    ):
        self.index, self.collection, self.retriever = index, collection, retriever
        self.count, self.search_k = count, search_k
        docs = [d for d in index.list_documents(collection) if d.status == "ok"]
        names = [Path(d.path).name for d in docs]
        self.documents = {
            (Path(d.path).name if names.count(Path(d.path).name) == 1 else d.path): d for d in docs
        }

    # --- schema ---------------------------------------------------------------------------------
    def call_schema(self, final_only: bool = False) -> dict[str, Any]:
        """JSON Schema of one tool call: {"tool": NAME, ...arguments}."""
        document: dict[str, Any] = {"type": "string", "maxLength": 200}
        if 0 < len(self.documents) <= MAX_ENUM_DOCUMENTS:
            document = {"enum": sorted(self.documents)}

        def call(name: str, props: dict[str, Any]) -> dict[str, Any]:
            return {
                "type": "object",
                "properties": {"tool": {"const": name}, **props},
                "required": ["tool", *props],
                "additionalProperties": False,
            }

        answer = call(
            "answer",
            {
                "text": {"type": "string", "maxLength": MAX_ANSWER_CHARS},
                "sources": {"type": "array", "items": {"type": "integer", "minimum": 1}, "maxItems": 3},
            },
        )
        if final_only:
            return answer
        return {
            "oneOf": [
                call("search", {"query": {"type": "string", "maxLength": MAX_QUERY_CHARS}}),
                call("read", {"document": document, "page": {"type": "integer", "minimum": 1}}),
                call("list_documents", {}),
                answer,
            ]
        }

    # --- tools ------------------------------------------------------------------------------------
    def run(self, call: dict[str, Any], question: str, evidence: Evidence) -> ToolResult:
        """Execute one parsed call (``answer`` is handled by the loop, not here)."""
        name = call.get("tool")
        if name == "search":
            return self.search(str(call.get("query", "")), question, evidence)
        if name == "read":
            return self.read(call.get("document"), call.get("page"), question, evidence)
        if name == "list_documents":
            return self.list_documents()
        return ToolResult(f"refused: unknown tool {name!r}", refused=True)

    def search(self, query: str, question: str, evidence: Evidence) -> ToolResult:
        query = one_line(query)[:MAX_QUERY_CHARS] or question
        hits = self.retriever.retrieve(query, self.collection, self.search_k * 3)
        found = build_sources(
            hits,
            f"{question} {query}",
            self.count,
            max_sources=self.search_k,
            budget_tokens=RESULT_TOKENS * self.search_k,
            source_tokens=RESULT_TOKENS,
        )
        if not found:
            return ToolResult("no passage matches")
        numbered = [evidence.add(s) for s in found]
        return ToolResult(" ".join(self._line(s) for s in numbered), numbered)

    def resolve(self, document: Any) -> Any:
        """The indexed document named ``document`` (display name or exact indexed path), or None."""
        if not isinstance(document, str) or not document:
            return None
        if document in self.documents:
            return self.documents[document]
        return next((d for d in self.documents.values() if d.path == document), None)

    def read(self, document: Any, page: Any, question: str, evidence: Evidence) -> ToolResult:
        record = self.resolve(document)
        if record is None:
            return ToolResult(
                f"refused: {str(document)[:80]!r} is not an indexed document of this "
                "collection; use list_documents",
                refused=True,
            )
        if not isinstance(page, int) or not 1 <= page <= record.pages:
            return ToolResult(
                f"refused: {Path(record.path).name} has pages 1 to {record.pages}", refused=True
            )
        text = self.index.page_text(record.path, page) or ""
        wanted = set(terms(question))
        excerpt = best_excerpt(text, wanted, RESULT_TOKENS * 2, self.count)
        chunk_id = next(
            (
                h.chunk_id
                for h in self.retriever.retrieve(question, self.collection, 20)
                if h.file == record.path and h.page == page
            ),
            0,
        )
        source = evidence.add(Source(0, record.path, page, chunk_id, 0.0, excerpt, flatten(text)))
        return ToolResult(self._line(source), [source])

    def list_documents(self) -> ToolResult:
        listing = "; ".join(f"{name} ({d.pages} pages)" for name, d in sorted(self.documents.items())[:50])
        return ToolResult(listing or "no documents")

    @staticmethod
    def _line(source: Source) -> str:
        return f"[{source.n}] {Path(source.file).name}, {source.place}: {one_line(source.text)}"
