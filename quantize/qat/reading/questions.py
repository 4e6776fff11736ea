"""Questions about spans of a sentence, written by rules: the answer is a span the reader copies.

``find_spans`` picks answerable spans of a sentence by kind (date, number with unit, percentage,
version, path, option or identifier, name, defined term, short phrase after a copula). For each
span ``ask_about`` writes questions in several forms, so that the model learns more than "copy what
follows the overlapping words":

- wh-transforms: "The default weight is 50." -> "What is the default weight?" (copula inversion),
  or the sentence with the span replaced by a wh-phrase ("The lease ends on what date?");
- paraphrases: synonyms in the user's words ("largest" for "maximum"), clauses reordered, a subset
  of the content words ("default weight?"), conversational openers ("Do you know ...").

Every choice is drawn from a ``random.Random`` the caller seeds, so the output is deterministic.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from quantize.qat.reading.natural import DETERMINERS, natural_question

MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
UNIT = (
    r"(?:%|percent|per cent|seconds?|secs?|minutes?|mins?|hours?|days?|weeks?|months?|years?|ms|"
    r"milliseconds?|microseconds?|bytes?|[KMGT]i?B|kB|kilobytes?|megabytes?|gigabytes?|bits?|"
    r"characters?|chars|lines?|columns?|pages?|times|entries|items|words|digits|pixels?|points?|"
    r"degrees?|dollars?|euros?|pounds?|miles?|feet|inches|metres?|meters?|km|kg|tons?|"
    r"people|men|ships?|states?|members?|votes?|acres?|cents?|threads?|processes|levels?)"
)
SENTENCE_OPENERS = (  # words that open a sentence but not a name
    f"{DETERMINERS}|In|On|At|For|If|When|After|Before|Since|During|By|To|From|With|As|It|There|Here|"
    "We|You|They|He|She|But|And|Or|So|Yet|However|Then|Also|Thus|Although|While|Unless|Under|Upon|Of"
)
KIND_PATTERNS = [
    (
        "date",
        re.compile(
            rf"\b(?:\d{{1,2}} {MONTH},? \d{{4}}|{MONTH} \d{{1,2}}, \d{{4}}|{MONTH} \d{{4}}|"
            r"\d{4}-\d{2}-\d{2})\b"
        ),
    ),
    ("version", re.compile(r"\b(?:[Vv]ersion |v)?\d+\.\d+(?:\.\d+)+\b|\b[Vv]ersion \d+(?:\.\d+)?\b")),
    ("percentage", re.compile(r"\b\d+(?:\.\d+)?(?: ?%| percent| per cent)")),
    ("quantity", re.compile(rf"\b\d[\d,]*(?:\.\d+)? ?{UNIT}\b")),
    ("path", re.compile(r"(?<![\w/])(?:~|\$\w+)?(?:/[\w.+@-]+){2,}/?")),
    ("option", re.compile(r"(?<![\w-])--?[a-zA-Z][\w-]*(?:=[\w.:/-]+)?")),
    ("identifier", re.compile(r"\b[a-z_][a-z0-9]*(?:_[a-z0-9]+)+\b|\b\w+\(\)")),
    ("year", re.compile(r"\b(?:1[6-9]\d\d|20[0-4]\d)\b")),
    ("number", re.compile(r"\b\d[\d,]*(?:\.\d+)?\b")),
    (
        "name",
        re.compile(
            r"(?<=[a-z,;] )(?:[A-Z][a-z]+|[A-Z]{2,})(?: (?:of |de |von |the )?(?:[A-Z][a-z]+|[A-Z]{2,})){1,3}"
            r"|(?<=\bby )[A-Z][a-z]+|\b[A-Z]{3,}\b"
            # a name of two words or more that starts a sentence, as its subject
            rf"|^(?!(?:{SENTENCE_OPENERS})\b)[A-Z][a-z]+(?: (?:of |de |von |the |& )?[A-Z][a-z]+\.?){{1,3}}"
            r"(?= (?:is|was|are|were|has|had|[a-z]{2,}ed)\b)"
        ),
    ),
]
WH = {
    "date": ["When", "On what date", "What date"],
    "year": ["In what year", "When", "Which year"],
    "version": ["Which version", "What version"],
    "percentage": ["What percentage", "How much", "What share"],
    "quantity": ["How many", "How much", "How long", "What"],
    "number": ["What number", "How many", "What"],
    "path": ["Which file", "What path", "Where"],
    "option": ["Which option", "What flag", "Which switch"],
    "identifier": ["Which name", "What identifier", "Which function"],
    "name": ["Who", "Which", "What"],
    "term": ["What"],
    "phrase": ["What"],
}
COPULA = re.compile(
    r"^(?P<subject>.{3,80}?)\s+(?P<verb>is|are|was|were|will be|can be|must be|defaults to|"
    r"is set to|means|refers to)\s+(?:(?:on|at|in|by|of|to|about|only|always|called|named)\s+)?$"
)
DEFINITION = re.compile(
    r"^(?P<term>(?:[Aa]n? |[Tt]he )?[\w -]{2,40}?) (?:is|are|means|refers to) "
    r"(?P<answer>(?:a|an|the) [^,.;:()]{3,60})"
)
SYNONYMS = {
    "maximum": ["largest", "highest", "biggest"],
    "minimum": ["smallest", "lowest", "least"],
    "default": ["standard", "usual"],
    "specify": ["give", "set", "choose"],
    "specifies": ["gives", "sets"],
    "display": ["show", "print"],
    "displays": ["shows", "prints"],
    "print": ["show", "output", "write"],
    "prints": ["shows", "outputs", "writes"],
    "create": ["make", "produce"],
    "creates": ["makes", "produces"],
    "delete": ["remove", "erase"],
    "deletes": ["removes", "erases"],
    "remove": ["delete"],
    "begin": ["start"],
    "begins": ["starts"],
    "start": ["begin"],
    "end": ["finish"],
    "ends": ["finishes"],
    "use": ["employ", "utilise"],
    "uses": ["employs"],
    "used": ["employed"],
    "file": ["document"],
    "directory": ["folder"],
    "number": ["count", "amount"],
    "size": ["length"],
    "value": ["setting"],
    "large": ["big"],
    "small": ["little"],
    "fast": ["quick"],
    "quickly": ["fast"],
    "error": ["failure"],
    "option": ["flag", "setting"],
    "options": ["flags", "settings"],
    "enable": ["turn on", "switch on"],
    "disable": ["turn off", "switch off"],
    "allow": ["permit", "let"],
    "allows": ["permits", "lets"],
    "require": ["need"],
    "requires": ["needs"],
    "returns": ["gives back", "yields"],
    "obtain": ["get"],
    "receive": ["get"],
    "purchase": ["buy"],
    "assist": ["help"],
    "increase": ["raise"],
    "reduce": ["lower"],
    "country": ["nation"],
    "nation": ["country"],
    "government": ["administration"],
    "people": ["citizens"],
    "war": ["conflict"],
    "ship": ["vessel"],
    "whale": ["leviathan"],
    "said": ["stated"],
    "important": ["key"],
}
STOP = set(
    "a an the of to in on at by for from with and or is are was were be been it its this that these "
    "those as which who whom what when where how why if then than so not no do does did can may will "
    "shall would should could must has have had".split()
)
# How often a span of each kind is asked about, relative to the others (names are everywhere).
KIND_WEIGHT = {
    "name": 0.6,
    "phrase": 1.0,
    "term": 2.0,
    "number": 1.2,
    "quantity": 3.0,
    "percentage": 3.0,
    "date": 3.0,
    "year": 2.0,
    "version": 3.0,
    "path": 2.0,
    "option": 1.0,
    "identifier": 1.2,
}
NATURAL_SHARE = 0.8  # of the spans a whole question fits, how many are asked that way
OPENERS = [
    "",
    "",
    "",
    "",
    "Do you know ",
    "Can you tell me ",
    "Please tell me ",
    "I need to know ",
    "Quick question: ",
]
_WORD = re.compile(r"[\w'-]+")


@dataclass(frozen=True)
class Span:
    start: int  # char offsets in the sentence
    end: int
    kind: str

    def text(self, sentence: str) -> str:
        return sentence[self.start : self.end]


def find_spans(sentence: str) -> list[Span]:
    """Non-overlapping answer spans of ``sentence``, most specific kind first."""
    taken: list[tuple[int, int]] = []
    spans = []
    for kind, pattern in KIND_PATTERNS:
        for match in pattern.finditer(sentence):
            start, end = match.span()
            text = match.group(0).strip(" ,.")
            if not text or any(start < e and s < end for s, e in taken):
                continue
            if kind == "number" and len(text) < 2 and not sentence[end : end + 1].isalpha():
                continue  # bare one-digit numbers are list markers more often than answers
            taken.append((start, end))
            spans.append(Span(start, start + len(match.group(0).rstrip(" ,.")), kind))
    definition = DEFINITION.match(sentence)
    if definition and not any(
        s < definition.end("answer") and definition.start("answer") < e for s, e in taken
    ):
        spans.append(Span(definition.start("answer"), definition.end("answer"), "term"))
    copula = re.search(r"\b(?:is|are|was|were) (?P<answer>[^,.;:()]{2,40}?)[.;]$", sentence)
    if copula and not any(s < copula.end("answer") and copula.start("answer") < e for s, e in taken):
        if len(copula.group("answer").split()) <= 6:
            spans.append(Span(copula.start("answer"), copula.end("answer"), "phrase"))
    return spans


def _content_words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text) if w.lower() not in STOP]


def _paraphrase_words(text: str, rng: random.Random, rate: float) -> str:
    out = []
    for word in text.split():
        bare = word.strip(",.;:()\"'").lower()
        if bare in SYNONYMS and rng.random() < rate:
            out.append(word.lower().replace(bare, rng.choice(SYNONYMS[bare])))
        else:
            out.append(word)
    return " ".join(out)


def _tidy(question: str) -> str:
    question = " ".join(question.replace(" ,", ",").split()).strip(" ,;:.")
    question = re.sub(r"^(?:and|but|so|then|also|however),? ", "", question, flags=re.IGNORECASE)
    return (question[:1].upper() + question[1:]).rstrip("?") + "?"


def _with_opener(question: str, opener: str) -> str:
    """``question`` after a conversational opener ("Do you know when ...?"), if there is one."""
    return opener + question[:1].lower() + question[1:] if opener else question


def _window(text: str, words: int, from_end: bool) -> str:
    """The last (or first) ``words`` words of ``text``, not crossing a clause boundary."""
    parts = re.split(r"[;:()]|, ", text)
    clause = parts[-1] if from_end else parts[0]
    tokens = clause.split()
    return " ".join(tokens[-words:] if from_end else tokens[:words])


def ask_about(sentence: str, span: Span, rng: random.Random) -> tuple[str, str] | None:
    """One short question whose answer is ``span`` of ``sentence``, and its form: "natural" (a
    whole question in users' words, ``natural.natural_question``, most often where the sentence's
    shape allows one) or "rule" (a wh-transform or a paraphrase of the words around the span).
    None when no form fits."""
    answer = span.text(sentence).lower()
    if rng.random() < NATURAL_SHARE:
        natural = natural_question(sentence, span.start, span.end, span.kind, rng)
        if natural:
            natural = _paraphrase_words(natural, rng, rate=rng.choice([0.0, 0.0, 0.3]))
            opener = rng.choice(OPENERS) if rng.random() < 0.3 else ""
            natural = _with_opener(natural, opener)
            return (natural, "natural") if answer not in natural.lower() else None
    left = _window(sentence[: span.start].strip(), rng.randint(3, 8), from_end=True)
    right = _window(sentence[span.end :].strip(" .;:"), rng.randint(0, 6), from_end=False)
    if len(_content_words(left + " " + right)) < 2:
        return None
    wh = rng.choice(WH[span.kind])
    form = rng.random()
    copula = COPULA.match(sentence[: span.start])
    if span.kind == "term":
        term = DEFINITION.match(sentence)
        question = f"What is {term.group('term').strip()}" if term else None
    elif copula and form < 0.5:
        verb = copula.group("verb")
        subject = _window(copula.group("subject"), rng.randint(3, 9), from_end=True)
        subject = subject[:1].lower() + subject[1:] if not subject[:2].isupper() else subject
        question = (
            f"{wh} {verb} {subject}" if verb in ("is", "are", "was", "were") else f"{wh} {subject} {verb}"
        )
        if right and rng.random() < 0.3:
            question += " " + right
    elif form < 0.7:  # cloze: the span replaced by the wh-phrase, in its clause
        question = f"{left} {wh.lower()} {right}"
    elif form < 0.9:  # the wh-phrase first, then the words around the span
        question = f"{wh} {left} {right}" if rng.random() < 0.6 else f"{wh} {right} {left}"
    else:  # keywords in the user's shorthand
        words = _content_words(left + " " + right)
        keep = sorted(rng.sample(range(len(words)), k=max(2, int(len(words) * rng.uniform(0.5, 0.9)))))
        question = f"{wh} " + " ".join(words[i] for i in keep)
    if not question:
        return None
    question = _paraphrase_words(question, rng, rate=rng.choice([0.0, 0.3, 0.7]))
    if rng.random() < 0.1:
        question = question.lower()
    opener = rng.choice(OPENERS)
    question = _with_opener(_tidy(question), opener)
    if answer in question.lower() or len(question) > 200:
        return None
    return question, "rule"


def is_prose(sentence: str) -> bool:
    """Whether ``sentence`` reads as prose people ask about, not code, a synopsis or a heading in
    capitals: mostly plain words, no brackets, pipes or prompts, not shouted."""
    if re.search(r"[\[\]|{}<>\\=`]|>>>|\$ |\b[A-Z]{3,} [A-Z]{3,}\b", sentence):
        return False
    words = sentence.split()
    plain = sum(bool(re.fullmatch(r"[(\"']?[A-Za-z][a-z'-]*[,.;:)\"'?!]*", w)) for w in words)
    letters = [c for c in sentence if c.isalpha()]
    shouted = sum(c.isupper() for c in letters) > 0.4 * max(1, len(letters))
    return len(words) >= 4 and plain >= 0.6 * len(words) and not shouted
