"""A reader model on held-out reading examples (documents never trained on), in ask's format.

    python bench/reader_heldout.py READER.gguf DATA_DIR [--limit N]

DATA_DIR is a `quantize qat reading` build; its heldout.npz/.jsonl hold examples of the held-out
documents. The first question of each example is laid out exactly as `ask` lays out a question
(its sources are the example's, each cut as `ask` cuts a source to the sentences around the one
sharing most of the question's words, `--excerpt-tokens`), decoded under the copy constraint. Prints, for a range of
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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


@dataclass(frozen=True)
class Result:
    """The reader's reply to one held-out question."""

    gold: str  # "" when unanswerable
    gold_source: int
    how: str  # how the question was written (natural, rule, model, ...)
    text: str  # the span it copied
    source: int  # the source it cited
    decline_logprob: float
    first_logprob: float
    logprob: float  # the span's log-probability among all tokens (ask's confidence)
    choice_logprob: float  # the same, renormalized among the tokens allowed at each step
    locate_logprob: float  # among all tokens, up to where the span occurs in one place only
    hinted: bool  # the span overlaps the sentence the hint line names first (reader_hints)

    def declined(self, bias: float) -> bool:
        return self.decline_logprob + bias > self.first_logprob

    @property
    def exact(self) -> bool:
        return self.text == self.gold and self.source == self.gold_source


BIASES = (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0)
CONFIDENCES = (0.0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95)


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


