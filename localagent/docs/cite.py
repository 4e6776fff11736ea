"""Where a passage is, said the way a person looks for it."""

from __future__ import annotations

from localagent.docs.flow import is_flow


def describe_place(
    file: str,
    page: int,
    page_label: str | None = None,
    heading: str | None = None,
    line_start: int = 0,
    line_end: int = 0,
) -> str:
    """ "page 42 (printed 32)" for paged files; "section “Fees > Late”, paragraphs 12-15" for Word,
    OpenDocument and HTML files, which have no pages (their lines are paragraphs, see docs.flow)."""
    if not is_flow(file):
        return (
            f"page {page} (printed {page_label})"
            if page_label and page_label != str(page)
            else f"page {page}"
        )
    parts = [f"section “{heading}”"] if heading else []
    if line_start:
        parts.append(
            f"paragraph {line_start}"
            if line_end in (0, line_start)
            else f"paragraphs {line_start}-{line_end}"
        )
    return ", ".join(parts) or "the whole document"
