"""Bad inputs to `quantize convert`: one line on stderr, exit 1, no output (nor temp) file left."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from checkpoints import make_llama, train_sentencepiece
from safetensors.numpy import load_file, save_file

from quantize.cli import main


@pytest.fixture(scope="module")
def sp_model() -> bytes:
    return train_sentencepiece()


def edit_json(path: Path, **changes: object) -> None:
    doc = json.loads(path.read_text())
    doc.update(changes)
    path.write_text(json.dumps(doc))


def edit_tensors(ckpt: Path, change: Callable[[dict[str, np.ndarray]], None]) -> None:
    tensors = load_file(str(ckpt / "model.safetensors"))
    change(tensors)
    save_file(tensors, str(ckpt / "model.safetensors"))


def truncate(ckpt: Path) -> None:
    f = ckpt / "model.safetensors"
    f.write_bytes(f.read_bytes()[:-1000])


def set_nan(t: dict[str, np.ndarray]) -> None:
    t["model.layers.1.mlp.down_proj.weight"][3, 7] = np.nan  # late in the file: writing has begun


def set_inf(t: dict[str, np.ndarray]) -> None:
    t["model.embed_tokens.weight"][5, 0] = np.inf


def bad_pack(t: dict[str, np.ndarray]) -> None:
    w = t["model.layers.0.mlp.up_proj.weight"]
    t["model.layers.0.mlp.up_proj.weight"] = np.concatenate([w, w[:1]])


CASES = {
    "missing config": ("trilm", lambda c: (c / "config.json").unlink(), "missing config.json"),
    "unknown architecture": (
        "trilm",
        lambda c: edit_json(c / "config.json", architectures=["GPT2LMHeadModel"]),
        "unknown architecture 'GPT2LMHeadModel'",
    ),
    "2B-4T refused": (
        "trilm",
        lambda c: edit_json(c / "config.json", architectures=["BitNetForCausalLM"]),
        "squared-ReLU",
    ),
    "truncated safetensors": ("trilm", truncate, "not a valid safetensors file"),
    "shape vs config": (
        "trilm",
        lambda c: edit_json(c / "config.json", intermediate_size=1024),
        "config.json implies [1024, 256]",
    ),
    "NaN weights": (
        "trilm",
        lambda c: edit_tensors(c, set_nan),
        "model.layers.1.mlp.down_proj.weight: contains NaN",
    ),
    "Inf weights": (
        "trilm",
        lambda c: edit_tensors(c, set_inf),
        "model.embed_tokens.weight: contains NaN or Inf",
    ),
    "impossible packed shape": (
        "falcon",
        lambda c: edit_tensors(c, bad_pack),
        "impossible for a 512x256 weight",
    ),
    "no safetensors": ("trilm", lambda c: (c / "model.safetensors").unlink(), "no model.safetensors"),
    "no tokenizer": ("trilm", lambda c: (c / "tokenizer.model").unlink(), "no tokenizer.model"),
    "missing tensor": (
        "trilm",
        lambda c: edit_tensors(c, lambda t: t.pop("model.norm.weight")),
        "missing tensor model.norm.weight",
    ),
    "unexpected tensor": (
        "trilm",
        lambda c: edit_tensors(c, lambda t: t.update(extra=np.zeros(3, np.float16))),
        "unexpected tensor(s) extra",
    ),
    "corrupt tokenizer": (
        "trilm",
        lambda c: (c / "tokenizer.model").write_bytes(b"not a model"),
        "not a SentencePiece model",
    ),
}


def run(args: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str]:
    rc = main(args)
    return rc, capsys.readouterr().err


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_checkpoint(case: str, sp_model: bytes, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    kind, breaker, message = CASES[case]
    ckpt = make_llama(tmp_path / "ckpt", sp_model, kind=kind)
    breaker(ckpt)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    rc, err = run(["convert", str(ckpt), "-o", str(out_dir / "m.gguf")], capsys)
    assert rc == 1
    assert err.count("\n") == 1 and err.startswith("quantize: error: "), err
    assert message in err
    assert list(out_dir.iterdir()) == []  # neither the output nor a temp file


def test_output_in_missing_directory(sp_model: bytes, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    ckpt = make_llama(tmp_path / "ckpt", sp_model)
    rc, err = run(["convert", str(ckpt), "-o", str(tmp_path / "nowhere" / "m.gguf")], capsys)
    assert rc == 1 and "does not exist" in err and err.count("\n") == 1
    assert not (tmp_path / "nowhere").exists()


def test_failed_convert_keeps_existing_output(
    sp_model: bytes, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    ckpt = make_llama(tmp_path / "ckpt", sp_model)
    out = tmp_path / "m.gguf"
    out.write_bytes(b"previous")
    edit_tensors(ckpt, set_nan)
    rc, _ = run(["convert", str(ckpt), "-o", str(out)], capsys)
    assert rc == 1 and out.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt", "m.gguf"]


def test_inspect_and_eval_bad_files(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"GGUF" + b"\x00" * 10)
    for args, message in (
        (["inspect", str(junk)], "not a readable GGUF"),
        (["inspect", str(tmp_path / "none.gguf")], "no such file"),
        (["eval", str(junk), "--text", str(junk)], "llama.cpp cannot load it"),
        (["eval", str(tmp_path / "none.gguf"), "--text", str(tmp_path / "t")], "no such file"),
    ):
        rc, err = run(args, capsys)
        assert rc == 1 and message in err and err.count("\n") == 1, (args, err)


def test_console_script_prints_no_traceback(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "quantize", "convert", str(tmp_path), "-o", str(tmp_path / "x.gguf")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stderr == f"quantize: error: {tmp_path}: missing config.json\n"


def test_output_path_is_a_directory(sp_model: bytes, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """An OSError at the final rename (here: the target is a directory) is one line too, temp removed."""
    ckpt = make_llama(tmp_path / "ckpt", sp_model)
    out_dir = tmp_path / "out"
    (out_dir / "m.gguf").mkdir(parents=True)
    rc, err = run(["convert", str(ckpt), "-o", str(out_dir / "m.gguf")], capsys)
    assert rc == 1 and err.startswith("quantize: error: ") and err.count("\n") == 1, err
    assert [p.name for p in out_dir.iterdir()] == ["m.gguf"] and (out_dir / "m.gguf").is_dir()
