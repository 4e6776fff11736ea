"""A GGUF model's tokenizer through llama.cpp (vocabulary only): the tokens the reader will see.

Training examples are tokenized by the same llama.cpp code that tokenizes ``ask``'s prompt, so
what the model learns to copy is exactly what it will be shown.
"""

from __future__ import annotations

from functools import cached_property, lru_cache
from pathlib import Path

from localagent.engine.loader import open_llama


class Vocab:
    def __init__(self, gguf: Path):
        self.llama = open_llama(gguf, vocab_only=True)

    @lru_cache(maxsize=200_000)  # noqa: B019 (one Vocab per build; sources recur across examples)
    def _tokenize(self, text: str) -> tuple[int, ...]:
        return tuple(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def tokenize(self, text: str) -> list[int]:
        return list(self._tokenize(text))

    @cached_property
    def _pieces(self) -> list[bytes]:
        return [self.llama.detokenize([t]) for t in range(self.llama.n_vocab())]

    def piece(self, token: int) -> bytes:
        return self._pieces[token]

    def offsets(self, text: str, tokens: list[int]) -> list[int] | None:
        """Byte offset in ``text`` (UTF-8) where each token starts, plus the end; None when the
        pieces do not spell the text (an unknown character)."""
        data = text.encode("utf-8")
        starts, at = [], 0
        for token in tokens:
            piece = self.piece(token)
            if at == 0 and piece.startswith(b" ") and not data.startswith(b" "):
                piece = piece[1:]  # the space llama.cpp puts in front of the text
            if data[at : at + len(piece)] != piece:
                return None
            starts.append(at)
            at += len(piece)
        return starts + [at] if at == len(data) else None

    @cached_property
    def bos(self) -> int:
        return int(self.llama.token_bos())

    @cached_property
    def eos(self) -> int:
        return int(self.llama.token_eos())

    @cached_property
    def newline(self) -> list[int]:
        return self.tokenize("\n")
