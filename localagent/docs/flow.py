"""Documents without pages (Word, OpenDocument, HTML) as one Page of numbered paragraphs.

Each paragraph, list item or table row is one line of the page text, so a chunk's line span is
its paragraph range ("paragraphs 12-15") and headings give its section path, as in Markdown.
Table rows become "cell | cell | cell".
"""

from __future__ import annotations

from localagent.docs.types import DocumentError, Heading, Page

FLOW_SUFFIXES = frozenset({".docx", ".odt", ".html", ".htm", ".xhtml"})


class FlowBuilder:
    """Collects paragraphs and headings in reading order."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.headings: list[Heading] = []

    def paragraph(self, text: str) -> None:
        """One paragraph (whitespace collapsed; empty ones are left out)."""
        text = " ".join(text.split())
        if text:
            self.lines.append(text)

    def heading(self, level: int, text: str) -> None:
        text = " ".join(text.split())
        if text:
            self.lines.append(text)
            self.headings.append(Heading(len(self.lines), level, text))

    def row(self, cells: list[str]) -> None:
        """A table row; repeated neighbours (merged cells) are shown once."""
        kept: list[str] = []
        for cell in (" ".join(c.split()) for c in cells):
            if not kept or cell != kept[-1]:
                kept.append(cell)
        if any(kept):
            self.lines.append(" | ".join(kept))

    def page(self, empty_reason: str) -> list[Page]:
        if not self.lines:
            raise DocumentError(empty_reason)
        return [Page(number=1, text="\n".join(self.lines) + "\n", headings=tuple(self.headings))]


def is_flow(path: str) -> bool:
    """True for files whose citations name a section and paragraphs, not a page."""
    dot = path.rfind(".")
    return dot >= 0 and path[dot:].lower() in FLOW_SUFFIXES
