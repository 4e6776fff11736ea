"""Which spans would a reader pick, if it only ranked the answer-like spans of its sources?

    python bench/reader_spans.py DATASET [DATASET ...] --model READER.gguf

A diagnostic of tern-reader, not a product path. For each answerable question of a QA set (the
sources as `ask` gives the reader, the prompt laid out as the reader was trained), every
answer-like span of the sources (the cue lookups' rules, ``quantize.qat.reading.cues``: a name,
a number and its unit, a year, an option or a path, of the kind the question asks for) is
scored two ways:

- **reader**: the reader's log-probability of the span as its reply (its tokens, then the end of
  the span), the reader's own ranking of the candidates;
- **words around**: the share of the question's terms (weighted by rarity among the sources'
  sentences) that stand within twelve words of the span in its sentence, nearer ones counting
  more; no model at all.

Prints, per set, how many questions the best span of each ranking answers (gold text, right file
and page), what `ask` answers with the reader at confidence 0 (its copy-constrained decoding and
checks), and how many questions have a right span among the candidates at all. Where "words around" beats "reader", the reader does not read what
the question asks; the mix rows show whether its ranking adds anything to the words' ranking.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

REACH = 12  # words either side of a span whose terms count
MIXES = (0.02, 0.1)  # words around + this x the reader's log-probability


@dataclass
class Candidate:
    source: int
    text: str
    words: float  # the "words around" score
    tokens: list[int]
    reader: float = -math.inf


def answer_like_spans(text: str) -> list[tuple[str, list[str], list[str]]]:
    """(span, terms before it nearest first, terms after it) for each answer-like span of
    ``text``, as cue lookups find them."""
    from localagent.agent.terms import terms
    from quantize.qat.reading.cues import SENTENCE_END, _ends_with, answer_words

    words = text.split()
    bounds, sentence_of, start = [], [], 0
    for i, word in enumerate(words):
        sentence_of.append(len(bounds))
        if _ends_with(word, SENTENCE_END) or i == len(words) - 1:
            bounds.append((start, i + 1))
            start = i + 1
    out = []
    for i in range(len(words)):
        lo, hi = bounds[sentence_of[i]]
        n = answer_words(words, i, lo)
        span = " ".join(words[i : i + n]).rstrip(".,;:!?)\"'") if n else ""
        if span:
            before = [t for w in reversed(words[max(lo, i - REACH) : i]) for t in reversed(terms(w))]
            after = [t for w in words[i + n : min(hi, i + n + REACH)] for t in terms(w)]
            out.append((span, before, after))
    return out


def words_around(question_terms: dict[str, float], span: str, before: list[str], after: list[str]) -> float:
    """Weighted share of the question's terms near the span (not in it), nearer counting more."""
    from localagent.agent.terms import normalize

    total = sum(question_terms.values())
    own = {normalize(w) for w in span.split() if w.strip(".,;:")}
    if not total or (own and own <= set(question_terms)):
        return 0.0
    near: dict[str, float] = {}
    for side in (before, after):
        for distance, term in enumerate(side):
            if term in question_terms and term not in own:
                near[term] = max(near.get(term, 0.0), 1.0 / (1.0 + distance / 6))
    return sum(question_terms[t] * v for t, v in near.items()) / total


def span_tokens(engine, source_tokens: list[int], span: str) -> list[int] | None:
    """The run of the source's tokens that spells ``span`` exactly, if one does."""
    pieces = [engine.llama.detokenize([t]).decode("utf-8", "replace") for t in source_tokens]
    for a in range(len(pieces)):
        if not pieces[a].strip() or not span.startswith(pieces[a].strip()[:1]):
            continue
        spelled = ""
        for b in range(a, len(pieces)):
            spelled += pieces[b]
            if spelled.strip() == span:
                return source_tokens[a : b + 1]
            if len(spelled.strip()) >= len(span):
                break
    return None


