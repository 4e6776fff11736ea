"""What a GGUF file is, read with gguf-py: validity checks, tensor-type mix, bits/weight.

gguf-py's GGUFReader indexes every element of every metadata array; for Gemma's 262k-token
vocabulary that takes 10-25 s. `SummaryReader` steps over array contents instead (the summary needs
none of them), which reads the same file in well under a second. The summary is also cached, keyed
by the file's path, size and mtime.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from localagent.errors import LocalAgentError
from localagent.paths import ensure_dir, get_paths

GGUF_MAGIC = b"GGUF"


def _summary_reader_class() -> type:
    import struct

    import numpy as np
    from gguf import GGUFReader, GGUFValueType

    import kernels.gguf_types  # noqa: F401  (Q2_0 tensors, e.g. PrismML Bonsai files, on gguf-py 0.19)

    class SummaryReader(GGUFReader):
        """GGUFReader that records metadata arrays by their extent only (type and length, no
        elements). Scalars, strings and tensor infos are read by gguf-py as usual."""

        def _get_field_parts(self, orig_offs: int, raw_type: int):
            if raw_type != GGUFValueType.ARRAY or self.byte_order != "I":
                return super()._get_field_parts(orig_offs, raw_type)
            raw_itype = self._get(orig_offs, np.uint32)
            alen = self._get(orig_offs + 4, np.uint64)
            item_type, count = GGUFValueType(int(raw_itype[0])), int(alen[0])
            offs = orig_offs + 12
            scalar = self.gguf_scalar_to_np.get(item_type)
            if scalar is not None:
                offs += count * np.dtype(scalar).itemsize
            elif item_type == GGUFValueType.STRING:
                view = self.data.data  # the memory-mapped file as a memoryview
                for _ in range(count):
                    offs += 8 + struct.unpack_from("<Q", view, offs)[0]
            else:  # arrays of arrays: rare, let gguf-py walk them
                return super()._get_field_parts(orig_offs, raw_type)
            if offs > len(self.data):
                raise ValueError(f"metadata array runs past the end of the file ({offs} > {len(self.data)})")
            return offs - orig_offs, [raw_itype, alen], [], [GGUFValueType.ARRAY, item_type]

    return SummaryReader


@dataclass
class GGUFInfo:
    path: str
    file_size: int
    architecture: str
    name: str
    n_params: int
    tensor_bytes: int
    bits_per_weight: float
    type_mix: dict[str, int] = field(default_factory=dict)  # GGML type name -> number of tensors
    main_type: str = ""  # the type holding the most weights outside embeddings and output
    context_length: int = 0
    has_chat_template: bool = False
    role: str = ""  # localagent.role ("reader" for copy-only readers), "" when the file does not say


def _fail(path: Path, reason: str) -> LocalAgentError:
    return LocalAgentError(f"{path}: {reason}")


def _quick_header_check(path: Path) -> None:
    """Cheap checks before gguf-py parses anything: exists, non-empty, magic."""
    if not path.exists():
        raise _fail(path, "model file not found")
    if not path.is_file():
        raise _fail(path, "not a file")
    size = path.stat().st_size
    if size == 0:
        raise _fail(path, "empty file, not a GGUF model")
    with path.open("rb") as fh:
        head = fh.read(8)
    if head[:4] != GGUF_MAGIC:
        raise _fail(path, "not a GGUF file (bad magic bytes)")
    if len(head) < 8:
        raise _fail(path, "truncated GGUF file (no version)")


# Tensors outside the transformer body: their types say little about how a model was quantized.
NOT_BODY = ("token_embd.", "output.", "output_norm.")


@dataclass
class TensorTotals:
    """Parameter and byte counts of a GGUF's tensors, in all and in the body (not NOT_BODY)."""

    n_params: int = 0
    n_bytes: int = 0
    body_params: int = 0
    body_bytes: int = 0
    type_mix: Counter[str] = field(default_factory=Counter)  # GGML type name -> number of tensors
    body_weights_by_type: Counter[str] = field(default_factory=Counter)

    @staticmethod
    def bits(n_bytes: int, n_params: int) -> float:
        return round(8 * n_bytes / n_params, 4) if n_params else 0.0


