"""Rows the index hands out: documents, chunks and search hits."""

from __future__ import annotations

from dataclasses import dataclass

# How search snippets mark the words that matched (Markdown bold).
MARK_START = "**"
MARK_END = "**"


@dataclass(frozen=True)
class DocumentRecord:
    """One indexed (or failed) file of a collection. ``status`` is "ok" or "failed"; ``notes``
    says which pages were lost, glued or OCR'd (see index.notes)."""

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
    notes: str | None = None
    glued_pages: int = 0
    ocr_pages: int = 0


@dataclass(frozen=True)
class ChunkRecord:
    """A stored chunk: ``file`` is an absolute path, ``page`` 1-based, lines inclusive,
    ``char_start``/``char_end`` offsets into the page text (Index.page_text), ``page_label`` the
    printed page number when it differs from ``page``."""

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
    page_label: str | None = None

    @property
    def place(self) -> str:
        """Where a person finds it: "page 42 (printed 32)", or for Word/HTML "section X, paragraphs 3-5"."""
        from localagent.docs import describe_place

        return describe_place(
            self.file, self.page, self.page_label, self.heading, self.line_start, self.line_end
        )


@dataclass(frozen=True)
class PageInfo:
    """One stored page's provenance: printed ``label``, ``problem`` (why it has no text),
    ``ocr_confidence`` when OCR'd, ``glued`` when its words lost their spaces."""

    number: int
    label: str | None
    problem: str | None
    ocr_confidence: float | None
    glued: bool = False


@dataclass(frozen=True)
class SearchHit(ChunkRecord):
    """A chunk that matched: ``snippet`` has the matched words between MARK_START/MARK_END,
    ``score`` is bm25 made positive (higher is better; only comparable within one query)."""

    snippet: str = ""
    score: float = 0.0
