"""Rows the index hands out: documents, chunks and search hits."""

from __future__ import annotations

from dataclasses import dataclass

# How search snippets mark the words that matched (Markdown bold).
MARK_START = "**"
MARK_END = "**"


@dataclass(frozen=True)
class DocumentRecord:
    """One indexed (or failed) file of a collection. ``status`` is "ok" or "failed"."""

    path: str
    collection: str
    status: str
    error: str | None
    pages: int
    chunks: int
    size: int
    indexed_at: float
    id: int = 0
    sha256: str | None = None
    mtime_ns: int = 0
    chunker: str = ""


@dataclass(frozen=True)
class ChunkRecord:
    """A stored chunk: ``file`` is an absolute path, ``page`` 1-based, lines inclusive,
    ``char_start``/``char_end`` offsets into the page text (Index.page_text)."""

    chunk_id: int
    document_id: int
    file: str
    page: int
    line_start: int
    line_end: int
    char_start: int
    char_end: int
    text: str
    heading: str | None


@dataclass(frozen=True)
class SearchHit(ChunkRecord):
    """A chunk that matched: ``snippet`` has the matched words between MARK_START/MARK_END,
    ``score`` is bm25 made positive (higher is better; only comparable within one query)."""

    snippet: str = ""
    score: float = 0.0
