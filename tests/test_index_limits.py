"""Per-file time and memory limits: a pathological file is recorded as failed, the run goes on."""

from __future__ import annotations

from pathlib import Path

from pdfs import known_pages, make_pdf

from localagent.index import Index, ReadLimits, index_paths


def _corpus(root: Path, big_name: str, big_mb: int) -> Path:
    root.mkdir()
    make_pdf(root / "a-report.pdf", known_pages(2, marker="report"))
    (root / "z-notes.md").write_text("# Notes\n\nThe quokka budget was approved.\n")
    line = b"lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor\n"
    with (root / big_name).open("wb") as handle:
        for _ in range(big_mb * 2**20 // len(line)):
            handle.write(line)
    return root


def _run(root: Path, tmp_path: Path, limits: ReadLimits):
    index = Index.open(tmp_path / "index.sqlite3")
    summary = index_paths([root], index=index, chunk_tokens=200, chunk_overlap=30, jobs=1, limits=limits)
    return index, summary


def test_a_file_over_the_time_limit_is_failed_and_the_rest_indexed(tmp_path: Path):
    root = _corpus(tmp_path / "docs", "m-huge.txt", 24)  # chunking 24 MB takes far more than 2 s
    index, summary = _run(root, tmp_path, ReadLimits(timeout_s=2.0))
    with index:
        assert [(Path(f.path).name, f.reason) for f in summary.failed] == [
            ("m-huge.txt", "took longer than 2 s to read (time limit per file; setting read_timeout_s)")
        ]
        assert summary.indexed == 2
        assert index.search("reportword2")[0].page == 2
        assert index.search("quokka")[0].file.endswith("z-notes.md")


def test_a_file_over_the_memory_limit_is_failed_and_the_rest_indexed(tmp_path: Path):
    root = _corpus(tmp_path / "docs", "m-big.txt", 60)  # bytes + text + copies: well over 200 MB
    index, summary = _run(root, tmp_path, ReadLimits(timeout_s=120, memory_mb=200))
    with index:
        assert [Path(f.path).name for f in summary.failed] == ["m-big.txt"]
        assert summary.failed[0].reason.startswith("needs more memory than the 200 MB limit per file")
        assert summary.indexed == 2 and index.search("quokka")


def test_limits_come_from_the_settings(monkeypatch):
    monkeypatch.setenv("LOCALAGENT_READ_TIMEOUT_S", "7")
    monkeypatch.setenv("LOCALAGENT_READ_MEMORY_MB", "0")
    assert ReadLimits.from_settings() == ReadLimits(7.0, 0)
    assert ReadLimits.from_settings().active and not ReadLimits().active
