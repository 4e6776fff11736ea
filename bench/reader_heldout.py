"""A reader model on held-out reading examples (documents never trained on), in ask's format.

    python bench/reader_heldout.py READER.gguf DATA_DIR [--limit N]

DATA_DIR is a `quantize qat reading` build; its heldout.npz/.jsonl hold examples of the held-out
documents. The first question of each example is laid out exactly as `ask` lays out a question
(its sources are the example's), decoded under the copy constraint. Prints, for a range of
decline biases: exact answers, answers containing the gold span, wrong answers and declines on
answerable questions, and declines on unanswerable ones. The bias is what `ask` adds to the
"no answer" logit; 0 is the model as trained.

A second table does the same for the least confidence an answer needs (setting
`reader_min_confidence`: the probability the reader gives the span it copied; below it the reader
passes, and a cascade asks its next model): how many answers are kept and how many of them are
right. This is where that setting's default comes from, on documents never trained on, never on a
QA set.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

BIASES = (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0)
CONFIDENCES = (0.0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7)


def source_spans(engine, prompt: list[int], newline: list[int]) -> list[tuple[int, int]]:
    """The sources' token ranges of a reader prompt (for builds that did not record them): a
    source's text starts after its label's ", page 1:" and ends at the newline."""
    from localagent.agent.reader_prompt import label

    tail = engine.tokenize(label(1, "x", 1))[-4:]  # " page", " ", "1", ":"
    question = engine.tokenize("Question:")[:2]
    spans, at = [], 0
    while at < len(prompt):
        if prompt[at : at + len(question)] == question:
            break
        if prompt[at : at + len(tail)] == tail:
            start = end = at + len(tail)
            while end < len(prompt) and prompt[end : end + len(newline)] != newline:
                end += 1
            spans.append((start, end))
            at = end
        at += 1
    return spans


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("data", type=Path)
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument(
        "--first-tokens",
        type=int,
        default=0,
        help="spans tried, one per likeliest first token (default: what ask uses, FIRST_TOKENS)",
    )
    args = parser.parse_args(argv)

    from localagent.agent.reader import span_text
    from localagent.agent.reader_prompt import span_end_tokens
    from localagent.engine import Engine
    from localagent.engine.spans import FIRST_TOKENS, copy_span

    engine = Engine(args.model, n_ctx=2048, n_threads=args.threads)
    data = np.load(args.data / "heldout.npz")
    rows = [json.loads(line) for line in (args.data / "heldout.jsonl").read_text().splitlines()]
    end, numbers = span_end_tokens(engine.tokenize)
    results = []
    newline = engine.tokenize("\n")
    for tokens, mask, row in list(zip(data["tokens"], data["mask"], rows, strict=True))[: args.limit]:
        first = int(np.nonzero(mask)[0][0])
        prompt = [int(t) for t in tokens[:first]]
        spans = row.get("spans") or source_spans(engine, prompt, newline)
        if not spans or len(spans) > 9:
            continue
        sources = [prompt[a:b] for a, b in spans]
        qa = row["qas"][0]
        reply = copy_span(
            engine,
            prompt,
            sources,
            end,
            numbers[: len(sources)],
            engine.llama.token_eos(),
            decline_bias=-1e9,
            first_tokens=args.first_tokens or FIRST_TOKENS,
        )
        text = span_text(engine, sources[reply.source], reply.start, len(reply.tokens or [])) or ""
        results.append(
            (
                qa["answer"],
                qa["source"],
                text,
                reply.source + 1,
                reply.decline_logprob,
                reply.first_logprob,
                math.exp(reply.logprob),
                math.exp(reply.choice_logprob),
            )
        )
    answerable = [r for r in results if r[0]]
    unanswerable = [r for r in results if not r[0]]
    print(
        f"{args.model.name} on {len(results)} held-out questions ({len(answerable)} answerable, "
        f"{len(unanswerable)} not) of {args.data}, {args.first_tokens or FIRST_TOKENS} first tokens tried"
    )
    print(
        "| decline bias | exact + right source | contains gold | wrong | declined (answerable) "
        "| declined (unanswerable) |"
    )
    print("|---|---|---|---|---|---|")
    for bias in BIASES:

        def declined(r, bias=bias):
            return r[4] + bias > r[5]

        exact = sum(not declined(r) and r[2] == r[0] and r[3] == r[1] for r in answerable)
        contains = sum(not declined(r) and r[0] in r[2] for r in answerable)
        wrong = sum(not declined(r) and r[0] not in r[2] for r in answerable)
        d_ans = sum(declined(r) for r in answerable)
        d_un = sum(declined(r) for r in unanswerable)
        n, u = max(1, len(answerable)), max(1, len(unanswerable))
        print(
            f"| {bias:+.0f} | {exact / n:.0%} | {contains / n:.0%} | {wrong / n:.0%} | {d_ans / n:.0%} "
            f"| {d_un}/{len(unanswerable)} = {d_un / u:.0%} |"
        )
    for column, name in (
        (6, "among allowed tokens (ask's)"),
        (7, "among all tokens"),
        (8, "times P(answer)"),
    ):
        print(f"\nconfidence: the span's probability {name}")
        confidence_table(answerable, unanswerable, column)
    return 0


def confidence_table(answerable: list[tuple], unanswerable: list[tuple], column: int = 6) -> None:
    """Answers kept at each least confidence (decline bias 0), and their precision."""
    print("| least confidence | answered (answerable) | right of those | answered (unanswerable) |")
    print("|---|---|---|---|")
    n, u = max(1, len(answerable)), max(1, len(unanswerable))
    for least in CONFIDENCES:

        def kept(r, least=least):
            return r[4] <= r[5] and r[column] >= least

        answered = [r for r in answerable if kept(r)]
        right = sum(r[0] in r[2] and r[3] == r[1] for r in answered)
        wrongly = sum(kept(r) for r in unanswerable)
        print(
            f"| {least:g} | {len(answered)}/{n} = {len(answered) / n:.0%} "
            f"| {right}/{max(1, len(answered))} = {right / max(1, len(answered)):.0%} "
            f"| {wrongly}/{u} = {wrongly / u:.0%} |"
        )


if __name__ == "__main__":
    sys.exit(main())
