"""`quantize convert | inspect | eval | qat`: errors are one line on stderr and exit code 1."""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from quantize.errors import QuantizeError


def _progress_line(done: int, total: int, name: str) -> None:
    end = "\n" if done == total else ""
    print(f"\r[{done:>4}/{total}] {name:<40}", end=end, file=sys.stderr, flush=True)


def _convert(args: argparse.Namespace) -> int:
    from quantize.convert import convert
    from quantize.report import format_table, totals, write_json

    if args.threads < 0:
        raise QuantizeError(f"--threads must be 0 (automatic) or more, not {args.threads}")
    progress = _progress_line if sys.stderr.isatty() else None
    result = convert(
        Path(args.checkpoint),
        Path(args.output),
        weight_type=args.type,
        embed_type=args.embed_type,
        strict=args.strict,
        allow_ptq=args.allow_ptq,
        bpe_pre=args.bpe_pre,
        progress=progress,
        threads=args.threads,
    )
    for line in result.messages:
        print(line, file=sys.stderr)
    if args.json:
        print(
            json.dumps(
                {
                    "output": args.output,
                    "arch": result.arch,
                    "source_arch": result.source_arch,
                    "totals": totals(result.records),
                }
            )
        )
    else:
        print(f"{args.checkpoint} ({result.source_arch}) -> {args.output} (GGUF {result.arch})")
        print(format_table(result.records))
    if args.report:
        write_json(
            Path(args.report),
            result.records,
            {
                "checkpoint": str(args.checkpoint),
                "output": str(args.output),
                "arch": result.arch,
                "source_arch": result.source_arch,
                "type": args.type,
                "embed_type": args.embed_type,
                "messages": result.messages,
            },
        )
    return 0


def _inspect(args: argparse.Namespace) -> int:
    from quantize.inspect_gguf import format_inspect, inspect_gguf

    info = inspect_gguf(Path(args.file))
    print(json.dumps(info, indent=2, default=str) if args.json else format_inspect(info))
    return 0


def _eval(args: argparse.Namespace) -> int:
    from quantize.evaluate import perplexity

    text_path = Path(args.text)
    if not text_path.is_file():
        raise QuantizeError(f"{text_path}: no such file")
    try:
        text = text_path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise QuantizeError(f"{text_path}: not UTF-8 text") from None
    result = perplexity(Path(args.file), text, ctx=args.ctx, n_threads=args.threads)
    if args.json:
        print(json.dumps(result.__dict__))
    else:
        print(
            f"perplexity {result.perplexity:.4f} over {result.n_tokens} tokens "
            f"({result.n_windows} window(s) of {result.ctx})"
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    from quantize.convert import EMBED_TYPES, WEIGHT_TYPES

    parser = argparse.ArgumentParser(
        prog="quantize", description="Hugging Face checkpoints -> ternary/binary GGUF"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("convert", help="convert a checkpoint directory into a GGUF file")
    p.add_argument("checkpoint", help="Hugging Face model directory (config.json, *.safetensors, tokenizer)")
    p.add_argument("-o", "--output", required=True, help="output .gguf file")
    p.add_argument("--type", default="tq2_0", choices=WEIGHT_TYPES, help="type of the linear weights")
    p.add_argument(
        "--embed-type", default="q8_0", choices=EMBED_TYPES, help="type of embeddings and output head"
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="refuse fallbacks to another type and low-bit packing of weights that are not ternary",
    )
    p.add_argument(
        "--allow-ptq",
        action="store_true",
        help="ternarize full-precision weights (ruins quality; for experiments only)",
    )
    p.add_argument("--bpe-pre", help="llama.cpp pre-tokenizer name for a BPE tokenizer not recognised")
    p.add_argument("--report", help="write the per-tensor report as JSON to this file")
    p.add_argument(
        "--threads",
        type=int,
        default=0,
        help="threads packing the tensors (default 0: the CPUs available, at most 4; the output "
        "is the same byte for byte)",
    )
    p.add_argument("--json", action="store_true", help="print totals as JSON instead of the table")
    p.set_defaults(func=_convert)
    p = sub.add_parser("inspect", help="describe a GGUF file: metadata, tensors, bits/weight")
    p.add_argument("file")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_inspect)
    p = sub.add_parser("eval", help="perplexity of a GGUF model on a text file, through llama.cpp")
    p.add_argument("file")
    p.add_argument("--text", required=True, help="UTF-8 text file")
    p.add_argument("--ctx", type=int, default=512, help="window length in tokens")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_eval)
    if importlib.util.find_spec("quantize.qat.cli") is not None:
        from quantize.qat import cli as qat_cli

        qat_cli.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except QuantizeError as e:
        print(f"quantize: error: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except OSError as e:  # unreadable input, disk full, permission denied: no traceback, no output file
        where = f" ({e.filename})" if e.filename else ""
        print(f"quantize: error: {e.strerror or e}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("quantize: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
