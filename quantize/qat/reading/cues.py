"""Cue lookups: questions made of a few words of the answer's sentence, asked about real text.

Window lookups (``lookup.py``) taught tern-reader to find a run of the question's words in
shuffled sources and copy what follows. Real questions differ in three ways, and cue lookups
drill each: the sources read as text (words in order), the question's words are scattered
around the answer, before *and* after it ("How large is the security deposit?" for "A security
deposit of 2,900 euros is held"), and the question's first words say what kind of answer it wants
(a number, a year, a name, an option), with answers of other kinds nearby as distractors.

A cue lookup picks an answer-like span of a source (a capital, a digit, "-" or "/" first; 1-4
words, up to the end of a clause), then 2-4 content words of its sentence within ten words of it
(not the span's own), in order or shuffled, after a wh-phrase chosen by the span's kind; it is
kept only where no other sentence of the sources holds all of those words. An unanswerable one is
a cue question about another row's sentence whose words no sentence of these sources holds.
"""

from __future__ import annotations

import re

import numpy as np

SENTENCE_END = ".!?;:"
CLAUSE_END = ".,;:!?)"
CUE_WORDS = (2, 4)  # content words of a question
CUE_REACH = 10  # words either side of the answer that may be cues
NO_WH_SHARE = 0.15  # questions of bare cue words, as users type them
STOPWORDS = frozenset(
    "also been being both could does each either every from have having here into itself like more "
    "most must neither only other over same shall should some such than that their them then there "
    "these they this those through under upon very were what when where which while will with "
    "within without would your".split()
)
YEAR = re.compile(r"^(1[6-9]|20)\d\d$")
WH_BY_KIND = {
    "year": ("When", "What year", "In which year"),
    "number": ("How many", "How much", "What", "Which number"),
    "name": ("Who", "What", "Which"),
    "option": ("Which option", "What", "Which"),
    "path": ("Which path", "Where", "What"),
}


FUNCTION_WORDS = frozenset(
    "a an and are as at be by for he her his i in is it its of on or our she the to was we you".split()
)


def answer_words(texts: list[str], at: int, sentence_start: int) -> int:
    """How many words, from word ``at``, make an answer (0: none starts there). A name is a run of
    up to four words that start with a capital or a digit; a number may take one word after it
    (its unit: "2,900 euros"); an option or a path is one word. Each stops at a clause end."""
    first = texts[at].strip()
    if at == sentence_start or not first or first.lower().strip(".,;:") in FUNCTION_WORDS:
        return 0
    if not (first[0].isupper() or first[0].isdigit() or first[0] in "-/"):
        return 0
    if first[0] in "-/" and not first.lstrip("-/")[:1].isalnum():
        return 0  # a dash or a slash alone
    if _ends_with(first, CLAUSE_END) or first[0] in "-/":
        return 1
    count = 1
    while at + count < len(texts) and count < 4:
        word = texts[at + count].strip()
        unit = word.rstrip(".,;:!?)")
        if first[0].isdigit() and count == 1 and unit.isalpha() and unit.lower() not in FUNCTION_WORDS:
            return 2  # the unit
        if not word or not (word[0].isupper() or word[0].isdigit()):
            break
        count += 1
        if _ends_with(word, CLAUSE_END):
            break
    return count


def _ends_with(word: str, marks: str) -> bool:
    """Does ``word`` end with one of ``marks`` (a clause's or a sentence's end)?"""
    last = word.rstrip()[-1:]
    return bool(last) and last in marks


def answer_kind(text: str) -> str:
    """The kind of answer a span is, by its look: year, number, name, option or path."""
    first = text.split()[0] if text.split() else ""
    if YEAR.match(first.rstrip(".,;:")):
        return "year"
    if first[:1].isdigit():
        return "number"
    if first[:1] == "-":
        return "option"
    if first[:1] == "/":
        return "path"
    return "name"


def cue_form(word: str) -> str | None:
    """A word as a question may use it (lower case, no marks around it), or None where it is not a
    content word (short, a stop word, not letters)."""
    core = word.strip().strip(".,;:!?()[]{}\"'`*").lower()
    if len(core) < 4 or not core.isalpha() or core in STOPWORDS:
        return None
    return core


class Sentences:
    """A source's words (token arrays) split into sentences, with each sentence's cue forms."""

    def __init__(self, words: list[np.ndarray], text_of):
        self.texts = [text_of(w) for w in words]
        self.cues = [cue_form(t) for t in self.texts]
        self.sentence: list[int] = []  # per word, its sentence's index
        self.bounds: list[tuple[int, int]] = []
        start = 0
        for i, text in enumerate(self.texts):
            self.sentence.append(len(self.bounds))
            if _ends_with(text, SENTENCE_END) or i == len(words) - 1:
                self.bounds.append((start, i + 1))
                start = i + 1
        self.forms = [{c for c in self.cues[s:e] if c} for s, e in self.bounds]


def only_one_of_its_kind(source: Sentences, at: int, length: int, kind: str) -> bool:
    """Is the answer of ``length`` words at word ``at`` the only answer of its kind in its
    sentence (others may repeat its first word)? Then the sentence's words and the kind point at
    it alone."""
    start, end = source.bounds[source.sentence[at]]
    return not any(
        not at <= i < at + length
        and source.texts[i] != source.texts[at]
        and answer_words(source.texts, i, start)
        and answer_kind(source.texts[i]) == kind
        for i in range(start, end)
    )


def holds_all(sentences: list[Sentences], cues: list[str], skip: tuple[int, int] | None = None) -> bool:
    """Does any sentence of ``sentences`` (but ``skip``: source, sentence) hold every cue?"""
    wanted = set(cues)
    return any(
        wanted <= forms
        for n, source in enumerate(sentences)
        for k, forms in enumerate(source.forms)
        if (n, k) != skip
    )


def cue_question(
    source: Sentences, at: int, length: int, kind: str, rng: np.random.Generator
) -> tuple[str, list[str], int] | None:
    """(question, its cue words, the sentence's index) about the span of ``length`` words at word
    ``at``, or None where its sentence has fewer than two content words near it."""
    k = source.sentence[at]
    start, end = source.bounds[k]
    near = range(max(start, at - CUE_REACH), min(end, at + length + CUE_REACH))
    pool = sorted({c for i in near if not at <= i < at + length and (c := source.cues[i])})
    if len(pool) < CUE_WORDS[0]:
        return None
    count = min(len(pool), int(rng.integers(CUE_WORDS[0], CUE_WORDS[1] + 1)))
    picked = [pool[i] for i in sorted(rng.choice(len(pool), size=count, replace=False))]
    order = {c: i for i, c in enumerate(source.cues[start:end]) if c}
    picked.sort(key=order.__getitem__)
    if rng.random() < 0.5:
        rng.shuffle(picked)
    words = " ".join(picked)
    if rng.random() >= NO_WH_SHARE:
        options = WH_BY_KIND[kind]
        words = f"{options[int(rng.integers(len(options)))]} {words}"
    return words[0].upper() + words[1:] + "?", picked, k
