"""`quantize inspect FILE.gguf`: architecture, metadata, per-tensor table, bits/weight.

The file is read with localagent's GGUF summary reader (`localagent.models.gguf_info`), the one
reader of GGUF summaries in the project; metadata arrays are shown by length.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from gguf import GGUFValueType

from localagent.errors import LocalAgentError
from localagent.models.gguf_info import TensorTotals, open_gguf, tensor_totals
from quantize.errors import QuantizeError


def _value(field) -> object:
    if not field.types:
        return None
    kind = field.types[0]
    if kind == GGUFValueType.ARRAY:
        return f"[{int(field.parts[-1][0])} items]"  # the summary reader keeps an array's length only
    if kind == GGUFValueType.STRING:
        text = bytes(field.parts[field.data[0]]).decode("utf-8", errors="replace")
        return text if len(text) <= 80 else text[:77] + "..."
    value = field.parts[field.data[0]][0]
    return value.item() if isinstance(value, np.generic) else value


def inspect_gguf(path: Path) -> dict[str, object]:
    """A JSON-able description of a GGUF file."""
    path = Path(path)
    if not path.is_file():
        raise QuantizeError(f"{path}: no such file")
    try:
        reader = open_gguf(path)
        totals = tensor_totals(path, reader)
    except LocalAgentError as e:
        raise QuantizeError(
            f"{path}: not a readable GGUF file ({str(e).removeprefix(f'{path}: ')})"
        ) from None
    metadata = {name: _value(f) for name, f in reader.fields.items() if not name.startswith("GGUF.")}
    tensors = [
        {
            "name": t.name,
            "type": t.tensor_type.name,
            "shape": [int(d) for d in reversed(t.shape.tolist())],
            "bytes": int(t.n_bytes),
        }
        for t in reader.tensors
    ]  # shape in numpy order (rows, cols)
    return {
        "file": str(path),
        "architecture": metadata.get("general.architecture"),
        "file_size": path.stat().st_size,
        "metadata": metadata,
        "tensors": tensors,
        "n_parameters": totals.n_params,
        "bits_per_weight": TensorTotals.bits(totals.n_bytes, totals.n_params),
        "bits_per_weight_without_embeddings": TensorTotals.bits(totals.body_bytes, totals.body_params),
    }


def format_inspect(info: dict) -> str:
    lines = [f"file: {info['file']} ({info['file_size']} bytes)", f"architecture: {info['architecture']}"]
    lines += [f"  {k} = {v}" for k, v in info["metadata"].items()]
    lines.append(f"{'tensor':<28} {'type':<6} {'shape':<16} {'bytes':>12}")
    for t in info["tensors"]:
        lines.append(f"{t['name']:<28} {t['type']:<6} {'x'.join(map(str, t['shape'])):<16} {t['bytes']:>12}")
    lines.append(
        f"{len(info['tensors'])} tensors, {info['n_parameters']} parameters, "
        f"{info['bits_per_weight']} bits/weight, {info['bits_per_weight_without_embeddings']} "
        "without embeddings/output"
    )
    return "\n".join(lines)
