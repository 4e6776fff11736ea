"""The batch journal: an SQLite file next to the output that says which records the output holds.

    results.jsonl                  the output
    results.jsonl.journal.sqlite   this journal

Two tables:
- ``written(file, sha256, end_offset)``: records already in the output, and where each ends;
  a rerun skips these inputs. Rows are added only after the record is fsynced to the output.
- ``results(sha256, job, record)``: finished work keyed by (document sha256, job), where ``job``
  is the task + options + model fingerprint. A document whose content was already processed
  by the same job (a copy under another name, or an output the user deleted) is not run again.

``meta`` holds the job fingerprint the output was made with: appending records of another job
(other task, labels, schema or model) to the same output is refused.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

from localagent.errors import LocalAgentError
from localagent.privacy import create_private, open_private

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS written (
    file TEXT NOT NULL, sha256 TEXT NOT NULL, end_offset INTEGER NOT NULL,
    PRIMARY KEY (file, sha256));
CREATE TABLE IF NOT EXISTS results (
    sha256 TEXT NOT NULL, job TEXT NOT NULL, record TEXT NOT NULL,
    PRIMARY KEY (sha256, job));
"""


def journal_path(output: Path) -> Path:
    return output.with_name(output.name + ".journal.sqlite")


class Journal:
    def __init__(self, path: Path):
        self.path = path
        self._lock = _exclusive_lock(path.with_name(path.name + ".lock"))
        try:
            create_private(path)  # results of private documents: owner-only (WAL too)
            self.db = sqlite3.connect(path, isolation_level=None, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise LocalAgentError(
                f"{path}: cannot open the batch journal ({exc}); delete it to start over"
            ) from None

    # --- the job this output belongs to ---
    def job(self) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'job'").fetchone()
        return row[0] if row else None

    def set_job(self, job: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('job', ?)", (job,))

    # --- what the output holds ---
    def committed_end(self) -> int:
        row = self.db.execute("SELECT MAX(end_offset) FROM written").fetchone()
        return int(row[0] or 0)

    def replace_written(self, entries: list[tuple[str, str, int]]) -> None:
        """Make ``written`` say exactly ``entries`` (file, sha256, end_offset): after a full rescan."""
        with self._transaction():
            self.db.execute("DELETE FROM written")
            self.db.executemany("INSERT OR REPLACE INTO written VALUES (?, ?, ?)", entries)

    def mark_written(self, record: dict[str, Any], end_offset: int, job: str, cacheable: bool = True) -> None:
        """Record that ``record`` is durably in the output (call only after the fsync)."""
        sha = record.get("sha256") or ""
        with self._transaction():
            self.db.execute(
                "INSERT OR REPLACE INTO written VALUES (?, ?, ?)", (record["file"], sha, end_offset)
            )
            if sha and cacheable:
                self.db.execute(
                    "INSERT OR REPLACE INTO results VALUES (?, ?, ?)",
                    (sha, job, json.dumps(record, ensure_ascii=False)),
                )

    # --- finished work by content ---
    def cached(self, sha256: str, job: str) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT record FROM results WHERE sha256 = ? AND job = ?", (sha256, job)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def _transaction(self):
        return _Transaction(self.db)

    def close(self) -> None:
        self.db.close()
        os.close(self._lock)


def _exclusive_lock(path: Path) -> int:
    """One batch at a time per output: a second one would interleave records."""
    fd = open_private(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise LocalAgentError(
            f"another `localagent batch` is writing to {path.name.removesuffix('.journal.sqlite.lock')} "
            f"(lock {path}); wait for it or choose another --out"
        ) from None
    return fd


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind, value, tb) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")
