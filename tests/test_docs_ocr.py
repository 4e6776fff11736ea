"""OCR ([ocr] extra): scanned PDF pages and images read offline, with confidence; without the
extra, scans are reported with the install hint."""

from __future__ import annotations

from pathlib import Path

import pytest
from pdfs import known_pages, make_pdf, make_scanned_pdf, scanned_image

from localagent.docs import DocumentError, read_document
from localagent.docs.ocr import LOW_CONFIDENCE, ocr_available
from localagent.index import Index, ReadLimits, index_paths

needs_ocr = pytest.mark.skipif(not ocr_available(), reason="needs the [ocr] extra (rapidocr-onnxruntime)")
# A scanner's 300 dpi (at 150 dpi PP-OCR glues words); a strip of the page keeps the test quick.
LINES = ["The total amount is 980 euros payable in March.", "Delivered by Holmgren Shipping of Bergen."]


@needs_ocr
def test_scanned_page_is_ocred_indexed_and_found(tmp_path: Path):
    docs = tmp_path / "docs"
    docs.mkdir()
    make_scanned_pdf(docs / "letter.pdf", LINES, dpi=300, height_pt=110)
    make_pdf(docs / "typed.pdf", known_pages(1))
    with Index.open(tmp_path / "index.sqlite3") as index:
        # Default limits: the scan is read in a worker process with the memory cap.
        summary = index_paths(
            [docs],
            index=index,
            chunk_tokens=200,
            chunk_overlap=30,
            jobs=1,
            limits=ReadLimits(timeout_s=600, memory_mb=4096),
        )
        assert summary.failed == [] and summary.indexed == 2
        assert summary.ocr_pages == 1 and summary.ocr_seconds > 0
        hit = index.search("payable March")[0]
        assert hit.file == str(docs / "letter.pdf") and hit.page == 1
        info = index.page_info(docs / "letter.pdf", 1)
        assert info.problem is None and info.ocr_confidence > LOW_CONFIDENCE
        record = index.get_document(str(docs / "letter.pdf"), "default")
        assert record.ocr_pages == 1 and record.notes.startswith("OCR on 1 page(s) (mean confidence 0.")


@needs_ocr
def test_images_are_read_page_by_page_and_low_confidence_is_flagged(tmp_path: Path):
    from localagent.index.notes import page_flags

    clear = scanned_image(LINES, dpi=300, height_pt=110)
    blurry = scanned_image(LINES, dpi=30, height_pt=110).resize(clear.size)  # a poor fax
    path = tmp_path / "fax.tiff"
    clear.save(path, save_all=True, append_images=[blurry])
    pages = read_document(path)
    assert [p.number for p in pages] == [1, 2]
    assert "payable in March" in pages[0].text and pages[0].ocr_confidence > LOW_CONFIDENCE
    assert pages[1].ocr_confidence is None or pages[1].ocr_confidence < LOW_CONFIDENCE
    flags = page_flags(pages)
    assert flags.ocr[0] == 1
    if pages[1].ocr_confidence is not None:
        assert flags.low_confidence == (2,) and "low confidence" in flags.notes


def _sliver():
    from PIL import Image

    return Image.new("L", (4000, 2), 255)


@needs_ocr
@pytest.mark.parametrize(
    ("name", "write", "reason"),
    [
        ("blank.png", lambda p: scanned_image([""], height_pt=100).save(p), "no text found by OCR"),
        ("cut.png", lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40)), "damaged or unknown image"),
        ("text.jpg", lambda p: p.write_text("not an image"), "damaged or unknown image"),
        # A 4000 x 2 pixel sliver: RapidOCR's own resize step raises (an OCR engine error).
        ("sliver.png", lambda p: _sliver().save(p), "OCR failed (ResizeImgError"),
    ],
)
def test_bad_images_fail_with_a_reason(tmp_path: Path, name: str, write, reason: str):
    path = tmp_path / name
    write(path)
    with pytest.raises(DocumentError) as info:
        read_document(path)
    assert info.value.reason.startswith(reason)


def test_without_the_extra_scans_say_how_to_get_it(tmp_path: Path, monkeypatch):
    import localagent.docs.ocr as ocr

    monkeypatch.setattr(ocr, "ocr_available", lambda: False)  # as if rapidocr were not installed
    scan = make_scanned_pdf(tmp_path / "scan.pdf", LINES, height_pt=110)
    with pytest.raises(DocumentError) as info:
        read_document(scan)
    assert info.value.reason == (
        "no text layer — scanned? (install the [ocr] extra to read scans: pip install 'localagent[ocr]')"
    )
    image = tmp_path / "photo.png"
    scanned_image(LINES, height_pt=110).save(image)
    with pytest.raises(DocumentError, match=r"^image: needs OCR, install the \[ocr\] extra"):
        read_document(image)
    from localagent.index.walk import find_files

    assert find_files([tmp_path]).files == [scan]  # folder walks leave images alone
