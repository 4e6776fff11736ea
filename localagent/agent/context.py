"""Context assembly: retrieved chunks -> numbered, de-duplicated, ordered sources that fit the
token budget. Each source is cut down to the sentences around the question's words, so a small
model sees little text and the prompt stays fast to evaluate."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from localagent.agent.terms import coverage, flatten, sentences, terms
from localagent.agent.types import Source
from localagent.index import SearchHit

TokenCounter = Callable[[str], int]


def _sentence_score(sentence: str, wanted: set[str]) -> int:
    return len(set(terms(sentence)) & wanted)


def _cut_words(text: str, max_tokens: int, count: TokenCounter, wanted: set[str]) -> str:
    """A window of words of one over-long sentence, starting a little before its first match."""
    words = text.split()
    start = next((i for i, w in enumerate(words) if set(terms(w)) & wanted), 0)
    start = max(0, start - 8)
    end = start
    while end < len(words) and count(" ".join(words[start : end + 1])) <= max_tokens:
        end += 1
    return " ".join(words[start : max(end, start + 1)])


def best_excerpt(text: str, question_terms: set[str], max_tokens: int, count: TokenCounter) -> str:
    """The sentences of ``text`` around the one that shares most words with the question,
    within ``max_tokens`` (whole text when it already fits)."""
    flat = flatten(text)
    if count(flat) <= max_tokens:
        return flat
    parts = sentences(flat)
    if not parts:
        return ""
    scores = [_sentence_score(p, question_terms) for p in parts]
    best = max(range(len(parts)), key=lambda i: (scores[i], -i))
    if count(parts[best]) > max_tokens:
        return _cut_words(parts[best], max_tokens, count, question_terms)
    lo = hi = best
    used = count(parts[best])
    grew = True
    while grew:
        grew = False
        for candidate in (hi + 1, lo - 1):  # prefer the sentence after: answers often follow
            if 0 <= candidate < len(parts):
                cost = count(parts[candidate]) + 1
                if used + cost <= max_tokens:
                    used += cost
                    lo, hi = min(lo, candidate), max(hi, candidate)
                    grew = True
    return " ".join(parts[lo : hi + 1])


def _near_duplicate(a: set[str], b: set[str]) -> bool:
    return bool(a) and bool(b) and len(a & b) / min(len(a), len(b)) >= 0.8


def build_sources(
    hits: Sequence[SearchHit],
    question: str,
    count: TokenCounter,
    max_sources: int = 4,
    budget_tokens: int = 360,
    source_tokens: int = 120,
) -> list[Source]:
    """Numbered sources for the prompt: best question-word coverage first (bm25 breaks ties),
    one per chunk, near-duplicates (overlapping neighbour chunks) dropped, within the budget."""
    wanted = set(terms(question))
    ranked = sorted(
        enumerate(hits), key=lambda item: (-round(coverage(wanted, set(terms(item[1].text))), 2), item[0])
    )
    sources: list[Source] = []
    kept_terms: list[set[str]] = []
    used = 0
    seen: set[int] = set()
    for _, hit in ranked:
        if len(sources) >= max_sources or hit.chunk_id in seen:
            continue
        seen.add(hit.chunk_id)
        excerpt = best_excerpt(hit.text, wanted, source_tokens, count)
        excerpt_terms = set(terms(excerpt))
        if not excerpt_terms or any(_near_duplicate(excerpt_terms, k) for k in kept_terms):
            continue
        cost = count(excerpt) + 4
        if sources and used + cost > budget_tokens:
            continue
        used += cost
        kept_terms.append(excerpt_terms)
        sources.append(
            Source(
                n=len(sources) + 1,
                file=hit.file,
                page=hit.page,
                chunk_id=hit.chunk_id,
                score=hit.score,
                text=excerpt,
                chunk_text=hit.text,
                line_start=hit.line_start,
                line_end=hit.line_end,
                heading=hit.heading,
                page_label=hit.page_label,
            )
        )
    return sources
