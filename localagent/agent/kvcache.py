"""A prompt prefix's KV cache kept on disk, so a fresh process skips evaluating it.

`ask` prompts start with the same fixed header (rules and worked examples, ~200 tokens). In a
session llama.cpp keeps it in the KV cache; a new `localagent ask` process would evaluate it
again, which is most of the time to first token on 2 cores. `restore_prefix` loads the llama.cpp
state saved after the header (a few MB, ~20 ms) or evaluates the header once and saves it. The
file name is a hash of the model file, llama.cpp version, context size and the header text.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import struct
from pathlib import Path
from typing import Any

from localagent.privacy import open_private

MAGIC = b"LAKV1\n"


def _key(engine: Any, text: str) -> str:
    import llama_cpp

    stat = engine.path.stat()
    parts = [
        str(engine.path.resolve()),
        str(stat.st_size),
        str(stat.st_mtime_ns),
        llama_cpp.__version__,
        str(engine.n_ctx),
        text,
    ]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


def _load(llama: Any, path: Path) -> int:
    import llama_cpp

    data = path.read_bytes()
    if not data.startswith(MAGIC):
        return 0
    (n_tokens,) = struct.unpack_from("<I", data, len(MAGIC))
    start = len(MAGIC) + 4
    tokens = list(struct.unpack_from(f"<{n_tokens}i", data, start))
    state = data[start + 4 * n_tokens :]
    buffer = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
    if llama_cpp.llama_state_set_data(llama._ctx.ctx, buffer, len(state)) != len(state):
        return 0
    llama.input_ids[:n_tokens] = tokens
    llama.n_tokens = n_tokens
    return n_tokens


def _save(llama: Any, tokens: list[int], path: Path) -> None:
    import llama_cpp

    size = llama_cpp.llama_state_get_size(llama._ctx.ctx)
    buffer = (ctypes.c_uint8 * size)()
    written = llama_cpp.llama_state_get_data(llama._ctx.ctx, buffer, size)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    with os.fdopen(open_private(tmp, os.O_WRONLY | os.O_TRUNC), "wb") as out:  # an encoded prompt: owner-only
        out.write(
            MAGIC
            + struct.pack("<I", len(tokens))
            + struct.pack(f"<{len(tokens)}i", *tokens)
            + bytes(buffer)[:written]
        )
    os.replace(tmp, path)


def restore_prefix(engine: Any, text: str, cache_dir: Path | None = None) -> str:
    """Put ``text`` (with BOS) in the engine's KV cache if it holds nothing yet: from disk when
    saved before, else by evaluating it and saving the state. Returns "disk", "evaluated" or
    "skipped" (the cache already holds something, or the state could not be used)."""
    llama = getattr(engine, "llama", None)
    if llama is None or getattr(llama, "n_tokens", 1) != 0:
        return "skipped"
    if cache_dir is None:
        from localagent.paths import get_paths

        cache_dir = get_paths().cache_dir / "kv"
    path = cache_dir / f"{_key(engine, text)}.kv"
    try:
        if path.exists() and _load(llama, path):
            return "disk"
    except (OSError, struct.error, ValueError):
        llama.n_tokens = 0
    tokens = engine.tokenize(text, add_bos=True)
    try:
        llama.eval(tokens)
    except (RuntimeError, ValueError):
        llama.n_tokens = 0
        return "skipped"
    try:
        _save(llama, tokens, path)
    except OSError:
        pass  # a read-only cache dir costs speed, not correctness
    return "evaluated"
