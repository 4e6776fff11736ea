"""What an architecture module hands to the writer: GGUF metadata and, per output tensor, a row reader."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

RowReader = Callable[[int, int], np.ndarray]  # (start, stop) -> float32 rows, shape (stop-start, cols)

# roles decide the GGML type (see policy.py)
EMBED, OUTPUT, LINEAR, NORM = "embed", "output", "linear", "norm"


@dataclass
class TensorPlan:
    """One GGUF tensor: where it comes from and how to read its rows (already unpacked/permuted)."""

    name: str  # GGUF name, e.g. blk.0.attn_q.weight
    source: str  # Hugging Face tensor name(s)
    source_dtype: str
    shape: tuple[int, ...]  # numpy order: (rows, cols) or (n,)
    role: str
    read_rows: RowReader
    row_align: int = 1  # chunks must hold a multiple of this many rows (RoPE permutation per head)

    @property
    def n_rows(self) -> int:
        return self.shape[0] if len(self.shape) > 1 else 1

    @property
    def n_cols(self) -> int:
        return self.shape[-1]

    @property
    def n_elements(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))


@dataclass
class ModelPlan:
    """A whole conversion: GGUF architecture, metadata writer callbacks and tensors in file order."""

    arch: str  # GGUF general.architecture: llama / bitnet
    source_arch: str  # Hugging Face architectures[0] (+ variant)
    hparams: dict[str, Any]  # gguf key suffix -> value, see writer.add_hparams
    tensors: list[TensorPlan] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # printed to the user (e.g. PTQ warning)
