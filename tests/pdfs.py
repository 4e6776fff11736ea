"""Real PDF files for tests and benchmarks, written byte by byte (no PDF library needed).

``make_pdf(path, pages)`` writes a valid PDF 1.4 with one page per entry of ``pages`` (a list of
lines), set in Helvetica, so a PDF reader extracts exactly those words on exactly those pages. Helpers
derive the broken variants the indexer must report: encrypted (through pypdf's RC4, no extra
package), truncated, zero bytes, and pages with no text layer (only drawn shapes, like a scan).
"""

from __future__ import annotations

import zlib
from pathlib import Path


def _escape(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _typeset(line: str) -> bytes:
    """One line as TeX sets it: no space characters, each gap between words a TJ offset."""
    return b"[" + b" -333 ".join(b"(" + _escape(word) + b")" for word in line.split()) + b"] TJ T*"


def _content(lines: list[str] | None, typeset: bool = False) -> bytes:
    if lines is None:  # no text layer: a grey rectangle, as a scanned image would be
        return b"0.5 g 72 72 468 648 re f\n"
    out = [b"BT /F1 11 Tf 14 TL 72 760 Td"]
    for line in lines:
        out.append(_typeset(line) if typeset else b"(" + _escape(line) + b") Tj T*")
    out.append(b"ET")
    return b"\n".join(out) + b"\n"


def pdf_bytes(
    pages: list[list[str] | None], compress: bool = True, labels: bytes = b"", typeset: bool = False
) -> bytes:
    """A PDF whose page i shows ``pages[i]`` line by line (None: a page without any text).

    ``labels``: a /PageLabels number tree's /Nums array body, e.g. ``b"0 << /S /r >> 2 << /S /D >>"``
    (pages i, ii, then 1, 2, ...), as printed page numbers are declared. ``typeset``: words are
    placed apart by TJ offsets instead of space characters, as LaTeX writes them.
    """
    objects: list[bytes] = []  # object n is objects[n - 1]
    font_id = 3
    first_page_id = 4
    page_ids = [first_page_id + 2 * i for i in range(len(pages))]
    page_labels = b" /PageLabels << /Nums [%s] >>" % labels if labels else b""
    objects.append(b"<< /Type /Catalog /Pages 2 0 R%s >>" % page_labels)
    kids = b" ".join(b"%d 0 R" % pid for pid in page_ids)
    objects.append(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(pages)))
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    for index, lines in enumerate(pages):
        page_id = page_ids[index]
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>" % (font_id, page_id + 1)
        )
        stream = _content(lines, typeset)
        if compress:
            stream = zlib.compress(stream)
            objects.append(
                b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream"
            )
        else:
            objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def make_pdf(
    path: Path,
    pages: list[list[str] | None],
    compress: bool = True,
    labels: bytes = b"",
    typeset: bool = False,
) -> Path:
    path.write_bytes(pdf_bytes(pages, compress, labels, typeset))
    return path


def make_encrypted_pdf(path: Path, pages: list[list[str] | None], password: str = "secret") -> Path:
    """The same PDF encrypted with a user password (RC4-128, which pypdf writes without extras);
    ``password=""`` makes a PDF that opens without asking but is still encrypted."""
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes(pages))))
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="RC4-128")
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def make_truncated_pdf(path: Path, pages: list[list[str] | None], keep: float = 0.6) -> Path:
    """A PDF cut off part way, as an interrupted download leaves it."""
    data = pdf_bytes(pages)
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def known_pages(count: int, marker: str = "page") -> list[list[str]]:
    """Pages with a unique word on each: page n holds ``f"{marker}word{n}"`` plus filler text."""
    filler = "The quick brown fox jumps over the lazy dog while the committee reviews the budget."
    return [
        [f"Heading of {marker} {n}", f"This page holds {marker}word{n} in its body.", filler]
        for n in range(1, count + 1)
    ]


def scanned_image(lines: list[str], dpi: int = 150, height_pt: int = 792):
    """A text PDF page rendered to a greyscale image by PDFium, as a scanner would see it; the
    top ``height_pt`` points of the page (a strip keeps OCR in tests quick)."""
    import pypdfium2 as pdfium

    source = pdfium.PdfDocument(pdf_bytes([lines]))
    image = source[0].render(scale=dpi / 72).to_pil().convert("L")
    return image.crop((0, 0, image.width, round(height_pt * dpi / 72)))


def make_scanned_pdf(path: Path, lines: list[str], dpi: int = 150, height_pt: int = 792) -> Path:
    """A scan: a text PDF page rendered to an image and wrapped, as the only content, in a new
    PDF, so the page has no text layer, only pixels."""
    import pypdfium2 as pdfium

    image = scanned_image(lines, dpi, height_pt)
    out = pdfium.PdfDocument.new()
    width, height = 612, height_pt
    page = out.new_page(width, height)
    picture = pdfium.PdfImage.new(out)
    picture.set_bitmap(pdfium.PdfBitmap.from_pil(image))
    picture.set_matrix(pdfium.PdfMatrix().scale(width, height))
    page.insert_obj(picture)
    page.gen_content()
    out.save(path)
    return path
