"""How much RAM one batch worker needs, and whether N of them fit in what the machine has free.

Per worker: the model file (llama.cpp maps it and touches all of it) + the KV cache for the context
(2 x layers x context x KV width x 2 bytes, from the GGUF's metadata) + a fixed allowance for the
compute buffers, Python and libraries. Measured for Gemma-3-270M Q4_K_M (241 MB file): RSS 352 MB at
n_ctx 512 and about 430 MB at 4096; this estimate gives 400 and 480 MB.
"""

from __future__ import annotations

from pathlib import Path

from localagent.errors import LocalAgentError
from localagent.models.gguf_info import read_gguf_scalars

FIXED_BYTES = 150 * 2**20
FALLBACK_KV_BYTES_PER_TOKEN = 64 * 1024


def kv_bytes_per_token(model_path: Path) -> int:
    """f16 K and V bytes per context token, from the GGUF metadata (a generous guess if missing)."""
    try:
        meta = read_gguf_scalars(model_path)
        arch = meta["general.architecture"]

        def number(key: str) -> int:
            value = meta.get(f"{arch}.{key}")
            return int(value) if isinstance(value, int | float) else 0

        layers, heads = number("block_count"), number("attention.head_count")
        kv_heads = number("attention.head_count_kv") or heads
        key_len = number("attention.key_length") or number("embedding_length") // max(heads, 1)
        value_len = number("attention.value_length") or key_len
        return 2 * layers * kv_heads * (key_len + value_len) or FALLBACK_KV_BYTES_PER_TOKEN
    except (OSError, ValueError, KeyError, LocalAgentError):
        return FALLBACK_KV_BYTES_PER_TOKEN


def worker_bytes(model_path: Path, n_ctx: int) -> int:
    return Path(model_path).stat().st_size + n_ctx * kv_bytes_per_token(model_path) + FIXED_BYTES


def mem_available_bytes() -> int:
    """MemAvailable from /proc/meminfo (0 when unknown)."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def check_workers_fit(workers: int, model_path: Path, n_ctx: int, available: int | None = None) -> int:
    """Bytes one worker needs; LocalAgentError when ``workers`` of them exceed 90% of MemAvailable."""
    if workers < 1:
        raise LocalAgentError(f"--workers must be at least 1, got {workers}")
    need = worker_bytes(model_path, n_ctx)
    available = mem_available_bytes() if available is None else available
    if available and workers * need > 0.9 * available:
        fit = max(0, int(0.9 * available // need))
        raise LocalAgentError(
            f"--workers {workers} needs about {workers * need / 2**30:.1f} GB "
            f"({need / 2**20:.0f} MB each: model + {n_ctx}-token context) but only "
            f"{available / 2**30:.1f} GB is available; use --workers {fit} or fewer"
            if fit
            else f"one worker needs about {need / 2**20:.0f} MB but only {available / 2**20:.0f} MB is available"
        )
    return need
