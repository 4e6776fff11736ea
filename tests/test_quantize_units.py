"""Units of the quantizer: policy, off-grid detection, uint8 unpacking, RoPE permutation, streaming."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from checkpoints import make_llama, save_safetensors, train_sentencepiece
from gguf import GGMLQuantizationType as T
from gguf import GGUFReader

from quantize import writer
from quantize.archs.common import rope_permuted
from quantize.archs.packed import pack_codes, packed_reader
from quantize.checkpoint import load_checkpoint
from quantize.cli import main
from quantize.errors import QuantizeError
from quantize.packing import pack_rows
from quantize.plan import EMBED, LINEAR, NORM, TensorPlan
from quantize.policy import check_fallbacks, choose_type, off_grid_count
from quantize.tokenizer import bpe_vocab


def plan(shape: tuple[int, ...], role: str) -> TensorPlan:
    return TensorPlan(
        name="t", source="s", source_dtype="F16", shape=shape, role=role, read_rows=lambda a, b: None
    )


def test_policy_types_and_reasons() -> None:
    assert choose_type(plan((512, 256), LINEAR), T.TQ1_0, T.Q8_0).qtype == T.TQ1_0
    assert choose_type(plan((256,), NORM), T.TQ1_0, T.Q8_0).qtype == T.F32
    assert choose_type(plan((320, 256), EMBED), T.TQ2_0, T.F16).qtype == T.F16
    c = choose_type(plan((512, 640), LINEAR), T.TQ2_0, T.Q8_0)  # 640 % 256 != 0 but 640 % 64 == 0
    assert not c.fallback and c.qtype == T.Q2_0 and "row is 640: Q2_0" in c.reason
    assert choose_type(plan((512, 576), LINEAR), T.TQ1_0, T.Q8_0).qtype == T.Q2_0
    assert choose_type(plan((512, 896), EMBED), T.Q8_0, T.TQ2_0).qtype == T.Q2_0
    assert choose_type(plan((512, 640), LINEAR), T.Q2_0, T.Q8_0).qtype == T.Q2_0
    c = choose_type(plan((512, 576), LINEAR), T.Q1_0, T.Q8_0)  # binary: no ternary stand-in
    assert c.fallback and c.qtype == T.Q8_0 and "576" in c.reason
    c = choose_type(plan((512, 608), LINEAR), T.TQ2_0, T.Q8_0)  # 608 % 64 != 0: a real fallback
    assert c.fallback and c.qtype == T.Q8_0 and "608" in c.reason
    c = choose_type(plan((512, 100), LINEAR), T.Q1_0, T.Q8_0)
    assert c.fallback and c.qtype == T.F16
    assert check_fallbacks({"a": c}, strict=False)[0].startswith("warning: 1 tensor")
    with pytest.raises(QuantizeError, match="--strict.*a"):
        check_fallbacks({"a": c}, strict=True)


def test_off_grid_detection() -> None:
    rng = np.random.default_rng(1)
    codes = rng.integers(-1, 2, size=(8, 512)).astype(np.float32)
    assert off_grid_count(codes * 0.03) == 0
    noisy = codes * 0.03
    noisy[0, :10] = 0.011
    assert off_grid_count(noisy) == 10
    assert off_grid_count(rng.standard_normal((8, 512)).astype(np.float32)) > 0.9 * 8 * 512


def test_packed_roundtrip_across_quarters(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    codes = rng.integers(-1, 2, size=(24, 16)).astype(np.float32)
    save_safetensors(
        {"w.weight": pack_codes(codes), "w.weight_scale": np.array([4.0], np.float32)},
        tmp_path / "model.safetensors",
    )
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["LlamaForCausalLM"]}))
    ckpt = load_checkpoint(tmp_path)
    read = packed_reader(ckpt, "w.weight", 24, 16)
    np.testing.assert_array_equal(read(0, 24), codes / 4.0)
    np.testing.assert_array_equal(read(5, 19), codes[5:19] / 4.0)  # straddles three quarters
    with pytest.raises(QuantizeError, match="impossible"):
        packed_reader(ckpt, "w.weight", 28, 16)


def test_rope_permutation_matches_convert_hf_to_gguf() -> None:
    n_head, head_dim, cols = 3, 8, 5
    w = np.arange(n_head * head_dim * cols, dtype=np.float32).reshape(n_head * head_dim, cols)
    expected = w.reshape(n_head, 2, head_dim // 2, cols).swapaxes(1, 2).reshape(w.shape)  # LlamaModel.permute
    read = rope_permuted(lambda a, b: w[a:b], head_dim)
    np.testing.assert_array_equal(read(0, 24), expected)
    np.testing.assert_array_equal(read(8, 16), expected[8:16])


def test_bf16_widening(tmp_path: Path) -> None:
    x = np.array([[1.5, -2.0, 0.0, 3.0e-3]], np.float32)
    save_safetensors({"a": x}, tmp_path / "model.safetensors", bf16=True)
    (tmp_path / "config.json").write_text("{}")
    t = load_checkpoint(tmp_path).tensor("a")
    assert t.dtype == "BF16"
    expected = ((x.view(np.uint32) >> 16) << 16).view(np.float32)
    np.testing.assert_array_equal(t.read(), expected)


@pytest.mark.parametrize("qtype", [T.TQ1_0, T.TQ2_0, T.Q8_0])
def test_packing_agrees_with_gguf_py(qtype: T) -> None:
    from gguf import quants

    x = np.random.default_rng(3).standard_normal((4, 512)).astype(np.float32)
    np.testing.assert_array_equal(pack_rows(x, qtype), quants.quantize(x, qtype))


def test_small_chunks_write_identical_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ckpt = make_llama(tmp_path / "c", train_sentencepiece(), kind="falcon")
    assert main(["convert", str(ckpt), "-o", str(tmp_path / "big.gguf")]) == 0
    monkeypatch.setattr(writer, "CHUNK_BYTES", 3000)  # a few rows (whole heads for Q/K) per chunk
    assert main(["convert", str(ckpt), "-o", str(tmp_path / "small.gguf")]) == 0
    a, b = GGUFReader(tmp_path / "big.gguf"), GGUFReader(tmp_path / "small.gguf")
    for ta, tb in zip(a.tensors, b.tensors, strict=True):
        assert np.array_equal(np.asarray(ta.data), np.asarray(tb.data)), ta.name


def test_bpe_pre_tokenizer_detection(tmp_path: Path) -> None:
    from checkpoints import bpe_tokenizer_json

    doc, n = bpe_tokenizer_json(5)
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps(doc))
    v = bpe_vocab(path, n + 3, None)
    assert v.model == "gpt2" and v.pre == "gpt-2" and v.tokens[-1] == f"[PAD{n + 2}]"
    doc["pre_tokenizer"] = {"type": "Whitespace"}
    path.write_text(json.dumps(doc))
    with pytest.raises(QuantizeError, match="--bpe-pre"):
        bpe_vocab(path, n, None)
    assert bpe_vocab(path, n, "llama-bpe").pre == "llama-bpe"
    with pytest.raises(QuantizeError, match="more than config.json vocab_size"):
        bpe_vocab(path, n - 1, "gpt-2")


def test_pre_tokenizer_must_be_exactly_known() -> None:
    from quantize.tokenizer import LLAMA3_REGEX, recognise_pre

    llama3 = {
        "type": "Sequence",
        "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": LLAMA3_REGEX}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
        ],
    }
    assert recognise_pre(llama3) == "llama-bpe"
    assert recognise_pre({"type": "ByteLevel", "use_regex": True}) == "gpt-2"
    digits_too = {
        "type": "Sequence",
        "pretokenizers": [
            {"type": "Digits", "individual_digits": True},
            {"type": "ByteLevel", "use_regex": True},
        ],
    }
    assert recognise_pre(digits_too) is None  # an extra splitting step: llama.cpp would split differently


def test_strict_refuses_non_ternary_weights(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from safetensors.numpy import load_file, save_file

    ckpt = make_llama(tmp_path / "c", train_sentencepiece(), kind="trilm")
    t = load_file(str(ckpt / "model.safetensors"))
    t["model.layers.1.mlp.up_proj.weight"] *= np.float16(1.5) ** np.random.default_rng(0).integers(
        0, 2, size=t["model.layers.1.mlp.up_proj.weight"].shape
    ).astype(np.float16)
    save_file(t, str(ckpt / "model.safetensors"))
    assert main(["convert", str(ckpt), "-o", str(tmp_path / "a.gguf")]) == 0
    assert "not ternary x scale (worst blk.1.ffn_up.weight" in capsys.readouterr().err
    assert main(["convert", str(ckpt), "-o", str(tmp_path / "b.gguf"), "--strict"]) == 1
    assert "--strict: tensor model.layers.1.mlp.up_proj.weight is not ternary" in capsys.readouterr().err
    assert not (tmp_path / "b.gguf").exists()


def test_tensor_data_file_is_where_gguf_py_writes_tensor_data(tmp_path: Path) -> None:
    """quantize.writer streams tensors into GGUFWriter's open file (gguf-py has no public way to
    write one tensor in parts). This fails loudly if the installed gguf-py changes what that uses."""
    from gguf import GGUFReader, GGUFWriter

    from quantize.errors import QuantizeError
    from quantize.writer import tensor_data_file

    data = np.arange(64, dtype=np.float32)
    writer = GGUFWriter(tmp_path / "t.gguf", "llama")
    writer.add_tensor_info("x", (64,), np.dtype(np.float32), data.nbytes)
    with pytest.raises(QuantizeError, match="changed GGUFWriter's internals"):
        tensor_data_file(writer)  # before the tensor table is written: refused, not misused
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    fout = tensor_data_file(writer)
    writer.write_padding(fout, fout.tell())
    fout.write(data[:32].tobytes())  # in two parts, as write_gguf streams rows
    fout.write(data[32:].tobytes())
    writer.write_padding(fout, data.nbytes)
    writer.close()
    (tensor,) = GGUFReader(tmp_path / "t.gguf").tensors
    np.testing.assert_array_equal(np.asarray(tensor.data), data)


def test_fast_paths_read_the_same_values(tmp_path: Path) -> None:
    """The positioned reads and the fp16 table give what safetensors and numpy's cast give, bit for bit."""
    from safetensors import safe_open

    rng = np.random.default_rng(5)
    tensors = {
        "all_f16": np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.float16).reshape(256, 256),
        "f32": rng.standard_normal((7, 33)).astype(np.float32),
        "i8": rng.integers(-9, 9, (5, 3), np.int8),
        "vec": rng.standard_normal(17).astype(np.float16),
    }
    save_safetensors(tensors, tmp_path / "model.safetensors")
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["LlamaForCausalLM"]}))
    ckpt = load_checkpoint(tmp_path)
    with safe_open(str(tmp_path / "model.safetensors"), framework="numpy") as f:
        for name, (start, stop) in {"all_f16": (3, 200), "f32": (1, 7), "i8": (0, 5), "vec": (2, 11)}.items():
            want = f.get_slice(name)[start:stop]
            got = ckpt.tensor(name).raw_rows(start, stop)
            assert got.dtype == want.dtype and got.shape == want.shape
            assert got.tobytes() == want.tobytes(), name
    widened = ckpt.tensor("all_f16").rows(0, 256)
    cast = tensors["all_f16"].astype(np.float32)
    assert widened.dtype == np.float32 and widened.tobytes() == cast.tobytes()  # NaN payloads included


