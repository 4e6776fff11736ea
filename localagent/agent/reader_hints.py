"""Where a reader should look first: the sentences of its sources that share the most of the
question's rarer words, named after the question as a line of hints.

    Question: How much is the monthly rent?
    Near: [2] The monthly rent is 1,450 euros, … [1] Rent is paid by bank …
    Answer:

Reading models have long been given such a signal (DrQA marks each passage word that occurs in the
question): a small reader learns to weigh a few named candidates against the question far sooner
than to search 1,400 tokens for the words the question shares with one sentence. The hints only
point; the reader still reads, picks a candidate or another sentence, or declines, and copies its
answer from the source itself (``engine.spans``), never from this line.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from localagent.agent.terms import sentences, terms

HINT_SENTENCES = 3  # sentences named, best first
HINT_WORDS = 6  # each named by its first words


def rarity(question: str, texts: Sequence[str]) -> dict[str, float]:
    """Each question term's inverse frequency among the sentences of ``texts``."""
    parts = [set(terms(s)) for t in texts for s in sentences(t)]
    n = max(1, len(parts))
    return {w: math.log(1 + n / (1 + sum(w in p for p in parts))) for w in set(terms(question))}


def weight_of(words: Iterable[str], weights: dict[str, float]) -> float:
    """The summed weight of ``words``, the same in any order: ``math.fsum`` rounds exactly once,
    where a plain sum over a set would depend on the set's order, which PYTHONHASHSEED changes
    from one process to the next (and with it the order of two equally good sentences)."""
    return math.fsum(weights.get(w, 0.0) for w in words)


def best_sentences(question: str, texts: Sequence[str], k: int = HINT_SENTENCES) -> list[tuple[int, str]]:
    """(index of the text, sentence) of the ``k`` sentences holding the most weight of the
    question's terms (weighted by ``rarity``), best first; a sentence sharing none is never named."""
    weights = rarity(question, texts)
    scored = []
    for i, text in enumerate(texts):
        for j, sentence in enumerate(sentences(text)):
            score = weight_of(set(terms(sentence)), weights)
            if score > 0:
                scored.append((-score, i, j, sentence))
    scored.sort()
    return [(i, sentence) for _, i, _, sentence in scored[:k]]


def hint_line(question: str, numbers: Sequence[int], texts: Sequence[str]) -> str:
    """ "Near: [n] first words … [m] first words …" for the best sentences (``numbers[i]`` is text
    i's source number), or "Near: nothing" when no sentence shares a word with the question."""
    named = [
        f"[{numbers[i]}] " + " ".join(sentence.split()[:HINT_WORDS]) + " …"
        for i, sentence in best_sentences(question, texts)
    ]
    return "Near: " + (" ".join(named) if named else "nothing")


def is_first_hint(question: str, texts: Sequence[str], source: int, span: str) -> bool:
    """Whether ``span``, copied from ``texts[source]``, is (or holds, or lies within) the sentence
    the hint line names first: the reader and the lexical signal agree on where the answer is."""
    named = best_sentences(question, texts, 1)
    if not named or named[0][0] != source:
        return False
    a, b = " ".join(span.split()), " ".join(named[0][1].split())
    return bool(a) and (a in b or b in a)
