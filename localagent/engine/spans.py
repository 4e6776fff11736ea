"""Copy-constrained decoding: the model may only write a verbatim span of one of its sources.

A reader model answers with tokens copied from a source, then " [n]" and end-of-sequence, or
with end-of-sequence straight away when the sources do not answer the question. Decoding keeps
the set of source positions that the tokens written so far match; the next token must continue
one of them, or end the span. So every answer is, token for token, a run of one source's tokens,
and its citation is a source the run occurs in (the model picks among those).

    reply = copy_span(engine, prompt.tokens, [prompt.source_tokens(i) for i in ...], ...)
    reply.declined, reply.source, reply.tokens, reply.logprob

Greedy after the first token, where the copies that start with the few likeliest first tokens
are all made and the likeliest whole span wins; deterministic, like every answer path: the same
question over the same sources gives the same answer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from localagent.engine.constrained import _eval_prompt, _last_logits, _record
from localagent.engine.llama import Engine

MAX_SPAN_TOKENS = 80  # a quoting reader (qat reading --answer-unit sentence) copies up to ~70


@dataclass
class SpanReply:
    declined: bool
    source: int = -1  # index into the sources given
    tokens: list[int] | None = None
    start: int = -1  # token position of the span within that source
    logprob: float = 0.0  # of the span's tokens and its end (the reader's confidence in it)
    decline_logprob: float = 0.0  # log P(end-of-sequence first), the model's "no answer"
    first_logprob: float = 0.0  # log P(anything else first): declined iff decline + bias > this
    choice_logprob: float = 0.0  # the same as logprob, each step among the tokens allowed there
    locate_logprob: float = 0.0  # logprob up to the token that makes the span occur in one place


def _log_softmax_at(logits: np.ndarray, ids: np.ndarray) -> np.ndarray:
    values = logits.astype(np.float64)
    top = values.max()
    return values[ids] - top - np.log(np.exp(values - top).sum())


def _renormalized(logprobs: np.ndarray) -> np.ndarray:
    """Log-probabilities of some tokens renormalized among themselves: the model's choice given
    the constraint (a digit that may not start a span takes no share from one that may)."""
    return logprobs - _logsumexp(logprobs)


class SourceRuns:
    """Every source's tokens in one array (sources separated by -1), for finding continuations.

    With ``pieces`` (token id -> its bytes), spans start and end at word boundaries only: a span
    starts where a word starts (the token carries the space before it, or follows a space or an
    opening mark) and ends before a space, a mark followed by a space, or the end of its source;
    so "1998" cannot be cut to "19", nor "12,000" to "12" or "000".
    """

    def __init__(self, sources: Sequence[Sequence[int]], pieces: Callable[[int], bytes] | None = None):
        parts, owner = [], []
        for i, tokens in enumerate(sources):
            parts += [*tokens, -1]
            owner += [i] * (len(tokens) + 1)
        self.seq = np.array(parts, dtype=np.int64)
        self.owner = np.array(owner, dtype=np.int64)
        valid = self.seq >= 0
        self.can_start = valid.copy()
        self.can_end = ~valid  # after the last token of a source
        if pieces is not None:
            text = [pieces(int(t)) if t >= 0 else b"" for t in self.seq]
            for p, piece in enumerate(text):
                if not valid[p]:
                    continue
                before = text[p - 1] if p and valid[p - 1] else b" "
                self.can_start[p] = (
                    piece[:1].isspace()
                    or before[-1:].isspace()
                    or (before[-1:] in b"([{\"'/" and piece[:1].isalnum())
                )
                after = text[p + 1] if valid[p + 1] else b" "
                self.can_end[p] = piece[:1].isspace() or (not piece[:1].isalnum() and not after[:1].isalnum())
        self.starts = np.nonzero(valid & self.can_start)[0]

    def first_tokens(self) -> np.ndarray:
        return np.unique(self.seq[self.starts])

    def matching(self, positions: np.ndarray, token: int) -> np.ndarray:
        """Of spans ending just before ``positions``, those that continue with ``token``; the
        positions after it."""
        return positions[self.seq[positions] == token] + 1

    def next_tokens(self, positions: np.ndarray) -> np.ndarray:
        values = self.seq[positions]
        return np.unique(values[values >= 0])


def _logsumexp(values: np.ndarray) -> float:
    top = float(values.max())
    return top + float(np.log(np.exp(values - top).sum()))


FIRST_TOKENS = 3  # spans tried, one per likeliest first token; the likeliest whole span wins


@dataclass
class _Span:
    tokens: list[int]
    positions: np.ndarray  # just after the span, in every place it occurs
    choice: float  # log-probability, each step among the tokens allowed there
    logprob: float  # log-probability, each step among all tokens
    locate: float  # log-probability (among all tokens) until the span occurs in one place only


def _extend(
    engine: Engine,
    runs: SourceRuns,
    token: int,
    logprob: tuple[float, float],
    end_token: int,
    cancel: threading.Event | None,
) -> _Span:
    """The greedy copy that starts with ``token`` (already chosen, its log-probability given),
    up to and including the end of the span.

    Its ``locate`` is the log-probability of the tokens that pick out where it copies from (up
    to the first token after which the span occurs in one place only): once the place is
    chosen, the rest of a quoted sentence is near-forced, and the small doubts of each copied
    token would otherwise sum into a confidence that says more about the sentence's length than
    about whether it is the right one."""
    llama = engine.llama
    written, (choice, total) = [token], logprob
    positions = runs.matching(runs.starts, token)
    locate = total
    while len(written) < MAX_SPAN_TOKENS and not (cancel is not None and cancel.is_set()):
        nexts = runs.next_tokens(positions)
        ending = positions[runs.can_end[positions]]
        if not len(nexts):
            break
        llama.eval([written[-1]])
        options = np.append(nexts, end_token) if len(ending) else nexts
        logprobs = _log_softmax_at(_last_logits(engine), options)
        scores = _renormalized(logprobs)
        best = int(np.argmax(scores))
        choice += float(scores[best])
        total += float(logprobs[best])
        if len(positions) > 1:
            locate = total
        if len(ending) and best == len(options) - 1:
            return _Span(written, ending, choice, total, locate)
        written.append(int(options[best]))
        positions = runs.matching(positions, written[-1])
    return _Span(written, positions, choice, total, locate)


def copy_span(
    engine: Engine,
    prompt: list[int],
    sources: Sequence[Sequence[int]],
    end_token: int,
    number_tokens: Sequence[int],
    eos: int,
    decline_bias: float = 0.0,
    cancel: threading.Event | None = None,
    on_piece: Callable[[str], None] | None = None,
    first_tokens: int = FIRST_TOKENS,
) -> SpanReply:
    """Copy-constrained reply to a reader prompt (see the module docstring).

    ``end_token`` ends a span (the first token of " [n]"); ``number_tokens[i]`` is the token that
    follows it for source i. The reader declines when end-of-sequence is likelier than anything
    else as its first token (it was trained to write end-of-sequence first exactly when the
    sources lack the answer); ``decline_bias`` is added to its log-probability: above 0 the
    reader declines more readily. Otherwise the span is the likeliest (its tokens and its end
    together, each step's probability renormalized among what the constraint allows there) of
    the greedy copies that start with the ``first_tokens`` likeliest allowed first tokens: a
    number's first digit says little, the digits after it say which number. Its ``logprob``,
    the reader's confidence, is not renormalized: probability the model spends on tokens it may
    not write is doubt (on held-out examples it separates right answers from wrong ones far
    better than the renormalized ``choice_logprob``).
    ``on_piece`` gets the chosen span's text once it is chosen.
    """
    runs = SourceRuns(sources, lambda t: engine.llama.detokenize([t]))
    llama = engine.llama
    with engine._lock:
        started = time.perf_counter()
        reused = _eval_prompt(engine, prompt)
        prompt_done = time.perf_counter()
        logits = _last_logits(engine)
        first_ids = runs.first_tokens()
        logprobs = _log_softmax_at(logits, np.append(first_ids, eos))  # one normalizer for all
        raw_scores, decline = logprobs[:-1], float(logprobs[-1])
        answer = float(np.log(max(-np.expm1(decline), 1e-300)))
        scores = _renormalized(raw_scores)
        first_time = time.perf_counter()
        if decline + decline_bias > answer or (cancel is not None and cancel.is_set()):
            _record(engine, started, prompt_done, first_time, len(prompt), reused, 1)
            return SpanReply(True, decline_logprob=decline)
        tried = []
        for k in np.argsort(-scores, kind="stable")[: max(1, first_tokens)]:
            llama.n_tokens = len(prompt)  # back to the prompt: each copy starts from it
            first = (float(scores[k]), float(raw_scores[k]))
            tried.append(_extend(engine, runs, int(first_ids[k]), first, end_token, cancel))
        span = max(tried, key=lambda t: t.choice)
        written, positions = span.tokens, span.positions
        if on_piece is not None:
            on_piece(engine.detokenize(written))
        owners = np.unique(runs.owner[positions - 1])
        source = int(owners[0])
        if len(owners) > 1:  # the span occurs in several sources: the model names one of them
            llama.n_tokens = len(prompt)
            llama.eval([*written, end_token])
            choice = _log_softmax_at(_last_logits(engine), np.array([number_tokens[i] for i in owners]))
            source = int(owners[int(np.argmax(choice))])
        where = int(positions[runs.owner[positions - 1] == source][0]) - len(written)
        start = where - int(np.nonzero(runs.owner == source)[0][0])
        generated = sum(len(t.tokens) for t in tried)
        _record(engine, started, prompt_done, first_time, len(prompt), reused, generated)
        return SpanReply(
            False, source, written, start, span.logprob, decline, answer, span.choice, span.locate
        )
