"""The document index: SQLite (WAL) with pages, chunks and an FTS5 bm25 table.

with Index.open() as index:
    hits = index.search("lease termination", limit=5)   # [SearchHit(file, page, ...)]
summary = index_paths([Path("~/Documents")], collection="default")
"""

from localagent.index.indexer import FailedFile, IndexEvent, IndexSummary, index_paths
from localagent.index.query import EmptyQueryError, build_match
from localagent.index.reading import ReadLimits
from localagent.index.records import MARK_END, MARK_START, ChunkRecord, DocumentRecord, SearchHit
from localagent.index.store import Index

__all__ = [
    "MARK_END",
    "MARK_START",
    "ChunkRecord",
    "DocumentRecord",
    "EmptyQueryError",
    "FailedFile",
    "Index",
    "IndexEvent",
    "IndexSummary",
    "ReadLimits",
    "SearchHit",
    "build_match",
    "index_paths",
]
