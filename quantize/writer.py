"""GGUF output through gguf-py's GGUFWriter, one tensor chunk in memory at a time.

All tensor infos are declared first (their byte sizes follow from shape and type), the header,
metadata and tensor table are written, then each tensor is streamed chunk by chunk into the
writer's open file (GGUFWriter.write_tensor_data wants whole tensors, which would hold a full
tensor in memory; `tensor_data_file` is the one place that reaches into the writer for that).
The file is written under a temporary name and renamed on success; on any
failure it is removed.

Chunks are read, checked and packed by a small pool of threads (numpy releases the GIL in its
array loops) and written in order, a few chunks ahead at most, so the bytes are the same whatever
the number of threads and memory stays flat.
"""

from __future__ import annotations

import os
import struct
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from gguf import GGML_QUANT_VERSION, GGMLQuantizationType, GGUFEndian, GGUFValueType, GGUFWriter

from quantize.errors import QuantizeError
from quantize.packing import is_low_bit_type, pack_rows, tensor_nbytes
from quantize.plan import LINEAR, ModelPlan, TensorPlan
from quantize.policy import OFF_GRID_LIMIT, off_grid_count
from quantize.tokenizer import Vocab, add_vocab

CHUNK_BYTES = 1 << 20  # float32 bytes of one chunk of rows read from the checkpoint (widened in cache)
PASS_BYTES = 256 << 10  # float32 bytes checked and packed at a time: every numpy pass stays in cache
Progress = Callable[[int, int, str], None]  # (tensors done, total, name of the last one)


@dataclass
class TensorRecord:
    """What was written for one tensor (the rows of the report)."""

    name: str
    source: str
    source_dtype: str
    shape: tuple[int, ...]
    ggml_type: str
    nbytes: int
    n_elements: int
    role: str
    reason: str
    off_grid: float | None = None  # fraction of values off the ternary grid (low-bit linear weights)


class ArrayPackingWriter(GGUFWriter):
    """GGUFWriter that packs a flat metadata array (a vocabulary's tokens, scores and types: tens of
    thousands of items) in one struct call instead of one per item; the same bytes as gguf-py's
    element-by-element `_pack_val`. Anything else (nested or mixed arrays, big-endian) goes to gguf-py."""

    def _pack_val(
        self, val: Any, vtype: GGUFValueType, add_vtype: bool, sub_type: GGUFValueType | None = None
    ) -> bytes:
        flat = (
            vtype == GGUFValueType.ARRAY
            and self.endianess == GGUFEndian.LITTLE
            and isinstance(val, Sequence)
            and not isinstance(val, (str, bytes, bytearray))
            and len(val) > 1
        )
        if not flat:
            return super()._pack_val(val, vtype, add_vtype, sub_type)
        if sub_type is None:
            if len({type(item) for item in val}) != 1:  # gguf-py decides (and refuses mixed arrays)
                return super()._pack_val(val, vtype, add_vtype, sub_type)
            sub_type = GGUFValueType.get_type(val[0])
        if sub_type == GGUFValueType.STRING:
            items = [item.encode("utf-8") if isinstance(item, str) else item for item in val]
            body = b"".join(struct.pack("<Q", len(item)) + item for item in items)
        elif sub_type in self._simple_value_packing and sub_type != GGUFValueType.BOOL:
            body = struct.pack(f"<{len(val)}{self._simple_value_packing[sub_type]}", *val)
        else:
            return super()._pack_val(val, vtype, add_vtype, sub_type)
        head = struct.pack("<I", vtype) if add_vtype else b""
        return head + struct.pack("<IQ", sub_type, len(val)) + body


def _add_kv(writer: GGUFWriter, key: str, value: object) -> None:
    if isinstance(value, bool):
        writer.add_bool(key, value)
    elif isinstance(value, int):
        writer.add_uint32(key, value)
    elif isinstance(value, float):
        writer.add_float32(key, value)
    elif isinstance(value, str):
        writer.add_string(key, value)
    else:
        raise TypeError(f"unsupported metadata value for {key}: {value!r}")


def default_threads() -> int:
    """Threads packing chunks: the CPUs this process may use, at most 4."""
    return max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1))


