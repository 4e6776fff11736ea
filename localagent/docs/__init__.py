"""Reading documents into pages with provenance, and cutting pages into chunks.

    pages = read_document(Path("report.pdf"))        # [Page(number=1, text=...), ...]
    chunks = chunk_pages(pages, target_tokens=200, overlap_tokens=30)

Formats: PDF (PDFium), Word .docx (python-docx), OpenDocument .odt, HTML (selectolax), Markdown,
text, and with the [ocr] extra scanned PDF pages and images. ``read_document`` raises
DocumentError(reason) for a file that cannot be read (encrypted PDF, empty file, binary data,
undecodable text, no text layer, zip bomb, ...); the reason is a short phrase meant for people
and is what the index stores. Pages that could not be read in an otherwise readable file keep a
``problem`` instead.
"""

from localagent.docs.chunking import chunk_pages
from localagent.docs.cite import describe_place
from localagent.docs.detect import BINARY_SUFFIXES, looks_binary
from localagent.docs.reader import MARKDOWN_SUFFIXES, PDF_SUFFIXES, read_document, skipped_in_walks
from localagent.docs.tokens import count_tokens
from localagent.docs.types import Chunk, DocumentError, Heading, Page

__all__ = [
    "BINARY_SUFFIXES",
    "MARKDOWN_SUFFIXES",
    "PDF_SUFFIXES",
    "Chunk",
    "DocumentError",
    "Heading",
    "Page",
    "chunk_pages",
    "count_tokens",
    "describe_place",
    "looks_binary",
    "read_document",
    "skipped_in_walks",
]
