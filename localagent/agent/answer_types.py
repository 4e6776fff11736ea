"""Does an answer have the kind of content its question asks for?

A cheap guard against a copied but wrong span: "Who was the invoice billed to?" is not answered
by "Invoice date: 12 February 2024", nor "How many brochures?" by "Oak Valley School".
Unknown question shapes pass.
"""

from __future__ import annotations

import re

from localagent.agent.terms import TOKEN, normalize, terms

MONTHS = frozenset(
    """january february march april may june july august september october november december
jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday
sunday""".split()
)
NUMBER_WORDS = frozenset(
    """zero one two three four five six seven eight nine ten eleven twelve thirteen
fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty
ninety hundred thousand million billion half quarter dozen once twice single double triple""".split()
)
TIME_WORDS = frozenset(
    """date day days year years month months week weeks hour hours minute minutes
after before until upon within when once immediately daily weekly monthly yearly annually time
morning evening night noon midnight today tomorrow""".split()
)
ENTITY_NOUNS = "company|person|organi[sz]ation|firm|bank|city|country|town|engineer|author|vendor|supplier"

_QUANTITY = re.compile(
    r"\bhow (many|much|long|often|large|big|old|far|high|tall|wide|heavy)\b|"
    r"\b(rate|percentage|number of|amount)\b"
)
_TIME = re.compile(r"^(when)\b|\bwhat (date|year|day|time)\b|\bwhich (date|year|day)\b|\bby when\b")
_ENTITY = re.compile(rf"^(who|whom|whose)\b|\b(which|what) ({ENTITY_NOUNS})\b")


def expected_kind(question: str) -> str | None:
    """ "quantity", "time", "entity" or None (anything goes)."""
    q = " ".join(question.lower().split())
    if _QUANTITY.search(q):
        return "quantity"
    if _TIME.search(q):
        return "time"
    if _ENTITY.search(q):
        return "entity"
    return None


def _words(text: str) -> list[str]:
    return [t.lower() for t in TOKEN.findall(text)]


def kind_matches(question: str, answer: str) -> bool:
    """The answer holds the kind asked for in words the question does not already say: "When was
    Version 2.0 published?" is not answered by "Licensed under the Apache License, Version 2.0"."""
    kind = expected_kind(question)
    if kind is None:
        return True
    asked = set(terms(question)) | set(_words(question))
    words = _words(answer)
    novel = [w for w in words if w not in asked and normalize(w) not in asked]
    has_number = any(w[0].isdigit() or w in NUMBER_WORDS for w in novel) or (
        "%" in answer and "%" not in question
    )
    if kind == "quantity":
        return has_number
    if kind == "time":
        return has_number or any(w in MONTHS or w in TIME_WORDS for w in novel)
    named = [w for w in novel if w[0].isalpha() and w not in MONTHS]
    return bool(named) and not any(w in MONTHS for w in words)


_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE_BEFORE = re.compile(
    rf"(?:(?:\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH})|(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?)"
    rf"|{_MONTH})\s+$",
    re.IGNORECASE,
)


def complete_date(answer: str, source_text: str) -> str:
    """A bare year copied from "published 29 June 2007" becomes "29 June 2007" (the whole date
    as the source writes it); any other answer is returned unchanged."""
    year = answer.strip(" .")
    if not re.fullmatch(r"\d{4}", year):
        return answer
    for match in re.finditer(rf"(?<!\d){year}(?!\d)", source_text):
        before = _DATE_BEFORE.search(source_text[: match.start()])
        if before:
            return " ".join((before.group(0) + year).split())
    return answer
