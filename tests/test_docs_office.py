"""Word (.docx), OpenDocument (.odt) and HTML files: structure kept, noise dropped, bad files named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from office_files import (
    NOISY_HTML,
    make_docx,
    make_encrypted_docx,
    make_odt,
    make_zip_bomb_docx,
)

from localagent.cli import main
from localagent.docs import DocumentError, chunk_pages, read_document
from localagent.docs.html import MAX_HTML_BYTES


def test_docx_headings_table_rows_and_footnote(tmp_path: Path):
    pages = read_document(make_docx(tmp_path / "lease.docx"))
    assert len(pages) == 1
    lines = pages[0].text.splitlines()
    assert "Late payment fee | 175 kroner | within 14 days" in lines
    assert "[1] Fees follow the tenancy act of 1999, section quorvex." in lines
    titles = [(h.level, h.title) for h in pages[0].headings]
    assert titles[:5] == [
        (0, "Tenancy Agreement"),
        (1, "Parties"),
        (1, "Payment"),
        (2, "Fees"),
        (1, "Ending the lease"),
    ]
    # Each paragraph or table row is one line: the line number is the paragraph number.
    fee_line = lines.index("Late payment fee | 175 kroner | within 14 days") + 1
    assert lines[fee_line - 3 : fee_line - 1] == [
        "The fees below apply to this agreement.",
        "Item | Amount | Due",
    ]
    chunks = chunk_pages(pages, target_tokens=200, overlap_tokens=30)
    fee = next(c for c in chunks if "175 kroner" in c.text)
    assert fee.heading == "Tenancy Agreement > Payment > Fees"
    assert fee.line_start <= fee_line <= fee.line_end


def test_html_keeps_the_article_and_drops_the_noise(tmp_path: Path):
    path = tmp_path / "manual.html"
    path.write_text(NOISY_HTML.format(gap="30"))
    page = read_document(path)[0]
    for noise in (
        "scriptwordglimmer",
        "stylewordfrobnic",
        "navwordshop",
        "headerwordbanner",
        "footerwordcopyright",
        "noscriptwordplease",
        "hiddenwordcloak",
        "injected",
    ):
        assert noise not in page.text
    lines = page.text.splitlines()
    assert "Mount the boiler on a load-bearing wall." in lines
    assert "Model | Weight" in lines and "B-200 | 41 kg" in lines
    assert "Check the gas line" in lines and "Bleed the radiators" in lines
    assert [(h.level, h.title) for h in page.headings] == [
        (0, "Boiler manual"),
        (1, "Installation"),
        (2, "Clearances"),
    ]
    chunk = next(c for c in chunk_pages([page], 15, 0) if "30 cm" in c.text)
    assert chunk.heading == "Boiler manual > Installation > Clearances"


def test_odt_headings_and_table(tmp_path: Path):
    page = read_document(make_odt(tmp_path / "warranty.odt"))[0]
    assert "The warranty lasts two years." in page.text.splitlines()
    assert "Water damage | not covered zanthorite" in page.text.splitlines()
    assert [(h.level, h.title) for h in page.headings] == [(1, "Warranty"), (2, "Exclusions")]


@pytest.mark.parametrize(
    ("encoding", "declared"), [("cp1251", True), ("shift_jis", True), ("iso-8859-7", True), ("cp1252", False)]
)
def test_html_in_legacy_encodings(tmp_path: Path, encoding: str, declared: bool):
    words = {
        "cp1251": "Привет мир",
        "shift_jis": "こんにちは世界",
        "iso-8859-7": "Καλημέρα κόσμε",
        "cp1252": "Crème brûlée für 5 €",
    }[encoding]
    meta = f'<meta charset="{encoding}">' if declared else ""
    path = tmp_path / "old.htm"
    path.write_bytes(f"<html><head>{meta}</head><body><p>{words}</p></body></html>".encode(encoding))
    assert words in read_document(path)[0].text


def _big_html(path: Path) -> Path:
    with path.open("wb") as handle:
        handle.truncate(MAX_HTML_BYTES + 1)  # sparse: no 200 MB written to the test disk
    return path


BAD_FILES = [
    ("locked.docx", lambda p: make_encrypted_docx(p), "password-protected Word document"),
    ("bomb.docx", lambda p: make_zip_bomb_docx(p), "Word document (.docx) member word/document.xml unpacks"),
    ("text.docx", lambda p: p.write_text("just text, named .docx"), "not a Word document (.docx) (not a zip"),
    ("other.docx", lambda p: make_odt(p), "not a Word document (.docx)"),
    ("empty.docx", lambda p: p.write_bytes(b""), "empty file"),
    ("huge.html", _big_html, "HTML file too large"),
    (
        "tags.html",
        lambda p: p.write_text("<html><script>x()</script><nav>menu</nav></html>"),
        "no text in the HTML page",
    ),
    # Undeclared Shift-JIS with bytes that Windows-1252 leaves undefined ("。" is 81 42).
    (
        "sjis.html",
        lambda p: p.write_bytes("<p>日本語のテキストです。</p>".encode("shift_jis")),
        "undecodable HTML (no charset declared)",
    ),
    ("binary.html", lambda p: p.write_bytes(bytes(range(256)) * 8), "binary data"),
]


@pytest.mark.parametrize(("name", "maker", "reason"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_office_and_html_files_fail_with_a_reason(tmp_path: Path, name: str, maker, reason: str):
    path = tmp_path / name
    maker(path)
    with pytest.raises(DocumentError) as info:
        read_document(path)
    assert info.value.reason.startswith(reason), info.value.reason
    assert len(info.value.reason.splitlines()) == 1


def test_malformed_html_still_gives_its_text(tmp_path: Path):
    path = tmp_path / "broken.html"
    path.write_text(
        "<html><body><div><p>Unclosed <b>bold <i>tangle</div></p><table><td>cellword"
        + "<div>" * 5000
        + "deepword"
        + "</span>" * 10
    )
    text = read_document(path)[0].text
    assert "Unclosed bold tangle" in text and "cellword" in text and "deepword" in text


def test_cli_search_cites_section_and_paragraphs(tmp_path: Path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    make_docx(docs / "lease.docx")
    (docs / "manual.html").write_text(NOISY_HTML.format(gap="30"))
    assert main(["index", str(docs), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["indexed"] == 2 and summary["failed"] == []
    assert main(["search", "late payment fee", "--json"]) == 0
    hit = json.loads(capsys.readouterr().out)["results"][0]
    assert Path(hit["file"]).name == "lease.docx"
    assert hit["place"].startswith("section “Tenancy Agreement > Payment > Fees”, paragraph")
    assert main(["search", "scriptwordglimmer navwordshop footerwordcopyright"]) == 0
    assert "no results" in capsys.readouterr().err


def test_bad_files_are_recorded_and_the_rest_is_indexed(tmp_path: Path):
    from localagent.index import Index, index_paths

    docs = tmp_path / "docs"
    docs.mkdir()
    for name, maker, _reason in BAD_FILES:
        maker(docs / name)
    make_docx(docs / "good.docx")
    with Index.open(tmp_path / "index.sqlite3") as index:
        summary = index_paths([docs], index=index, chunk_tokens=200, chunk_overlap=30, jobs=1)
        assert summary.indexed == 1
        reasons = {Path(f.path).name: f.reason for f in summary.failed}
        assert {name: reasons[name].startswith(reason) for name, _maker, reason in BAD_FILES} == {
            name: True for name, _maker, _reason in BAD_FILES
        }
        assert index.search("quorvex")[0].file == str(docs / "good.docx")
