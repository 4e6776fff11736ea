"""Reading documents into pages with provenance, and cutting pages into chunks.

    pages = read_document(Path("report.pdf"))        # [Page(number=1, text=...), ...]
    chunks = chunk_pages(pages, target_tokens=200, overlap_tokens=30)

``read_document`` raises DocumentError(reason) for a file that cannot be read (encrypted PDF,
truncated PDF, empty file, binary data, undecodable text, no text layer); the reason is a short
phrase meant for people and is what the index stores.
"""

from localagent.docs.chunking import chunk_pages
from localagent.docs.detect import BINARY_SUFFIXES, looks_binary
from localagent.docs.reader import MARKDOWN_SUFFIXES, PDF_SUFFIXES, read_document
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
    "looks_binary",
    "read_document",
]
