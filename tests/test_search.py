"""Search: hostile queries are plain words, never syntax; CLI output formats and exit codes."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pdfs import known_pages, make_encrypted_pdf, make_pdf

from localagent.cli import main
from localagent.index import EmptyQueryError, Index, build_match, index_paths
from localagent.paths import get_paths

HOSTILE = [
    '"unbalanced',
    "AND OR NOT",
    "col:umn*",
    "text:secret",
    "heading:Install",
    "NEAR(a b, 2)",
    "'; DROP TABLE chunks; --",
    '"; DELETE FROM documents; --',
    "a* OR b^ -c +d",
    ")(",
    '"" "',
    "rank MATCH 'bm25(10)'",
    "{text heading}: x",
    "x\x00y",
    "🙂 ünïcödé 中文",
    "*",
    "^start",
    "chunks_fts",
    "1=1 OR 1=1",
    "\\",
    "%_",
    "NOT",
    "OR",
]


def _fingerprint(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('integrity-check')")
        return hashlib.sha256("\n".join(conn.iterdump()).encode()).hexdigest()
    finally:
        conn.rollback()
        conn.close()


@pytest.fixture
def indexed(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    make_pdf(docs / "report.pdf", known_pages(3, marker="report"))
    (docs / "notes.md").write_text("# Install\n\nNot AND or NOT: secret column text.\n")
    index_paths([docs], chunk_tokens=200, chunk_overlap=30)
    return docs


def test_hostile_queries_neither_crash_nor_alter_the_index(indexed: Path):
    db = get_paths().index_db
    before = _fingerprint(db)
    with Index.open() as index:
        writes = index._conn.total_changes
        for query in HOSTILE:
            try:
                hits = index.search(query)
            except EmptyQueryError:
                continue
            assert isinstance(hits, list)
        assert index._conn.total_changes == writes
        assert index.search("NOT")[0].file.endswith("notes.md")  # operators are plain words
        assert index.search("text:secret")[0].file.endswith("notes.md")
    assert _fingerprint(db) == before


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=60))
def test_any_text_is_a_valid_query(indexed: Path, query: str):
    try:
        match = build_match(query)
    except EmptyQueryError:
        return
    with Index.open() as index:
        assert isinstance(index.search(query), list)
    assert match.count('"') % 2 == 0


def test_build_match_quotes_every_term():
    assert build_match("lease NOT termination") == '"lease" OR "NOT" OR "termination"'
    assert build_match('when does "the lease" end?') == '"the lease" OR "end"'
    assert build_match("the of a") == '"the" OR "of" OR "a"'  # only stopwords: keep them
    with pytest.raises(EmptyQueryError, match="no words"):
        build_match("?!* ()")


def test_phrases_match_in_order(indexed: Path):
    with Index.open() as index:
        assert index.search('"secret column"')
        assert index.search('"column secret"') == []


def test_cli_search_json_format(indexed: Path, capsys):
    assert main(["search", "reportword2", "--json", "--limit", "3"]) == 0
    data = json.loads(capsys.readouterr().out)
    first = data["results"][0]
    assert set(first) == {
        "file",
        "page",
        "page_label",
        "place",
        "heading",
        "line_start",
        "line_end",
        "snippet",
        "score",
        "chunk_id",
    }
    assert first["place"] == "page 2" and first["page_label"] is None
    assert first["file"] == str(indexed / "report.pdf") and first["page"] == 2
    assert "**reportword2**" in first["snippet"] and first["score"] > 0


def test_cli_search_human_output_and_errors(indexed: Path, capsys):
    assert main(["search", "reportword3"]) == 0
    out = capsys.readouterr().out
    assert "report.pdf page 3" in out and "reportword3" in out
    assert main(["search", "?!*"]) == 1
    err = capsys.readouterr().err
    assert (
        err.startswith("localagent: error:")
        and "no words to search for" in err
        and len(err.splitlines()) == 1
    )
    assert main(["search", "nothingmatchesthis"]) == 0
    assert "no results" in capsys.readouterr().err
    assert main(["search", "x", "--collection", "empty"]) == 1
    assert "has no documents yet" in capsys.readouterr().err


def test_cli_index_summary_exit_codes_and_docs(tmp_path: Path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    make_pdf(docs / "a.pdf", known_pages(2))
    make_encrypted_pdf(docs / "b.pdf", known_pages(2))
    assert main(["index", str(docs), "--json"]) == 0  # a failed file does not fail the run
    summary = json.loads(capsys.readouterr().out)
    assert summary["indexed"] == 1 and summary["failed"][0]["reason"].startswith("encrypted PDF")
    assert main(["index", str(docs)]) == 0
    out = capsys.readouterr().out
    assert "unchanged 1" in out and "encrypted PDF (needs a password)" in out
    assert main(["docs", "list", "--failed", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["documents"]
    assert [d["path"] for d in listed] == [str(docs / "b.pdf")] and listed[0]["status"] == "failed"
    assert main(["docs", "list"]) == 0
    assert "2 document(s), 1 failed" in capsys.readouterr().out
    (docs / "a.pdf").rename(tmp_path / "moved.pdf")
    assert main(["docs", "list", "--json"]) == 0
    exists = {Path(d["path"]).name: d["exists"] for d in json.loads(capsys.readouterr().out)["documents"]}
    assert exists == {"a.pdf": False, "b.pdf": True}
    assert main(["docs", "list"]) == 0
    assert "file no longer exists" in capsys.readouterr().out
    assert main(["docs", "remove", str(docs / "a.pdf")]) == 0
    assert main(["docs", "remove", str(docs / "a.pdf")]) == 1
    assert "not in the index" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["index", str(empty)]) == 1
    assert "no documents found" in capsys.readouterr().err
    assert main(["index", str(tmp_path / "absent")]) == 1
    assert "no such file or folder" in capsys.readouterr().err


def test_words_in_most_chunks_do_not_change_the_order(tmp_path: Path):
    """A word in more than half the chunks is left out of ranking (FTS5 gives it no weight);
    the results must be the same chunks in the same order as with the word kept."""
    docs = tmp_path / "many"
    docs.mkdir()
    for i in range(80):
        extra = " platypus" * (i % 3) if i % 10 == 0 else ""
        (docs / f"n{i:02d}.txt").write_text(f"common filler text number w{i}{extra}\n")
    index_paths([docs], chunk_tokens=50, chunk_overlap=0)
    with Index.open() as index:
        ranked = index.search("common platypus")
        assert [h.file for h in ranked] == [h.file for h in index.search("platypus")]
        assert {Path(h.file).name for h in ranked} == {"n10.txt", "n20.txt", "n40.txt", "n50.txt", "n70.txt"}
        assert ranked and all(h.score > 0 for h in ranked) and "**platypus**" in ranked[0].snippet
        only_common = index.search("common filler", limit=5)
        assert len(only_common) == 5 and all(h.score == 0.0 for h in only_common)
        assert all("**common**" in h.snippet for h in only_common)


def test_collection_filter_small_and_large(tmp_path: Path):
    big, small = tmp_path / "big", tmp_path / "small"
    big.mkdir()
    small.mkdir()
    for i in range(40):
        (big / f"b{i}.txt").write_text(f"shared harbour note b{i}\n")
    for i in range(3):
        (small / f"s{i}.txt").write_text(f"shared harbour note s{i}\n")
    index_paths([big], collection="big", chunk_tokens=50, chunk_overlap=0)
    index_paths([small], collection="small", chunk_tokens=50, chunk_overlap=0)
    with Index.open() as index:
        assert {Path(h.file).parent.name for h in index.search("harbour", collection="small")} == {"small"}
        assert len(index.search("harbour", collection="small")) == 3
        in_big = index.search("harbour", collection="big", limit=40)
        assert len(in_big) == 40 and {Path(h.file).parent.name for h in in_big} == {"big"}
        assert index.search("s1", collection="big") == []
        assert index.search("harbour", collection="nope") == []
