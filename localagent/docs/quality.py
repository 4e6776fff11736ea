"""Telling extracted text that lost its spaces ("ofthepackageshouldbebrieflyexplained").

Some PDF text extractors glue the words of a whole line together; bm25 can then not match
those words. A "glued word" is a whitespace-separated token holding a run of at least
GLUED_LETTERS letters; English words rarely pass 20 letters, long compounds are rare enough
that a page needs several glued words, and a share of its words, to be flagged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

GLUED_LETTERS = 25
MIN_GLUED_WORDS = 3
MIN_GLUED_SHARE = 0.02

_TOKEN = re.compile(r"\S+")
_LONG_LETTER_RUN = re.compile(rf"[^\W\d_]{{{GLUED_LETTERS},}}")


@dataclass(frozen=True)
class GluedCount:
    glued: int
    words: int

    @property
    def share(self) -> float:
        return self.glued / self.words if self.words else 0.0


def count_glued(text: str) -> GluedCount:
    """How many words of ``text`` look glued, out of how many words."""
    tokens = _TOKEN.findall(text)
    return GluedCount(sum(1 for token in tokens if _LONG_LETTER_RUN.search(token)), len(tokens))


def looks_glued(text: str) -> bool:
    """True when a page's text has lost the spaces between many of its words."""
    count = count_glued(text)
    return count.glued >= MIN_GLUED_WORDS and count.share >= MIN_GLUED_SHARE
