"""The index database: connection settings and the schema with its migrations.

The schema version lives in ``PRAGMA user_version``. MIGRATIONS[i] turns version i into i+1;
opening a database applies the missing ones in one transaction. A database from a newer
localagent (a higher version than we know) is refused rather than damaged.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from localagent.errors import LocalAgentError
from localagent.privacy import create_private

BUSY_TIMEOUT_MS = 15_000

MIGRATIONS: list[str] = [
    # 0 -> 1: collections, documents, pages, chunks and the FTS5 index over chunks.
    """
    CREATE TABLE collections (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created_at REAL NOT NULL
    );
    CREATE TABLE documents (
        id INTEGER PRIMARY KEY,
        collection_id INTEGER NOT NULL REFERENCES collections(id),
        path TEXT NOT NULL,
        sha256 TEXT,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
        error TEXT,
        pages INTEGER NOT NULL DEFAULT 0,
        chunks INTEGER NOT NULL DEFAULT 0,
        chunker TEXT NOT NULL DEFAULT '',
        indexed_at REAL NOT NULL,
        UNIQUE (collection_id, path)
    );
    CREATE INDEX documents_path ON documents(path);
    CREATE TABLE pages (
        document_id INTEGER NOT NULL REFERENCES documents(id),
        number INTEGER NOT NULL,
        first_line INTEGER NOT NULL,
        text TEXT NOT NULL,
        PRIMARY KEY (document_id, number)
    ) WITHOUT ROWID;
    CREATE TABLE chunks (
        id INTEGER PRIMARY KEY,
        document_id INTEGER NOT NULL REFERENCES documents(id),
        page INTEGER NOT NULL,
        line_start INTEGER NOT NULL,
        line_end INTEGER NOT NULL,
        char_start INTEGER NOT NULL,
        char_end INTEGER NOT NULL,
        heading TEXT,
        text TEXT NOT NULL
    );
    CREATE INDEX chunks_document ON chunks(document_id, page);
    CREATE VIRTUAL TABLE chunks_fts USING fts5(
        text, heading, content='chunks', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN
        INSERT INTO chunks_fts(rowid, text, heading) VALUES (new.id, new.text, new.heading);
    END;
    CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
        INSERT INTO chunks_fts(chunks_fts, rowid, text, heading)
        VALUES ('delete', old.id, old.text, old.heading);
    END;
    INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('rank', 'bm25(1.0, 0.5)');
    """,
    # 1 -> 2: each chunk carries its collection as an FTS5 token ("c<id>" in column `tag`), so a
    # collection filter is part of the MATCH and bm25's ORDER BY rank LIMIT stays inside FTS5.
    """
    ALTER TABLE chunks ADD COLUMN tag TEXT NOT NULL DEFAULT '';
    UPDATE chunks SET tag = 'c' || (SELECT collection_id FROM documents WHERE id = chunks.document_id);
    DROP TRIGGER chunks_fts_insert;
    DROP TRIGGER chunks_fts_delete;
    DROP TABLE chunks_fts;
    CREATE VIRTUAL TABLE chunks_fts USING fts5(
        text, heading, tag, content='chunks', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN
        INSERT INTO chunks_fts(rowid, text, heading, tag) VALUES (new.id, new.text, new.heading, new.tag);
    END;
    CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
        INSERT INTO chunks_fts(chunks_fts, rowid, text, heading, tag)
        VALUES ('delete', old.id, old.text, old.heading, old.tag);
    END;
    INSERT INTO chunks_fts(chunks_fts) VALUES ('rebuild');
    INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('rank', 'bm25(1.0, 0.5, 0.0)');
    """,
    # 2 -> 3: what a person needs to trust a page: its printed label ("iv", "32"), why it has no
    # text (lost to truncation, no text layer), OCR confidence, glued words; per document a note
    # summing these up and counts for `docs list`.
    """
    ALTER TABLE pages ADD COLUMN label TEXT;
    ALTER TABLE pages ADD COLUMN problem TEXT;
    ALTER TABLE pages ADD COLUMN ocr_confidence REAL;
    ALTER TABLE pages ADD COLUMN glued INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE documents ADD COLUMN notes TEXT;
    ALTER TABLE documents ADD COLUMN glued_pages INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE documents ADD COLUMN ocr_pages INTEGER NOT NULL DEFAULT 0;
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) the index at ``path``, in WAL mode, migrated to SCHEMA_VERSION."""
    create_private(path)  # the index holds the text of private documents: owner-only (WAL too)
    try:
        conn = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn)
    except sqlite3.DatabaseError as exc:
        raise LocalAgentError(f"{path}: not a usable localagent index ({exc})") from None
    if mode.lower() != "wal":
        conn.close()
        raise LocalAgentError(f"{path}: cannot switch the index to WAL mode (got {mode})")
    return conn


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> None:
    """Bring the schema to ``target`` (tests use older targets); refuse newer databases."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == target:
        return
    if version > target:
        raise LocalAgentError(
            f"the index has schema version {version}, newer than this localagent knows "
            f"({SCHEMA_VERSION}); upgrade localagent or use another LOCALAGENT_HOME"
        )
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Another process may have migrated while we waited for the lock.
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        for step in range(version, target):
            for statement in _statements(MIGRATIONS[step]):
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {target}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _statements(script: str) -> list[str]:
    """Split a migration into statements (sqlite3.complete_statement keeps triggers whole)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements
