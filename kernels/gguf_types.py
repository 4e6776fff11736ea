"""Teach gguf-py the Q2_0 type when the installed release predates it.

PyPI's gguf 0.19.0 knows Q1_0 (ggml type 41) but not Q2_0 (42, llama.cpp PR 24448), although the
gguf-py inside llama-cpp-python 0.3.36's llama.cpp has it (same version number, newer source).
Without it GGUFReader refuses every Q2_0 file and GGUFWriter cannot declare Q2_0 tensors. `ensure()`
adds the enum members and the block size exactly as llama.cpp's gguf-py defines them:
GGMLQuantizationType.Q2_0 = 42 (64 weights in 2 + 16 bytes), LlamaFileType.MOSTLY_Q2_0 = 41.
It does nothing when gguf already has them.
"""

from __future__ import annotations

import enum

import gguf

Q2_0_TYPE, Q2_0_FILE_TYPE, Q2_0_SIZES = 42, 41, (64, 18)


def _add_member(cls: type[enum.IntEnum], name: str, value: int) -> None:
    """Register `name = value` in an IntEnum after its creation (lookup by name and by value)."""
    if name in cls.__members__:
        return
    member = int.__new__(cls, value)
    member._name_ = name
    member._value_ = value
    member.__objclass__ = cls  # type: ignore[attr-defined]
    cls._member_map_[name] = member
    cls._value2member_map_[value] = member
    cls._member_names_.append(name)
    type.__setattr__(cls, name, member)


def ensure() -> None:
    """Make gguf.GGMLQuantizationType.Q2_0, LlamaFileType.MOSTLY_Q2_0 and GGML_QUANT_SIZES[Q2_0] exist."""
    _add_member(gguf.GGMLQuantizationType, "Q2_0", Q2_0_TYPE)
    _add_member(gguf.LlamaFileType, "MOSTLY_Q2_0", Q2_0_FILE_TYPE)
    gguf.GGML_QUANT_SIZES.setdefault(gguf.GGMLQuantizationType(Q2_0_TYPE), Q2_0_SIZES)


ensure()
# Typed names for the members ensure() added (type checkers only know gguf-py's own members).
Q2_0: gguf.GGMLQuantizationType = gguf.GGMLQuantizationType(Q2_0_TYPE)
MOSTLY_Q2_0: gguf.LlamaFileType = gguf.LlamaFileType(Q2_0_FILE_TYPE)
