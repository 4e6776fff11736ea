"""Checking a drafted answer against the sources before anyone sees it.

A small base model copies well but also invents ("1000 degrees Fahrenheit"). An answer is shown
only when (1) at least MIN_SUPPORT (75%) of its content words and all of its numbers appear in one
sentence of a source, (2) that source shares enough words with the question (the passage is about
what was asked), (3) the sentence holding the answer mentions something asked about, (4) no other
passage matches the question better than the one around the answer (the model copied from the
wrong place), (5) it adds something the question did not already say, and (6) it is the kind of
thing asked for (a number for "how many", a date for "when", a name for "who"; see answer_types).
Otherwise the reply is "not found".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from localagent.agent.answer_types import expected_kind, kind_matches
from localagent.agent.prompts import says_not_found
from localagent.agent.terms import TOKEN, coverage, is_number, normalize, sentences, terms
from localagent.agent.types import Source

MIN_SUPPORT = 0.75  # share of the answer's words that must appear in the cited source
MIN_RELEVANCE = 0.5  # share of the question's words that must appear in that source


@dataclass
class Verdict:
    found: bool
    reason: str
    cited: list[Source] = field(default_factory=list)
    support: float = 0.0
    relevance: float = 0.0
    # the one fault is that the answer's words are not in the sources word for word: the model
    # may have paraphrased, and ``salvage`` may answer with the sentence it drew on instead
    paraphrase: bool = False


def support_of(answer_terms: list[str], source: Source) -> float:
    """Share of the answer's terms found in one sentence of the source; 0 when that sentence
    lacks any number of the answer ("3 weeks" is not supported by "every 4 weeks ... 3 years")."""
    best = 0.0
    for sentence in sentences(source.text) or [source.text]:
        present = set(terms(sentence))
        if any(is_number(t) and t not in present for t in answer_terms):
            continue
        best = max(best, coverage(answer_terms, present))
    return best


def source_terms(source: Source) -> set[str]:
    """Words of the source's text and of its file name (which often names the document)."""
    return set(terms(source.text + " " + Path(source.file).stem.replace("-", " ").replace("_", " ")))


def relevance_of(question: str, source: Source) -> float:
    return coverage(terms(question), source_terms(source))


def answer_sentence(answer_terms: list[str], source: Source) -> str:
    """The sentence of the source that holds most of the answer's words."""
    parts = sentences(source.text) or [source.text]
    return max(parts, key=lambda p: coverage(answer_terms, set(terms(p))))


def _windows(source: Source) -> list[set[str]]:
    """Terms of each sentence together with its neighbours (a subject named one sentence before)
    and the file name (which often names the document: "invoice-2024-117.pdf")."""
    name = set(terms(Path(source.file).stem.replace("-", " ").replace("_", " ")))
    parts = [set(terms(p)) for p in (sentences(source.text) or [source.text])]
    return [name.union(*parts[max(0, i - 1) : i + 2]) for i in range(len(parts))]


def focus_of(question: str, source: Source) -> float:
    """How well the best place of the source (a sentence and its neighbours) covers the question."""
    wanted = terms(question)
    return max((coverage(wanted, w) for w in _windows(source)), default=0.0)


def answer_focus(question: str, answer_terms: list[str], source: Source) -> float:
    """Question coverage of the windows that contain the sentence holding the answer."""
    parts = sentences(source.text) or [source.text]
    index = max(range(len(parts)), key=lambda i: coverage(answer_terms, set(terms(parts[i]))))
    windows = _windows(source)
    wanted = terms(question)
    return max(coverage(wanted, windows[i]) for i in range(max(0, index - 1), min(len(parts), index + 2)))


def sentence_on_topic(question: str, answer_terms: list[str], source: Source) -> bool:
    """Does the sentence holding the answer share a word with the question? ("1.7 litres" from
    "Maximum capacity: 1.7 litres." is no answer to "What is the power of the kettle?")"""
    sentence = answer_sentence(answer_terms, source)
    return bool(set(terms(question)) & set(terms(sentence)))


