"""The package as users install it: build the wheel, install it (not editable) into a fresh venv and
run the CLI from outside the checkout. The registry and the shipped GGUFs must come with the wheel.

The fresh venv reuses the test environment's dependencies through a .pth line (so llama-cpp-python is
not rebuilt); a .pth inside a path added that way is not processed, so the editable install of the
checkout stays invisible and only the wheel's copy of localagent can be imported.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BUILD_INPUTS = ["pyproject.toml", "README.md", "localagent", "quantize", "kernels", "models"]
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")

pytestmark = pytest.mark.slow


def _run(
    cmd: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel built from a clean copy of the sources installed in it."""
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    src.mkdir()
    for name in BUILD_INPUTS:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, src / name, symlinks=True, ignore=SKIP)
        else:
            shutil.copy2(path, src / name)
    dist = root / "dist"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(src),
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(dist),
        ],
        cwd=root,
    )
    (wheel,) = dist.glob("localagent-*.whl")
    env_dir = root / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=root
        ).stdout.strip()
    )
    outer = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "_reuse_test_deps.pth").write_text("\n".join(sorted(outer)) + "\n")
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        cwd=root,
    )
    return env_dir


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["LOCALAGENT_HOME"] = str(home)
    return env


def test_wheel_ships_registry_and_models(installed: Path, tmp_path: Path) -> None:
    env = _env(tmp_path / "home")
    where = _run(
        [str(installed / "bin" / "python"), "-c", "import localagent; print(localagent.__file__)"],
        cwd=tmp_path,
        env=env,
    ).stdout.strip()
    assert Path(where).is_relative_to(installed), f"imported the checkout, not the wheel: {where}"

    listed = json.loads(
        _run(
            [str(installed / "bin" / "localagent"), "models", "list", "--json"], cwd=tmp_path, env=env
        ).stdout
    )
    rows = {row["name"]: row for row in listed["models"]}
    assert listed["default"] == "gemma3-270m" and rows["gemma3-270m"]["default"] is True
    tern = rows["tern-18m"]
    assert tern["installed"] is True and tern["type"] == "TQ2_0"
    assert Path(tern["path"]).is_relative_to(installed) and tern["size"] > 1_000_000

    version = _run([str(installed / "bin" / "localagent"), "--version"], cwd=tmp_path, env=env).stdout
    import localagent

    assert version.strip() == f"localagent {localagent.__version__}"

    made = _run(
        [
            str(installed / "bin" / "localagent"),
            "generate",
            "The ship",
            "--model",
            "tern-18m",
            "--max-tokens",
            "8",
            "--temperature",
            "0",
            "--json",
        ],
        cwd=tmp_path,
        env=env,
    )
    out = json.loads(made.stdout)
    assert out["text"].strip() and out["stats"]["gen_tokens"] >= 1


@pytest.mark.model
def test_wheel_runs_the_default_model(installed: Path, tmp_path: Path, default_model: Path) -> None:
    env = _env(tmp_path / "home")
    env["LOCALAGENT_CACHE_DIR"] = str(default_model.parent.parent)  # reuse the assembled default model
    made = _run(
        [
            str(installed / "bin" / "localagent"),
            "generate",
            "The capital of France is",
            "--max-tokens",
            "4",
            "--temperature",
            "0",
            "--json",
        ],
        cwd=tmp_path,
        env=env,
    )
    out = json.loads(made.stdout)
    assert out["text"].strip() and "gemma" in out["stats"]["model_name"].lower()
