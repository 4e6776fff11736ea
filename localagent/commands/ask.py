"""`localagent ask QUESTION`: an answer drawn from the indexed documents, with page citations,
or "Not found in your documents." when they do not support one."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from localagent.commands.options import add_model_options, config_from_args
from localagent.commands.output import print_json
from localagent.errors import LocalAgentError
from localagent.protocols import QuestionAnswerer


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "ask",
        parents=[common],
        help="answer a question from the indexed documents, with citations",
        description="Find the passages of your indexed documents that match QUESTION, let the model "
        "answer from them, check the answer against the passages it cites, and print it "
        "with file and page citations. When the documents do not support an answer, "
        "says so instead of guessing. Runs entirely offline.",
    )
    p.add_argument("question", nargs="+", metavar="QUESTION", help="the question")
    p.add_argument("--collection", help="collection to ask (setting: collection)")
    add_model_options(p)
    p.add_argument(
        "--agent", action="store_true", help="let the model search and read pages itself with tools (slower)"
    )
    p.add_argument(
        "--max-steps",
        type=int,
        default=None,
        dest="agent_max_steps",
        help="most tool calls in --agent mode (setting: agent_max_steps)",
    )
    p.add_argument("--trace", action="store_true", help="show sources, tool calls and checks on stderr")
    p.add_argument(
        "--json", action="store_true", help='print {"answer", "found", "citations", "timings"} as JSON'
    )
    p.set_defaults(func=run)


def _citation_lines(answer) -> list[str]:
    return [
        f"[{c.n}] {c.file}, {c.place or f'page {c.page}'}  (chunk {c.chunk_id}, score {c.score:.2f})"
        for c in answer.citations
    ]


def _timings_line(answer) -> str:
    t = answer.timings
    parts = [f"retrieval {t.retrieval_ms:.0f} ms"]
    if t.ttft_ms:
        parts.append(f"first token {t.ttft_ms:.0f} ms")
        parts.append(f"{t.tokens_per_s:.1f} tok/s")
        parts.append(f"prompt {t.prompt_tokens} tok evaluated, {t.reused_tokens} reused from cache")
    parts.append(f"total {t.total_ms:.0f} ms")
    return " | ".join(parts)


def _closest_lines(answer) -> list[str]:
    from localagent.agent.types import snippet

    lines = ["Closest passages (no answer was found in them; you may want to read them):"]
    for source in answer.closest():
        lines.append(f"  {source.file}, page {source.page}: {snippet(source.text)}")
    return lines if len(lines) > 1 else []


def _print_trace(answer) -> None:
    for source in answer.sources:
        print(
            f"trace: source [{source.n}] {Path(source.file).name} {source.place} chunk "
            f"{source.chunk_id} score {source.score:.2f}: {source.text[:160]}",
            file=sys.stderr,
        )
    for step in answer.trace:
        print(f"trace: {step}", file=sys.stderr)
    if answer.model:
        print(f"trace: answered by {answer.model}", file=sys.stderr)
    if answer.draft:
        print(f"trace: model draft: {answer.draft.strip()!r}", file=sys.stderr)
    print(f"trace: verdict: {'found' if answer.found else 'not found'} ({answer.reason})", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from localagent.engine import load_engine
    from localagent.index import Index

    if args.agent_max_steps is not None and args.agent_max_steps < 1:
        raise LocalAgentError(f"--max-steps must be at least 1, got {args.agent_max_steps}")
    config = config_from_args(args)
    question = " ".join(args.question).strip()
    if not question:
        raise LocalAgentError("the question is empty")
    with Index.open() as index:
        if not any(d.status == "ok" for d in index.list_documents(config.collection)):
            raise LocalAgentError(
                f"collection {config.collection!r} has no documents yet; run `localagent index PATH` first"
            )
        asker: QuestionAnswerer
        if args.agent:
            from localagent.agent.loop import AgentLoop

            asker = AgentLoop(load_engine(config), index, config)
        else:
            from localagent.agent.cascade import Cascade, answer_models

            asker = Cascade(index, config, answer_models(config))
        live = not args.json and sys.stdout.isatty()

        def show(piece: str) -> None:
            sys.stdout.write("\r\033[K" if piece == "\n" else piece)
            sys.stdout.flush()

        answer = asker.ask(question, collection=config.collection, on_token=show if live else None)
    if args.trace:
        _print_trace(answer)
    if args.json:
        print_json(answer.as_json())
        return 0
    if live:  # replace the streamed draft by the checked answer
        sys.stdout.write("\r\033[K")
    marks = "".join(f" [{c.n}]" for c in answer.citations)
    print(f"{answer.text}{marks}")
    for line in _citation_lines(answer) if answer.found else _closest_lines(answer):
        print(line)
    print(_timings_line(answer), file=sys.stderr)
    return 0
