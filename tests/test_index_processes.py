"""Real processes: `localagent index` killed mid-run and resumed; indexing and searching at once."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pdfs import known_pages, make_pdf

from localagent.index import Index
from localagent.paths import get_paths

FILES = 60
PAGES = 8


def make_many(root: Path) -> Path:
    root.mkdir()
    for i in range(FILES):
        make_pdf(root / f"doc{i:03d}.pdf", known_pages(PAGES, marker=f"f{i}"))
    return root


def index_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "localagent", "index", *args]


def count_documents(db: Path) -> int:
    if not db.exists():
        return 0
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute("SELECT count(*) FROM documents").fetchone()[0]
    except sqlite3.OperationalError:  # schema not created yet
        return 0
    finally:
        conn.close()


def assert_consistent(db: Path) -> int:
    """SQLite and FTS5 integrity hold, and every document's counts match its rows. Returns docs."""
    conn = sqlite3.connect(db, timeout=10)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('integrity-check')")
        rows = conn.execute(
            "SELECT d.path, d.status, d.pages, d.chunks, "
            "(SELECT count(*) FROM pages p WHERE p.document_id = d.id), "
            "(SELECT count(*) FROM chunks c WHERE c.document_id = d.id) FROM documents d"
        ).fetchall()
        for path, status, pages, chunks, page_rows, chunk_rows in rows:
            assert (pages, chunks) == (page_rows, chunk_rows), path
            assert status == "ok" and pages == PAGES, path
        orphans = conn.execute(
            "SELECT count(*) FROM chunks WHERE document_id NOT IN (SELECT id FROM documents)"
        ).fetchone()[0]
        assert orphans == 0
        return len(rows)
    finally:
        conn.close()


def children_of(pid: int) -> list[int]:
    """Child process ids (Linux /proc), e.g. the indexer's reader workers."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def wait_for_documents(db: Path, proc: subprocess.Popen, at_least: int, timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = count_documents(db)
        if done >= at_least or proc.poll() is not None:
            return done
        time.sleep(0.01)
    raise AssertionError("indexing did not start in time")


@pytest.mark.slow
def test_kill_mid_run_then_resume_gives_complete_consistent_index(tmp_path: Path):
    corpus = make_many(tmp_path / "corpus")
    db = get_paths().index_db
    proc = subprocess.Popen(
        index_command(str(corpus), "--json", "--jobs", "2"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=os.environ.copy(),
    )
    try:
        wait_for_documents(db, proc, at_least=5)
        workers = children_of(proc.pid)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert len(workers) >= 2, "with --jobs 2, 60 PDFs are read by worker processes"
    deadline = time.monotonic() + 30
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in workers), "reader processes outlived the killed indexer"
    finished = assert_consistent(db)
    assert 5 <= finished < FILES

    rerun = subprocess.run(
        index_command(str(corpus), "--json"),
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=300,
    )
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert summary["unchanged"] == finished  # finished files are not read again
    assert summary["indexed"] == FILES - finished and summary["failed"] == []
    assert assert_consistent(db) == FILES
    with Index.open(db) as index:
        for i in (0, finished - 1, finished, FILES - 1):
            hit = index.search(f"f{i}word{PAGES}")[0]
            assert hit.file == str(corpus / f"doc{i:03d}.pdf") and hit.page == PAGES


@pytest.mark.slow
def test_indexing_and_searching_processes_run_at_once(tmp_path: Path):
    corpus = make_many(tmp_path / "corpus")
    db = get_paths().index_db
    proc = subprocess.Popen(
        index_command(str(corpus), "--json"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=os.environ.copy(),
    )
    searches, counts, cli = 0, [], None
    search_command = [sys.executable, "-m", "localagent", "search", "budget", "--json"]
    try:
        wait_for_documents(db, proc, at_least=1)
        # a second, separate searching process, running while this one searches too
        cli = subprocess.Popen(search_command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        with Index.open(db) as index:
            while proc.poll() is None:
                documents = index.list_documents()
                counts.append(len(documents))
                newest = max(documents, key=lambda d: d.id)
                number = int(Path(newest.path).stem[3:])
                hits = index.search(f"f{number}word1")  # a file committed is found at once
                assert hits and hits[0].file == newest.path and hits[0].page == 1
                searches += 1
        out, err = proc.communicate(timeout=120)
        cli_out, cli_err = cli.communicate(timeout=120)
    finally:
        for process in (proc, cli):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
    assert proc.returncode == 0, err
    assert json.loads(out)["indexed"] == FILES
    assert cli.returncode == 0 and json.loads(cli_out)["results"], cli_err
    assert searches >= 3, searches
    assert counts == sorted(counts) and len(set(counts)) > 1, counts  # saw the index grow
    assert assert_consistent(db) == FILES


@pytest.mark.slow
def test_ctrl_c_finishes_the_current_file_and_reports(tmp_path: Path):
    corpus = make_many(tmp_path / "corpus")
    db = get_paths().index_db
    proc = subprocess.Popen(
        index_command(str(corpus), "--json"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        wait_for_documents(db, proc, at_least=3)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    summary = json.loads(out)
    assert summary["cancelled"] is True and 3 <= summary["indexed"] < FILES
    assert assert_consistent(db) == summary["indexed"]
