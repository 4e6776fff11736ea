"""llama.cpp through llama-cpp-python: load a GGUF, stream tokens, report stats."""

from localagent.engine.llama import Engine, EngineStats, load_engine
from localagent.engine.loader import open_llama

__all__ = ["Engine", "EngineStats", "load_engine", "open_llama"]
