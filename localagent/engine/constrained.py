"""Greedy grammar-constrained generation that stays fast with a large vocabulary.

llama-cpp-python runs llama.cpp's grammar sampler over the whole vocabulary for every token. With
Gemma's 262k-token vocabulary that costs about a second per token on this machine (measured 0.8
tok/s for a JSON object). llama.cpp's own tools avoid it by checking the grammar against the best
candidates first and falling back to the full vocabulary only when none of them fits; this module
does the same: take the top-K logits, let the grammar sampler reject what does not fit, pick the best
survivor, and only if none survives apply the grammar to every token.

A token repeated MAX_RUN times in a row is not allowed a further time: the 270M model sometimes
falls into "10000000..." inside a JSON string until the token budget runs out.

Decoding is greedy (temperature 0): batch results must not depend on chance, so a rerun of the same
document with the same options and model gives the same record.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Callable

import numpy as np

from localagent.engine.llama import Engine
from localagent.errors import LocalAgentError

TOP_K = 64
MAX_RUN = 8  # the same token this many times in a row is a loop (Gemma writes digits one per token)


class GrammarSampler:
    """A llama.cpp grammar sampler (GBNF text, root rule ``root``) bound to one model's vocabulary."""

    def __init__(self, engine: Engine, gbnf: str):
        import llama_cpp

        self._capi = llama_cpp
        self._sampler = llama_cpp.llama_sampler_init_grammar(
            engine.llama._model.vocab, gbnf.encode("utf-8"), b"root"
        )
        if not self._sampler:
            raise LocalAgentError("invalid grammar (llama.cpp could not parse it)")

    def allowed(self, ids: np.ndarray, logits: np.ndarray) -> np.ndarray:
        """The logits of ``ids`` with every token the grammar forbids set to -inf."""
        n = len(ids)
        data = (self._capi.llama_token_data * n)()
        view = np.ctypeslib.as_array(
            ctypes.cast(data, ctypes.POINTER(ctypes.c_byte)),
            shape=(n * ctypes.sizeof(self._capi.llama_token_data),),
        )
        packed = np.zeros(n, dtype=np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)]))
        packed["id"] = ids
        packed["logit"] = logits
        view[:] = packed.view(np.byte)
        array = self._capi.llama_token_data_array(data=data, size=n, selected=-1, sorted=False)
        self._capi.llama_sampler_apply(self._sampler, ctypes.byref(array))
        # Samplers may move the data pointer; read back through the array struct.
        out = np.ctypeslib.as_array(
            ctypes.cast(array.data, ctypes.POINTER(ctypes.c_byte)),
            shape=(array.size * ctypes.sizeof(self._capi.llama_token_data),),
        )
        result = out.view(packed.dtype)
        if len(result) == n and np.array_equal(result["id"], packed["id"]):
            return result["logit"].copy()  # the grammar sampler only masks, in place
        by_id = dict(zip(result["id"].tolist(), result["logit"].tolist(), strict=True))
        return np.array([by_id.get(int(i), -np.inf) for i in ids], dtype=np.float32)

    def accept(self, token: int) -> None:
        self._capi.llama_sampler_accept(self._sampler, token)

    def close(self) -> None:
        if self._sampler:
            self._capi.llama_sampler_free(self._sampler)
            self._sampler = None

    def __del__(self) -> None:
        self.close()


def _eval_prompt(engine: Engine, tokens: list[int]) -> int:
    """Evaluate ``tokens``, reusing the longest prefix already in the KV cache; returns its length."""
    llama = engine.llama
    common = 0
    limit = min(llama.n_tokens, len(tokens) - 1)
    cached = llama.input_ids
    while common < limit and cached[common] == tokens[common]:
        common += 1
    llama.n_tokens = common
    llama.eval(tokens[common:])
    return common


def _last_logits(engine: Engine) -> np.ndarray:
    llama = engine.llama
    return np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(llama.n_vocab(),))


