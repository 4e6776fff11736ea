"""Questions in users' words: whole, grammatical wh-questions about a span, as people ask them.

The cloze forms of ``questions.ask_about`` ("The warranty ends on what date?") teach a reader to copy
what follows the words it is shown; people ask "When does the warranty end?". ``natural_question``
writes that kind of question where a sentence's shape allows it, by rules on the words just
before the span (no parser, so it declines whenever a shape is unclear):

- a label: ``Annual fee: EUR 1,200`` -> "What is the annual fee?";
- a copula: ``The trial period is 60 days.`` -> "How long is the trial period?";
- a passive verb: ``Version 2.0 was released on 1 May 2002.`` -> "When was version 2.0 released?";
- a value named by an of-phrase: ``A late fee of 35 dollars`` -> "How much is the late fee?";
- a role in apposition: ``the buyer Tom Reed``, ``Northwind Inc, the seller,`` -> "Who is the ...?";
- an active verb, with do-support: ``The warranty ends on 30 June 2026.`` -> "When does the
  warranty end?", ``The tool supports 140 languages.`` -> "How many languages does the tool
  support?";
- the span as subject: ``Acme Ltd is the owner.`` -> "Who is the owner?".

Every choice is drawn from the caller's ``random.Random``, so the output is deterministic.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

DETERMINERS = "The|A|An|This|That|These|Those|Each|Every|Its|Our|Your|Their|His|Her|My|All|Any|No|Some"
PRONOUNS = "It|They|We|You|He|She|I|There|Here|What|Which|Who|But|And|Or|So|Yet|Cannot|If|When|Then"
_AUXILIARY = (
    r"(?:is|are|was|were|be|been|not|has|have|had|will|can|may|must|should|would|could|do|does|did)\b"
)
_SUBJECT = (
    rf"(?:(?:{DETERMINERS})(?: (?!{_AUXILIARY})[\w'.-]+){{1,5}}?"
    rf"|(?!(?:{DETERMINERS}|{PRONOUNS})\b)[A-Z][\w-]+(?: (?:[A-Z][\w-]+|\d[\w.]*)){{0,2}})"
)
PREPOSITIONS = "on|in|at|by|to|for|from|with|until|after|before|within|under|into|over|through|as"
_NOT_VERBS = {
    "is", "was", "has", "does", "this", "its", "always", "perhaps", "sometimes", "series", "news",
    "less", "yes", "thus", "plus", "lens", "bus", "class", "process", "access", "address", "status",
    "analysis", "basis", "bytes", "files", "options", "values", "users", "items", "terms", "days",
    "years", "months", "weeks", "hours", "minutes", "seconds", "times", "rights", "parties", "goods",
    "needed", "used", "based", "called", "named", "red", "need", "speed", "seed", "bed", "feed",
}  # fmt: skip
_ADVERBS = "not|still|also|already|always|never|only|very|so|too|usually|often|made|done|set|sent|true|false"
_VERB = r"(?!(?:" + "|".join(sorted(_NOT_VERBS)) + r")\b)[a-z]{2,}(?:(?<![su'])s|(?<!e)ed)"
_PARTICIPLE = (
    r"[a-z]{2,}(?:ed|en)|built|made|held|set|sent|paid|born|kept|put|found|run|written|given|shown|"
    r"known|sold|bought|read|left|told|taken|seen|done|spent|cut|won|lost|led|met|brought|thought"
)
LABEL = re.compile(r"(?:^|[.;(]\s*)(?P<label>[A-Za-z][\w'/ -]{1,40}?)\s*:\s*(?:EUR|USD|GBP|[$€£])?\s*$")
COPULA = re.compile(
    rf"^(?P<subject>{_SUBJECT}) (?P<verb>is|are|was|were)"
    r"(?: (?:about|approximately|around|only|exactly|set to|called|named|on|at|in|of))?\s*$"
)
PASSIVE = re.compile(
    rf"^(?P<subject>{_SUBJECT}) (?P<aux>is|are|was|were) (?:\w+ly )?(?P<part>{_PARTICIPLE})"
    rf" (?P<prep>{PREPOSITIONS})\s*$"
)
ACTIVE = re.compile(
    rf"^(?P<subject>{_SUBJECT}) (?P<verb>{_VERB})(?P<object>(?: (?!{_AUXILIARY})[\w'-]+){{0,3}}?)"
    rf"(?: (?P<prep>{PREPOSITIONS}))?\s*$"
)
OF_VALUE = re.compile(
    rf"\b(?i:the|a|an|its|their|his|her|our|your) (?P<np>(?:(?!{_AUXILIARY})[\w-]+ ){{0,2}}[\w-]+) of$"
)
ROLE_BEFORE = re.compile(r"\bthe (?P<role>[a-z]{3,}(?: [a-z]{3,})?)$")
ROLE_AFTER = re.compile(r"^, (?:the|a|an|our|its|their) (?P<role>[a-z]{3,}(?: [a-z]{3,}){0,2})(?:,|\.|$)")
COUNTED = re.compile(r" (?P<noun>(?:[a-z-]+ ){0,2}[a-z]{3,}s)\b")
SUBJECT_SPAN = re.compile(r"^(?P<verb>is|was|are|were|[a-z]{2,}(?:s|ed)) (?P<rest>[^,;:()]{3,80}?)[.;,]?$")
TIME_UNITS = re.compile(r"\b(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?|ms|milliseconds?)\b")
MONEY = re.compile(r"\b(?:dollars?|euros?|pounds?|cents?)\b|[$€£]|\b(?:EUR|USD|GBP)\b")
PLURAL_UNIT = re.compile(r"\d[\d,.]* ?(?P<unit>[a-z]{3,}s)$")

WH = {
    "date": ["When"],
    "year": ["When", "In what year", "In which year"],
    "version": ["Which version", "What version"],
    "percentage": ["What"],
    "path": ["Which file", "What path"],
    "option": ["Which option", "What option", "Which flag"],
    "identifier": ["Which function", "What", "Which name"],
    "name": ["Who"],
    "term": ["What"],
    "phrase": ["What"],
    "number": ["What", "Which number"],
}


def _wh(kind: str, answer: str, noun: str, rng: random.Random) -> str:
    if noun:
        return f"How many {noun}"
    if kind in ("quantity", "number"):
        if TIME_UNITS.search(answer):
            return "How long"
        if MONEY.search(answer):
            return "How much"
        unit = PLURAL_UNIT.search(answer)
        if unit:
            return f"How many {unit.group('unit')}"
        return "What" if kind == "number" else rng.choice(["How much", "What"])
    return rng.choice(WH.get(kind, ["What"]))


def _lower_first(words: str) -> str:
    first = words.split(" ", 1)[0]
    return words[:1].lower() + words[1:] if re.fullmatch(DETERMINERS, first) else words


def _clause(text: str) -> str:
    """The last clause of ``text`` (after its last comma, semicolon, colon or bracket)."""
    return re.split(r", |; |: |\(|\)|\u2014| - ", text)[-1].strip()


def base_form(verb: str) -> str:
    """The bare infinitive of a verb in -s or -ed ("requires" -> "require", "ended" -> "end")."""
    if verb.endswith("ies"):
        return verb[:-3] + "y"
    if re.search(r"(?:ss|sh|ch|x|z|o)es$", verb):
        return verb[:-2]
    if verb.endswith("s"):
        return verb[:-1]
    stem = verb[:-2]
    if verb.endswith("ied"):
        return verb[:-3] + "y"
    if re.search(r"([bdgmnprt])\1$", stem):
        return stem[:-1]
    if re.search(r"(?:at|iz|is|ur|v|c|g|id|ud|ir|or|bl|tl|pl|kl)$", stem) and not stem.endswith("ss"):
        return stem + "e"
    if re.search(r"[^s]s$", stem):
        return stem + "e"
    return stem


def _tail(sentence: str, end: int) -> str:
    """Up to five words after the span, to the end of its clause (" per month")."""
    rest = re.split(r"[,;:.()]", sentence[end:], maxsplit=1)[0].strip()
    return " " + rest if rest and len(rest.split()) <= 5 else ""


@dataclass(frozen=True)
class _Asked:
    """A span in its sentence, as the forms below read it."""

    sentence: str
    start: int
    end: int  # after the span, and after the noun it counts ("15 files"), if any
    kind: str
    wh: str
    noun: str  # the counted noun, or ""

    @property
    def answer(self) -> str:
        return self.sentence[self.start : self.end]

    @property
    def before(self) -> str:
        return self.sentence[: self.start].rstrip()

    @property
    def after(self) -> str:
        return self.sentence[self.end :]


def _label(a: _Asked, rng: random.Random) -> str | None:
    found = LABEL.search(a.before + " ")
    if not found or len(found.group("label").split()) > 5 or re.search(rf"\b{_AUXILIARY}", found.group(0)):
        return None
    if a.kind not in ("number", "quantity") and (not a.before.endswith(":") or a.answer.isupper()):
        return None  # "Fee: EUR 1,200": the currency is not what the label names
    name = re.sub(rf"^(?:{DETERMINERS.lower()}) ", "", found.group("label").strip().lower())
    return f"{'Who is' if a.kind == 'name' and rng.random() < 0.5 else 'What is'} the {name}"


def _of_value(a: _Asked, rng: random.Random) -> str | None:
    """A value named by an of-phrase: "a late fee of 35 dollars" -> "How much is the late fee?"."""
    found = OF_VALUE.search(a.before)
    if not found or a.kind not in ("number", "quantity", "percentage", "date", "year", "version"):
        return None
    return f"{'What' if a.noun else a.wh} is the {found.group('np')}"


def _role(a: _Asked, rng: random.Random) -> str | None:
    """A role in apposition: "the buyer Tom Reed", "Northwind Inc, the seller," -> "Who is the buyer?"."""
    if a.kind != "name" or " " not in a.answer:
        return None
    found = ROLE_BEFORE.search(a.before) or ROLE_AFTER.match(a.after)
    return f"Who is the {found.group('role')}" if found else None


def _subject(a: _Asked, rng: random.Random) -> str | None:
    """The span starts the sentence: "Acme Ltd is the owner." -> "Who is the owner?"."""
    if a.before:
        return None
    if a.noun:  # "32 cleanup functions can be registered." -> "How many cleanup functions ...?"
        rest = re.match(r"[^,;:()]{3,80}?(?=[.;,]?$)", a.after.strip())
        return f"{a.wh} {rest.group(0)}" if rest else None
    found = SUBJECT_SPAN.match(a.after.strip())
    if found and a.kind in ("name", "term", "phrase"):
        return f"{'Who' if a.kind == 'name' else 'What'} {found.group('verb')} {found.group('rest')}"
    return None


def _copula(a: _Asked, rng: random.Random) -> str | None:
    found = COPULA.match(_clause(a.before))
    if not found:
        return None
    return f"{a.wh} {found.group('verb')} {_lower_first(found.group('subject'))}{_tail(a.sentence, a.end)}"


def _passive(a: _Asked, rng: random.Random) -> str | None:
    found = PASSIVE.match(_clause(a.before))
    if not found:
        return None
    subject, aux, part, prep = (_lower_first(found.group("subject")), *found.group("aux", "part", "prep"))
    if a.kind in ("date", "year"):
        return f"{a.wh} {aux} {subject} {part}"
    if a.kind == "path" and prep in ("in", "at", "under", "into", "to"):
        return f"Where {aux} {subject} {part}"
    return f"{a.wh} {aux} {subject} {part} {prep}"


def _active(a: _Asked, rng: random.Random) -> str | None:
    found = ACTIVE.match(_clause(a.before))
    if not found:
        return None
    verb, prep = found.group("verb"), found.group("prep")
    do = "did" if verb.endswith("ed") else "does"
    did = f"{do} {_lower_first(found.group('subject'))} {base_form(verb)}{found.group('object')}"
    if a.kind in ("date", "year") and prep:
        return f"{a.wh} {did}"
    if a.kind == "path" and prep in ("in", "at", "under", "into", "to", "from"):
        return f"Where {did}" if prep != "from" else f"Where {did} {prep}"
    if prep:
        return f"{a.wh} {did} {prep}"
    return None if found.group("object") else f"{a.wh} {did}"


FORMS = (_label, _of_value, _role, _subject, _copula, _passive, _active)


def natural_question(sentence: str, start: int, end: int, kind: str, rng: random.Random) -> str | None:
    """A grammatical question whose answer is ``sentence[start:end]`` (None where no rule fits)."""
    answer = sentence[start:end]
    if kind == "phrase" and re.match(rf"(?:\w+(?:ed|en|ly|ing)|{_ADVERBS})\b", answer):
        return None  # "What is this command?" -> "deprecated": no question in users' words asks that
    counted = COUNTED.match(sentence[end:]) if kind == "number" else None
    noun = counted.group("noun") if counted else ""
    end += len(counted.group(0)) if counted else 0
    asked = _Asked(sentence, start, end, kind, _wh(kind, answer, noun, rng), noun)
    question = next((q for form in FORMS if (q := form(asked, rng))), None)
    if not question or len(question.split()) < 3 or answer.lower() in question.lower():
        return None
    return question[:1].upper() + question[1:] + "?"
