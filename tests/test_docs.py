"""Readers: real PDFs (made by tests/pdfs.py), text in several encodings, Markdown structure."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pdfs import known_pages, make_encrypted_pdf, make_pdf, make_truncated_pdf, pdf_bytes

from localagent.docs import DocumentError, read_document
from localagent.docs.markdown import find_headings
from localagent.errors import LocalAgentError


def test_document_error_is_a_user_error():
    assert issubclass(DocumentError, LocalAgentError)
    assert DocumentError("empty file").reason == "empty file"


def test_pdf_pages_are_numbered_from_one_with_their_own_words(tmp_path: Path):
    path = make_pdf(tmp_path / "report.pdf", known_pages(4))
    pages = read_document(path)
    assert [p.number for p in pages] == [1, 2, 3, 4]
    for page in pages:
        assert f"pageword{page.number}" in page.text
        others = {f"pageword{n}" for n in range(1, 5)} - {f"pageword{page.number}"}
        assert not any(word in page.text.split() for word in others)
        assert page.text.splitlines()[0] == f"Heading of page {page.number}"


def test_pdf_without_compression_and_with_special_characters(tmp_path: Path):
    path = make_pdf(tmp_path / "plain.pdf", [["costs (net) \\ 5% café"]], compress=False)
    assert read_document(path)[0].text.strip() == "costs (net) \\ 5% café"


def test_pdf_with_a_blank_page_keeps_numbering(tmp_path: Path):
    pages = read_document(make_pdf(tmp_path / "gap.pdf", [["first"], None, ["third"]]))
    assert [(p.number, p.text.strip()) for p in pages] == [(1, "first"), (2, ""), (3, "third")]


@pytest.mark.parametrize(
    ("maker", "reason"),
    [
        (lambda p: make_encrypted_pdf(p, known_pages(2)), "encrypted PDF (needs a password)"),
        (lambda p: make_truncated_pdf(p, known_pages(6), keep=0.1), "truncated PDF"),
        (lambda p: p.write_bytes(b"") and p, "empty file"),
        (lambda p: make_pdf(p, [None, None]), "no text layer — scanned?"),
        (lambda p: p.write_bytes(b"<html>not a pdf</html>") and p, "not a PDF"),
        (
            lambda p: (
                p.write_bytes(pdf_bytes(known_pages(2)).replace(b"/Pages 2 0 R", b"/Pages 9 0 R")) and p
            ),
            "corrupt PDF",
        ),
    ],
)
def test_broken_pdfs_fail_with_a_reason(tmp_path: Path, maker, reason: str):
    path = tmp_path / "broken.pdf"
    maker(path)
    with pytest.raises(DocumentError) as info:
        read_document(path)
    assert info.value.reason.startswith(reason)


def test_pdf_detected_by_content_without_suffix(tmp_path: Path):
    path = tmp_path / "download"
    path.write_bytes(pdf_bytes(known_pages(2)))
    assert "pageword2" in read_document(path)[1].text


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-32", "cp1252"])
def test_text_encodings(tmp_path: Path, encoding: str):
    path = tmp_path / "note.txt"
    path.write_bytes("Crème brûlée costs 5 €.\r\nSecond line.\n".encode(encoding))
    pages = read_document(path)
    assert pages[0].text == "Crème brûlée costs 5 €.\nSecond line.\n"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"  \n\t\n", "empty file"),
        (b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(range(256)), "binary data"),
        (b"caf\x81 au lait \x8d", "undecodable text"),
    ],
)
def test_bad_text_files_fail_with_a_reason(tmp_path: Path, data: bytes, reason: str):
    path = tmp_path / "file.txt"
    path.write_bytes(data)
    with pytest.raises(DocumentError) as info:
        read_document(path)
    assert info.value.reason.startswith(reason)


def test_binary_suffix_is_refused_without_reading(tmp_path: Path):
    path = tmp_path / "song.mp3"
    path.write_text("looks like text but is named as audio")
    with pytest.raises(DocumentError, match="binary data"):
        read_document(path)


def test_form_feeds_split_text_into_pages_with_file_line_numbers(tmp_path: Path):
    path = tmp_path / "printed.txt"
    path.write_text("one\ntwo\n\fthree\nfour\n\ffive\n")
    pages = read_document(path)
    assert [(p.number, p.first_line) for p in pages] == [(1, 1), (2, 3), (3, 5)]
    assert pages[1].text.splitlines()[0] == "three"


def test_markdown_headings_skip_code_fences():
    text = "# Guide\n\nIntro\n\n```\n# not a heading\n```\n\nSetup\n-----\n\n### Deep ###\n"
    headings = find_headings(text)
    assert [(h.line, h.level, h.title) for h in headings] == [
        (1, 1, "Guide"),
        (9, 2, "Setup"),
        (12, 3, "Deep"),
    ]


def test_markdown_reader_attaches_headings(tmp_path: Path):
    path = tmp_path / "guide.md"
    path.write_text("# Title\n\nbody\n\n## Part\n\nmore\n", encoding="utf-8")
    pages = read_document(path)
    assert [h.title for h in pages[0].headings] == ["Title", "Part"]


def test_missing_file_and_folder(tmp_path: Path):
    with pytest.raises(DocumentError, match="file not found"):
        read_document(tmp_path / "nope.txt")
    with pytest.raises(DocumentError, match="folder"):
        read_document(tmp_path)


def test_utf16_without_bom_is_text_not_binary(tmp_path: Path):
    path = tmp_path / "export.txt"
    path.write_bytes("Quarterly report\nrevenue rose\n".encode("utf-16-le"))
    assert read_document(path)[0].text == "Quarterly report\nrevenue rose\n"


def test_markdown_front_matter_is_not_a_heading():
    text = "---\ntitle: Notes\ndate: 2026\n---\n\n# Real heading\n\nbody\n"
    assert [(h.line, h.title) for h in find_headings(text)] == [(6, "Real heading")]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=12),
    st.booleans(),
)
def test_damaged_pdfs_are_read_or_fail_with_a_reason(tmp_path: Path, changes, compress: bool):
    data = bytearray(pdf_bytes(known_pages(3), compress=compress))
    for where, value in changes:
        data[int(where * len(data))] = value
    path = tmp_path / "damaged.pdf"
    path.write_bytes(bytes(data))
    try:
        pages = read_document(path)
    except DocumentError as exc:
        assert exc.reason
    else:
        assert [p.number for p in pages] == list(range(1, len(pages) + 1))