def generate_constrained(
    engine: Engine,
    prompt: str,
    gbnf: str,
    max_tokens: int,
    done: Callable[[str], bool] | None = None,
    cancel: threading.Event | None = None,
    on_piece: Callable[[str], None] | None = None,
) -> str:
    """Greedy completion of ``prompt`` that the grammar ``gbnf`` allows.

    Stops at end of generation (which the grammar allows only once complete), after
    ``max_tokens``, as soon as ``done(text_so_far)`` is true, or when ``cancel`` is set.
    ``on_piece`` gets each new piece of text as it is decided. The engine's stats are updated
    as for `Engine.complete` (prompt tokens evaluated and reused, tok/s, time to first token).
    """
    import llama_cpp

    llama = engine.llama
    tokens = engine.tokenize(prompt, add_bos=True)
    if len(tokens) + max_tokens > engine.n_ctx:
        raise LocalAgentError(
            f"prompt is {len(tokens)} tokens; with {max_tokens} to generate it does not "
            f"fit the {engine.n_ctx}-token context"
        )
    vocab = llama._model.vocab
    generated: list[int] = []
    text = ""
    with engine._lock:
        sampler = GrammarSampler(engine, gbnf)
        started = prompt_done = time.perf_counter()
        first, reused = None, 0
        try:
            reused = _eval_prompt(engine, tokens)
            prompt_done = time.perf_counter()
            for _ in range(max_tokens):
                if cancel is not None and cancel.is_set():
                    break
                logits = _last_logits(engine)
                if len(generated) >= MAX_RUN and len(set(generated[-MAX_RUN:])) == 1:
                    logits = logits.copy()  # break a degenerate loop ("1000000000...")
                    logits[generated[-1]] = -np.inf
                top = np.argpartition(-logits, TOP_K)[:TOP_K]
                allowed = sampler.allowed(top, logits[top])
                if not np.isfinite(allowed).any():  # none of the best fit: ask about every token
                    every = np.arange(len(logits), dtype=np.intp)
                    allowed, top = sampler.allowed(every, logits), every
                    if not np.isfinite(allowed).any():
                        break
                token = int(top[int(np.argmax(allowed))])
                first = first or time.perf_counter()
                if llama_cpp.llama_vocab_is_eog(vocab, token):
                    break
                sampler.accept(token)
                generated.append(token)
                now_text = engine.detokenize(generated)
                if on_piece is not None and len(now_text) > len(text):
                    on_piece(now_text[len(text) :])
                text = now_text
                if done is not None and done(text):
                    break
                llama.eval([token])
        finally:
            sampler.close()
            _record(engine, started, prompt_done, first, len(tokens), reused, len(generated))
    return text


def _record(
    engine: Engine,
    started: float,
    prompt_done: float,
    first: float | None,
    n_prompt: int,
    reused: int,
    n_gen: int,
) -> None:
    end = time.perf_counter()
    engine.stats.record_call(
        ttft_s=(first or end) - started,
        prompt_tokens=n_prompt - reused,
        prompt_s=prompt_done - started,
        reused_tokens=reused,
        gen_tokens=n_gen,
        gen_s=end - prompt_done,
        context_used=int(engine.llama.n_tokens),
    )


def _logprob(logits: np.ndarray, token: int) -> float:
    values = logits.astype(np.float64)
    top = values.max()
    return float(values[token] - top - np.log(np.exp(values - top).sum()))


def continuation_logprobs(engine: Engine, prompt: str, continuations: list[str]) -> list[float]:
    """log P(continuation | prompt) for each continuation: the sum over its tokens.

    The prompt is evaluated once and its last logits kept; a continuation of one token costs no
    further evaluation, a longer one evaluates its own tokens but the last.
    """
    llama = engine.llama
    prompt_tokens = engine.tokenize(prompt, add_bos=True)
    _eval_prompt(engine, prompt_tokens)
    after_prompt = _last_logits(engine).copy()
    scores = []
    for text in continuations:
        tokens = engine.tokenize(text)
        if len(prompt_tokens) + len(tokens) >= engine.n_ctx:
            raise LocalAgentError(
                f"prompt is {len(prompt_tokens)} tokens; {text!r} does not fit the "
                f"{engine.n_ctx}-token context"
            )
        total = _logprob(after_prompt, tokens[0])
        llama.n_tokens = len(prompt_tokens)  # drop the previous continuation, keep the prompt
        for previous, token in zip(tokens, tokens[1:], strict=False):
            llama.eval([previous])
            total += _logprob(_last_logits(engine), token)
        scores.append(total)
    return scores
