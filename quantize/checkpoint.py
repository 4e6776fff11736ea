"""Read a Hugging Face checkpoint directory lazily: config.json, (sharded) safetensors, tokenizer files.

Tensors are listed and validated through the `safetensors` package (which refuses truncated files);
their data is read a slice of rows at a time. BF16 (which numpy lacks) is widened to float32 from a
read-only memory map of the file, without torch.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from safetensors import safe_open

from quantize.errors import QuantizeError

_NUMPY_DTYPES = {
    "F64": np.float64,
    "F32": np.float32,
    "F16": np.float16,
    "BF16": np.uint16,
    "I64": np.int64,
    "I32": np.int32,
    "I16": np.int16,
    "I8": np.int8,
    "U8": np.uint8,
    "BOOL": np.bool_,
}

# every fp16 bit pattern -> its float32 value (256 KB, stays in cache)
_F16_TO_F32 = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.float16).astype(np.float32)


@dataclass
class LazyTensor:
    """One tensor of a safetensors file; nothing is read until `rows` is called."""

    name: str
    file: Path
    dtype: str  # safetensors dtype name: F32, F16, BF16, U8, ...
    shape: tuple[int, ...]
    data_start: int  # absolute byte offset of the data in the file

    @property
    def n_rows(self) -> int:
        return self.shape[0] if self.shape else 1

    def raw_rows(self, start: int, stop: int) -> np.ndarray:
        """Rows start..stop in the stored dtype (BF16 as uint16), little-endian as safetensors stores them.

        One positioned read of just those bytes into a fresh array (the layout was validated by the
        safetensors package when the checkpoint was listed). Nothing stays mapped, so pages read do not
        stay resident (a long-lived mapping would count the whole file in RSS).
        """
        np_dtype = _NUMPY_DTYPES.get(self.dtype)
        if np_dtype is None:
            raise QuantizeError(f"tensor {self.name}: unsupported safetensors dtype {self.dtype}")
        shape = self.shape if self.shape else (1,)
        start, stop = max(0, start), min(stop, shape[0])
        per_row = int(np.prod(shape[1:], dtype=np.int64)) if len(shape) > 1 else 1
        itemsize = np.dtype(np_dtype).itemsize
        out = np.empty((max(0, stop - start), *shape[1:]), dtype=np.dtype(np_dtype).newbyteorder("<"))
        with self.file.open("rb", buffering=0) as fh:
            fh.seek(self.data_start + start * per_row * itemsize)
            got = fh.readinto(out.data.cast("B"))
        if got != out.nbytes:
            raise QuantizeError(f"tensor {self.name}: {self.file} ends inside its data (truncated file)")
        return out

    def rows(self, start: int, stop: int) -> np.ndarray:
        """Rows start..stop widened to float32 (floating tensors only)."""
        raw = self.raw_rows(start, stop)
        if self.dtype == "BF16":
            return (raw.astype(np.uint32) << 16).view(np.float32)
        if (
            self.dtype == "F16"
        ):  # a table lookup: 3x numpy's float16 cast, the same bits (the table is that cast)
            return np.take(_F16_TO_F32, raw.view(np.uint16))
        if self.dtype not in ("F32", "F64"):
            raise QuantizeError(f"tensor {self.name}: expected a floating-point tensor, found {self.dtype}")
        return raw.astype(np.float32, copy=False)

    def read(self) -> np.ndarray:
        """The whole tensor as float32 (use only for small tensors: norms, scales)."""
        data = self.rows(0, self.n_rows)
        return data.reshape(self.shape) if self.shape else data.reshape(())


@dataclass
class Checkpoint:
    """A Hugging Face model directory: its config and a lazy view of all its tensors."""

    directory: Path
    config: dict
    tensors: dict[str, LazyTensor] = field(default_factory=dict)

    @property
    def architecture(self) -> str:
        archs = self.config.get("architectures") or []
        if not archs or not isinstance(archs, list):
            raise QuantizeError(f"{self.directory / 'config.json'}: no 'architectures' entry")
        return str(archs[0])

    def tensor(self, name: str) -> LazyTensor:
        try:
            return self.tensors[name]
        except KeyError:
            raise QuantizeError(f"checkpoint {self.directory}: missing tensor {name}") from None

    def has(self, name: str) -> bool:
        return name in self.tensors


def _safetensors_files(directory: Path) -> list[Path]:
    index = directory / "model.safetensors.index.json"
    if index.is_file():
        try:
            weight_map = json.loads(index.read_text())["weight_map"]
        except (ValueError, KeyError, TypeError) as e:
            raise QuantizeError(f"{index}: not a safetensors index ({e})") from None
        files = sorted({directory / f for f in weight_map.values()})
        missing = [f.name for f in files if not f.is_file()]
        if missing:
            raise QuantizeError(f"{index}: shard(s) missing: {', '.join(missing)}")
        return files
    single = directory / "model.safetensors"
    if single.is_file():
        return [single]
    shards = sorted(directory.glob("model-*-of-*.safetensors"))
    if shards:
        return shards
    raise QuantizeError(f"{directory}: no model.safetensors, sharded model-*-of-*.safetensors or index")


def _header_offsets(path: Path) -> tuple[int, dict]:
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    return 8 + n, header


def _open_file(path: Path, tensors: dict[str, LazyTensor]) -> None:
    try:
        with safe_open(str(path), framework="numpy") as f:
            names = list(f.keys())
        data_start, header = _header_offsets(path)
    except Exception as e:  # safetensors raises its own error types for corrupt/truncated files
        raise QuantizeError(f"{path.name}: not a valid safetensors file ({str(e).splitlines()[0]})") from None
    for name in names:
        entry = header[name]
        begin, end = entry["data_offsets"]
        tensors[name] = LazyTensor(
            name=name,
            file=path,
            dtype=entry["dtype"],
            shape=tuple(int(d) for d in entry["shape"]),
            data_start=data_start + begin,
        )


def load_checkpoint(directory: str | Path) -> Checkpoint:
    """Open a checkpoint directory; raises QuantizeError with a one-line reason on bad input."""
    directory = Path(directory)
    if not directory.is_dir():
        raise QuantizeError(f"{directory}: not a directory")
    config_path = directory / "config.json"
    if not config_path.is_file():
        raise QuantizeError(f"{directory}: missing config.json")
    try:
        config = json.loads(config_path.read_text())
    except ValueError as e:
        raise QuantizeError(f"{config_path}: invalid JSON ({e})") from None
    if not isinstance(config, dict):
        raise QuantizeError(f"{config_path}: expected a JSON object")
    ckpt = Checkpoint(directory=directory, config=config)
    for path in _safetensors_files(directory):
        _open_file(path, ckpt.tensors)
    return ckpt