def _pack_chunk(
    t: TensorPlan, qtype: GGMLQuantizationType, start: int, stop: int, track: bool
) -> tuple[list[np.ndarray], int]:
    """Rows start..stop of a tensor, packed pass by pass; returns (packed parts, off-grid count)."""
    cols = t.n_cols
    per_pass = max(1, PASS_BYTES // (cols * 4))
    chunk = t.read_rows(start, stop).reshape(stop - start, cols)
    parts, off = [], 0
    for first in range(0, stop - start, per_pass):
        x = chunk[first : first + per_pass]
        # one reduction instead of a boolean array: a NaN or Inf makes the sum non-finite (and
        # only then, or on overflow of a huge float32 sum, are the values themselves checked)
        if not np.isfinite(x.sum()) and not np.isfinite(x).all():
            raise QuantizeError(f"tensor {t.source}: contains NaN or Inf values")
        if track:
            off += off_grid_count(x)
        parts.append(pack_rows(x, qtype))
    return parts, off


class ChunkPool:
    """Threads that pack chunks, and how many chunks may be in flight (twice the threads)."""

    def __init__(self, threads: int):
        self.executor = ThreadPoolExecutor(threads, thread_name_prefix="pack")
        self.window = 2 * threads

    def in_order(self, work: Callable[[int], Any], items: Iterable[int]) -> Iterator:
        """work(item) for each item, in the threads, results in order, at most `window` ahead."""
        ahead: deque[Future] = deque()
        try:
            for item in items:
                ahead.append(self.executor.submit(work, item))
                if len(ahead) >= self.window:
                    yield ahead.popleft().result()
            while ahead:
                yield ahead.popleft().result()
        finally:
            for future in ahead:
                future.cancel()

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


def _stream_tensor(
    fout: BinaryIO,
    t: TensorPlan,
    qtype: GGMLQuantizationType,
    strict: bool,
    pool: ChunkPool | None = None,
) -> tuple[int, float | None]:
    """Write one tensor's bytes; returns (bytes written, off-grid fraction or None).

    With strict, a low-bit linear weight that is not ternary x scale is refused (no silent loss)."""
    rows, cols = t.n_rows, t.n_cols
    step = max(t.row_align, (CHUNK_BYTES // (cols * 4)) // t.row_align * t.row_align)
    track = t.role == LINEAR and is_low_bit_type(qtype)
    written = off = 0

    def work(start: int) -> tuple[list[np.ndarray], int]:
        return _pack_chunk(t, qtype, start, min(rows, start + step), track)

    starts = range(0, rows, step)
    for parts, chunk_off in pool.in_order(work, starts) if pool is not None else map(work, starts):
        off += chunk_off
        for data in parts:
            fout.write(data.data if data.flags.c_contiguous else data.tobytes())
            written += data.nbytes
    if track and strict and off / t.n_elements > OFF_GRID_LIMIT:
        raise QuantizeError(
            f"--strict: tensor {t.source} is not ternary x scale ({off / t.n_elements:.1%} of values "
            f"off the grid): {qtype.name} would lose information"
        )
    return written, (off / t.n_elements if track else None)


def tensor_data_file(writer: GGUFWriter) -> BinaryIO:
    """The open file a GGUFWriter writes tensor data to, after its tensor table is written.

    gguf-py has no public way to stream one tensor in parts (``write_tensor_data`` takes whole
    arrays), so this is the one place that reaches into the writer (``writer.fout``, gguf 0.19).
    It checks what it relies on and fails loudly if gguf-py changes it; tests/test_quantize_writer.py
    runs it against the installed gguf-py."""
    files = getattr(writer, "fout", None)
    state = getattr(writer, "state", None)
    if not (
        isinstance(files, list)
        and len(files) == 1
        and hasattr(files[0], "write")
        and getattr(state, "name", "") == "TI_DATA"
    ):
        raise QuantizeError(
            f"gguf-py {_gguf_version()} changed GGUFWriter's internals (fout={files!r}, "
            f"state={state!r}); quantize/writer.py:tensor_data_file needs updating"
        )
    return files[0]


def _gguf_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gguf")
    except PackageNotFoundError:
        return "?"


def write_gguf(
    path: Path,
    plan: ModelPlan,
    vocab: Vocab,
    tokenizer_dir: Path,
    types: dict[str, tuple[GGMLQuantizationType, str]],
    file_type: int,
    model_name: str,
    strict: bool = False,
    progress: Progress | None = None,
    threads: int = 0,
) -> list[TensorRecord]:
    """Write plan to path atomically; types maps GGUF tensor name -> (GGML type, reason).

    ``threads``: threads packing chunks (0: default_threads(); 1: none besides this one)."""
    path = Path(path)
    if not path.parent.is_dir():
        raise QuantizeError(f"output directory {path.parent} does not exist")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    writer = ArrayPackingWriter(tmp, plan.arch)
    records: list[TensorRecord] = []
    threads = threads or default_threads()
    pool = ChunkPool(threads) if threads > 1 else None
    try:
        writer.add_name(model_name)
        writer.add_quantized_by("localagent quantize")
        writer.add_file_type(file_type)
        writer.add_quantization_version(GGML_QUANT_VERSION)
        for key, value in plan.hparams.items():
            _add_kv(writer, key, value)
        add_vocab(writer, tokenizer_dir, vocab)
        for t in plan.tensors:
            qtype = types[t.name][0]
            writer.add_tensor_info(
                t.name, t.shape, np.dtype(np.float32), tensor_nbytes(t.shape, qtype), raw_dtype=qtype
            )
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_ti_data_to_file()
        fout = tensor_data_file(writer)
        for t in plan.tensors:
            qtype, reason = types[t.name]
            writer.write_padding(fout, fout.tell())
            nbytes, off_grid = _stream_tensor(fout, t, qtype, strict, pool)
            if nbytes != tensor_nbytes(t.shape, qtype):
                raise AssertionError(
                    f"{t.name}: wrote {nbytes} bytes, declared {tensor_nbytes(t.shape, qtype)}"
                )
            writer.write_padding(fout, nbytes)
            records.append(
                TensorRecord(
                    name=t.name,
                    source=t.source,
                    source_dtype=t.source_dtype,
                    shape=t.shape,
                    ggml_type=qtype.name,
                    nbytes=nbytes,
                    n_elements=t.n_elements,
                    role=t.role,
                    reason=reason,
                    off_grid=off_grid,
                )
            )
            if progress is not None:
                progress(len(records), len(plan.tensors), t.name)
        writer.close()
        os.replace(tmp, path)
    except BaseException:
        writer.close()
        tmp.unlink(missing_ok=True)
        raise
    finally:
        if pool is not None:
            pool.close()
    return records
