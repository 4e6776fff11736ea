"""The batch record (one per input document) and its flat CSV form.

    {"file", "sha256", "task", "status": "ok"|"error", "result", "error", "model", "elapsed_s"}

CSV has the same fields as columns, except that ``result`` is flattened: a string result stays one
``result`` column; an object result (extraction) becomes one ``result.<field>`` column per schema
property (nested objects as ``result.a.b``, lists as JSON text).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any


def make_record(
    file: str,
    sha256: str | None,
    task: str,
    model: str,
    elapsed_s: float,
    result: Any = None,
    error: str | None = None,
) -> dict[str, Any]:
    return {
        "file": file,
        "sha256": sha256,
        "task": task,
        "status": "error" if error else "ok",
        "result": None if error else result,
        "error": error,
        "model": model,
        "elapsed_s": round(elapsed_s, 3),
    }


def result_columns(schema: dict[str, Any] | None) -> list[str]:
    """CSV columns for the result: ``result`` or one per (nested) schema property."""
    if not schema or schema.get("type") != "object" or not schema.get("properties"):
        return ["result"]
    return ["result." + path for path in _property_paths(schema)]


def _property_paths(schema: dict[str, Any], prefix: str = "") -> list[str]:
    paths: list[str] = []
    for name, sub in (schema.get("properties") or {}).items():
        path = f"{prefix}{name}"
        if isinstance(sub, dict) and sub.get("type") == "object" and sub.get("properties"):
            paths.extend(_property_paths(sub, path + "."))
        else:
            paths.append(path)
    return paths


def csv_columns(schema: dict[str, Any] | None) -> list[str]:
    return ["file", "sha256", "task", "status", *result_columns(schema), "error", "model", "elapsed_s"]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _lookup(result: Any, path: str) -> Any:
    value = result
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def flatten(record: dict[str, Any], columns: Sequence[str]) -> list[str]:
    """One CSV row (strings) for ``record`` under ``columns``."""
    row = []
    for column in columns:
        if column == "result":
            row.append(_cell(record.get("result")))
        elif column.startswith("result."):
            row.append(_cell(_lookup(record.get("result"), column[len("result.") :])))
        else:
            row.append(_cell(record.get(column)))
    return row
