"""`read_document`: pick the reader for a file by its name ending, or by sniffing its bytes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from localagent.docs import ocr
from localagent.docs.detect import BINARY_SUFFIXES, SNIFF_BYTES, looks_binary
from localagent.docs.docx import read_docx
from localagent.docs.html import read_html
from localagent.docs.markdown import read_markdown
from localagent.docs.ocr import IMAGE_SUFFIXES, read_image
from localagent.docs.odt import read_odt
from localagent.docs.pdf import read_pdf
from localagent.docs.text import read_text
from localagent.docs.types import DocumentError, Page

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".mdown", ".mkd"})
PDF_SUFFIXES = frozenset({".pdf"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
_BY_SUFFIX: dict[str, Callable[[Path], list[Page]]] = {
    **dict.fromkeys(PDF_SUFFIXES, read_pdf),
    **dict.fromkeys(MARKDOWN_SUFFIXES, read_markdown),
    **dict.fromkeys(HTML_SUFFIXES, read_html),
    ".docx": read_docx,
    ".odt": read_odt,
    **dict.fromkeys(IMAGE_SUFFIXES, read_image),
}


def skipped_in_walks(path: Path) -> bool:
    """True for name endings a folder walk leaves alone: clearly binary files, and images
    unless the [ocr] extra can read them."""
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return not ocr.ocr_available()
    return suffix in BINARY_SUFFIXES


def reader_for(path: Path) -> Callable[[Path], list[Page]]:
    """The reader function for ``path``; DocumentError for clearly binary files."""
    suffix = path.suffix.lower()
    if suffix in _BY_SUFFIX:
        return _BY_SUFFIX[suffix]
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
    """Pages of a PDF, Word, OpenDocument, HTML, Markdown, text or (with OCR) image file;
    DocumentError(reason) when it cannot be read."""
    path = Path(path)
    if path.is_dir():
        raise DocumentError("is a folder, not a file")
    if not path.exists():
        raise DocumentError("file not found")
    return reader_for(path)(path)
