"""The output file (JSONL or CSV): append one record durably, and find where good records end.

Appending is ``write`` + ``fsync`` on an O_APPEND descriptor, so after `append` returns the record
is on disk; the journal marks it done only after that. A SIGKILL can therefore leave, after the
last record the journal knows about, either nothing, one complete record (killed before the
journal commit: adopted on the next run) or a torn record (killed mid-write: cut off on the next
run). `scan` reads records back with their byte offsets so the runner can tell which is which.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localagent.batch.records import flatten
from localagent.errors import LocalAgentError
from localagent.privacy import open_private

FORMATS = ("jsonl", "csv")


@dataclass
class Scan:
    """Complete records found (with the byte offset where each ends) and where the bad tail starts."""

    records: list[tuple[dict[str, Any], int]] = field(default_factory=list)
    good_end: int = 0  # bytes [0, good_end) are complete records (and the CSV header)
    size: int = 0
    bad_reason: str = ""  # why the bytes after good_end are not a record ("" if there are none)


def format_for(path: Path, explicit: str | None) -> str:
    if explicit:
        return explicit
    return "csv" if path.suffix.lower() == ".csv" else "jsonl"


class OutputFile:
    """One JSONL or CSV output file; CSV files start with a header row of ``columns``."""

    def __init__(self, path: Path, fmt: str, columns: Sequence[str]):
        self.path = path
        self.format = fmt
        self.columns = list(columns)
        self._fd: int | None = None

    # --- encoding ---
    def encode(self, record: dict[str, Any]) -> bytes:
        if self.format == "jsonl":
            return (json.dumps(record, ensure_ascii=False, sort_keys=False) + "\n").encode("utf-8")
        return self._csv_line(flatten(record, self.columns))

    @staticmethod
    def _csv_line(row: Sequence[str]) -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(row)
        return buffer.getvalue().encode("utf-8")

    def header(self) -> bytes:
        return self._csv_line(self.columns) if self.format == "csv" else b""

    # --- reading back ---
    def scan(self) -> Scan:
        """Parse the whole file; stop at the first byte that does not start a complete record."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return Scan()
        except OSError as exc:
            raise LocalAgentError(
                f"{self.path}: cannot read the output file: {exc.strerror or exc}"
            ) from None
        scan = Scan(size=len(data))
        lines = _lines_with_offsets(data)
        if self.format == "jsonl":
            self._scan_jsonl(lines, scan)
        else:
            self._scan_csv(lines, scan)
        return scan

    def _scan_jsonl(self, lines: Iterator[tuple[bytes, int]], scan: Scan) -> None:
        for line, end in lines:
            if not line.endswith(b"\n"):
                scan.bad_reason = "last line is cut off"
                return
            try:
                record = json.loads(line)
            except (UnicodeDecodeError, ValueError):
                scan.bad_reason = "a line is not JSON"
                return
            if not isinstance(record, dict) or "file" not in record or "status" not in record:
                scan.bad_reason = "a line is not a batch record"
                return
            scan.records.append((record, end))
            scan.good_end = end

    def _scan_csv(self, lines: Iterator[tuple[bytes, int]], scan: Scan) -> None:
        position = {"end": 0, "newline": True}

        def text_lines() -> Iterator[str]:
            for line, end in lines:
                position["end"], position["newline"] = end, line.endswith(b"\n")
                yield line.decode("utf-8", errors="replace")

        reader = csv.reader(text_lines(), strict=True)
        header_seen = False
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error:
                scan.bad_reason = "last row is cut off"
                return
            if not position["newline"]:
                scan.bad_reason = "last row is cut off"
                return
            if not header_seen:
                if row != self.columns:
                    raise LocalAgentError(
                        f"{self.path}: the CSV columns differ from this job's "
                        f"({', '.join(self.columns)}); choose another --out"
                    )
                header_seen = True
                scan.good_end = position["end"]
                continue
            if len(row) != len(self.columns):
                scan.bad_reason = f"a row has {len(row)} fields, not {len(self.columns)}"
                return
            scan.records.append((dict(zip(self.columns, row, strict=True)), position["end"]))
            scan.good_end = position["end"]

    # --- writing ---
    def truncate(self, size: int) -> None:
        with self.path.open("r+b") as handle:
            handle.truncate(size)
            handle.flush()
            os.fsync(handle.fileno())

    def open(self) -> None:
        """Open for appending (creating the file, and the CSV header, when missing or empty)."""
        created = not self.path.exists()
        try:
            self._fd = open_private(self.path, os.O_WRONLY | os.O_APPEND)
        except OSError as exc:
            raise LocalAgentError(
                f"{self.path}: cannot write the output file: {exc.strerror or exc}"
            ) from None
        if created:
            _fsync_dir(self.path.parent)
        if os.fstat(self._fd).st_size == 0 and self.format == "csv":
            self._write(self.header())

    def append(self, record: dict[str, Any]) -> int:
        """Write one record and fsync it; returns the file size after it."""
        return self._write(self.encode(record))

    def _write(self, data: bytes) -> int:
        assert self._fd is not None, "open() first"
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        os.fsync(self._fd)
        return os.fstat(self._fd).st_size

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _lines_with_offsets(data: bytes) -> Iterator[tuple[bytes, int]]:
    """Each line (with its newline, if any) and the byte offset just past it."""
    start = 0
    while start < len(data):
        cut = data.find(b"\n", start)
        end = len(data) if cut < 0 else cut + 1
        yield data[start:end], end
        start = end


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
