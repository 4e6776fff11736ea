"""The `localagent batch` progress display (rich, on stderr, only on a terminal).

One bar for the job (documents done, documents/s, errors, ETA) and, when records name the worker
that made them (Ray runs), one row per worker with its documents and documents/minute.
"""

from __future__ import annotations

import time
from typing import Any


class ProgressBar:
    def __init__(self, enabled: bool):
        self.enabled = enabled
        self._progress: Any = None
        self._workers: dict[str, tuple[Any, float]] = {}  # name -> (rich task id, start time)

    def start(self, total: int) -> None:
        if not self.enabled or total == 0:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]}"),
            TextColumn("{task.fields[errors]}"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[eta]}"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._task = self._progress.add_task(
            "batch", total=total, rate="- docs/s", errors="errors 0", eta="ETA"
        )
        self._errors = 0
        self._started = time.perf_counter()
        self._progress.start()

    def advance(self, record: dict[str, Any], worker: str | None = None) -> None:
        if self._progress is None:
            return
        self._errors += record.get("status") != "ok"
        self._progress.advance(self._task)
        task = self._progress.tasks[0]
        rate = task.completed / task.elapsed if task.elapsed else 0.0
        self._progress.update(self._task, rate=f"{rate:.2f} docs/s", errors=f"errors {self._errors}")
        if worker is not None:
            self._advance_worker(worker)

    def _advance_worker(self, worker: str) -> None:
        if worker not in self._workers:  # the worker's clock starts with the job (its model load included)
            row = self._progress.add_task(f"  {worker}", total=None, rate="", errors="", eta="")
            self._workers[worker] = (row, self._started)
        row, started = self._workers[worker]
        self._progress.advance(row)
        done = next(t.completed for t in self._progress.tasks if t.id == row)
        minutes = (time.perf_counter() - started) / 60
        self._progress.update(row, rate=f"{done / minutes:.1f} docs/min" if minutes > 0 else "")

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
