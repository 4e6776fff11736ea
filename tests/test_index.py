"""The index and the incremental indexer, on real files in a temp folder and real SQLite FTS5."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import pytest
from pdfs import known_pages, make_encrypted_pdf, make_pdf, make_truncated_pdf

from localagent.docs.ocr import ocr_available
from localagent.errors import LocalAgentError
from localagent.index import Index, ReadLimits, index_paths
from localagent.index.schema import SCHEMA_VERSION


def make_corpus(root: Path) -> Path:
    """Good and bad files of every kind the indexer must handle."""
    (root / "sub").mkdir(parents=True)
    (root / ".hidden").mkdir()
    make_pdf(root / "report.pdf", known_pages(5, marker="report"))
    make_pdf(root / "sub" / "manual.pdf", known_pages(3, marker="manual"))
    make_encrypted_pdf(root / "locked.pdf", known_pages(2))
    make_truncated_pdf(root / "cut.pdf", known_pages(4))
    (root / "zero.pdf").write_bytes(b"")
    make_pdf(root / "scan.pdf", [None, None])
    (root / "notes.txt").write_text("Meeting notes: the zeppelin budget was approved.\n")
    (root / "guide.md").write_text("# Guide\n\n## Install\n\nUse the xylophone installer.\n")
    (root / "blob.data").write_bytes(bytes(range(256)) * 4)
    (root / "bad.txt").write_bytes(b"caf\x81 \x8d")
    (root / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    (root / ".hidden" / "secret.txt").write_text("hiddenword")
    (root / ".dotfile.txt").write_text("hiddenword")
    return root


EXPECTED_FAILURES = {
    "locked.pdf": "encrypted PDF",
    "zero.pdf": "empty file",
    "scan.pdf": "no text layer — scanned?",
    "blob.data": "binary data",
    "bad.txt": "undecodable text",
}
if ocr_available():  # folder walks read images only when OCR can
    EXPECTED_FAILURES["photo.png"] = "damaged or unknown image"
INDEXED = 5  # report, manual, notes, guide, and cut.pdf's readable pages
WALKED = INDEXED + len(EXPECTED_FAILURES)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return make_corpus(tmp_path / "corpus")


@pytest.fixture
def index(tmp_path: Path):
    with Index.open(tmp_path / "index.sqlite3") as opened:
        yield opened


def run(paths, index, **kwargs):
    """index_paths in this process (jobs=1 and no per-file limits unless given: worker start-up
    would dominate here; tests/test_index_limits.py covers the limits)."""
    return index_paths(
        paths,
        index=index,
        chunk_tokens=kwargs.pop("chunk_tokens", 200),
        chunk_overlap=kwargs.pop("chunk_overlap", 30),
        jobs=kwargs.pop("jobs", 1),
        limits=kwargs.pop("limits", ReadLimits()),
        **kwargs,
    )


def test_index_and_search_right_file_and_page(corpus: Path, index: Index):
    summary = run([corpus], index)
    assert summary.indexed == INDEXED and summary.skipped >= 1 and not summary.cancelled
    for page in range(1, 6):
        hits = index.search(f"reportword{page}")
        assert hits[0].file == str(corpus / "report.pdf") and hits[0].page == page
        assert "**reportword" in hits[0].snippet and hits[0].score > 0
    hit = index.search("xylophone")[0]
    assert hit.file == str(corpus / "guide.md") and hit.line_start <= 5 <= hit.line_end
    assert hit.heading == "Guide"  # the whole small file is one chunk, under its first heading
    assert index.search("zeppelin")[0].file == str(corpus / "notes.txt")
    assert index.search("hiddenword") == []


def test_failures_are_recorded_with_reasons(corpus: Path, index: Index):
    summary = run([corpus], index)
    reasons = {Path(f.path).name: f.reason for f in summary.failed}
    assert set(reasons) == set(EXPECTED_FAILURES)
    for name, reason in EXPECTED_FAILURES.items():
        assert reasons[name].startswith(reason)
    stored = {Path(d.path).name: d for d in index.list_documents(failed=True)}
    assert set(stored) == set(EXPECTED_FAILURES)
    assert all(d.status == "failed" and d.chunks == 0 and d.error for d in stored.values())


def test_reindexing_unchanged_folder_touches_nothing(corpus: Path, index: Index):
    run([corpus], index)
    before = index.list_documents()
    writes = index._conn.total_changes
    summary = run([corpus], index)
    assert (summary.indexed, summary.removed, summary.unchanged) == (0, 0, INDEXED)
    assert len(summary.failed) == len(EXPECTED_FAILURES)  # still reported, not re-read
    assert index._conn.total_changes == writes
    assert index.list_documents() == before


def test_changed_touched_and_deleted_files(corpus: Path, index: Index):
    run([corpus], index)
    notes = corpus / "notes.txt"
    notes.write_text("Meeting notes: the quokka budget was approved.\n")
    os.utime(corpus / "guide.md", ns=(1, 1))  # new mtime, same content: hash decides
    (corpus / "sub" / "manual.pdf").unlink()
    summary = run([corpus], index)
    assert (summary.indexed, summary.removed, summary.unchanged) == (1, 1, INDEXED - 2)
    assert index.search("zeppelin") == [] and index.search("quokka")[0].file == str(notes)
    assert index.search("manualword1") == []
    assert index.list_documents() and all("manual" not in d.path for d in index.list_documents())


def test_deleted_file_is_never_returned_even_before_reindex(corpus: Path, index: Index):
    run([corpus], index)
    (corpus / "notes.txt").unlink()
    assert index.search("zeppelin") == []
    assert index.search("zeppelin", skip_missing=False)[0].file.endswith("notes.txt")


def test_rebuild_and_chunk_settings_reread_files(corpus: Path, index: Index):
    run([corpus], index)
    assert run([corpus], index, rebuild=True).indexed == INDEXED
    assert run([corpus], index, chunk_tokens=20, chunk_overlap=5).indexed == INDEXED
    assert run([corpus], index, chunk_tokens=20, chunk_overlap=5).indexed == 0


def test_page_text_get_chunk_and_offsets(corpus: Path, index: Index):
    run([corpus], index)
    hit = index.search("reportword3")[0]
    page = index.page_text(hit.file, 3)
    assert page is not None and page[hit.char_start : hit.char_end] == hit.text
    assert index.page_text(hit.file, 99) is None and index.page_text("/nope", 1) is None
    chunk = index.get_chunk(hit.chunk_id)
    assert chunk is not None and chunk.text == hit.text and chunk.page == 3
    assert index.get_chunk(10**9) is None


def test_collections_and_remove(corpus: Path, index: Index):
    run([corpus / "report.pdf"], index, collection="work")
    run([corpus / "notes.txt"], index, collection="home")
    assert index.list_collections() == ["home", "work"]
    assert index.search("zeppelin", collection="work") == []
    assert index.search("zeppelin", collection="home")
    assert [d.collection for d in index.list_documents("work")] == ["work"]
    assert index.remove(corpus) == 2  # a folder removes everything under it
    assert index.list_documents() == [] and index.search("reportword1") == []
    assert index.remove(corpus / "never") == 0


def test_schema_version_and_refusals(tmp_path: Path):
    path = tmp_path / "idx.sqlite3"
    with Index.open(path):
        pass
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(LocalAgentError, match="newer"):
        Index.open(path)
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(LocalAgentError, match="not a usable localagent index"):
        Index.open(junk)


def test_missing_paths(tmp_path: Path, index: Index):
    with pytest.raises(LocalAgentError, match="no such file or folder"):
        run([tmp_path / "absent"], index)
    (tmp_path / "a.txt").write_text("alpha words")
    summary = run([tmp_path / "a.txt", tmp_path / "absent"], index)
    assert summary.indexed == 1 and summary.missing == [str(tmp_path / "absent")]


def test_progress_events_and_cancel(corpus: Path, index: Index):
    events = []
    cancel = threading.Event()

    def progress(event):
        events.append(event)
        if event.kind == "file" and event.files_done == 3:
            cancel.set()

    summary = run([corpus], index, progress=progress, cancel=cancel)
    assert summary.cancelled and events[0].kind == "start" and events[-1].kind == "done"
    assert [e.files_done for e in events if e.kind == "file"] == [1, 2, 3]
    assert events[0].files_total == WALKED
    rest = run([corpus], index)
    assert (
        rest.unchanged + rest.indexed == INDEXED
        and rest.indexed + len(rest.failed) + rest.unchanged == WALKED
    )


def test_worker_processes_read_the_same_as_one_process(corpus: Path, tmp_path: Path):
    """jobs=2 uses two spawned reader processes; the index must come out identical."""
    results = []
    for jobs in (1, 2):
        with Index.open(tmp_path / f"jobs{jobs}.sqlite3") as index:
            summary = run([corpus], index, jobs=jobs)
            chunks = index._conn.execute(
                "SELECT d.path, c.page, c.line_start, c.char_start, c.char_end, c.text FROM chunks c "
                "JOIN documents d ON d.id = c.document_id ORDER BY 1, 2, 4"
            ).fetchall()
            failures = sorted((Path(f.path).name, f.reason) for f in summary.failed)
            results.append((summary.indexed, summary.pages, failures, chunks))
    assert results[0] == results[1]
    assert results[0][0] == INDEXED and len(results[0][3]) > 5


def test_index_from_a_worker_thread_while_searching(corpus: Path, tmp_path: Path):
    """The TUI's pattern: index_paths in a worker thread with its own connection, searches in the
    main thread on another one."""
    path = tmp_path / "threaded.sqlite3"
    result = {}

    def work():
        with Index.open(path) as own:
            result["summary"] = index_paths([corpus], index=own, chunk_tokens=50, chunk_overlap=10)

    with Index.open(path) as reader:
        worker = threading.Thread(target=work)
        worker.start()
        searches = 0
        while worker.is_alive():
            reader.search("reportword1 zeppelin")
            searches += 1
        worker.join()
        assert result["summary"].indexed == INDEXED and searches > 0
        assert reader.search("reportword2")[0].page == 2


def test_migration_from_version_1_keeps_documents_searchable(tmp_path: Path):
    from localagent.docs import Page, chunk_pages
    from localagent.index import schema

    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    schema.migrate(conn, target=1)  # the first released schema, written the way v1 wrote it
    conn.execute("INSERT INTO collections(name, created_at) VALUES ('old', 0)")
    conn.execute(
        "INSERT INTO documents(collection_id, path, size, mtime_ns, status, pages, chunks, "
        "indexed_at) VALUES (1, '/old/a.txt', 1, 1, 'ok', 1, 1, 0)"
    )
    chunk = chunk_pages([Page(1, "the walrus memo")], 50, 0)[0]
    conn.execute(
        "INSERT INTO chunks(document_id, page, line_start, line_end, char_start, char_end, text) "
        "VALUES (1, 1, 1, 1, ?, ?, ?)",
        (chunk.char_start, chunk.char_end, chunk.text),
    )
    conn.close()
    with Index.open(path) as index:
        hits = index.search("walrus", collection="old", skip_missing=False)
        assert [h.file for h in hits] == ["/old/a.txt"]
        assert index.search("c1", skip_missing=False) == []  # the collection tag is not text
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('integrity-check')")
    conn.close()


def test_file_deleted_during_the_run_is_not_recorded_as_failed(tmp_path: Path, index: Index):
    folder = tmp_path / "live"
    folder.mkdir()
    for name in ("a.txt", "b.txt", "c.txt"):
        (folder / name).write_text(f"content of {name}\n")

    def delete_c(event):
        if event.kind == "file" and event.path.endswith("a.txt"):
            (folder / "c.txt").unlink()

    summary = run([folder], index, progress=delete_c)
    assert summary.indexed == 2 and summary.failed == []
    assert [Path(d.path).name for d in index.list_documents()] == ["a.txt", "b.txt"]


def test_index_busy_for_too_long_is_a_one_line_error(tmp_path: Path, monkeypatch):
    from localagent.index import schema

    monkeypatch.setattr(schema, "BUSY_TIMEOUT_MS", 200)
    path = tmp_path / "busy.sqlite3"
    (tmp_path / "a.txt").write_text("some words\n")
    with Index.open(path) as index:
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another process holding the write lock
        try:
            with pytest.raises(LocalAgentError, match="busy|locked"):
                run([tmp_path / "a.txt"], index)
            assert index.search("words") == []  # readers are not blocked by a writer (WAL)
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert run([tmp_path / "a.txt"], index).indexed == 1


def test_index_files_are_private_to_the_owner(tmp_path: Path):
    path = tmp_path / "private.sqlite3"
    (tmp_path / "a.txt").write_text("medical record words\n")
    with Index.open(path) as index:
        run([tmp_path / "a.txt"], index)
        for file in (path, path.with_name(path.name + "-wal")):
            assert file.exists() and file.stat().st_mode & 0o077 == 0, file


def test_a_file_named_through_a_symlink_is_one_document(tmp_path: Path, index: Index):
    real = tmp_path / "real"
    real.mkdir()
    (real / "a.txt").write_text("the okapi grazes\n")
    (tmp_path / "link").symlink_to(real)
    run([tmp_path / "link"], index)
    assert run([real], index).unchanged == 1
    assert [d.path for d in index.list_documents()] == [str(real / "a.txt")]
    assert index.remove(tmp_path / "link" / "a.txt") == 1
