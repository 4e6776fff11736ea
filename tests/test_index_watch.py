"""`localagent index --watch`: a real watcher process picks up new, changed, deleted and renamed
files within seconds, and Ctrl-C (SIGINT) stops it cleanly."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from localagent.index import Index
from localagent.paths import get_paths

REPO = Path(__file__).resolve().parents[1]
WITHIN_S = 10.0


def _wait_for(condition, what: str, within: float = WITHIN_S):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"not within {within} s: {what}")


def _paths() -> set[str]:
    with Index.open(get_paths().index_db) as index:
        return {Path(d.path).name for d in index.list_documents()}


def _finds(word: str) -> list[str]:
    with Index.open(get_paths().index_db) as index:
        return [Path(hit.file).name for hit in index.search(word)]


def test_watch_picks_up_new_changed_deleted_and_renamed_files(tmp_path: Path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "first.txt").write_text("The heron nests by the river.\n")
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "localagent", "index", "--watch", str(docs)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True)
    reader.start()
    try:
        _wait_for(lambda: any("watching 1 path" in line for line in list(lines.queue)), "watching starts", 60)
        assert _finds("heron") == ["first.txt"]

        (docs / "new.md").write_text("# Birds\n\nA zebrafinch sings.\n")
        _wait_for(lambda: _finds("zebrafinch") == ["new.md"], "new file indexed")

        (docs / "new.md").write_text("# Birds\n\nA quetzal sings.\n")
        _wait_for(lambda: _finds("quetzal") == ["new.md"] and not _finds("zebrafinch"), "change indexed")

        (docs / "new.md").unlink()
        _wait_for(lambda: "new.md" not in _paths(), "deletion honoured")

        (docs / "first.txt").rename(docs / "renamed.txt")
        _wait_for(lambda: _paths() == {"renamed.txt"}, "rename honoured")
        assert _finds("heron") == ["renamed.txt"]

        (docs / ".hidden.txt").write_text("secretword\n")
        (docs / "sub").mkdir()
        (docs / "sub" / "deep.txt").write_text("A kingfisher dives.\n")
        _wait_for(lambda: _finds("kingfisher") == ["deep.txt"], "file in a new folder indexed")
        assert _finds("secretword") == []
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=20)
        finally:
            if process.poll() is None:
                process.kill()
    reader.join(timeout=10)
    stderr = process.stderr.read()
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert any("stopped watching" in line for line in list(lines.queue))