def verify(
    answer: str,
    cited_numbers: Sequence[int],
    sources: Sequence[Source],
    question: str,
    min_support: float = MIN_SUPPORT,
    min_relevance: float = MIN_RELEVANCE,
) -> Verdict:
    """Is ``answer`` supported by the sources? Cited sources are preferred; an answer that cites
    the wrong number but is found word for word in another source is credited to that one."""
    if says_not_found(answer):
        return Verdict(False, "the model found no answer in the sources")
    answer_terms = terms(answer)
    if not answer_terms:
        return Verdict(False, "the answer has no words that can be checked against the sources")
    novel = set(answer_terms) - set(terms(question))
    if not novel:
        return Verdict(False, "the answer only repeats the question")
    if not kind_matches(question, answer):
        return Verdict(False, f"the answer is not the kind the question asks for ({expected_kind(question)})")
    if not sources:
        return Verdict(False, "no sources")
    scored = sorted(
        ((support_of(answer_terms, s), s.n in cited_numbers, relevance_of(question, s), s) for s in sources),
        key=lambda x: (x[0], x[1], x[2]),
        reverse=True,
    )
    support, _, relevance, best = scored[0]
    if support < min_support:
        return Verdict(
            False,
            f"the answer is not in the sources (best support {support:.2f})",
            support=support,
            relevance=relevance,
            paraphrase=True,
        )
    if relevance < min_relevance:
        return Verdict(
            False,
            f"the passage holding the answer is not about the question (relevance {relevance:.2f})",
            support=support,
            relevance=relevance,
        )
    if not sentence_on_topic(question, answer_terms, best):
        return Verdict(
            False,
            "the sentence holding the answer does not mention what was asked",
            support=support,
            relevance=relevance,
        )
    best_focus = max(focus_of(question, s) for s in sources)
    if answer_focus(question, answer_terms, best) + 1e-9 < best_focus:
        return Verdict(
            False,
            "another passage matches the question better than the one holding the answer",
            support=support,
            relevance=relevance,
        )
    cited = [best] + [
        s
        for sup, was_cited, rel, s in scored[1:]
        if was_cited and sup >= min_support and rel >= min_relevance
    ]
    return Verdict(True, "supported", cited=cited, support=support, relevance=relevance)


def key_terms(text: str) -> set[str]:
    """Terms of the names and numbers in ``text``: capitalised words after the first, and words
    with digits ("Tallinn", "Foundation", "2026")."""
    tokens = TOKEN.findall(text)
    return {
        normalize(t)
        for i, t in enumerate(tokens)
        if (i > 0 and t[:1].isupper()) or any(c.isdigit() for c in t)
    }


def salvage(
    draft: str, sources: Sequence[Source], question: str, min_relevance: float = MIN_RELEVANCE
) -> tuple[str, Source] | None:
    """When the model paraphrased ("will be located in the city of Tallinn"), answer with the
    source sentence it drew on instead: a sentence that mentions what was asked and holds every
    number of the draft and every name that some source holds, of those the question did not have
    (at least one; a name no source holds is the model's own addition, as "Estonia" in "located in
    Tallinn, Estonia", not what it drew on; a number no sentence holds makes the draft wrong).
    None if none.

    Only for a draft whose one fault is its wording (``Verdict.paraphrase``): a draft that only
    repeats the question, is about another passage or is not the kind asked for is wrong, not
    paraphrased, and the sentence it drew on would be a wrong answer too (on the real-manuals
    set, 4 such rescues were all wrong, 2 of them answers to unanswerable questions)."""
    if says_not_found(draft):
        return None
    question_terms = set(terms(question))
    in_sources = set().union(*(terms(source.text) for source in sources))
    keys = {k for k in key_terms(draft) - question_terms if is_number(k) or k in in_sources}
    if not keys:
        return None
    best: tuple[float, str, Source] | None = None
    for source in sources:
        if relevance_of(question, source) < min_relevance:
            continue
        for sentence in sentences(source.text):
            present = set(terms(sentence))
            if not (present & question_terms) or not keys <= present:
                continue
            score = len(present & question_terms) / (1 + len(present))
            if best is None or score > best[0]:
                best = (score, sentence, source)
    return (best[1], best[2]) if best else None
