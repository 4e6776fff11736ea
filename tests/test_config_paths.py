"""Paths under LOCALAGENT_HOME and settings precedence: defaults < config.toml < env < flags."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from localagent.cli import main
from localagent.config import load_config
from localagent.errors import LocalAgentError
from localagent.paths import get_paths


def test_paths_live_under_localagent_home(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOCALAGENT_CACHE_DIR")
    paths = get_paths()
    assert paths.config_dir == isolated_home.resolve() / "config"
    assert paths.data_dir == isolated_home.resolve() / "data"
    assert paths.cache_dir == isolated_home.resolve() / "cache"


def test_paths_command_prints_json(isolated_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["paths", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["config_dir"] == str(isolated_home.resolve() / "config")
    assert data["index_db"].startswith(str(isolated_home.resolve() / "data"))


def write_config(text: str) -> Path:
    path = get_paths().config_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_precedence_default_file_env_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_config().n_ctx == 4096 and load_config().source("n_ctx") == "default"
    path = write_config("# settings\nn_ctx = 1024\nmax_tokens = 64\n")
    config = load_config()
    assert config.n_ctx == 1024
    assert config.source("n_ctx") == f"config file {path}:2"
    monkeypatch.setenv("LOCALAGENT_N_CTX", "2048")
    config = load_config()
    assert (config.n_ctx, config.source("n_ctx")) == (2048, "env LOCALAGENT_N_CTX")
    assert config.max_tokens == 64  # file value survives where env says nothing
    config = load_config({"n_ctx": 512, "max_tokens": None})
    assert (config.n_ctx, config.source("n_ctx")) == (512, "flag --n-ctx")
    assert config.max_tokens == 64


def test_unknown_key_names_file_and_line() -> None:
    path = write_config("n_ctx = 1024\n\ncontext_size = 3\n")
    with pytest.raises(LocalAgentError, match=rf"^{path}:3: unknown setting 'context_size'"):
        load_config()


def test_bad_toml_is_one_line_error_with_line(capsys: pytest.CaptureFixture[str]) -> None:
    write_config('n_ctx = 1024\nmodel = "unterminated\n')
    assert main(["config", "show"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "invalid TOML" in err and "line 2" in err
    assert "Traceback" not in err


def test_wrong_type_in_env_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCALAGENT_N_CTX", "lots")
    with pytest.raises(LocalAgentError, match="env LOCALAGENT_N_CTX: n_ctx must be int"):
        load_config()


def test_config_show_reports_sources(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_config("temperature = 0.2\n")
    monkeypatch.setenv("LOCALAGENT_SEED", "7")
    assert main(["config", "show", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["settings"]}
    assert rows["temperature"]["value"] == 0.2 and rows["temperature"]["source"].startswith("config file")
    assert rows["seed"] == {**rows["seed"], "value": 7, "source": "env LOCALAGENT_SEED"}
    assert rows["n_batch"]["source"] == "default"


def test_network_guard_fails_internet_sockets() -> None:
    with pytest.raises(AssertionError, match="network socket"):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    a, b = socket.socketpair()  # local pairs stay allowed (asyncio needs them)
    a.close()
    b.close()


def test_openmp_waits_passive_only_on_a_busy_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from localagent.engine import system

    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.delitem(__import__("sys").modules, "llama_cpp", raising=False)
    monkeypatch.setattr(os, "getloadavg", lambda: (0.1, 0.1, 0.1))
    assert system.choose_openmp_wait_policy() is None and "OMP_WAIT_POLICY" not in os.environ
    monkeypatch.setattr(os, "getloadavg", lambda: (1.7, 1.0, 0.5))
    assert system.choose_openmp_wait_policy() == "PASSIVE" and os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")  # the user's choice wins
    assert system.choose_openmp_wait_policy() is None and os.environ["OMP_WAIT_POLICY"] == "ACTIVE"


def test_the_readme_lists_every_setting_with_its_default() -> None:
    import json

    from localagent.config import SETTINGS

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for setting in SETTINGS.values():
        default = setting.default
        shown = json.dumps(default) if isinstance(default, (str, bool)) else str(default)
        assert f"| `{setting.name}` | `{shown}` |" in readme, setting.name
