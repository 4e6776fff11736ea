"""PDF through PDFium: printed page labels, truncated files, empty passwords, glued words, loops."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pdfs import known_pages, make_encrypted_pdf, make_pdf, make_truncated_pdf, pdf_bytes

from localagent.cli import main
from localagent.docs import DocumentError, describe_place, read_document
from localagent.docs.quality import count_glued, looks_glued
from localagent.index.notes import page_flags, page_ranges


def test_printed_page_labels_are_kept_where_they_differ(tmp_path: Path):
    # Front matter numbered i, ii; then the body starts again at 1, as books do.
    path = make_pdf(tmp_path / "book.pdf", known_pages(4), labels=b"0 << /S /r >> 2 << /S /D >>")
    pages = read_document(path)
    assert [(p.number, p.label) for p in pages] == [(1, "i"), (2, "ii"), (3, "1"), (4, "2")]
    assert "pageword3" in pages[2].text
    assert describe_place(str(path), 3, "1") == "page 3 (printed 1)"


def test_labels_equal_to_page_numbers_are_not_repeated(tmp_path: Path):
    path = make_pdf(tmp_path / "plain.pdf", known_pages(3), labels=b"0 << /S /D >>")
    assert [p.label for p in read_document(path)] == [None, None, None]
    assert describe_place(str(path), 2, None) == "page 2"


def test_truncated_pdf_gives_its_readable_pages_and_says_what_was_lost(tmp_path: Path):
    path = make_truncated_pdf(tmp_path / "download.pdf", known_pages(6), keep=0.6)
    pages = read_document(path)
    assert [p.number for p in pages] == [1, 2, 3, 4, 5, 6]
    readable = [p.number for p in pages if p.text.strip()]
    assert readable[:3] == [1, 2, 3] and 6 not in readable
    for page in pages:
        if page.number in readable:
            assert f"pageword{page.number}" in page.text and page.problem is None
        else:
            assert page.problem == "lost: the file is truncated"
    notes = page_flags(pages).notes
    lost = [p.number for p in pages if p.number not in readable]
    assert notes == f"{page_ranges(lost)}: lost: the file is truncated"


def test_encrypted_pdf_with_an_empty_password_is_read(tmp_path: Path):
    path = make_encrypted_pdf(tmp_path / "protected.pdf", known_pages(2), password="")
    assert "pageword2" in read_document(path)[1].text


def test_typeset_words_keep_their_spaces(tmp_path: Path):
    """LaTeX places words apart by TJ offsets, with no space character between them."""
    line = "The name of the package should be briefly explained in this file"
    path = make_pdf(tmp_path / "latex.pdf", [[line, line]], typeset=True)
    text = read_document(path)[0].text
    assert text.splitlines() == [line, line]
    assert not looks_glued(text)


def test_glued_words_are_counted_and_flag_the_page(tmp_path: Path):
    glued = [
        "ofthepackageshouldbebrieflyexplainedinthisfile",
        "thenameofthepackageisgiveninthecontrolfile",
        "everydebianpackagemusthaveacopyrightfile",
        "Normal words follow on this line.",
    ]
    path = make_pdf(tmp_path / "glued.pdf", [glued, ["Only normal words on this page."]])
    pages = read_document(path)
    assert count_glued(pages[0].text).glued == 3 and looks_glued(pages[0].text)
    assert not looks_glued(pages[1].text)
    flags = page_flags(pages)
    assert flags.glued == {1} and "glued words" in flags.notes and "page 1" in flags.notes
    assert not looks_glued("internationalization counterrevolutionaries " * 5)  # long, but words


def test_page_tree_that_loops_is_a_reason_not_a_hang(tmp_path: Path):
    data = pdf_bytes(known_pages(2)).replace(b"/Kids [4 0 R", b"/Kids [2 0 R 4 0 R")
    path = tmp_path / "loop.pdf"
    path.write_bytes(data)
    try:
        pages = read_document(path)
    except DocumentError as exc:
        assert exc.reason.startswith("corrupt PDF")
    else:  # PDFium skips the loop: the real pages are still there, numbered from 1
        assert [p.number for p in pages] == list(range(1, len(pages) + 1))
        assert any("pageword1" in p.text for p in pages)


def test_page_ranges():
    assert page_ranges([4]) == "page 4"
    assert page_ranges([5, 1, 2, 3, 9, 10]) == "pages 1-3, 5, 9-10"


@pytest.mark.parametrize(
    ("file", "expected"),
    [
        ("/d/contract.docx", "section “Fees > Late”, paragraphs 3-5"),
        ("/d/page.html", "section “Fees > Late”, paragraphs 3-5"),
        ("/d/report.pdf", "page 1"),
        ("/d/notes.txt", "page 1"),
    ],
)
def test_describe_place(file: str, expected: str):
    assert describe_place(file, 1, None, "Fees > Late", 3, 5) == expected


def test_cli_shows_printed_labels_and_what_was_lost(tmp_path: Path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    make_pdf(docs / "book.pdf", known_pages(3, marker="book"), labels=b"0 << /S /r >> 1 << /S /D >>")
    make_truncated_pdf(docs / "cut.pdf", known_pages(6, marker="cut"), keep=0.6)
    make_pdf(docs / "glued.pdf", [["ofthepackageshouldbebrieflyexplainedinthisfile"] * 4])
    assert main(["index", str(docs)]) == 0
    capsys.readouterr()
    assert main(["search", "bookword3"]) == 0
    assert "book.pdf page 3 (printed 2)" in capsys.readouterr().out
    assert main(["search", "bookword3", "--json"]) == 0
    hit = json.loads(capsys.readouterr().out)["results"][0]
    assert (hit["page"], hit["page_label"], hit["place"]) == (3, "2", "page 3 (printed 2)")
    assert main(["docs", "list"]) == 0
    out = capsys.readouterr().out
    cut_line = next(line for line in out.splitlines() if line.endswith("lost: the file is truncated"))
    assert "cut.pdf" in cut_line and cut_line.startswith("ok")
    assert "glued words" in next(line for line in out.splitlines() if "glued.pdf" in line)
    assert "3 document(s), 0 failed, 1 with glued words" in out
    assert main(["docs", "list", "--json"]) == 0
    listed = {Path(d["path"]).name: d for d in json.loads(capsys.readouterr().out)["documents"]}
    assert listed["glued.pdf"]["glued_pages"] == 1 and listed["book.pdf"]["notes"] is None
