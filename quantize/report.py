"""Conversion report: a table on stdout and a JSON file (per tensor and totals)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from quantize.plan import EMBED, OUTPUT
from quantize.writer import TensorRecord


def totals(records: Sequence[TensorRecord]) -> dict[str, object]:
    """Bits per weight over all tensors and over all but the token embeddings / output head."""

    def bpw(rs: Sequence[TensorRecord]) -> float:
        n = sum(r.n_elements for r in rs)
        return round(8.0 * sum(r.nbytes for r in rs) / n, 4) if n else 0.0

    body = [r for r in records if r.role not in (EMBED, OUTPUT)]
    by_type: dict[str, int] = {}
    for r in records:
        by_type[r.ggml_type] = by_type.get(r.ggml_type, 0) + 1
    return {
        "n_tensors": len(records),
        "bytes": sum(r.nbytes for r in records),
        "n_parameters": sum(r.n_elements for r in records),
        "bits_per_weight": bpw(records),
        "bits_per_weight_without_embeddings": bpw(body),
        "tensors_by_type": by_type,
    }


def format_table(records: Sequence[TensorRecord]) -> str:
    lines = [f"{'tensor':<28} {'source dtype':<12} {'shape':<14} {'type':<6} {'bytes':>12}  reason"]
    for r in records:
        shape = "x".join(str(d) for d in r.shape)
        grid = f" [off-grid {r.off_grid:.1%}]" if r.off_grid else ""
        lines.append(
            f"{r.name:<28} {r.source_dtype:<12} {shape:<14} {r.ggml_type:<6} {r.nbytes:>12}  {r.reason}{grid}"
        )
    t = totals(records)
    lines.append(
        f"total: {t['n_tensors']} tensors, {t['bytes']} bytes, {t['bits_per_weight']} bits/weight, "
        f"{t['bits_per_weight_without_embeddings']} without embeddings/output"
    )
    return "\n".join(lines)


def write_json(path: Path, records: Sequence[TensorRecord], extra: dict[str, object]) -> None:
    doc = {
        **extra,
        "totals": totals(records),
        "tensors": [{**asdict(r), "shape": list(r.shape)} for r in records],
    }
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    os.replace(tmp, path)
