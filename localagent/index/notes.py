"""One line per document about the pages a person should not trust blindly.

"pages 5-6 lost: the file is truncated; glued words on page 3; OCR on 2 pages (mean
confidence 0.91), low confidence on page 2". Stored with the document, shown by `docs list`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from localagent.docs import Page
from localagent.docs.ocr import LOW_CONFIDENCE
from localagent.docs.quality import looks_glued


@dataclass(frozen=True)
class PageFlags:
    """What the index keeps about the quality of a document's pages."""

    glued: frozenset[int]
    ocr: tuple[int, ...]
    low_confidence: tuple[int, ...]
    notes: str | None


def page_ranges(numbers: Sequence[int]) -> str:
    """[1, 2, 3, 5] -> "pages 1-3, 5"; [4] -> "page 4"."""
    numbers = sorted(set(numbers))
    parts: list[str] = []
    start = previous = numbers[0]
    for number in [*numbers[1:], None]:
        if number is not None and number == previous + 1:
            previous = number
            continue
        parts.append(str(start) if start == previous else f"{start}-{previous}")
        if number is not None:
            start = previous = number
    return ("page " if len(numbers) == 1 else "pages ") + ", ".join(parts)


def page_flags(pages: Sequence[Page]) -> PageFlags:
    glued = frozenset(p.number for p in pages if p.text and looks_glued(p.text))
    ocr = tuple(p.number for p in pages if p.ocr_confidence is not None)
    low = tuple(p.number for p in pages if p.ocr_confidence is not None and p.ocr_confidence < LOW_CONFIDENCE)
    notes: list[str] = []
    by_problem: dict[str, list[int]] = {}
    for page in pages:
        if page.problem:
            by_problem.setdefault(page.problem, []).append(page.number)
    notes.extend(f"{page_ranges(numbers)}: {problem}" for problem, numbers in by_problem.items())
    if glued:
        notes.append(f"glued words (spaces lost in the PDF's text) on {page_ranges(sorted(glued))}")
    if ocr:
        confidences = [p.ocr_confidence for p in pages if p.ocr_confidence is not None]
        mean = sum(confidences) / len(confidences)
        note = f"OCR on {len(ocr)} page(s) (mean confidence {mean:.2f})"
        if low:
            note += f", low confidence (< {LOW_CONFIDENCE}) on {page_ranges(low)}"
        notes.append(note)
    return PageFlags(glued, ocr, low, "; ".join(notes) or None)
