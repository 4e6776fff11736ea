"""Every file that holds the user's content is created owner-only (0600), whatever the umask says.

Covered: the index (+ its WAL), the chat history (+ WAL), the TUI's chat.log, a batch output and
its journal (+ WAL and lock), and the KV-state cache file (an encoded prompt).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from localagent.agent.kvcache import restore_prefix
from localagent.batch.journal import Journal, journal_path
from localagent.batch.output import OutputFile
from localagent.engine import Engine
from localagent.index import Index, index_paths
from localagent.models import resolve_model
from localagent.tui.history import ChatStore
from localagent.tui.terminal import private_terminal


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    """A umask that would leave files group/world readable, so only an explicit mode keeps them private."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def assert_private(*files: Path) -> None:
    for file in files:
        assert file.is_file(), f"{file} was not created"
        mode = stat.S_IMODE(file.stat().st_mode)
        assert mode & 0o077 == 0, f"{file} is {oct(mode)}, not owner-only"


def wal(path: Path) -> Path:
    return path.with_name(path.name + "-wal")


def test_every_user_content_file_is_owner_only(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("medical record: the patient's blood pressure was high\n")

    index_db = tmp_path / "data" / "index.sqlite3"
    with Index.open(index_db) as index:
        assert index_paths([tmp_path / "a.txt"], index=index, jobs=1).indexed == 1
        assert_private(index_db, wal(index_db))

    chats_db = tmp_path / "data" / "chats.sqlite3"
    store = ChatStore.open(chats_db)
    chat = store.new_chat("What was the blood pressure?")
    store.add_message(chat, "user", "What was the blood pressure?")
    assert_private(chats_db, wal(chats_db))
    store.close()

    chat_log = tmp_path / "data" / "chat.log"
    with private_terminal(chat_log):
        os.write(2, b"llama.cpp log line about a private prompt\n")
    assert_private(chat_log)

    out = tmp_path / "results.jsonl"
    output = OutputFile(out, "jsonl", [])
    journal = Journal(journal_path(out))
    output.open()
    record = {"file": "a.txt", "sha256": "0" * 64, "status": "ok", "summary": "high blood pressure"}
    journal.mark_written(record, output.append(record), job="summarize")
    assert_private(out, journal.path, wal(journal.path), journal.path.with_name(journal.path.name + ".lock"))
    output.close()
    journal.close()

    engine = Engine(
        resolve_model("tern-18m"), n_ctx=256, n_threads=int(os.environ.get("TEST_N_THREADS", "0"))
    )
    try:
        assert restore_prefix(engine, "The patient's record says", tmp_path / "kv") == "evaluated"
    finally:
        engine.close()
    (kv_file,) = (tmp_path / "kv").glob("*.kv")
    assert_private(kv_file)
