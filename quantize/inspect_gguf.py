"""`quantize inspect FILE.gguf`: architecture, metadata, per-tensor table, bits/weight."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from gguf import GGUFReader, GGUFValueType

from quantize.errors import QuantizeError


def _value(field) -> object:
    if not field.types:
        return None
    kind = field.types[0]
    if kind == GGUFValueType.ARRAY:
        return f"[{len(field.data)} items]"
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
        reader = GGUFReader(path)
    except Exception as e:  # gguf-py raises ValueError / struct errors on bad files
        raise QuantizeError(f"{path}: not a readable GGUF file ({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
    metadata = {name: _value(f) for name, f in reader.fields.items() if not name.startswith("GGUF.")}
    tensors, n_params, n_bytes, body_params, body_bytes = [], 0, 0, 0, 0
    for t in reader.tensors:
        shape = [int(d) for d in reversed(t.shape.tolist())]  # numpy order (rows, cols)
        n, b = int(t.n_elements), int(t.n_bytes)
        tensors.append({"name": t.name, "type": t.tensor_type.name, "shape": shape, "bytes": b})
        n_params, n_bytes = n_params + n, n_bytes + b
        if not t.name.startswith(("token_embd.", "output.")):
            body_params, body_bytes = body_params + n, body_bytes + b
    return {"file": str(path), "architecture": metadata.get("general.architecture"),
            "file_size": path.stat().st_size, "metadata": metadata, "tensors": tensors,
            "n_parameters": n_params,
            "bits_per_weight": round(8 * n_bytes / n_params, 4) if n_params else 0.0,
            "bits_per_weight_without_embeddings": round(8 * body_bytes / body_params, 4) if body_params else 0.0}


def format_inspect(info: dict) -> str:
    lines = [f"file: {info['file']} ({info['file_size']} bytes)", f"architecture: {info['architecture']}"]
    lines += [f"  {k} = {v}" for k, v in info["metadata"].items()]
    lines.append(f"{'tensor':<28} {'type':<6} {'shape':<16} {'bytes':>12}")
    for t in info["tensors"]:
        lines.append(f"{t['name']:<28} {t['type']:<6} {'x'.join(map(str, t['shape'])):<16} {t['bytes']:>12}")
    lines.append(f"{len(info['tensors'])} tensors, {info['n_parameters']} parameters, "
                 f"{info['bits_per_weight']} bits/weight, {info['bits_per_weight_without_embeddings']} "
                 "without embeddings/output")
    return "\n".join(lines)
