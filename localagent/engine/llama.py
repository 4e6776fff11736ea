"""One wrapper around `llama_cpp.Llama`: load a GGUF, stream tokens, cancel, measure.

    engine = Engine(path, n_ctx=2048)
    for piece in engine.complete("The capital of France is", max_tokens=8, temperature=0):
        print(piece, end="")
    print(engine.stats.gen_tok_s)

llama.cpp's own log lines go to stderr only with verbose=True.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from localagent.config import Settings
from localagent.engine.loader import open_llama
from localagent.engine.quiet import quiet_stderr
from localagent.engine.system import physical_cores, rss_bytes
from localagent.errors import LocalAgentError
from localagent.models.gguf_info import GGUFInfo, read_gguf_info


@dataclass
class EngineStats:
    model_path: str = ""
    model_name: str = ""
    architecture: str = ""
    file_size: int = 0
    bits_per_weight: float = 0.0
    main_type: str = ""
    type_mix: dict[str, int] = field(default_factory=dict)
    n_ctx: int = 0
    n_threads: int = 0
    load_s: float = 0.0
    prompt_tokens: int = 0
    prompt_s: float = 0.0
    prompt_tok_s: float = 0.0
    reused_tokens: int = 0  # prompt tokens served from the KV cache of the previous call
    gen_tokens: int = 0
    gen_s: float = 0.0
    gen_tok_s: float = 0.0
    ttft_s: float = 0.0
    context_used: int = 0
    rss_bytes: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def record_call(
        self,
        *,
        ttft_s: float,
        prompt_tokens: int,
        prompt_s: float,
        reused_tokens: int,
        gen_tokens: int,
        gen_s: float,
        context_used: int,
    ) -> None:
        """The figures of the last generation call, with the rates derived from them."""
        self.ttft_s = round(ttft_s, 4)
        self.prompt_tokens, self.prompt_s, self.reused_tokens = prompt_tokens, prompt_s, reused_tokens
        self.prompt_tok_s = round(prompt_tokens / prompt_s, 1) if prompt_s > 0 else 0.0
        self.gen_tokens, self.gen_s = gen_tokens, gen_s
        self.gen_tok_s = round(gen_tokens / gen_s, 1) if gen_s > 0 else 0.0
        self.context_used = context_used
        self.rss_bytes = rss_bytes()


class Engine:
    """A loaded GGUF model. Not re-entrant: one generation at a time (guarded by a lock)."""

    def __init__(
        self,
        model_path: Path | str,
        n_ctx: int = 4096,
        n_threads: int = 0,
        n_batch: int = 512,
        seed: int = -1,
        verbose: bool = False,
        logits_all: bool = False,
        flash_attn: bool | None = None,
    ):
        """flash_attn: llama.cpp's fused attention; None means on for reader models (a GGUF whose
        ``localagent.role`` is "reader": about 15% less time to their first token over 900 prompt
        tokens on 2 cores, the same answers on the QA sets) and off for the rest."""
        import llama_cpp

        self.path = Path(model_path)
        self.info: GGUFInfo = read_gguf_info(self.path)
        self.verbose = verbose
        threads = n_threads or physical_cores()
        if flash_attn is None:
            flash_attn = self.info.role == "reader"
        started = time.perf_counter()
        try:
            self.llama = open_llama(
                self.path,
                verbose=verbose,
                n_ctx=n_ctx,
                n_threads=threads,
                n_threads_batch=threads,
                n_batch=min(n_batch, n_ctx),
                seed=seed if seed >= 0 else llama_cpp.LLAMA_DEFAULT_SEED,
                logits_all=logits_all,
                flash_attn=flash_attn,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise LocalAgentError(f"{self.path}: llama.cpp could not load the model ({exc})") from exc
        self._lock = threading.Lock()
        self.stats = EngineStats(
            model_path=str(self.path),
            model_name=self.info.name or self.path.stem,
            architecture=self.info.architecture,
            file_size=self.info.file_size,
            bits_per_weight=self.info.bits_per_weight,
            main_type=self.info.main_type,
            type_mix=self.info.type_mix,
            n_ctx=self.llama.n_ctx(),
            n_threads=threads,
            load_s=round(time.perf_counter() - started, 3),
            rss_bytes=rss_bytes(),
        )

    # --- facts ---
    @property
    def n_ctx(self) -> int:
        return self.llama.n_ctx()

    @property
    def has_chat_template(self) -> bool:
        return self.info.has_chat_template

    def tokenize(self, text: str, add_bos: bool = False) -> list[int]:
        return self.llama.tokenize(text.encode("utf-8"), add_bos=add_bos, special=True)

    def detokenize(self, tokens: list[int]) -> str:
        return self.llama.detokenize(tokens).decode("utf-8", errors="replace")

    # --- generation ---
    def _grammar(self, grammar: Any) -> Any:
        if grammar is None or not isinstance(grammar, str):
            return grammar
        import llama_cpp

        try:
            with quiet_stderr(not self.verbose):
                return llama_cpp.LlamaGrammar.from_string(grammar, verbose=self.verbose)
        except ValueError as exc:
            raise LocalAgentError(f"invalid grammar: {exc}") from exc

    def _tokens_that_fit(self, n_prompt: int, max_tokens: int) -> int:
        """The generation budget: ``max_tokens`` cut to the room the prompt leaves in the context
        window (what llama.cpp would do silently), or a one-line error when no room is left."""
        room = self.n_ctx - n_prompt
        if room <= 0:
            raise LocalAgentError(
                f"prompt is {n_prompt} tokens, the context window is {self.n_ctx}; shorten it or raise n_ctx"
            )
        return min(max_tokens, room) if max_tokens > 0 else room

    def complete(
        self,
        prompt: str,
        max_tokens: int = 256,
        temperature: float = 0.7,
        stop: list[str] | None = None,
        seed: int | None = None,
        grammar: Any = None,
        cancel: threading.Event | None = None,
        top_k: int = 40,
        top_p: float = 0.95,
        repeat_penalty: float = 1.0,
    ) -> Iterator[str]:
        """Stream a raw completion of `prompt`, piece by piece. Stops at a stop string, at
        max_tokens, at end of text, or as soon as `cancel` is set."""
        n_prompt = len(self.tokenize(prompt, add_bos=True))
        max_tokens = self._tokens_that_fit(n_prompt, max_tokens)
        kwargs = dict(
            prompt=prompt,
            max_tokens=max_tokens,
            temperature=temperature,
            stop=stop or [],
            top_k=top_k,
            top_p=top_p,
            repeat_penalty=repeat_penalty,
            stream=True,
            grammar=self._grammar(grammar),
        )
        if seed is not None and seed >= 0:
            kwargs["seed"] = seed
        return self._stream(
            lambda: self.llama.create_completion(**kwargs),
            lambda chunk: chunk["choices"][0].get("text", ""),
            n_prompt,
            cancel,
        )

    def chat(
        self,
        messages: list[dict[str, str]],
        max_tokens: int = 256,
        temperature: float = 0.7,
        stop: list[str] | None = None,
        seed: int | None = None,
        grammar: Any = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[str]:
        """Stream a chat reply, formatted with the GGUF's own chat template. The fit check counts the
        messages' own tokens (a lower bound: the template adds its markers)."""
        if not self.has_chat_template:
            raise LocalAgentError(f"{self.path.name} has no chat template; use a completion prompt")
        n_prompt = sum(len(self.tokenize(m.get("content", ""))) for m in messages)
        max_tokens = self._tokens_that_fit(n_prompt, max_tokens)
        kwargs = dict(
            messages=messages,
            max_tokens=max_tokens,
            temperature=temperature,
            stop=stop or [],
            stream=True,
            grammar=self._grammar(grammar),
        )
        if seed is not None and seed >= 0:
            kwargs["seed"] = seed
        return self._stream(
            lambda: self.llama.create_chat_completion(**kwargs),
            lambda chunk: chunk["choices"][0].get("delta", {}).get("content") or "",
            n_prompt,
            cancel,
        )

    def _stream(self, start, text_of, n_prompt: int, cancel: threading.Event | None) -> Iterator[str]:
        with self._lock:
            started = time.perf_counter()
            first = None
            n_gen = 0
            before = self._n_past()
            self._perf_reset()
            stream = start()
            try:
                for chunk in stream:
                    if first is None:
                        first = time.perf_counter()
                    n_gen += 1
                    text = text_of(chunk)
                    if text:
                        yield text
                    if cancel is not None and cancel.is_set():
                        break
            finally:
                close = getattr(stream, "close", None)
                if close is not None:
                    close()
                self._record(started, first, n_prompt, n_gen, before)

    def _n_past(self) -> int:
        return int(getattr(self.llama, "n_tokens", 0))

    def _record(self, started: float, first: float | None, n_prompt: int, n_gen: int, before: int) -> None:
        now = time.perf_counter()
        first = first or now
        perf = self._perf()
        prompt_tokens = int(perf.get("n_p_eval", n_prompt))
        self.stats.record_call(
            ttft_s=first - started,
            prompt_tokens=prompt_tokens,
            prompt_s=perf.get("t_p_eval_s", first - started),
            reused_tokens=max(0, n_prompt - prompt_tokens) if before else 0,
            gen_tokens=int(perf.get("n_eval", n_gen)),
            gen_s=perf.get("t_eval_s", now - first),
            context_used=self._n_past(),
        )

    def _perf_reset(self) -> None:
        try:
            import llama_cpp

            llama_cpp.llama_perf_context_reset(self.llama._ctx.ctx)
        except (AttributeError, TypeError):
            pass

    def _perf(self) -> dict[str, float]:
        """llama.cpp's own timings since the last `_perf_reset` (the Engine resets them before each call)."""
        try:
            import llama_cpp

            data = llama_cpp.llama_perf_context(self.llama._ctx.ctx)
            return {
                "n_p_eval": int(data.n_p_eval),
                "t_p_eval_s": data.t_p_eval_ms / 1000,
                "n_eval": int(data.n_eval),
                "t_eval_s": data.t_eval_ms / 1000,
            }
        except (AttributeError, TypeError):
            return {}

    def close(self) -> None:
        close = getattr(self.llama, "close", None)
        if close is not None:
            close()


def load_engine(config: Settings, model: str | None = None, logits_all: bool = False) -> Engine:
    """An Engine for the model named by `model` (or the config's / registry's default)."""
    from localagent.models import resolve_model

    path = resolve_model(model or config.model or None)
    return Engine(
        path,
        n_ctx=config.n_ctx,
        n_threads=config.n_threads,
        n_batch=config.n_batch,
        seed=config.seed,
        verbose=config.verbose,
        logits_all=logits_all,
    )
