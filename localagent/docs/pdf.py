"""PDF files through pypdf, one Page per PDF page, numbered 1.. as a person counts them."""

from __future__ import annotations

import logging
import unicodedata
import warnings
from pathlib import Path

from localagent.docs.detect import normalize_newlines
from localagent.docs.types import DocumentError, Page

# pypdf logs every oddity of a damaged file (some at error level) to stderr; the failure reason
# stored with the document says what matters.
logging.getLogger("pypdf").setLevel(logging.CRITICAL)


def _check_bytes(path: Path) -> None:
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
    if b"%%EOF" not in tail:
        raise DocumentError("truncated PDF (no %EOF at the end)")


def _open(path: Path):
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError, PyPdfError

    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted:
            try:
                unlocked = reader.decrypt("")
            except DependencyError:
                raise DocumentError("encrypted PDF (AES; needs the 'cryptography' package)") from None
            if not unlocked:
                raise DocumentError("encrypted PDF (needs a password)")
        pages = reader.pages
        len(pages)
    except DocumentError:
        raise
    except FileNotDecryptedError:
        raise DocumentError("encrypted PDF (needs a password)") from None
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            RecursionError) as exc:
        raise DocumentError(f"corrupt PDF ({_short(exc)})") from None
    return reader


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]


def read_pdf(path: Path) -> list[Page]:
    """Text of every page; DocumentError for encrypted, corrupt, truncated or image-only PDFs.

    A page whose text cannot be extracted becomes an empty page (the rest of the file is still
    worth indexing); a file where no page has text fails with "no text layer — scanned?".
    """
    _check_bytes(path)
    reader = _open(path)
    pages: list[Page] = []
    broken = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            count = len(reader.pages)
        except Exception as exc:  # pypdf raises many types on damaged page trees
            raise DocumentError(f"corrupt PDF ({_short(exc)})") from None
        for index in range(count):
            try:
                text = reader.pages[index].extract_text() or ""
            except Exception:  # one bad page (bad font, bad stream) must not lose the others
                text = ""
                broken += 1
            # NFKC folds what PDF text extraction leaves behind (ligatures like "ﬁ", full-width
            # forms), so a search for "file" finds "ﬁle".
            pages.append(Page(number=index + 1, text=normalize_newlines(unicodedata.normalize("NFKC", text))))
    if not pages:
        raise DocumentError("PDF has no pages")
    if broken == len(pages):
        raise DocumentError("corrupt PDF (no page could be read)")
    if not any(page.text.strip() for page in pages):
        raise DocumentError("no text layer — scanned?")
    return pages
