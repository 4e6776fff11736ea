"""Shared fixtures: an isolated LOCALAGENT_HOME per test, one assembled default model per session,
and a guard that fails any test that opens a network socket."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from localagent.engine.loader import install_safe_defaults
from localagent.engine.system import choose_openmp_wait_policy

# As every `localagent` command does before llama_cpp loads (cli.main): on a busy machine llama.cpp's
# OpenMP threads sleep instead of spinning. Tests that start the TUI or an Engine directly need it too.
choose_openmp_wait_policy()
# Make every llama_cpp.Llama built in the test process safe on AMX CPUs (see engine/loader.py).
install_safe_defaults()

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache dir for the whole session, so the default model is assembled once."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, model_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own config and data dirs; the model cache is shared."""
    home = tmp_path / "home"
    for name in list(os.environ):
        if name.startswith("LOCALAGENT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LOCALAGENT_HOME", str(home))
    monkeypatch.setenv("LOCALAGENT_CACHE_DIR", str(model_cache))
    monkeypatch.setenv("LOCALAGENT_N_THREADS", os.environ.get("TEST_N_THREADS", "0"))
    return home


@pytest.fixture(scope="session")
def default_model(model_cache: Path) -> Path:
    """The default model (Gemma-3-270M Q4_K_M), assembled from its PyPI chunks and sha256-checked."""
    old = os.environ.get("LOCALAGENT_CACHE_DIR")
    os.environ["LOCALAGENT_CACHE_DIR"] = str(model_cache)
    try:
        from localagent.models import default_model_path

        return default_model_path()
    finally:
        if old is None:
            os.environ.pop("LOCALAGENT_CACHE_DIR", None)
        else:
            os.environ["LOCALAGENT_CACHE_DIR"] = old


class NetworkAccessError(AssertionError):
    pass


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that creates an internet socket (AF_UNIX pairs, used by asyncio, are fine)."""
    real_init = socket.socket.__init__

    def guarded_init(self, family=socket.AF_INET, type=socket.SOCK_STREAM, proto=0, fileno=None):
        if fileno is None and family in (socket.AF_INET, socket.AF_INET6):
            raise NetworkAccessError(f"test opened a network socket (family={family!r})")
        real_init(self, family, type, proto, fileno)

    monkeypatch.setattr(socket.socket, "__init__", guarded_init)


@pytest.fixture(scope="module")
def small_reading(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small reading build (12 training examples of 700 tokens) for the drills to be made from."""
    from reading_samples import TERN, TextFiles

    from quantize.qat.reading.builder import BuildConfig
    from quantize.qat.reading.dataset import build_reading_data

    out = tmp_path_factory.mktemp("reading") / "data"
    cfg = BuildConfig(
        examples=12, heldout_examples=3, heldout_percent=20, min_tokens=300, max_tokens=450, seq_len=700
    )
    build_reading_data(out, [TextFiles()], TERN, cfg, log=lambda line: None)
    return out
