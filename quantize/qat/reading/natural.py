"""Questions in users' words: whole, grammatical wh-questions about a span, as people ask them.

The cloze forms of ``questions.ask_about`` ("The lease ends on what date?") teach a reader to copy
what follows the words it is shown; people ask "When does the lease end?". ``natural_question``
writes that kind of question where a sentence's shape allows it, by rules on the words just
before the span (no parser, so it declines whenever a shape is unclear):

- a label: ``Monthly rent: EUR 1,450`` -> "What is the monthly rent?";
- a copula: ``The notice period is 60 days.`` -> "How long is the notice period?";
- a passive verb: ``Version 2.0 was released on 1 May 2002.`` -> "When was version 2.0 released?";
- an active verb, with do-support: ``The lease ends on 31 March 2025.`` -> "When does the lease
  end?", ``The tool requires Python 3.8.`` -> "Which version does the tool require?";
- the span as subject: ``Acme Ltd is the landlord.`` -> "Who is the landlord?".

Every choice is drawn from the caller's ``random.Random``, so the output is deterministic.
"""

from __future__ import annotations

import random
import re

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


def natural_question(sentence: str, start: int, end: int, kind: str, rng: random.Random) -> str | None:
    """A grammatical question whose answer is ``sentence[start:end]`` (None where no rule fits)."""
    answer = sentence[start:end]
    before = sentence[:start].rstrip()
    counted = re.match(r" (?P<noun>[a-z]{3,}s)\b", sentence[end:]) if kind == "number" else None
    noun = counted.group("noun") if counted else ""
    if counted:
        end += len(counted.group(0))
    wh = _wh(kind, answer, noun, rng)
    question = None
    label = LABEL.search(before + " ")
    if label and kind not in ("number", "quantity") and (not before.endswith(":") or answer.isupper()):
        label = None  # "Rent: EUR 1,450": the currency is not what the label names
    clause = _clause(before)
    if kind == "phrase" and re.match(rf"(?:\w+(?:ed|en|ly|ing)|{_ADVERBS})\b", answer):
        return None  # "What is this command?" -> "deprecated": no question in users' words asks that
    if label and len(label.group("label").split()) <= 5 and not re.search(rf"\b{_AUXILIARY}", label.group(0)):
        name = re.sub(rf"^(?:{DETERMINERS.lower()}) ", "", label.group("label").strip().lower())
        verb = "Who is" if kind == "name" and rng.random() < 0.5 else "What is"
        question = f"{verb} the {name}"
    elif not before:
        found = SUBJECT_SPAN.match(sentence[end:].strip())
        if found and kind in ("name", "term", "phrase"):
            who = "Who" if kind == "name" else "What"
            question = f"{who} {found.group('verb')} {found.group('rest')}"
    elif found := COPULA.match(clause):
        subject = _lower_first(found.group("subject"))
        question = f"{wh} {found.group('verb')} {subject}{_tail(sentence, end)}"
    elif found := PASSIVE.match(clause):
        subject, aux, part, prep = (_lower_first(found.group("subject")), *found.group("aux", "part", "prep"))
        if kind in ("date", "year"):
            question = f"{wh} {aux} {subject} {part}"
        elif kind == "path" and prep in ("in", "at", "under", "into", "to"):
            question = f"Where {aux} {subject} {part}"
        else:
            question = f"{wh} {aux} {subject} {part} {prep}"
    elif found := ACTIVE.match(clause):
        verb = found.group("verb")
        subject = _lower_first(found.group("subject"))
        do = "did" if verb.endswith("ed") else "does"
        did = f"{do} {subject} {base_form(verb)}{found.group('object')}"
        prep = found.group("prep")
        if kind in ("date", "year") and prep:
            question = f"{wh} {did}"
        elif kind == "path" and prep in ("in", "at", "under", "into", "to", "from"):
            question = f"Where {did}" if prep != "from" else f"Where {did} {prep}"
        elif prep:
            question = f"{wh} {did} {prep}"
        elif not found.group("object"):
            question = f"{wh} {did}"
    if not question or len(question.split()) < 3 or answer.lower() in question.lower():
        return None
    return question[:1].upper() + question[1:] + "?"
