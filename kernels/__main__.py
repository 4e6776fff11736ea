"""python -m kernels verify MODEL.gguf [--text FILE | --prompt TEXT] [--tokens N]
python -m kernels unpack MODEL.gguf -o OUT.gguf"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .formats import FormatError


def build_parser() -> argparse.ArgumentParser:
    from .verify import TIE_MARGIN, ULP_RUNS

    parser = argparse.ArgumentParser(
        prog="python -m kernels", description="Reference kernels for ggml low-bit types"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("verify", help="compare llama.cpp's logits with the numpy reference forward pass")
    v.add_argument("model", type=Path, help="GGUF file (architecture llama or bitnet)")
    src = v.add_mutually_exclusive_group()
    src.add_argument("--text", type=Path, metavar="FILE", help="UTF-8 text file to evaluate")
    src.add_argument("--prompt", metavar="TEXT", help="text to evaluate")
    v.add_argument("--tokens", type=int, default=64, metavar="N", help="positions to compare (default 64)")
    v.add_argument(
        "--reference-model", type=Path, metavar="GGUF",
        help="compute the reference from this file instead (e.g. the file MODEL was re-packed from)",
    )  # fmt: skip
    v.add_argument("--max-kl", type=float, default=1e-3, help="mean KL threshold (default 1e-3)")
    v.add_argument("--min-top1", type=float, default=1.0, help="top-1 agreement needed, 0..1 (default 1.0)")
    v.add_argument(
        "--tie-margin", type=float, default=TIE_MARGIN, metavar="LOGITS",
        help="a top-1 difference where the reference's two logits are closer than this is a near-tie, "
        f"not a failure (default {TIE_MARGIN:g}; 0 counts every difference)",
    )  # fmt: skip
    v.add_argument(
        "--ulp-runs", type=int, default=ULP_RUNS, metavar="N",
        help="where the top-1 differs by more than the margin, run the reference N more times with its input "
        "moved by one ulp; if it then picks llama.cpp's token, the difference is float32 rounding, not a "
        f"failure (default {ULP_RUNS}; 0 counts every difference)",
    )  # fmt: skip
    v.add_argument("--threads", type=int, default=None, help="llama.cpp threads")
    v.add_argument("--json", action="store_true", help="print the report as JSON")
    u = sub.add_parser(
        "unpack", help="rewrite a GGUF with its TQ1_0/TQ2_0/Q1_0/Q2_0 tensors as F16 (the reference's dequantization)",
        description="Dequantize every TQ1_0, TQ2_0 and Q1_0 tensor with the numpy reference and store it as "
        "F16; copy all else. The values are exact, so llama.cpp on MODEL vs OUT isolates the low-bit kernels.",
    )  # fmt: skip
    u.add_argument("model", type=Path, help="GGUF file to unpack")
    u.add_argument("-o", "--out", type=Path, required=True, help="F16 GGUF to write (atomically)")
    return parser


def _unpack(args: argparse.Namespace) -> int:
    from .unpack import UnpackError, unpack_gguf

    try:
        count = unpack_gguf(args.model, args.out)
    except (UnpackError, FormatError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{args.out}: {count} tensors unpacked to F16")
    return 0


def _read_text(args: argparse.Namespace) -> str:
    from .verify import DEFAULT_TEXT, VerifyError

    if args.prompt is not None:
        return args.prompt
    if args.text is None:
        return DEFAULT_TEXT
    try:
        return args.text.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise VerifyError(f"cannot read text file {args.text}: {exc}") from None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "unpack":
        return _unpack(args)
    from .reference import UnsupportedModelError
    from .verify import VerifyError, format_report, report_dict, run_verify

    if args.tokens < 2:
        print("error: --tokens must be at least 2", file=sys.stderr)
        return 1
    if args.ulp_runs < 0:
        print("error: --ulp-runs must be 0 or more", file=sys.stderr)
        return 1
    try:
        result = run_verify(
            args.model, _read_text(args), args.tokens, args.reference_model,
            max_kl=args.max_kl, min_top1=args.min_top1, n_threads=args.threads, tie_margin=args.tie_margin,
            ulp_runs=args.ulp_runs,
        )  # fmt: skip
    except (VerifyError, UnsupportedModelError, FormatError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (ValueError, KeyError, IndexError) as exc:  # inconsistent shapes or metadata in the file
        print(
            f"error: the reference cannot compute {args.model}: {type(exc).__name__}: {exc}", file=sys.stderr
        )
        return 1
    if args.json:
        print(json.dumps(report_dict(result), indent=2))
    else:
        for line in format_report(result):
            print(line)
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
