"""Open a `llama_cpp.Llama` safely on this kind of CPU. Every part of the project loads through here.

llama.cpp's AMX path (`ggml_backend_amx_mul_mat`) segfaults on the first decode with Q4_K and Q8_0
weights on Sapphire-Rapids-class CPUs (llama.cpp issue #20824, still open in the llama.cpp that
llama-cpp-python 0.3.36 bundles; seen here with the default Gemma-3-270M Q4_K_M). On CPUs with
AMX we therefore load without llama.cpp's "extra buffer types" (AMX and weight repacking): the
plain AVX-512 kernels compute the same thing. LOCALAGENT_EXTRA_BUFFERS=on|off overrides.
"""

from __future__ import annotations

import os
import threading
from functools import cache
from pathlib import Path
from typing import Any

from localagent.engine.quiet import quiet_stderr

_patch_lock = threading.Lock()


@cache
def cpu_has_amx() -> bool:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return "amx_int8" in line.split()
    except OSError:
        pass
    return False


def use_extra_buffers() -> bool:
    setting = os.environ.get("LOCALAGENT_EXTRA_BUFFERS", "auto").strip().lower()
    if setting in {"on", "1", "true", "yes"}:
        return True
    if setting in {"off", "0", "false", "no"}:
        return False
    return not cpu_has_amx()


def open_llama(model_path: Path | str, verbose: bool = False, **kwargs: Any) -> Any:
    """`llama_cpp.Llama(model_path, **kwargs)`, silenced unless verbose, safe on AMX CPUs."""
    import llama_cpp

    install_safe_defaults()
    with quiet_stderr(not verbose):
        return llama_cpp.Llama(model_path=str(model_path), verbose=verbose, **kwargs)


def install_safe_defaults() -> None:
    """Apply the AMX workaround to every `llama_cpp.Llama` made in this process from now on.

    llama-cpp-python builds llama_model_params itself and exposes no `use_extra_bufts` argument,
    so its default-params factory is wrapped (once; LOCALAGENT_EXTRA_BUFFERS is read then)."""
    from llama_cpp import llama_cpp as capi

    with _patch_lock:
        if getattr(capi.llama_model_default_params, "_localagent_safe", False):
            return
        original = capi.llama_model_default_params
        extra = use_extra_buffers()

        def params() -> Any:
            p = original()
            p.use_extra_bufts = extra
            return p

        params._localagent_safe = True  # type: ignore[attr-defined]
        capi.llama_model_default_params = params
