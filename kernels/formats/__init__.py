"""One module per GGML block format, and the table of their sizes and ggml type ids."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from . import q1_0, q2_0, q8_0, q8_k, tq1_0, tq2_0
from .common import FormatError


@dataclass(frozen=True)
class Format:
    """A GGML block format: `block_size` weights in `type_size` bytes; `ggml_type` is its enum id."""

    name: str
    block_size: int
    type_size: int
    ggml_type: int
    module: ModuleType

    def row_bytes(self, n: int) -> int:
        """Bytes of one row of n weights."""
        if n % self.block_size:
            raise FormatError(f"{self.name}: row length {n} is not a multiple of {self.block_size}")
        return n // self.block_size * self.type_size


FORMATS: dict[str, Format] = {
    m.__name__.rsplit(".", 1)[1]: Format(
        m.__name__.rsplit(".", 1)[1], m.BLOCK_SIZE, m.TYPE_SIZE, m.GGML_TYPE, m
    )
    for m in (tq1_0, tq2_0, q1_0, q2_0, q8_0, q8_k)
}


def get_format(qtype: str) -> Format:
    """Look a format up by ggml's lower-case name ("tq2_0", ...)."""
    try:
        return FORMATS[qtype.lower()]
    except (KeyError, AttributeError):
        raise FormatError(f"unknown quant type {qtype!r}; known: {', '.join(FORMATS)}") from None


__all__ = ["FORMATS", "Format", "FormatError", "get_format"]
