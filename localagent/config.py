"""Settings, merged in order: defaults < config.toml (config dir) < LOCALAGENT_* env < command-line flags.

Every setting knows where its value came from, so `localagent config show` can say so. A bad
config.toml (syntax error, unknown key, wrong type) is a one-line error naming the file and line.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localagent.errors import LocalAgentError
from localagent.paths import get_paths


@dataclass(frozen=True)
class Setting:
    name: str
    type: type
    default: Any
    help: str


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in [
        Setting("model", str, "", "model name or .gguf path; empty means the registry default"),
        Setting("n_ctx", int, 4096, "context window in tokens"),
        Setting("n_threads", int, 0, "CPU threads for llama.cpp; 0 means the physical cores"),
        Setting("n_batch", int, 512, "prompt tokens evaluated per batch"),
        Setting("temperature", float, 0.7, "sampling temperature for `generate`"),
        Setting("max_tokens", int, 256, "most tokens to generate"),
        Setting("seed", int, -1, "sampling seed; -1 picks one at random"),
        Setting("verbose", bool, False, "show llama.cpp's own log lines"),
        Setting("collection", str, "default", "document collection used by index/search/ask"),
        Setting("chunk_tokens", int, 200, "target chunk size in tokens when indexing"),
        Setting("chunk_overlap", int, 30, "tokens shared by neighbouring chunks"),
        Setting("read_timeout_s", int, 300, "seconds one file may take to read when indexing; 0: no limit"),
        Setting("read_memory_mb", int, 4096, "memory (MB) one file's reader process may use; 0: no limit"),
        Setting("retrieval_k", int, 4, "sources put in front of the model by `ask`"),
        Setting("ask_source_tokens", int, 360, "prompt tokens `ask` gives to sources (fewer is faster)"),
        Setting("agent_max_steps", int, 4, "most tool calls `ask --agent` makes before answering"),
    ]
}

ENV_PREFIX = "LOCALAGENT_"
# Env vars with this prefix that are not settings (they choose where files live).
NON_SETTING_ENV = {"LOCALAGENT_HOME", "LOCALAGENT_CONFIG_DIR", "LOCALAGENT_DATA_DIR", "LOCALAGENT_CACHE_DIR",
                   "LOCALAGENT_EXTRA_BUFFERS"}


@dataclass(frozen=True)
class Value:
    value: Any
    source: str  # "default", "config file <path>", "env LOCALAGENT_X", "flag --x"


class Config:
    """Merged settings; attribute access returns the value (``config.n_ctx``)."""

    def __init__(self, values: dict[str, Value]):
        self._values = values

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name].value
        except KeyError:
            raise AttributeError(name) from None

    def source(self, name: str) -> str:
        return self._values[name].source

    def items(self) -> list[tuple[str, Value]]:
        return list(self._values.items())

    def with_overrides(self, flags: dict[str, Any]) -> Config:
        """A copy with command-line flags applied (None means the flag was not given)."""
        values = dict(self._values)
        for name, raw in flags.items():
            if raw is None or name not in SETTINGS:
                continue
            values[name] = Value(_coerce(SETTINGS[name], raw, f"flag --{name.replace('_', '-')}"),
                                 f"flag --{name.replace('_', '-')}")
        return Config(values)


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
    values = {name: Value(s.default, "default") for name, s in SETTINGS.items()}
    path = get_paths().config_file
    for key, (raw, line) in read_config_file(path).items():
        where = f"{path}:{line}"
        values[key] = Value(_coerce(SETTINGS[key], raw, where), f"config file {where}")
    for env_name, raw in os.environ.items():
        if not env_name.startswith(ENV_PREFIX) or env_name in NON_SETTING_ENV:
            continue
        key = env_name[len(ENV_PREFIX):].lower()
        if key in SETTINGS:
            values[key] = Value(_coerce(SETTINGS[key], raw, f"env {env_name}"), f"env {env_name}")
    return Config(values).with_overrides(flags or {})