def test_off_grid_count_is_the_tolerance_rule() -> None:
    """Comparisons with per-group bounds count what |x| / d against the tolerance counts."""
    rng = np.random.default_rng(6)
    tol = 1e-3
    for x in (
        rng.standard_normal((16, 512)).astype(np.float32),
        (rng.integers(-1, 2, (16, 512)) * 0.02).astype(np.float32),
        np.zeros((2, 320), np.float32),
    ):
        x = x.copy()
        if x.any():
            x[0, :40] = x[0, :40] * rng.uniform(0.9, 1.1, 40).astype(np.float32)  # near +-d and 0
            x[1, :5] = [0.5, -0.5, 2e-5, -3e-5, 0.0195]
        group = 256 if x.shape[-1] % 256 == 0 else x.shape[-1]
        g = x.reshape(-1, group).astype(np.float64)
        d = np.abs(g).max(axis=1, keepdims=True)
        d[d == 0] = 1.0
        q = np.abs(g / d)
        want = int(np.count_nonzero((q >= tol) & (np.abs(q - 1) >= tol)))
        assert off_grid_count(x) == want


def test_array_packing_writer_writes_gguf_py_bytes(tmp_path: Path) -> None:
    """Vocabulary arrays packed in one go: the file is byte-identical to gguf-py's own writer's."""
    from gguf import GGUFWriter

    from quantize.writer import ArrayPackingWriter

    def write(cls: type, path: Path) -> bytes:
        w = cls(str(path), "llama")
        w.add_token_list([f"tok{i}" for i in range(300)] + ["é", b"\xff\x00".decode("latin-1")])
        w.add_token_scores([float(-i) / 7 for i in range(302)])
        w.add_token_types([1 + i % 6 for i in range(302)])
        w.add_token_merges(["a b", "ab c"])
        w.add_array("test.nested", [[1, 2], [3]])
        w.add_array("test.bools", [True, False, True])
        w.add_array("test.one", [5])
        w.add_tensor("t", np.ones((4, 8), np.float32))
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        return path.read_bytes()

    assert write(ArrayPackingWriter, tmp_path / "a.gguf") == write(GGUFWriter, tmp_path / "b.gguf")


