"""Plain text files: decoded with a safe fallback, split into pages at form feeds."""

from __future__ import annotations

from pathlib import Path

from localagent.docs.detect import decode_text, normalize_newlines
from localagent.docs.types import DocumentError, Page

MAX_TEXT_BYTES = 256 * 1024 * 1024


def read_bytes(path: Path) -> bytes:
    """The file's bytes; DocumentError for empty, huge or unreadable files."""
    try:
        size = path.stat().st_size
        if size > MAX_TEXT_BYTES:
            raise DocumentError(f"file too large for a text document ({size // (1024 * 1024)} MB)")
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"cannot read file: {exc.strerror or exc}") from None
    if not data:
        raise DocumentError("empty file")
    return data


def split_pages(text: str) -> list[Page]:
    """One Page per form-feed-separated part (one Page when there is no form feed).

    Line numbers keep counting across pages, so ``first_line`` is the file line a page starts on.
    """
    pages: list[Page] = []
    line = 1
    for number, part in enumerate(text.split("\f"), start=1):
        pages.append(Page(number=number, text=part, first_line=line))
        line += part.count("\n")
    return pages


def read_text(path: Path) -> list[Page]:
    """Pages of a plain text file; DocumentError for empty, binary or undecodable files."""
    text = normalize_newlines(decode_text(read_bytes(path)))
    if not text.strip():
        raise DocumentError("empty file (only whitespace)")
    return split_pages(text)