def excerpted(
    engine, prompt: list[int], spans: list[tuple[int, int]], question: str, tokens: int, newline: list[int]
) -> tuple[list[int], list[tuple[int, int]]]:
    """The prompt with each source cut as ``ask`` cuts it (``context.best_excerpt``, ``tokens`` at
    most) and the question block (and its hint line) made again for the cut sources."""
    from localagent.agent.context import best_excerpt
    from localagent.agent.reader import reader_layout
    from localagent.agent.reader_prompt import SourceText, question_block
    from localagent.agent.terms import terms

    wanted, count = set(terms(question)), lambda text: len(engine.tokenize(text))
    texts = [best_excerpt(engine.detokenize(prompt[a:b]).strip(), wanted, tokens, count) for a, b in spans]
    out, new_spans, at = [], [], 0
    for (a, b), text in zip(spans, texts, strict=True):
        out += prompt[at:a]
        cut = engine.tokenize(text)
        new_spans.append((len(out), len(out) + len(cut)))
        out += cut
        at = b
    out += newline
    shown = [SourceText(i + 1, "", 0, text) for i, text in enumerate(texts)]
    return out + question_block(shown, question, engine.tokenize, newline, reader_layout(engine)), new_spans


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
    parser.add_argument(
        "--excerpt-tokens",
        type=int,
        default=None,
        help="cut each source to the sentences around its best one, at most this many tokens, as "
        "ask does (default: ask's READER_EXCERPT_TOKENS; 0 keeps the sources as the build wrote them)",
    )
    args = parser.parse_args(argv)

    from localagent.agent.reader import READER_EXCERPT_TOKENS, span_text
    from localagent.agent.reader_hints import is_first_hint
    from localagent.agent.reader_prompt import span_end_tokens
    from localagent.engine import Engine
    from localagent.engine.spans import FIRST_TOKENS, copy_span

    engine = Engine(args.model, n_ctx=2048, n_threads=args.threads)
    data = np.load(args.data / "heldout.npz")
    rows = [json.loads(line) for line in (args.data / "heldout.jsonl").read_text().splitlines()]
    end, numbers = span_end_tokens(engine.tokenize)
    excerpt_tokens = READER_EXCERPT_TOKENS if args.excerpt_tokens is None else args.excerpt_tokens
    results = []
    newline = engine.tokenize("\n")
    for tokens, mask, row in list(zip(data["tokens"], data["mask"], rows, strict=True))[: args.limit]:
        first = int(np.nonzero(mask)[0][0])
        prompt = [int(t) for t in tokens[:first]]
        spans = row.get("spans") or source_spans(engine, prompt, newline)
        if not spans or len(spans) > 9:
            continue
        qa = row["qas"][0]
        if excerpt_tokens:
            prompt, spans = excerpted(engine, prompt, spans, qa["question"], excerpt_tokens, newline)
        sources = [prompt[a:b] for a, b in spans]
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
        texts = [engine.detokenize(s) for s in sources]
        hinted = is_first_hint(qa["question"], texts, reply.source, text)
        results.append(
            Result(
                qa["answer"],
                qa["source"],
                qa.get("how", ""),
                text,
                reply.source + 1,
                reply.decline_logprob,
                reply.first_logprob,
                reply.logprob,
                reply.choice_logprob,
                reply.locate_logprob,
                hinted,
            )
        )
    answerable = [r for r in results if r.gold]
    unanswerable = [r for r in results if not r.gold]
    print(
        f"{args.model.name} on {len(results)} held-out questions ({len(answerable)} answerable, "
        f"{len(unanswerable)} not) of {args.data}, {args.first_tokens or FIRST_TOKENS} first tokens tried, "
        f"sources {f'cut to {excerpt_tokens} tokens' if excerpt_tokens else 'whole'}"
    )
    print(
        "| decline bias | exact + right source | contains gold | wrong | declined (answerable) "
        "| declined (unanswerable) |"
    )
    print("|---|---|---|---|---|---|")
    for bias in BIASES:
        exact = sum(not r.declined(bias) and r.exact for r in answerable)
        contains = sum(not r.declined(bias) and r.gold in r.text for r in answerable)
        wrong = sum(not r.declined(bias) and r.gold not in r.text for r in answerable)
        d_ans = sum(r.declined(bias) for r in answerable)
        d_un = sum(r.declined(bias) for r in unanswerable)
        n, u = max(1, len(answerable)), max(1, len(unanswerable))
        print(
            f"| {bias:+.0f} | {exact / n:.0%} | {contains / n:.0%} | {wrong / n:.0%} | {d_ans / n:.0%} "
            f"| {d_un}/{len(unanswerable)} = {d_un / u:.0%} |"
        )
    hinted = [r for r in answerable if not r.declined(0.0) and r.hinted]
    right = sum(r.gold in r.text and r.source == r.gold_source for r in hinted)
    print(
        f"\nanswers that are the first hinted sentence (decline bias 0): {len(hinted)}, right {right}; "
        f"unanswerable answered so: {sum(not r.declined(0.0) and r.hinted for r in unanswerable)}"
    )
    print("\nby how the question was written (decline bias 0): exact + right source")
    for how in sorted({r.how for r in answerable}):
        some = [r for r in answerable if r.how == how]
        exact = sum(not r.declined(0.0) and r.exact for r in some)
        print(f"- {how or '?'}: {exact}/{len(some)} = {exact / len(some):.0%}")
    for confidence, name in (
        (lambda r: math.exp(r.logprob), "among all tokens (ask's reader_min_confidence)"),
        (lambda r: math.exp(r.choice_logprob), "renormalized among the tokens allowed at each step"),
        (lambda r: math.exp(r.logprob + r.first_logprob), "among all tokens, times P(answer)"),
        (lambda r: math.exp(r.locate_logprob), "until it occurs in one place only"),
        (
            lambda r: math.exp(r.locate_logprob) * r.hinted,
            "until it occurs in one place only, when it is the first hinted sentence (else 0)",
        ),
    ):
        print(f"\nconfidence: the span's probability {name}")
        confidence_table(answerable, unanswerable, confidence)
    return 0


def confidence_table(
    answerable: list[Result], unanswerable: list[Result], confidence: Callable[[Result], float]
) -> None:
    """Answers kept at each least confidence (decline bias 0), and their precision."""
    print("| least confidence | answered (answerable) | right of those | answered (unanswerable) |")
    print("|---|---|---|---|")
    n, u = max(1, len(answerable)), max(1, len(unanswerable))
    for least in CONFIDENCES:

        def kept(r: Result, least: float = least) -> bool:
            return not r.declined(0.0) and confidence(r) >= least

        answered = [r for r in answerable if kept(r)]
        right = sum(r.gold in r.text and r.source == r.gold_source for r in answered)
        wrongly = sum(kept(r) for r in unanswerable)
        print(
            f"| {least:g} | {len(answered)}/{n} = {len(answered) / n:.0%} "
            f"| {right}/{max(1, len(answered))} = {right / max(1, len(answered)):.0%} "
            f"| {wrongly}/{u} = {wrongly / u:.0%} |"
        )


if __name__ == "__main__":
    sys.exit(main())