def test_pass_and_chunk_sizes_do_not_change_the_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading and packing in cache-sized pieces writes the same file as whole-tensor passes."""
    from checkpoints import make_llama, train_sentencepiece

    import quantize.writer as writer

    ckpt = make_llama(tmp_path / "ck", train_sentencepiece(), kind="trilm")
    outputs = []
    for chunk, per_pass in ((1 << 30, 1 << 30), (40_000, 5_000), (writer.CHUNK_BYTES, writer.PASS_BYTES)):
        monkeypatch.setattr(writer, "CHUNK_BYTES", chunk)
        monkeypatch.setattr(writer, "PASS_BYTES", per_pass)
        for qtype in ("tq2_0", "tq1_0", "q8_0"):
            out = tmp_path / f"{qtype}-{chunk}.gguf"
            assert main(["convert", str(ckpt), "-o", str(out), "--type", qtype, "--json"]) == 0
            outputs.append((qtype, out.read_bytes()))
    for qtype in ("tq2_0", "tq1_0", "q8_0"):
        files = [data for t, data in outputs if t == qtype]
        assert len(files) == 3 and files[0] == files[1] == files[2], qtype


@pytest.mark.parametrize("kind", ["trilm", "bitnet"])
def test_threads_do_not_change_the_bytes(kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks packed by several threads are written in order: the same file as one thread."""
    from checkpoints import make_llama, train_sentencepiece

    import quantize.writer as writer

    ckpt = make_llama(tmp_path / "ck", train_sentencepiece(), kind=kind)
    monkeypatch.setattr(writer, "CHUNK_BYTES", 3000)  # many chunks in flight at once
    for qtype in ("tq2_0", "q8_0"):
        files = []
        for threads in ("1", "3"):
            out = tmp_path / f"{qtype}-{threads}.gguf"
            args = ["convert", str(ckpt), "-o", str(out), "--type", qtype, "--threads", threads, "--json"]
            assert main(args) == 0
            files.append(out.read_bytes())
        assert files[0] == files[1], qtype


def test_negative_threads_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["convert", str(tmp_path), "-o", str(tmp_path / "x.gguf"), "--threads", "-1"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == "quantize: error: --threads must be 0 (automatic) or more, not -1"
    assert not (tmp_path / "x.gguf").exists()
