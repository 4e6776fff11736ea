"""What readers produce: pages of text with provenance, and the chunks cut from them."""

from __future__ import annotations

from dataclasses import dataclass, field

from localagent.errors import LocalAgentError


class DocumentError(LocalAgentError):
    """One file could not be read; ``reason`` is a short phrase stored in the index.

    Examples: "encrypted PDF (needs a password)", "empty file", "binary data",
    "no text layer — scanned?". Indexing records it and goes on with the next file.
    """

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Heading:
    """A Markdown heading on a page: its line (1-based within the page), level 1-6 and title."""

    line: int
    level: int
    title: str


@dataclass(frozen=True)
class Page:
    """One page as a person counts it (``number`` is 1-based).

    PDFs give one Page per PDF page. Text and Markdown files are one page, or several when the
    file has form feeds (``\\f``, as pdftotext writes them). ``first_line`` is the file line number
    of the page's first line, so ``first_line + i`` is the line a person sees in an editor
    (always 1 for PDF pages: lines there count from the top of the page).

    ``label`` is the page number printed on a PDF page ("iv", "32") when it differs from
    ``number``. ``problem`` says why a page has no text ("lost: the file is truncated",
    "no text layer — scanned?"); the rest of the file is still indexed. ``ocr_confidence`` (0..1)
    is set when the text came from OCR, which took ``ocr_seconds``.
    """

    number: int
    text: str
    first_line: int = 1
    headings: tuple[Heading, ...] = field(default=())
    label: str | None = None
    problem: str | None = None
    ocr_confidence: float | None = None
    ocr_seconds: float = 0.0


@dataclass(frozen=True)
class Chunk:
    """A piece of one page: ``page_text[char_start:char_end] == text``.

    ``line_start``/``line_end`` are 1-based, inclusive, counted like Page.first_line (file lines
    for text and Markdown, page lines for PDFs). ``heading`` is the Markdown section path
    ("Install > Linux") the chunk falls under, or None.
    """

    page: int
    line_start: int
    line_end: int
    char_start: int
    char_end: int
    text: str
    heading: str | None = None
    tokens: int = 0
