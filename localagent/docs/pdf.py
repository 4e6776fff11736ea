"""PDF files through PDFium (pypdfium2), one Page per PDF page, numbered 1.. as a person counts them.

PDFium keeps the spaces between words where pure-Python extractors glue whole lines together,
and is an order of magnitude faster. Printed page labels ("iv", "32") are kept next to the
page number. A truncated file (an interrupted download) is given a trailer so PDFium can
rebuild its cross-reference table by scanning; its readable pages are indexed and the lost
ones say so. Pages without a text layer go through OCR when the [ocr] extra is installed.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from localagent.docs.detect import normalize_newlines
from localagent.docs.types import DocumentError, Page

OCR_HINT = "install the [ocr] extra to read scans: pip install 'localagent[ocr]'"
NO_TEXT_LAYER = "no text layer — scanned?"
# A truncated file is repaired in memory; bigger ones are refused rather than loaded whole.
MAX_REPAIR_BYTES = 512 * 1024 * 1024

# PDFium load errors (fpdfview.h FPDF_ERR_*).
_ERR_FILE, _ERR_FORMAT, _ERR_PASSWORD, _ERR_SECURITY = 2, 3, 4, 5
_CATALOG = re.compile(rb"(\d+)\s+(\d+)\s+obj\s*<<(?:(?!endobj).){0,400}?/Type\s*/Catalog\b", re.S)
# C0 controls PDFium may leave in text (e.g. 0x02 for a generated hyphen), except tab and newline.
_CONTROLS = dict.fromkeys(c for c in range(32) if c not in (9, 10, 13))


def _head_and_tail(path: Path) -> tuple[int, bytes, bytes]:
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(1024)
            handle.seek(max(0, size - 2048))
            tail = handle.read()
    except OSError as exc:
        raise DocumentError(f"cannot read file: {exc.strerror or exc}") from None
    if size == 0:
        raise DocumentError("empty file")
    if b"%PDF-" not in head:
        raise DocumentError("not a PDF (no %PDF- header)")
    return size, head, tail


def _repaired(path: Path, size: int) -> bytes:
    """The bytes of a truncated PDF with a trailer naming its catalog, or DocumentError."""
    if size > MAX_REPAIR_BYTES:
        raise DocumentError(f"truncated PDF (no %EOF; too large to repair: {size // 2**20} MB)")
    data = path.read_bytes()
    catalog = _CATALOG.search(data)
    if catalog is None:
        raise DocumentError("truncated PDF (no %EOF, and its catalog is lost)")
    # Close a stream or object cut off in the middle, then a trailer: PDFium finds the objects
    # by scanning when the cross-reference table is missing.
    return data + b"\nendstream\nendobj\ntrailer\n<< /Root %s %s R >>\n%%%%EOF\n" % catalog.groups()


def _open(path: Path):
    """(PdfDocument, truncated?) — trying the empty password, which many "protected" PDFs use."""
    import pypdfium2 as pdfium

    size, _head, tail = _head_and_tail(path)
    truncated = b"%%EOF" not in tail
    try:
        source = _repaired(path, size) if truncated else str(path)
        return pdfium.PdfDocument(source, password=""), truncated
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        # PDFium's error code is process-wide and some failures do not set it, so a password
        # error left by an earlier file is only believed when this file declares encryption.
        if code in (_ERR_PASSWORD, _ERR_SECURITY) and not _declares_encryption(path):
            code = None
        if code == _ERR_PASSWORD:
            raise DocumentError("encrypted PDF (needs a password)") from None
        if code == _ERR_SECURITY:
            raise DocumentError("encrypted PDF (unsupported security handler)") from None
        if code == _ERR_FILE:
            raise DocumentError("cannot read file") from None
        if truncated:
            raise DocumentError("truncated PDF (no %EOF; PDFium could not rebuild it)") from None
        raise DocumentError(f"corrupt PDF ({_pdfium_reason(exc)})") from None
    except OSError as exc:
        raise DocumentError(f"cannot read file: {exc.strerror or exc}") from None


def _declares_encryption(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            previous = b""
            for block in iter(lambda: handle.read(1 << 20), b""):
                if b"/Encrypt" in previous[-16:] + block:
                    return True
                previous = block
    except OSError:
        return False
    return False


def _pdfium_reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = text.removeprefix("Failed to load document").strip(" .()").removeprefix("PDFium: ")
    return "PDFium could not load it" if text in ("", "Success") else text[:120]


def clean_text(text: str) -> str:
    """Extracted text as stored: NFKC (folds ligatures like "ﬁ" and full-width forms, so a search
    for "file" finds "ﬁle"), LF newlines, no control characters."""
    return normalize_newlines(unicodedata.normalize("NFKC", text)).translate(_CONTROLS)


def _page_label(document, index: int) -> str | None:
    try:
        label = document.get_page_label(index).strip()
    except Exception:  # a damaged /PageLabels tree: the page number alone will do
        return None
    return label if label and label != str(index + 1) else None


def _read_page(document, index: int, lost: str) -> Page:
    number = index + 1
    try:
        page = document[index]
    except Exception:  # pypdfium2 raises PdfiumError; one lost page must not lose the others
        return Page(number=number, text="", problem=lost)
    try:
        textpage = page.get_textpage()
        try:
            text = textpage.get_text_range()
        finally:
            textpage.close()
    except Exception:
        return Page(number=number, text="", label=_page_label(document, index), problem=lost)
    finally:
        page.close()
    text = clean_text(text)
    return Page(
        number=number,
        text=text,
        label=_page_label(document, index),
        problem=None if text.strip() else NO_TEXT_LAYER,
    )


def read_pdf(path: Path) -> list[Page]:
    """Text of every page; DocumentError for encrypted, corrupt or unreadable PDFs.

    Pages that cannot be read (lost to truncation or damage) and pages without a text layer stay
    as empty pages with a ``problem``; OCR fills the latter when the [ocr] extra is installed. A
    file where no page has text fails with "no text layer — scanned?".
    """
    from localagent.docs.ocr import ocr_pdf_pages

    document, truncated = _open(path)
    lost = "lost: the file is truncated" if truncated else "lost: PDFium could not read this page"
    try:
        count = len(document)
        if count == 0:
            raise DocumentError(
                "truncated PDF (no page left)" if truncated else "corrupt PDF (no pages found)"
            )
        pages = [_read_page(document, index, lost) for index in range(count)]
        pages = ocr_pdf_pages(document, pages)
    finally:
        document.close()
    if not any(page.text.strip() for page in pages):
        if truncated:
            raise DocumentError("truncated PDF (no readable text left)")
        if all(page.problem == lost for page in pages):
            raise DocumentError("corrupt PDF (no page could be read)")
        reasons = {page.problem for page in pages if page.problem and page.problem != lost}
        raise DocumentError(reasons.pop() if len(reasons) == 1 else NO_TEXT_LAYER)
    return pages
