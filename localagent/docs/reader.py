"""`read_document`: pick the reader for a file by its name ending, or by sniffing its bytes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from localagent.docs.detect import BINARY_SUFFIXES, SNIFF_BYTES, looks_binary
from localagent.docs.markdown import read_markdown
from localagent.docs.pdf import read_pdf
from localagent.docs.text import read_text
from localagent.docs.types import DocumentError, Page

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".mdown", ".mkd"})
PDF_SUFFIXES = frozenset({".pdf"})


def reader_for(path: Path) -> Callable[[Path], list[Page]]:
    """The reader function for ``path``; DocumentError for clearly binary files."""
    suffix = path.suffix.lower()
    if suffix in PDF_SUFFIXES:
        return read_pdf
    if suffix in MARKDOWN_SUFFIXES:
        return read_markdown
    if suffix in BINARY_SUFFIXES:
        raise DocumentError(f"binary data ({suffix} files are not documents)")
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as exc:
        raise DocumentError(f"cannot read file: {exc.strerror or exc}") from None
    if head.startswith(b"%PDF-"):
        return read_pdf
    if looks_binary(head):
        raise DocumentError("binary data")
    return read_text


def read_document(path: Path) -> list[Page]:
    """Pages of a PDF, Markdown or text file; DocumentError(reason) when it cannot be read."""
    path = Path(path)
    if path.is_dir():
        raise DocumentError("is a folder, not a file")
    if not path.exists():
        raise DocumentError("file not found")
    return reader_for(path)(path)
