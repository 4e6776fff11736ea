"""Shared output helpers for commands: JSON on stdout, tables through rich."""

from __future__ import annotations

import json
import sys
from typing import Any


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def human_size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def print_record(record: dict[str, Any], as_json: bool) -> None:
    """One record: JSON, or aligned `key  value` lines."""
    if as_json:
        print_json(record)
        return
    width = max(map(len, record), default=0)
    for key, value in record.items():
        print(f"{key:<{width}}  {value}")