def reader_logprobs(engine, prompt: list[int], spans: list[list[int]], end_token: int) -> list[float]:
    """log P(span, then its end | prompt) for each span, every step among all tokens."""
    from localagent.engine.constrained import _eval_prompt, _last_logits
    from localagent.engine.spans import _log_softmax_at

    llama, out = engine.llama, []
    _eval_prompt(engine, prompt)
    first = _last_logits(engine).copy()
    for tokens in spans:
        total = float(_log_softmax_at(first, np.array([tokens[0]]))[0])
        llama.n_tokens = len(prompt)
        for i, token in enumerate(tokens):
            llama.eval([token])
            following = tokens[i + 1] if i + 1 < len(tokens) else end_token
            total += float(_log_softmax_at(_last_logits(engine), np.array([following]))[0])
        out.append(total)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("datasets", type=Path, nargs="+", metavar="DATASET")
    parser.add_argument("--model", required=True, help="a reader model (.gguf or registry name)")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="reader_spans-"))
    os.environ["LOCALAGENT_HOME"] = str(tmp / "home")

    from qa_eval import contains_gold, load_dataset, write_documents

    from localagent.agent.answer_types import kind_matches
    from localagent.agent.reader import ReaderAnswerer
    from localagent.agent.reader_hints import rarity
    from localagent.config import load_config
    from localagent.engine import load_engine
    from localagent.index import Index, index_paths

    config = load_config({"n_threads": args.threads or None, "reader_min_confidence": 0.0})
    engine = load_engine(config, model=args.model)
    print(
        "| set | answerable | right span among candidates | ask at confidence 0 | reader's ranking "
        "| words around | " + " | ".join(f"words + {m} x reader" for m in MIXES) + " |"
    )
    print("|---|---|---|---|---|---|" + "---|" * len(MIXES))
    for number, dataset in enumerate(args.datasets):
        documents, questions = load_dataset(dataset)
        folder = tmp / f"docs{number}"
        folder.mkdir()
        write_documents(documents, dataset.parent, folder)
        counts = dict.fromkeys(["n", "ceiling", "greedy", "reader", "words", *MIXES], 0)
        with Index.open() as index:
            index_paths([folder], index=index, collection=f"set{number}")
            reader = ReaderAnswerer(engine, index, config)
            for q in questions:
                golds = q.get("answers") or []
                if not golds:
                    continue
                counts["n"] += 1

                def right(source, text: str, q=q, golds=golds) -> bool:
                    return (
                        contains_gold(text, golds)
                        and Path(source.file).name == q.get("file")
                        and str(source.page) == str(q.get("page"))
                    )

                answer = reader.ask(q["question"], collection=f"set{number}")
                counts["greedy"] += answer.found and any(
                    contains_gold(answer.text, golds)
                    and Path(c.file).name == q.get("file")
                    and str(c.page) == str(q.get("page"))
                    for c in answer.citations
                )
                sources = answer.sources
                if not sources:
                    continue
                prompt = _prompt(reader, q["question"], sources)
                weights = rarity(q["question"], [s.text for s in sources])
                cands = []
                for i, source in enumerate(sources):
                    for span, before, after in answer_like_spans(source.text):
                        tokens = span_tokens(engine, prompt.source_tokens(i), span)
                        if tokens and kind_matches(q["question"], span):
                            cands.append(
                                Candidate(i, span, words_around(weights, span, before, after), tokens)
                            )
                if not cands:
                    continue
                for c, lp in zip(
                    cands,
                    reader_logprobs(engine, prompt.tokens, [c.tokens for c in cands], reader._end),
                    strict=True,
                ):
                    c.reader = lp
                counts["ceiling"] += any(right(sources[c.source], c.text) for c in cands)
                rankings = {"reader": lambda c: c.reader, "words": lambda c: (c.words, c.reader)}
                rankings |= {m: (lambda c, m=m: c.words + m * c.reader) for m in MIXES}
                for name, key in rankings.items():
                    best = max(cands, key=key)
                    counts[name] += right(sources[best.source], best.text)
        n = max(1, counts["n"])
        cells = [
            f"{counts[k]}/{counts['n']} = {counts[k] / n:.0%}"
            for k in ("ceiling", "greedy", "reader", "words", *MIXES)
        ]
        print(f"| {dataset.stem} | {counts['n']} | " + " | ".join(cells) + " |", flush=True)
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


def _prompt(reader, question: str, sources):
    from localagent.agent.reader_prompt import SourceText, build_prompt

    shown = [SourceText(s.n, s.file, s.page, s.text) for s in sources]
    return build_prompt(
        shown,
        question,
        reader.engine.tokenize,
        reader.engine.llama.token_bos(),
        reader._newline,
        reader.layout,
    )


if __name__ == "__main__":
    sys.exit(main())
