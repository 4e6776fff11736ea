"""Acceptance: SIGKILL `localagent batch` at 20 random moments, rerun, and find exactly one ok record
per input in an output that parses line by line (JSONL), or row by row (CSV)."""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from batch_samples import make_short_documents

from localagent.models import read_gguf_info

pytestmark = pytest.mark.model

KILLS = 20


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def _wait_for_growth(out: Path, process: subprocess.Popen, timeout: float) -> None:
    before = _size(out)
    deadline = time.monotonic() + timeout
    while _size(out) == before and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)


def _command(docs: Path, out: Path, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "localagent",
        "batch",
        str(docs),
        "--task",
        "classify",
        "--labels",
        "invoice,letter,recipe",
        "--out",
        str(out),
        "--workers",
        str(workers),
    ]


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_sigkill_at_random_moments_then_rerun_gives_one_ok_record_per_input(
    tmp_path: Path, default_model: Path, fmt: str
) -> None:
    read_gguf_info(default_model)  # warm the model-facts cache, else every early kill repeats its parse
    # enough documents that the work outlasts all the kills on a fast idle machine too
    kinds = make_short_documents(tmp_path / "docs", 120 if fmt == "jsonl" else 30)
    out = tmp_path / f"labels.{fmt}"
    rng = random.Random(20 if fmt == "jsonl" else 21)
    kills = KILLS if fmt == "jsonl" else 6
    sizes = []
    for n in range(kills):
        workers = 2 if n % 4 == 3 else 1  # some kills hit a parent with worker processes
        process = subprocess.Popen(
            _command(tmp_path / "docs", out, workers), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        if n % 2 == 0:  # a random moment from the start: start-up, model load, reconcile or work
            time.sleep(rng.uniform(0.2, 2.5))
        else:  # a random moment after the next record lands: generating or writing the one after
            _wait_for_growth(out, process, timeout=30)
            time.sleep(rng.uniform(0.0, 0.5))
        children = _children(process.pid)
        if process.poll() is None:  # (a run that found nothing left to do may have ended by itself)
            os.kill(process.pid, signal.SIGKILL)
        process.wait()
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in children), "a worker outlived its killed parent"
        sizes.append(_size(out))
    final = subprocess.run(_command(tmp_path / "docs", out, 1), capture_output=True, text=True, timeout=600)
    assert final.returncode == 0, final.stderr
    if fmt == "jsonl":
        records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    else:
        records = list(csv.DictReader(out.open(newline="", encoding="utf-8")))
    files = [r["file"] for r in records]
    assert sorted(files) == sorted(kinds), "not exactly one record per input"
    assert all(r["status"] == "ok" for r in records)
    assert all(r["result"] in ("invoice", "letter", "recipe") for r in records)
    # most kills landed while documents were still to do, not after the work was finished
    during_work = sum(size < _size(out) for size in sizes)
    assert during_work >= kills // 2, sizes
    print(f"{fmt}: output sizes after each kill: {sizes}; final run: {final.stderr.strip().splitlines()[0]}")
