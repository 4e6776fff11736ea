"""Model registry, default-model resolution and GGUF checks."""

from localagent.models.gguf_info import GGUFInfo, read_gguf_info, validate_gguf
from localagent.models.registry import ModelEntry, Registry, default_model_path, resolve_model

__all__ = [
    "GGUFInfo",
    "ModelEntry",
    "Registry",
    "default_model_path",
    "read_gguf_info",
    "resolve_model",
    "validate_gguf",
]
