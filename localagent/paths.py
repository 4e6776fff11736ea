"""Where localagent keeps its files: platformdirs config/data/cache dirs.

``LOCALAGENT_HOME`` puts all three under one folder (``config/``, ``data/``, ``cache/``), which
is what tests and portable installs use. ``LOCALAGENT_CONFIG_DIR``, ``LOCALAGENT_DATA_DIR`` and
``LOCALAGENT_CACHE_DIR`` move one of them (e.g. the model cache to a bigger disk) and win over both.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "localagent"


@dataclass(frozen=True)
class Paths:
    config_dir: Path
    data_dir: Path
    cache_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def index_db(self) -> Path:
        return self.data_dir / "index.sqlite3"

    @property
    def models_dir(self) -> Path:
        """Models the project assembles or the user adds (e.g. the default model)."""
        return self.cache_dir / "models"

    @property
    def user_registry(self) -> Path:
        """Models added with `localagent models add` and the chosen default."""
        return self.config_dir / "models.toml"

    def as_dict(self) -> dict[str, str]:
        return {
            "config_dir": str(self.config_dir),
            "config_file": str(self.config_file),
            "data_dir": str(self.data_dir),
            "cache_dir": str(self.cache_dir),
            "index_db": str(self.index_db),
            "models_dir": str(self.models_dir),
        }


def get_paths() -> Paths:
    """Resolve the dirs now (env is read on every call, so tests can set LOCALAGENT_HOME)."""
    home = os.environ.get("LOCALAGENT_HOME")
    if home:
        root = Path(home).expanduser().resolve()
        base = {"config": root / "config", "data": root / "data", "cache": root / "cache"}
    else:
        base = {
            "config": Path(platformdirs.user_config_dir(APP_NAME)),
            "data": Path(platformdirs.user_data_dir(APP_NAME)),
            "cache": Path(platformdirs.user_cache_dir(APP_NAME)),
        }
    for kind in base:
        override = os.environ.get(f"LOCALAGENT_{kind.upper()}_DIR")
        if override:
            base[kind] = Path(override).expanduser().resolve()
    return Paths(base["config"], base["data"], base["cache"])


def ensure_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
