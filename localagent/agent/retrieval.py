"""Finding candidate chunks for a question. `Retriever` is the seam for other retrieval kinds
(e.g. hybrid BM25 + embeddings later): anything with ``retrieve(query, collection, limit)``."""

from __future__ import annotations

from typing import Protocol

from localagent.index import EmptyQueryError, SearchHit
from localagent.protocols import DocumentIndex


class Retriever(Protocol):
    def retrieve(self, query: str, collection: str | None, limit: int) -> list[SearchHit]:
        """The best chunks for ``query``, best first; [] when nothing matches."""
        ...


class BM25Retriever:
    """SQLite FTS5 bm25 over the index (see localagent.index.query for query escaping)."""

    def __init__(self, index: DocumentIndex):
        self.index = index

    def retrieve(self, query: str, collection: str | None, limit: int) -> list[SearchHit]:
        try:
            return self.index.search(query, collection=collection, limit=limit)
        except EmptyQueryError:
            return []
