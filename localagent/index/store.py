"""The SQLite index: documents with their pages and chunks, searched through FTS5 bm25.

Every document is written in one transaction (old pages and chunks out, new ones in), so a
crash leaves each file either fully indexed as before or fully as after. WAL mode and a busy
timeout let searches run while another process (or thread) indexes.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from localagent.docs import Chunk, Page
from localagent.errors import LocalAgentError
from localagent.index.notes import page_flags
from localagent.index.query import query_terms
from localagent.index.ranking import ranked as rank
from localagent.index.records import MARK_END, MARK_START, ChunkRecord, DocumentRecord, PageInfo, SearchHit
from localagent.index.schema import BUSY_TIMEOUT_MS, connect
from localagent.paths import get_paths

_CHUNK_COLUMNS = (
    "c.id, c.document_id, d.path, c.page, c.line_start, c.line_end, "
    "c.char_start, c.char_end, c.text, c.heading, "
    "(SELECT p.label FROM pages p WHERE p.document_id = c.document_id AND p.number = c.page)"
)
_DOC_COLUMNS = (
    "d.path, k.name, d.status, d.error, d.pages, d.chunks, d.size, d.indexed_at, "
    "d.id, d.sha256, d.mtime_ns, d.chunker, d.notes, d.glued_pages, d.ocr_pages"
)


class Index:
    """One open index database; use ``with Index.open() as index:``. Thread-safe."""

    def __init__(self, conn: sqlite3.Connection, path: Path):
        self._conn = conn
        self._lock = threading.RLock()
        self.path = path

    @classmethod
    def open(cls, path: Path | None = None) -> Index:
        """Open or create the index (default: the data dir's index.sqlite3)."""
        path = Path(path) if path is not None else get_paths().index_db
        return cls(connect(path), path)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on any error, including KeyboardInterrupt)."""
        with self._lock, self._errors():
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """SQLite trouble (busy for too long, disk full, read-only) as a one-line user error."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            text = str(exc)
            if "locked" in text or "busy" in text:
                text = (
                    f"another process kept it busy for {BUSY_TIMEOUT_MS // 1000} s ({exc}); "
                    "try again when it is done"
                )
            raise LocalAgentError(f"index {self.path}: {text}") from exc
        except sqlite3.DatabaseError as exc:
            raise LocalAgentError(f"index {self.path} is damaged: {exc}") from exc

    def _collection_id(self, conn: sqlite3.Connection, name: str) -> int:
        row = conn.execute("SELECT id FROM collections WHERE name = ?", (name,)).fetchone()
        if row:
            return row[0]
        return _new_row_id(
            conn.execute("INSERT INTO collections(name, created_at) VALUES (?, ?)", (name, time.time()))
        )

    def _drop_content(self, conn: sqlite3.Connection, document_id: int) -> None:
        conn.execute("DELETE FROM chunks WHERE document_id = ?", (document_id,))
        conn.execute("DELETE FROM pages WHERE document_id = ?", (document_id,))

    def _upsert(self, conn: sqlite3.Connection, collection: str, path: str, values: dict) -> tuple[int, int]:
        """Insert or update a document row, dropping its old content: (document id, collection id)."""
        collection_id = self._collection_id(conn, collection)
        row = conn.execute(
            "SELECT id FROM documents WHERE collection_id = ? AND path = ?", (collection_id, path)
        ).fetchone()
        if row:
            self._drop_content(conn, row[0])
            sets = ", ".join(f"{key} = ?" for key in values)
            conn.execute(f"UPDATE documents SET {sets} WHERE id = ?", (*values.values(), row[0]))
            return row[0], collection_id
        keys = ", ".join(["collection_id", "path", *values])
        marks = ", ".join("?" * (len(values) + 2))
        return _new_row_id(
            conn.execute(
                f"INSERT INTO documents({keys}) VALUES ({marks})", (collection_id, path, *values.values())
            )
        ), collection_id

    def write_document(
        self,
        collection: str,
        path: str,
        *,
        size: int,
        mtime_ns: int,
        sha256: str,
        pages: Sequence[Page],
        chunks: Sequence[Chunk],
        chunker: str = "",
    ) -> int:
        """Store one read document (replacing what was there) in one transaction; its id.

        Page labels, problems, OCR confidence and glued-word flags are kept per page, and summed
        up in the document's ``notes`` (see index.notes)."""
        flags = page_flags(pages)
        with self.transaction() as conn:
            document_id, collection_id = self._upsert(
                conn,
                collection,
                path,
                {
                    "sha256": sha256,
                    "size": size,
                    "mtime_ns": mtime_ns,
                    "status": "ok",
                    "error": None,
                    "pages": len(pages),
                    "chunks": len(chunks),
                    "chunker": chunker,
                    "indexed_at": time.time(),
                    "notes": flags.notes,
                    "glued_pages": len(flags.glued),
                    "ocr_pages": len(flags.ocr),
                },
            )
            conn.executemany(
                "INSERT INTO pages(document_id, number, first_line, text, label, problem, ocr_confidence, "
                "glued) VALUES (?,?,?,?,?,?,?,?)",
                [
                    (
                        document_id,
                        p.number,
                        p.first_line,
                        p.text,
                        p.label,
                        p.problem,
                        p.ocr_confidence,
                        int(p.number in flags.glued),
                    )
                    for p in pages
                ],
            )
            conn.executemany(
                "INSERT INTO chunks(document_id, page, line_start, line_end, char_start, char_end, "
                "heading, text, tag) VALUES (?,?,?,?,?,?,?,?,?)",
                [
                    (
                        document_id,
                        c.page,
                        c.line_start,
                        c.line_end,
                        c.char_start,
                        c.char_end,
                        c.heading,
                        c.text,
                        _tag(collection_id),
                    )
                    for c in chunks
                ],
            )
        return document_id

    def write_failure(
        self,
        collection: str,
        path: str,
        *,
        size: int,
        mtime_ns: int,
        sha256: str | None,
        error: str,
        chunker: str = "",
    ) -> int:
        """Record that a file could not be read, with the reason (old content is dropped)."""
        with self.transaction() as conn:
            return self._upsert(
                conn,
                collection,
                path,
                {
                    "sha256": sha256,
                    "size": size,
                    "mtime_ns": mtime_ns,
                    "status": "failed",
                    "error": error,
                    "pages": 0,
                    "chunks": 0,
                    "chunker": chunker,
                    "indexed_at": time.time(),
                    "notes": None,
                    "glued_pages": 0,
                    "ocr_pages": 0,
                },
            )[0]

    def touch_document(self, document_id: int, mtime_ns: int) -> None:
        """A file got a new mtime but the same content: remember the mtime, keep the rest."""
        with self.transaction() as conn:
            conn.execute("UPDATE documents SET mtime_ns = ? WHERE id = ?", (mtime_ns, document_id))

    def remove(self, path: str | Path, collection: str | None = None) -> int:
        """Forget a file, or every file under a folder; returns how many documents went."""
        target = str(Path(path).expanduser().resolve())
        prefix = target.rstrip(os.sep) + os.sep
        with self.transaction() as conn:
            sql = (
                "SELECT d.id FROM documents d JOIN collections k ON k.id = d.collection_id "
                "WHERE (d.path = ? OR substr(d.path, 1, ?) = ?)"
            )
            params: list = [target, len(prefix), prefix]
            if collection is not None:
                sql += " AND k.name = ?"
                params.append(collection)
            ids = [row[0] for row in conn.execute(sql, params)]
            for document_id in ids:
                self._drop_content(conn, document_id)
                conn.execute("DELETE FROM documents WHERE id = ?", (document_id,))
        return len(ids)

    # -- reading -------------------------------------------------------------------------------

    def _query(self, sql: str, params: Sequence = ()) -> list[tuple]:
        with self._lock, self._errors():
            return self._conn.execute(sql, params).fetchall()

    def get_document(self, path: str, collection: str) -> DocumentRecord | None:
        rows = self._query(
            f"SELECT {_DOC_COLUMNS} FROM documents d JOIN collections k "
            "ON k.id = d.collection_id WHERE k.name = ? AND d.path = ?",
            (collection, path),
        )
        return DocumentRecord(*rows[0]) if rows else None

    def list_documents(self, collection: str | None = None, failed: bool = False) -> list[DocumentRecord]:
        """Documents sorted by path; only failed ones when ``failed``."""
        sql = f"SELECT {_DOC_COLUMNS} FROM documents d JOIN collections k ON k.id = d.collection_id"
        where, params = [], []
        if collection is not None:
            where.append("k.name = ?")
            params.append(collection)
        if failed:
            where.append("d.status = 'failed'")
        if where:
            sql += " WHERE " + " AND ".join(where)
        return [DocumentRecord(*row) for row in self._query(sql + " ORDER BY d.path, k.name", params)]

    def list_collections(self) -> list[str]:
        return [row[0] for row in self._query("SELECT name FROM collections ORDER BY name")]

    def paths_in(self, collection: str) -> list[str]:
        return [
            row[0]
            for row in self._query(
                "SELECT d.path FROM documents d JOIN collections k ON k.id = d.collection_id "
                "WHERE k.name = ?",
                (collection,),
            )
        ]

    def count_chunks(self, collection: str | None = None) -> int:
        sql = "SELECT count(*) FROM chunks c"
        if collection is None:
            return self._query(sql)[0][0]
        return self._query(
            sql + " JOIN documents d ON d.id = c.document_id JOIN collections k "
            "ON k.id = d.collection_id WHERE k.name = ?",
            (collection,),
        )[0][0]

    def get_chunk(self, chunk_id: int) -> ChunkRecord | None:
        rows = self._query(
            f"SELECT {_CHUNK_COLUMNS} FROM chunks c JOIN documents d ON d.id = c.document_id WHERE c.id = ?",
            (chunk_id,),
        )
        return ChunkRecord(*rows[0]) if rows else None

    def page_info(self, file: str | Path, page: int) -> PageInfo | None:
        """What the index knows about one page: label, problem, OCR confidence, glued flag."""
        rows = self._query(
            "SELECT p.number, p.label, p.problem, p.ocr_confidence, p.glued FROM pages p "
            "JOIN documents d ON d.id = p.document_id WHERE d.path = ? AND p.number = ? "
            "ORDER BY d.indexed_at DESC LIMIT 1",
            (os.path.abspath(os.fspath(file)), page),
        )
        if not rows:
            return None
        number, label, problem, confidence, glued = rows[0]
        return PageInfo(number, label, problem, confidence, glued=bool(glued))

    def page_text(self, file: str | Path, page: int) -> str | None:
        """The whole text of one page of an indexed file (None if unknown)."""
        rows = self._query(
            "SELECT p.text FROM pages p JOIN documents d ON d.id = p.document_id "
            "WHERE d.path = ? AND p.number = ? ORDER BY d.indexed_at DESC LIMIT 1",
            (os.path.abspath(os.fspath(file)), page),
        )
        return rows[0][0] if rows else None

    def search(
        self, query: str, collection: str | None = None, limit: int = 10, skip_missing: bool = True
    ) -> list[SearchHit]:
        """Best chunks for ``query`` by bm25 (see index.query for how user text is escaped).

        Hits from files that no longer exist on disk are left out (``skip_missing``), so answers
        never cite a deleted file even before the next `localagent index` run removes it.
        Raises EmptyQueryError (a LocalAgentError) when the query has no searchable word.
        """
        terms = query_terms(query)
        if limit <= 0:
            return []
        wanted = limit + 8
        collection_id = None
        tag = None
        if collection is not None:
            rows = self._query("SELECT id FROM collections WHERE name = ?", (collection,))
            if not rows:
                return []
            collection_id = rows[0][0]
            mine, total = self._query(
                "SELECT coalesce(sum(chunks * (collection_id = ?)), 0), coalesce(sum(chunks), 0) "
                "FROM documents",
                (collection_id,),
            )[0]
            if mine == total:
                collection_id = None  # it holds every chunk: nothing to filter
            elif mine * 2 < total:
                tag = _tag(collection_id)  # small: filter inside FTS5 (cheap for a rare tag)
            else:
                wanted *= 3  # large: rank without the (costly, common) tag, then filter
        hits = self._hits(terms, tag, wanted, limit, collection_id, skip_missing)
        if collection_id is not None and tag is None and len(hits) < limit:
            hits = self._hits(terms, _tag(collection_id), limit + 8, limit, collection_id, skip_missing)
        return hits

    def _hits(
        self,
        terms: list[str],
        tag: str | None,
        wanted: int,
        limit: int,
        collection_id: int | None,
        skip_missing: bool,
    ) -> list[SearchHit]:
        with self._lock, self._errors():
            match, ranked = rank(self._conn, terms, tag, wanted)
        if not ranked:
            return []
        owners = {
            row[0]: row[1:]
            for row in self._query(
                "SELECT c.id, d.collection_id, d.path FROM chunks c JOIN documents d ON d.id = c.document_id "
                f"WHERE c.id IN ({','.join('?' * len(ranked))})",
                [rowid for rowid, _ in ranked],
            )
        }
        chosen: list[tuple[int, float]] = []
        exists: dict[str, bool] = {}
        for rowid, score in ranked:
            owner = owners.get(rowid)
            if owner is None or (collection_id is not None and owner[0] != collection_id):
                continue  # another collection, or deleted by another process meanwhile
            if skip_missing and not exists.setdefault(owner[1], os.path.exists(owner[1])):
                continue
            chosen.append((rowid, score))
            if len(chosen) == limit:
                break
        if not chosen:
            return []
        details = {
            row[0]: row
            for row in self._query(  # snippets only for the chosen few
                f"SELECT {_CHUNK_COLUMNS}, snippet(chunks_fts, 0, ?, ?, '…', 24) FROM chunks_fts "
                "JOIN chunks c ON c.id = chunks_fts.rowid JOIN documents d ON d.id = c.document_id "
                f"WHERE chunks_fts MATCH ? AND chunks_fts.rowid IN ({','.join('?' * len(chosen))})",
                (MARK_START, MARK_END, match, *(rowid for rowid, _ in chosen)),
            )
        }
        return [
            replace(SearchHit(*details[rowid][:11]), snippet=details[rowid][11], score=score)
            for rowid, score in chosen
            if rowid in details
        ]


def _tag(collection_id: int) -> str:
    """The FTS5 token that marks a chunk's collection."""
    return f"c{collection_id}"


def _new_row_id(cursor: sqlite3.Cursor) -> int:
    """The rowid an INSERT made (sqlite3 types it Optional; after an INSERT it is set)."""
    if cursor.lastrowid is None:
        raise LocalAgentError("the index did not store the row (no rowid)")
    return cursor.lastrowid
