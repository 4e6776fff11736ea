"""kernels.reference + `python -m kernels verify` against real llama.cpp on tiny llama / bitnet GGUFs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import gguf
import numpy as np
import pytest

from kernels.reference import ReferenceModel, UnsupportedModelError, one_ulp_jitter
from kernels.synthetic import (
    SyntheticConfig,
    corpus,
    corrupt_one_block,
    train_tokenizer,
    write_synthetic_model,
)
from kernels.verify import compare_logits, run_verify

TEXT = " ".join(corpus(40, seed=9))  # well over 64 tokens
VARIANTS = [(arch, wt) for arch in ("llama", "bitnet") for wt in ("tq2_0", "tq1_0", "q1_0", "q2_0")]
QWEN3_VARIANTS = [("qwen3", wt) for wt in ("q1_0", "q2_0", "tq2_0")]  # PrismML Bonsai's formats
FLOAT_VARIANTS = [("llama", "bf16"), ("bitnet", "f16"), ("llama", "f32"), ("bitnet", "q8_0")]


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    folder = tmp_path_factory.mktemp("tiny_models")
    sp = train_tokenizer()
    models = {}
    for arch, wt in VARIANTS:
        models[arch, wt] = write_synthetic_model(folder / f"{arch}-{wt}.gguf", SyntheticConfig(arch, wt), sp)
    for arch, wt in QWEN3_VARIANTS:  # Qwen3's own head size: 4 heads x 128 over a hidden size of 256
        cfg = SyntheticConfig(arch, wt, head_dim=128)
        models[arch, wt] = write_synthetic_model(folder / f"{arch}-{wt}.gguf", cfg, sp)
    for arch, wt in FLOAT_VARIANTS:  # these also store the embeddings (bitnet: the output head) in that type
        cfg = SyntheticConfig(arch, wt, embed_type=wt)
        models[arch, wt] = write_synthetic_model(folder / f"{arch}-{wt}.gguf", cfg, sp)
    return models


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kernels", "verify", *map(str, args)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.mark.parametrize(("arch", "weight_type"), VARIANTS + QWEN3_VARIANTS)
def test_verify_passes_on_tiny_models(models: dict, arch: str, weight_type: str) -> None:
    result = run_verify(models[arch, weight_type], TEXT, n_tokens=64, n_threads=2)
    assert len(result.tokens) == 64
    assert result.arch == arch
    assert result.tensor_types[weight_type] == 14  # 7 matrices x 2 layers
    assert result.top1 == 1.0
    assert result.mean_kl < 1e-3
    assert result.passed
    assert result.comparison.max_abs.max() < 0.5  # logits std ~1, top-1 margins > 1


@pytest.mark.parametrize(("arch", "weight_type"), FLOAT_VARIANTS)
def test_verify_passes_with_wider_types(models: dict, arch: str, weight_type: str) -> None:
    """Q8_0 / F16 / BF16 / F32 matrices and embeddings (get_rows) as ggml computes them."""
    result = run_verify(models[arch, weight_type], TEXT, n_tokens=64, n_threads=2)
    assert result.tensor_types[weight_type] == 15  # 14 layer matrices + token_embd
    assert result.top1 == 1.0 and result.mean_kl < 1e-3


def test_cli_prints_ranges_and_exits_0(models: dict, tmp_path: Path) -> None:
    text = tmp_path / "text.txt"
    text.write_text(TEXT, encoding="utf-8")
    proc = _cli(models["bitnet", "tq2_0"], "--text", text, "--tokens", "64", "--threads", "2")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert any(line.split()[0] == "48-63" for line in lines if line.strip())
    assert lines[-1].startswith("PASS: top-1 100.0%")
    proc = _cli(models["llama", "q1_0"], "--prompt", TEXT, "--tokens", "40", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["passed"] is True and report["tokens"] == 40 and report["all"]["top1"] == 1.0
    assert [r["positions"] for r in report["ranges"]] == [[0, 15], [16, 31], [32, 39]]


def test_corrupted_weight_block_fails_verify(models: dict, tmp_path: Path) -> None:
    """llama.cpp runs the file with one TQ2_0 block altered; the reference computes the original."""
    original = models["llama", "tq2_0"]
    corrupted = corrupt_one_block(original, tmp_path / "corrupt.gguf", "blk.1.ffn_down.weight")
    assert corrupted.read_bytes() != original.read_bytes()
    proc = _cli(corrupted, "--reference-model", original, "--prompt", TEXT, "--threads", "2")
    assert proc.returncode == 1
    assert proc.stdout.splitlines()[-1].startswith("FAIL: ")
    assert "worst position" in proc.stdout
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("weight_type", ["q2_0", "q1_0"])
def test_corrupted_qwen3_block_fails_naming_the_position(
    models: dict, weight_type: str, tmp_path: Path
) -> None:
    """A Bonsai-style qwen3 file with one block altered: verify fails and names the worst position."""
    original = models["qwen3", weight_type]
    corrupted = corrupt_one_block(original, tmp_path / "corrupt.gguf", "blk.0.attn_output.weight")
    assert corrupted.read_bytes() != original.read_bytes()
    result = run_verify(corrupted, TEXT, n_tokens=64, reference_path=original, n_threads=2)
    assert not result.passed and result.mean_kl > result.max_kl  # tied head: top-1 (current token) may hold
    proc = _cli(corrupted, "--reference-model", original, "--prompt", TEXT, "--threads", "2")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1].startswith("FAIL: ")
    assert f"worst position {result.comparison.worst_position()}" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_qwen3_head_norms_matter(models: dict) -> None:
    """Guard against a reference that ignores Q/K norms: scaling attn_q_norm changes its logits."""
    model = ReferenceModel(models["qwen3", "q2_0"])
    tokens = list(range(1, 40))
    full = model.forward(tokens)
    vector = model.vector
    model.vector = lambda name: vector(name) * (4.0 if "attn_q_norm" in name else 1.0)  # type: ignore[method-assign]
    assert compare_logits(model.forward(tokens), full).max_abs.max() > 0.05


def test_repacked_tq1_0_verifies_against_tq2_0_reference(models: dict) -> None:
    """Same ternary values in another packing compute the same logits: TQ1_0 file vs TQ2_0 reference."""
    result = run_verify(
        models["bitnet", "tq1_0"], TEXT, 64, reference_path=models["bitnet", "tq2_0"], n_threads=2
    )
    assert result.passed and result.top1 == 1.0


def test_reference_is_sensitive_to_the_layers(models: dict) -> None:
    """Guard against a vacuous check: dropping the layers changes the reference logits a lot."""
    model = ReferenceModel(models["llama", "tq2_0"])
    tokens = list(range(1, 40))
    full = model.forward(tokens)
    model.hp = type(model.hp)(**{**model.hp.__dict__, "n_layer": 0})
    assert compare_logits(model.forward(tokens), full).max_abs.max() > 1.0


def test_unsupported_architecture_is_one_line_exit_1(tmp_path: Path) -> None:
    path = tmp_path / "gpt2.gguf"
    w = gguf.GGUFWriter(str(path), "gpt2")
    w.add_block_count(1)
    w.add_tensor("token_embd.weight", np.zeros((4, 8), np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    proc = _cli(path)
    assert proc.returncode == 1
    assert (
        proc.stderr.strip()
        == "error: unsupported architecture 'gpt2' (reference supports: llama, bitnet, qwen3)"
    )
    assert proc.stdout == ""


def test_unsupported_tensor_type_is_one_line_exit_1(models: dict, tmp_path: Path) -> None:
    src = gguf.GGUFReader(models["llama", "q1_0"])
    path = tmp_path / "q4_0.gguf"
    w = gguf.GGUFWriter(str(path), "llama")
    for key in ("llama.embedding_length", "llama.block_count", "llama.attention.head_count",
                "llama.feed_forward_length", "llama.attention.layer_norm_rms_epsilon", "llama.context_length"):  # fmt: skip
        field = src.fields[key]
        w.add_key_value(key, field.contents(), gguf.GGUFValueType(field.types[0]))
    w.add_tensor("token_embd.weight", np.zeros((8, 256), np.float32))
    w.add_tensor(
        "blk.0.attn_q.weight", np.zeros((256, 8 * 18), np.uint8), raw_dtype=gguf.GGMLQuantizationType.Q4_0
    )
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    with pytest.raises(UnsupportedModelError, match="unsupported tensor type Q4_0 \\(blk.0.attn_q.weight\\)"):
        ReferenceModel(path)
    proc = _cli(path)
    assert proc.returncode == 1 and proc.stderr.startswith("error: unsupported tensor type Q4_0")
    assert len(proc.stderr.strip().splitlines()) == 1


def test_missing_file_and_bad_arguments(tmp_path: Path) -> None:
    proc = _cli(tmp_path / "nope.gguf")
    assert (
        proc.returncode == 1 and proc.stderr.strip() == f"error: no such model file: {tmp_path / 'nope.gguf'}"
    )
    proc = _cli(tmp_path / "nope.gguf", "--text", "a", "--prompt", "b")
    assert proc.returncode == 2  # argparse usage error


def test_missing_graph_tensor_is_named(models: dict, tmp_path: Path) -> None:
    src = gguf.GGUFReader(models["bitnet", "tq2_0"])
    path = tmp_path / "missing.gguf"
    w = gguf.GGUFWriter(str(path), "bitnet")
    for key, field in src.fields.items():
        if key.startswith("GGUF.") or key == "general.architecture":
            continue
        if field.types[0] == gguf.GGUFValueType.ARRAY:
            w.add_array(key, field.contents())
        else:
            w.add_key_value(key, field.contents(), field.types[0])
    for t in src.tensors:
        if t.name != "blk.1.ffn_up.weight":
            packed = t.tensor_type not in (gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16)
            w.add_tensor(t.name, np.asarray(t.data), raw_dtype=t.tensor_type if packed else None)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    proc = _cli(path)
    assert proc.returncode == 1
    assert (
        proc.stderr.strip() == "error: GGUF has no tensor 'blk.1.ffn_up.weight' (needed by the bitnet graph)"
    )


@pytest.mark.parametrize("weight_type", ["q1_0", "tq1_0", "q2_0"])
def test_unpack_stores_the_same_values_as_f16(models: dict, weight_type: str, tmp_path: Path) -> None:
    """`kernels unpack`: the low-bit tensors become F16 holding exactly the reference's values; the
    unpacked file then verifies too, and llama.cpp's logits on both files agree."""
    from kernels import dequantize

    packed, out = models["bitnet", weight_type], tmp_path / "unpacked.gguf"
    proc = subprocess.run(
        [sys.executable, "-m", "kernels", "unpack", str(packed), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0 and "14 tensors unpacked to F16" in proc.stdout, proc.stderr
    before = {t.name: t for t in gguf.GGUFReader(str(packed)).tensors}
    after = gguf.GGUFReader(str(out))
    assert after.fields["general.architecture"].contents() == "bitnet"
    for tensor in after.tensors:
        src = before[tensor.name]
        if src.tensor_type.name.lower() == weight_type:
            assert tensor.tensor_type == gguf.GGMLQuantizationType.F16
            want = dequantize(src.data, weight_type, tuple(reversed([int(n) for n in src.shape])))
            assert np.array_equal(np.asarray(tensor.data, dtype=np.float32), want), tensor.name
        else:
            assert np.asarray(tensor.data).tobytes() == np.asarray(src.data).tobytes(), tensor.name
    unpacked = run_verify(out, TEXT, n_tokens=32, n_threads=2)
    assert unpacked.passed and unpacked.tensor_types["f16"] >= 14
    ref = run_verify(packed, TEXT, n_tokens=32, reference_path=out, n_threads=2)
    assert ref.passed and ref.top1 == 1.0


def test_unpack_bad_input_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "notes.gguf"
    bad.write_text("not a model")
    proc = subprocess.run(
        [sys.executable, "-m", "kernels", "unpack", str(bad), "-o", str(tmp_path / "o.gguf")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and "cannot read" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.gguf"]


def test_bonsai_style_q2_0_qwen3_file_adds_and_verifies(models: dict, capsys: pytest.CaptureFixture) -> None:
    """A user with a Q2_0 qwen3 GGUF (PrismML Bonsai's format): `localagent models add` takes it, the
    model resolves by name, and `python -m kernels verify` passes on the resolved file."""
    from localagent.cli import main as localagent_main
    from localagent.models import resolve_model

    path = models["qwen3", "q2_0"]
    assert localagent_main(["models", "add", str(path), "--name", "bonsai-like"]) == 0
    assert "qwen3, Q2_0" in capsys.readouterr().out
    assert localagent_main(["models", "info", "bonsai-like", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["gguf_architecture"] == "qwen3" and info["tensor_types"]["Q2_0"] == 14
    resolved = resolve_model("bonsai-like")
    proc = _cli(resolved, "--prompt", TEXT, "--tokens", "48", "--threads", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1].startswith("PASS: top-1 100.0%")


def test_a_near_tie_is_not_a_disagreement_but_a_clear_one_is() -> None:
    reference = np.zeros((3, 5), np.float32)
    reference[0, [1, 2]] = [3.0, 2.99]  # near-tie: llama.cpp may pick 2
    reference[1, [1, 2]] = [3.0, 2.0]  # clear: picking 2 is wrong
    reference[2, 4] = 1.0
    llama = reference.copy()
    llama[0, 2] = 3.01
    llama[1, 2] = 3.5
    loose, strict = compare_logits(llama, reference, 0.05), compare_logits(llama, reference, 0.0)
    assert loose.ties.tolist() == [True, False, False] and loose.agree.tolist() == [True, False, True]
    assert strict.agree.tolist() == [False, False, True] and not strict.ties.any()
    assert loose.worst_position() == 1


def test_a_rounding_tie_needs_the_reference_itself_to_pick_llama_cpps_token() -> None:
    reference = np.zeros((3, 5), np.float32)
    reference[:, 1], reference[:, 2] = 3.0, 2.9  # gap 0.1: beyond the near-tie margin
    llama = reference.copy()
    llama[:, 2] = 3.1
    c = compare_logits(llama, reference, 0.05)
    assert not c.agree.any() and not c.rounding_ties.any()  # no one-ulp runs: three disagreements
    c.ulp_votes, c.ulp_runs = np.array([0, 1, 4]), 4
    assert c.rounding_ties.tolist() == [False, True, True] and c.agree.tolist() == [False, True, True]
    assert c.worst_position() == 0


def test_one_ulp_jitter_moves_every_value_to_a_float32_neighbour() -> None:
    x = np.array([[1.0, -2.5, 3e-3, 0.0, 7.0, -1e4]] * 50, np.float32)
    moved = one_ulp_jitter(x, seed=3)
    up, down = np.nextafter(x, np.float32(np.inf)), np.nextafter(x, np.float32(-np.inf))
    assert ((moved == up) | (moved == down)).all() and (moved != x).all()  # one ulp, every value
    assert (moved > x).any() and (moved < x).any()  # both directions
    assert np.array_equal(moved, one_ulp_jitter(x, seed=3)) and not np.array_equal(
        moved, one_ulp_jitter(x, 4)
    )


def test_one_ulp_runs_do_not_excuse_a_corrupted_block(models: dict, tmp_path: Path) -> None:
    original = models["llama", "tq2_0"]
    bad = corrupt_one_block(original, tmp_path / "bad-ulp.gguf", "blk.0.attn_v.weight")  # top-1 moves
    result = run_verify(bad, TEXT, n_tokens=48, reference_path=original, ulp_runs=2)
    c = result.comparison
    assert not result.passed and c.ulp_runs == 2  # the disagreements made the reference run again
    assert (~c.agree).any() and not c.rounding_ties.any()  # a wrong block is not float32 rounding


@pytest.mark.parametrize("name", ["tern-18m-tq2_0", "tern-reader-tq2_0", "tern-reader-tq1_0"])
def test_shipped_models_pass_verify_with_the_default_bar(name: str) -> None:
    repo = Path(__file__).resolve().parents[1]
    proc = _cli(repo / "models" / f"{name}.gguf", "--text", repo / "models" / "tern-18m-heldout-prose.txt")
    assert proc.returncode == 0, proc.stdout[-600:] + proc.stderr[-600:]
    assert proc.stdout.splitlines()[-1].startswith("PASS: top-1 100.0%")
