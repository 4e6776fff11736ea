"""Settings, merged in order: defaults < config.toml (config dir) < LOCALAGENT_* env < command-line flags.

Every setting knows where its value came from, so `localagent config show` can say so. A bad
config.toml (syntax error, unknown key, wrong type) is a one-line error naming the file and line.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_type_hints

from localagent.errors import LocalAgentError
from localagent.paths import get_paths


@dataclass(frozen=True)
class Setting:
    name: str
    type: type
    default: Any
    help: str


def _setting(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    """Every setting with its type and default (the one place defaults are written)."""

    model: str = _setting("", "model name or .gguf path; empty means the registry default")
    n_ctx: int = _setting(4096, "context window in tokens")
    n_threads: int = _setting(0, "CPU threads for llama.cpp; 0 means the physical cores")
    n_batch: int = _setting(512, "prompt tokens evaluated per batch")
    temperature: float = _setting(0.7, "sampling temperature for `generate`")
    max_tokens: int = _setting(256, "most tokens to generate")
    seed: int = _setting(-1, "sampling seed; -1 picks one at random")
    verbose: bool = _setting(False, "show llama.cpp's own log lines")
    collection: str = _setting("default", "document collection used by index/search/ask")
    chunk_tokens: int = _setting(200, "target chunk size in tokens when indexing")
    chunk_overlap: int = _setting(30, "tokens shared by neighbouring chunks")
    read_timeout_s: int = _setting(300, "seconds one file may take to read when indexing; 0: no limit")
    read_memory_mb: int = _setting(4096, "memory (MB) one file's reader process may use; 0: no limit")
    answer_models: str = _setting(
        "",
        "models `ask` and `chat` try in turn, comma-separated (a cascade: the "
        "next is asked only when one declines); empty means just `model`",
    )
    retrieval_k: int = _setting(4, "sources put in front of the model by `ask`")
    reader_sources: int = _setting(4, "sources a reader model (tern-reader) reads per question, at most 9")
    reader_min_confidence: float = _setting(
        0.7,
        "least confidence a reader model must have in the span it copies (tern-reader: the "
        "probability of the tokens that locate its quote, chosen on held-out reading); below it "
        "the reader passes (declines, and a cascade asks its next model)",
    )
    ask_source_tokens: int = _setting(360, "prompt tokens `ask` gives to sources (fewer is faster)")
    agent_max_steps: int = _setting(4, "most tool calls `ask --agent` makes before answering")


DEFAULTS = Settings()
_TYPES = get_type_hints(Settings)
SETTINGS: dict[str, Setting] = {
    f.name: Setting(f.name, _TYPES[f.name], f.default, f.metadata["help"]) for f in fields(Settings)
}

ENV_PREFIX = "LOCALAGENT_"
# Env vars with this prefix that are not settings (they choose where files live).
NON_SETTING_ENV = {
    "LOCALAGENT_HOME",
    "LOCALAGENT_CONFIG_DIR",
    "LOCALAGENT_DATA_DIR",
    "LOCALAGENT_CACHE_DIR",
    "LOCALAGENT_EXTRA_BUFFERS",
}


@dataclass(frozen=True)
class Value:
    value: Any
    source: str  # "default", "config file <path>", "env LOCALAGENT_X", "flag --x"


@dataclass(frozen=True)
class Config(Settings):
    """Merged settings (typed attributes: ``config.n_ctx``) and where each value came from."""

    sources: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, values: dict[str, Value]) -> Config:
        return cls(
            **{name: v.value for name, v in values.items()},
            sources={name: v.source for name, v in values.items()},
        )

    def source(self, name: str) -> str:
        return self.sources.get(name, "default")

    def items(self) -> list[tuple[str, Value]]:
        return [(name, Value(getattr(self, name), self.source(name))) for name in SETTINGS]

    def with_overrides(self, flags: dict[str, Any]) -> Config:
        """A copy with command-line flags applied (None means the flag was not given)."""
        values = dict(self.items())
        for name, raw in flags.items():
            if raw is None or name not in SETTINGS:
                continue
            values[name] = Value(
                _coerce(SETTINGS[name], raw, f"flag --{name.replace('_', '-')}"),
                f"flag --{name.replace('_', '-')}",
            )
        return Config.of(values)


def _coerce(setting: Setting, raw: Any, where: str) -> Any:
    kind = setting.type
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in {"1", "true", "yes", "on"}:
            return True
        if isinstance(raw, str) and raw.strip().lower() in {"0", "false", "no", "off", ""}:
            return False
        raise LocalAgentError(f"{where}: {setting.name} must be true or false, got {raw!r}")
    if isinstance(raw, bool) and kind is not bool:
        raise LocalAgentError(f"{where}: {setting.name} must be {kind.__name__}, got {raw!r}")
    if kind is float and isinstance(raw, int):
        return float(raw)
    if isinstance(raw, kind):
        return raw
    if isinstance(raw, str):
        try:
            return kind(raw)
        except ValueError:
            pass
    raise LocalAgentError(f"{where}: {setting.name} must be {kind.__name__}, got {raw!r}")


def _line_of(text: str, key: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(rf"\s*[\"']?{re.escape(key)}[\"']?\s*=", line):
            return number
    return 1


def read_config_file(path: Path) -> dict[str, tuple[Any, int]]:
    """Parse config.toml into {key: (value, line)}; one-line errors name file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise LocalAgentError(f"{path}: cannot read config file: {exc}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LocalAgentError(f"{path}: invalid TOML: {exc}") from exc
    found: dict[str, tuple[Any, int]] = {}
    for key, value in data.items():
        line = _line_of(text, key)
        if key not in SETTINGS:
            known = ", ".join(sorted(SETTINGS))
            raise LocalAgentError(f"{path}:{line}: unknown setting {key!r} (known: {known})")
        found[key] = (value, line)
    return found


def load_config(flags: dict[str, Any] | None = None) -> Config:
    """Merge defaults, config.toml, LOCALAGENT_* env and flags (highest wins)."""
    values = {name: Value(setting.default, "default") for name, setting in SETTINGS.items()}
    path = get_paths().config_file
    for key, (raw, line) in read_config_file(path).items():
        where = f"{path}:{line}"
        values[key] = Value(_coerce(SETTINGS[key], raw, where), f"config file {where}")
    for env_name, raw in os.environ.items():
        if not env_name.startswith(ENV_PREFIX) or env_name in NON_SETTING_ENV:
            continue
        key = env_name[len(ENV_PREFIX) :].lower()
        if key in SETTINGS:
            values[key] = Value(_coerce(SETTINGS[key], raw, f"env {env_name}"), f"env {env_name}")
    return Config.of(values).with_overrides(flags or {})
