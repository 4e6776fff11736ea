"""`localagent generate PROMPT`: a raw completion streamed to stdout."""

from __future__ import annotations

import argparse
import json
import sys

from localagent.commands.options import add_model_options, config_from_args
from localagent.engine import load_engine


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "generate",
        parents=[common],
        help="complete a prompt with the model (raw text)",
        description="Stream a raw completion of PROMPT to stdout. No documents are "
        "involved; use `ask` for answers from your documents.",
    )
    p.add_argument("prompt", help="the text to continue")
    add_model_options(p)
    p.add_argument("--max-tokens", type=int, dest="max_tokens", help="most tokens to generate (default 256)")
    p.add_argument("--temperature", type=float, help="0 is greedy and reproducible (default 0.7)")
    p.add_argument("--seed", type=int, help="sampling seed, for reproducible output")
    p.add_argument("--stop", action="append", default=[], help="stop at this string (repeatable)")
    p.add_argument("--stats", action="store_true", help="print timings and model facts on stderr")
    p.add_argument("--json", action="store_true", help="print the text and stats as JSON at the end")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    engine = load_engine(config)
    pieces = []
    for piece in engine.complete(
        args.prompt,
        max_tokens=config.max_tokens,
        temperature=config.temperature,
        stop=args.stop,
        seed=config.seed,
    ):
        pieces.append(piece)
        if not args.json:
            sys.stdout.write(piece)
            sys.stdout.flush()
    if args.json:
        json.dump({"text": "".join(pieces), "stats": engine.stats.as_dict()}, sys.stdout, indent=2)
    sys.stdout.write("\n")
    sys.stdout.flush()
    if args.stats:
        s = engine.stats
        print(
            f"model {s.model_name} ({s.main_type}, {s.bits_per_weight:.2f} bits/weight, "
            f"{s.file_size / 1e6:.0f} MB) | load {s.load_s:.2f} s | prompt {s.prompt_tokens} tok "
            f"{s.prompt_tok_s:.1f} tok/s | generation {s.gen_tokens} tok {s.gen_tok_s:.1f} tok/s | "
            f"RSS {s.rss_bytes / 2**20:.0f} MB",
            file=sys.stderr,
        )
    return 0