def open_gguf(path: Path | str) -> Any:
    """A gguf-py reader of ``path`` that records metadata arrays by extent only (fast on big
    vocabularies); a missing, empty or damaged file is a LocalAgentError with a one-line reason."""
    path = Path(path)
    _quick_header_check(path)
    try:
        return _summary_reader_class()(str(path), "r")
    except Exception as exc:  # gguf-py raises ValueError/IndexError/OSError on damaged files
        raise _fail(path, f"corrupt or truncated GGUF ({type(exc).__name__}: {exc})") from exc


def tensor_totals(path: Path, reader: Any) -> TensorTotals:
    """Count the tensors of an open reader; a tensor whose data runs past the file is an error."""
    size = path.stat().st_size
    totals = TensorTotals()
    for tensor in reader.tensors:
        end = tensor.data_offset + int(tensor.n_bytes)
        if end > size:
            raise _fail(path, f"truncated GGUF: tensor {tensor.name} ends at byte {end}, file has {size}")
        n, b = int(tensor.n_elements), int(tensor.n_bytes)
        totals.type_mix[tensor.tensor_type.name] += 1
        totals.n_params, totals.n_bytes = totals.n_params + n, totals.n_bytes + b
        if not tensor.name.startswith(NOT_BODY):
            totals.body_params, totals.body_bytes = totals.body_params + n, totals.body_bytes + b
            totals.body_weights_by_type[tensor.tensor_type.name] += n
    if not reader.tensors:
        raise _fail(path, "GGUF file has no tensors")
    return totals


def _parse(path: Path) -> GGUFInfo:
    reader = open_gguf(path)
    totals = tensor_totals(path, reader)

    def field_str(key: str) -> str:
        f = reader.get_field(key)
        return f.contents() if f is not None else ""

    arch = field_str("general.architecture")
    ctx_field = reader.get_field(f"{arch}.context_length")
    return GGUFInfo(
        path=str(path),
        file_size=path.stat().st_size,
        architecture=arch,
        name=field_str("general.name"),
        n_params=totals.n_params,
        tensor_bytes=totals.n_bytes,
        bits_per_weight=TensorTotals.bits(totals.n_bytes, max(totals.n_params, 1)),
        type_mix=dict(totals.type_mix.most_common()),
        main_type=(totals.body_weights_by_type or totals.type_mix).most_common(1)[0][0],
        context_length=int(ctx_field.contents()) if ctx_field is not None else 0,
        has_chat_template=reader.get_field("tokenizer.chat_template") is not None,
        role=field_str("localagent.role"),
    )


def read_gguf_scalars(path: Path | str) -> dict[str, Any]:
    """Every metadata value of a GGUF that is not an array (numbers, strings, booleans)."""
    from gguf import GGUFValueType

    reader = open_gguf(path)
    return {
        key: f.contents() for key, f in reader.fields.items() if f.types and f.types[0] != GGUFValueType.ARRAY
    }


def _cache_file(path: Path) -> Path:
    st = path.stat()
    key = f"v2|{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"  # v2: GGUFInfo has role
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    return get_paths().cache_dir / "gguf-info" / f"{digest}.json"


def read_gguf_info(path: Path | str) -> GGUFInfo:
    """Validate a GGUF file and summarise it; raises LocalAgentError with a one-line reason."""
    path = Path(path)
    _quick_header_check(path)
    cache = _cache_file(path)
    if cache.exists():
        try:
            return GGUFInfo(**json.loads(cache.read_text()))
        except (ValueError, TypeError):
            pass  # stale or damaged cache entry: parse again
    info = _parse(path)
    ensure_dir(cache.parent)
    tmp = cache.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(asdict(info)))
    os.replace(tmp, cache)
    return info


def validate_gguf(path: Path | str) -> GGUFInfo:
    """Magic, version, tensor data in bounds (the same checks `read_gguf_info` makes)."""
    return read_gguf_info(path)
