"""Past conversations, kept in SQLite in the data dir (chats.sqlite3), one row per message.

store = ChatStore.open()
chat_id = store.new_chat("When does the lease end?", collection="default", model="gemma3-270m")
store.add_message(chat_id, "user", "When does the lease end?")
store.add_message(chat_id, "assistant", reply.text, found=True, citations=reply.citations)
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from localagent.errors import LocalAgentError
from localagent.paths import get_paths
from localagent.privacy import create_private
from localagent.tui.answering import CitedSource

SCHEMA = """
CREATE TABLE IF NOT EXISTS chats (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    collection TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    text TEXT NOT NULL,
    found INTEGER,
    citations TEXT NOT NULL DEFAULT '[]',
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_chat ON messages(chat_id, id);
"""
TITLE_CHARS = 60


@dataclass(frozen=True)
class ChatSummary:
    id: int
    title: str
    collection: str
    model: str
    updated_at: float
    messages: int


@dataclass(frozen=True)
class StoredMessage:
    role: str
    text: str
    found: bool | None = None
    citations: list[CitedSource] = field(default_factory=list)


def chat_title(question: str) -> str:
    """The first line of the first question, cut to fit a list."""
    line = " ".join(question.split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1].rstrip() + "…"


class ChatStore:
    """Conversations in one SQLite file (WAL); safe to share between the UI and worker threads."""

    def __init__(self, conn: sqlite3.Connection, path: Path):
        self._conn = conn
        self._lock = threading.Lock()
        self.path = path

    @classmethod
    def open(cls, path: Path | None = None) -> ChatStore:
        path = Path(path) if path is not None else get_paths().data_dir / "chats.sqlite3"
        try:
            create_private(path)  # questions and cited passages: owner-only (WAL too)
            conn = sqlite3.connect(path, timeout=5, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.executescript(SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise LocalAgentError(f"{path}: cannot open the chat history: {exc}") from exc
        return cls(conn, path)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _write(self, sql: str, params: tuple) -> int:
        with self._lock:
            try:
                return self._conn.execute(sql, params).lastrowid or 0
            except sqlite3.Error as exc:
                raise LocalAgentError(f"{self.path}: cannot save the chat: {exc}") from exc

    def new_chat(self, first_question: str, collection: str = "", model: str = "") -> int:
        now = time.time()
        return self._write(
            "INSERT INTO chats(title, collection, model, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
            (chat_title(first_question), collection, model, now, now),
        )

    def add_message(
        self,
        chat_id: int,
        role: str,
        text: str,
        found: bool | None = None,
        citations: list[CitedSource] | None = None,
    ) -> int:
        now = time.time()
        data = json.dumps([c.as_dict() for c in citations or []])
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                row_id = self._conn.execute(
                    "INSERT INTO messages(chat_id, role, text, found, citations, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (chat_id, role, text, None if found is None else int(found), data, now),
                ).lastrowid
                self._conn.execute("UPDATE chats SET updated_at = ? WHERE id = ?", (now, chat_id))
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise LocalAgentError(f"{self.path}: cannot save the chat: {exc}") from exc
        return row_id or 0

    def _summaries(self, where: str, params: tuple) -> list[ChatSummary]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT c.id, c.title, c.collection, c.model, c.updated_at, count(m.id) FROM chats c "
                f"LEFT JOIN messages m ON m.chat_id = c.id {where} GROUP BY c.id "
                "ORDER BY c.updated_at DESC, c.id DESC LIMIT ?",
                params,
            ).fetchall()
        return [ChatSummary(*row) for row in rows]

    def list_chats(self, limit: int = 200) -> list[ChatSummary]:
        """Most recently used first."""
        return self._summaries("", (limit,))

    def get_chat(self, chat_id: int) -> ChatSummary | None:
        found = self._summaries("WHERE c.id = ?", (chat_id, 1))
        return found[0] if found else None

    def messages(self, chat_id: int) -> list[StoredMessage]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT role, text, found, citations FROM messages WHERE chat_id = ? ORDER BY id", (chat_id,)
            ).fetchall()
        out = []
        for role, text, found, citations in rows:
            try:
                cited = [CitedSource.from_any(c, i) for i, c in enumerate(json.loads(citations), start=1)]
            except (ValueError, TypeError):
                cited = []
            out.append(StoredMessage(role, text, None if found is None else bool(found), cited))
        return out
