"""Real documents for bench/ingest.py: typeset PDFs (pypdf against PDFium), Word, HTML, OCR.

Real PDFs come from Debian documentation packages (none of those reserved for independent
evaluation), unpacked without installing them:

    apt-get download bash-doc asymptote-doc gnuplot-doc octave-doc
    for f in *.deb; do dpkg-deb -x "$f" x; done
    python bench/ingest.py --real-pdfs x/usr/share/doc

All of them are typeset by pdfTeX (Texinfo, LaTeX) except bash.pdf (groff + Ghostscript).
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from localagent.docs import read_document
from localagent.docs.pdf import clean_text
from localagent.docs.quality import count_glued, looks_glued

# Reserved for independent evaluation: never read by the project's benches.
RESERVED = ("debian-policy", "debian-handbook", "libtasn1", "shared-mime-info", "common-licenses")


def find_pdfs(root: Path, min_pages: int = 5) -> list[tuple[Path, int]]:
    """(path, pages) of the PDFs under ``root`` with at least ``min_pages`` pages, by name."""
    import pypdfium2 as pdfium

    found = []
    for path in sorted(root.rglob("*.pdf")):
        if any(name in str(path) for name in RESERVED) or path.is_symlink() or not path.is_file():
            continue
        try:
            document = pdfium.PdfDocument(str(path))
            pages = len(document)
            document.close()
        except pdfium.PdfiumError:
            continue
        if pages >= min_pages:
            found.append((path, pages))
    return found


def _pypdf_pages(path: Path) -> list[str]:
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reader = PdfReader(path, strict=False)
        return [clean_text(page.extract_text() or "") for page in reader.pages]


def _pdfium_pages(path: Path) -> list[str]:
    return [page.text for page in read_document(path)]


def _measure(extract: Callable[[Path], list[str]], files: list[Path]) -> dict[str, float]:
    pages = glued = words = flagged = 0
    wall, cpu = time.perf_counter(), time.process_time()
    texts = []
    for path in files:
        texts.extend(extract(path))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    for text in texts:
        count = count_glued(text)
        glued, words, pages = glued + count.glued, words + count.words, pages + 1
        flagged += looks_glued(text)
    return {
        "pages": pages,
        "pages_s": pages / wall,
        "cpu_s_page": cpu / max(pages, 1),
        "glued_share": glued / max(words, 1),
        "glued_pages": flagged,
    }


def compare_pdf_extractors(files: list[Path]) -> dict[str, dict[str, float]]:
    """pypdf and PDFium (our reader) over the same files in this one process, pypdf first."""
    return {"pypdf": _measure(_pypdf_pages, files), "pdfium": _measure(_pdfium_pages, files)}


def print_comparison(files: list[Path], result: dict[str, dict[str, float]]) -> None:
    total = int(result["pdfium"]["pages"])
    print(f"\nreal typeset PDFs: {len(files)} files, {total} pages ({', '.join(p.name for p in files)})")
    print(f"  {'extractor':<10} {'pages/s':>9} {'CPU s/page':>11} {'glued words':>12} {'glued pages':>12}")
    for name, row in result.items():
        print(
            f"  {name:<10} {row['pages_s']:>9.1f} {row['cpu_s_page']:>11.4f} {row['glued_share']:>11.3%} "
            f"{int(row['glued_pages']):>12}"
        )
    speed = result["pdfium"]["pages_s"] / max(result["pypdf"]["pages_s"], 1e-9)
    cpu = result["pypdf"]["cpu_s_page"] / max(result["pdfium"]["cpu_s_page"], 1e-9)
    print(
        f"  PDFium / pypdf: {speed:.1f}x pages/s, {cpu:.1f}x less CPU per page (target >= 5x)  "
        f"{'meets' if min(speed, cpu) >= 5 else 'MISSES'}"
    )


def write_flow_corpus(root: Path, files: int, paragraphs: int) -> None:
    """``files`` Word and as many HTML files of ``paragraphs`` paragraphs, headings and a table."""
    import docx

    root.mkdir(parents=True)
    text = (
        "The tenant shall keep the premises in good repair and return them in the same state, "
        "normal wear excepted, at the end of the term agreed in section {n}."
    )
    for number in range(files):
        document = docx.Document()
        html = ["<html><head><title>Manual</title><script>var x = 1;</script></head><body><nav>Home</nav>"]
        for n in range(paragraphs):
            if n % 20 == 0:
                document.add_heading(f"Section {n // 20}", level=1)
                html.append(f"<h1>Section {n // 20}</h1>")
            document.add_paragraph(text.format(n=n))
            html.append(f"<p>{text.format(n=n)}</p>")
        table = document.add_table(rows=10, cols=3)
        for row in table.rows:
            for cell in row.cells:
                cell.text = "fee 175"
        html.append(
            "<table>" + "<tr><td>fee</td><td>175</td><td>kr</td></tr>" * 10 + "</table></body></html>"
        )
        document.save(str(root / f"contract{number:03d}.docx"))
        (root / f"manual{number:03d}.html").write_text("\n".join(html))


def measure_flow(root: Path, suffix: str, chars_per_page: int = 3000) -> dict[str, float]:
    """Documents/s and page-equivalents/s (``chars_per_page`` characters) for one format."""
    files = sorted(root.glob(f"*{suffix}"))
    started, cpu = time.perf_counter(), time.process_time()
    chars = sum(len(page.text) for path in files for page in read_document(path))
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    pages = chars / chars_per_page
    return {
        "files_s": len(files) / wall,
        "pages_s": pages / wall,
        "cpu_s_page": cpu / max(pages, 1e-9),
        "pages": pages,
    }


def measure_ocr(root: Path, pages: int) -> dict[str, float] | None:
    """Seconds per scanned page (PDF pages rendered to images and wrapped), None without [ocr]."""
    from localagent.docs.ocr import _engine, ocr_available

    if not ocr_available():
        return None
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from pdfs import make_scanned_pdf

    root.mkdir(parents=True, exist_ok=True)
    lines = [
        "Invoice number 4711 from Holmgren Shipping, Bergen.",
        "The total amount of 980 euros is payable by the end of March.",
        "Goods were delivered in good order; claims within 14 days.",
    ] * 4
    scans = [make_scanned_pdf(root / f"scan{n}.pdf", lines, dpi=300) for n in range(pages)]
    started = time.perf_counter()
    _engine()
    load = time.perf_counter() - started
    started, cpu = time.perf_counter(), time.process_time()
    read = [read_document(path)[0] for path in scans]
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    found = sum("Holmgren" in page.text for page in read)
    confidence = sum(page.ocr_confidence or 0 for page in read) / len(read)
    return {
        "s_page": wall / pages,
        "cpu_s_page": cpu / pages,
        "engine_load_s": load,
        "found": found,
        "pages": pages,
        "confidence": confidence,
    }
