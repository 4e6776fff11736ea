"""OCR for scans: PDF pages without a text layer and image files, behind the [ocr] extra.

The engine is RapidOCR on ONNX Runtime (PyPI ``rapidocr-onnxruntime``), whose detection,
direction and recognition models ship inside the wheel: nothing is downloaded at run time.
Without the extra, scanned PDF pages stay "no text layer — scanned?" with an install hint, and
image files are not indexed. Each OCR'd page keeps the engine's mean confidence (0..1, weighted
by text length); a page under LOW_CONFIDENCE is flagged in `localagent docs list`.
"""

from __future__ import annotations

import functools
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from localagent.docs.types import DocumentError, Page

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff"})
LOW_CONFIDENCE = 0.75
# PP-OCR drops the spaces between words in small text: 150 dpi crops often come out as
# "Invoicenumber4711", 300 dpi keeps them. Detection runs on a copy scaled to DETECT_SIDE.
RENDER_DPI = 300
MAX_SIDE = 3600  # A4/Letter at 300 dpi stay whole for recognition
DETECT_SIDE = 1280
MAX_IMAGE_PIXELS = 60_000_000  # about 7700 x 7700; a decompression bomb is refused, not decoded


def ocr_available() -> bool:
    """True when the [ocr] extra (rapidocr-onnxruntime) is installed."""
    import importlib.util

    return importlib.util.find_spec("rapidocr_onnxruntime") is not None


def _no_telemetry() -> None:
    """ONNX Runtime (1.2x+ on Linux too) sends usage telemetry to Microsoft from a background
    thread (strace showed its DNS lookups); this is an offline assistant, so it is switched off,
    by environment before the first session and by the API."""
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"
    import onnxruntime

    disable = getattr(onnxruntime, "disable_telemetry_events", None)
    if disable is not None:
        disable()


@functools.cache
def _engine() -> Any:
    import logging

    _no_telemetry()
    from rapidocr_onnxruntime import RapidOCR

    # ONNX Runtime's threads spin while they wait: with a thread per core on a busy machine one
    # page cost 22 CPU s here, with one thread 7 CPU s (and less wall time). Half the cores, at most 4.
    threads = max(1, min(4, (os.cpu_count() or 2) // 2))
    engine = RapidOCR(
        max_side_len=MAX_SIDE,
        det_limit_type="max",
        det_limit_side_len=DETECT_SIDE,
        intra_op_num_threads=threads,
        inter_op_num_threads=1,
    )
    logging.getLogger("RapidOCR").setLevel(logging.ERROR)
    return engine


def recognize(image: Any) -> tuple[str, float | None]:
    """(text, mean confidence) of one image (PIL image or numpy array); ("", None) without text.

    Text lines come in the engine's reading order (top to bottom, left to right), one per line.
    """
    import numpy as np

    result, _elapsed = _engine()(np.asarray(image.convert("RGB")) if hasattr(image, "convert") else image)
    if not result:
        return "", None
    lines = [(str(text).strip(), float(score)) for _box, text, score in result if str(text).strip()]
    if not lines:
        return "", None
    weight = sum(len(text) for text, _ in lines)
    confidence = sum(len(text) * score for text, score in lines) / weight
    return "\n".join(text for text, _ in lines) + "\n", round(confidence, 3)


def _ocr_page(page: Page, image: Any, no_text: str) -> Page:
    started = time.perf_counter()
    try:
        text, confidence = recognize(image)
    except Exception as exc:  # onnxruntime / OpenCV failures: this page only
        return replace(page, problem=f"OCR failed ({type(exc).__name__}: {str(exc)[:80]})")
    seconds = round(time.perf_counter() - started, 3)
    if not text:
        return replace(page, problem=no_text, ocr_seconds=seconds)
    return replace(page, text=text, problem=None, ocr_confidence=confidence, ocr_seconds=seconds)


def _has_images(pdf_page: Any) -> bool:
    import pypdfium2.raw as pdfium_c

    return next(pdf_page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]), None) is not None


def ocr_pdf_pages(document: Any, pages: list[Page]) -> list[Page]:
    """Pages with OCR text in place of "no text layer" (unchanged without the extra)."""
    from localagent.docs.pdf import NO_TEXT_LAYER, OCR_HINT

    wanted = [i for i, page in enumerate(pages) if page.problem == NO_TEXT_LAYER]
    if not wanted:
        return pages
    if not ocr_available():
        return [
            replace(p, problem=f"{NO_TEXT_LAYER} ({OCR_HINT})") if i in wanted else p
            for i, p in enumerate(pages)
        ]
    out = list(pages)
    for index in wanted:
        try:
            pdf_page = document[index]
            try:
                if not _has_images(pdf_page):  # blank, or drawings only: nothing a scanner made
                    continue
                image = pdf_page.render(scale=RENDER_DPI / 72).to_pil()
            finally:
                pdf_page.close()
        except Exception as exc:
            out[index] = replace(pages[index], problem=f"could not render the page for OCR ({exc})"[:120])
            continue
        out[index] = _ocr_page(pages[index], image, f"{NO_TEXT_LAYER} (OCR found no text)")
    return out


def read_image(path: Path) -> list[Page]:
    """One Page per image (per frame of a multi-page TIFF), its text found by OCR."""
    if not ocr_available():
        raise DocumentError("image: needs OCR, " + _hint())
    from PIL import Image, ImageSequence, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        with Image.open(path) as image:
            frames = [frame.copy() for frame in ImageSequence.Iterator(image)]
    except Image.DecompressionBombError:
        raise DocumentError(
            f"image too large (over {MAX_IMAGE_PIXELS // 1_000_000} million pixels)"
        ) from None
    except UnidentifiedImageError:
        raise DocumentError("damaged or unknown image (not a readable PNG, JPEG or TIFF)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise DocumentError(f"damaged or unknown image ({str(exc)[:100]})") from None
    pages = [
        _ocr_page(Page(number=n, text=""), frame, "no text found by OCR")
        for n, frame in enumerate(frames, start=1)
    ]
    if not any(page.text.strip() for page in pages):
        reasons = {page.problem or "no text found by OCR" for page in pages}
        raise DocumentError(reasons.pop() if len(reasons) == 1 else "no text found by OCR")
    return pages


def _hint() -> str:
    from localagent.docs.pdf import OCR_HINT

    return OCR_HINT
