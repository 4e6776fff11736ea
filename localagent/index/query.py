"""Turning user text into a safe FTS5 query.

No user text reaches FTS5 syntax: the query is cut into words (letters and digits, any
script), each word is put in double quotes, and the quoted terms are joined with OR so bm25
ranks chunks that match more (and rarer) words first. A part of the query in balanced double
quotes is kept as a phrase. Operators (AND, OR, NOT, NEAR), column filters (``col:``),
prefix stars, parentheses and SQL fragments all become plain words or vanish.
Very common English words are dropped unless the query has nothing else.
"""

from __future__ import annotations

import re

from localagent.errors import LocalAgentError

_WORD = re.compile(r"\w+", re.UNICODE)
_PHRASE = re.compile(r'"([^"]*)"')
MAX_TERMS = 64

STOPWORDS = frozenset(
    """
    a an and are as at be been but by can could did do does for from had has have how i if in
    into is it its me my of on or our so than that the their them then there these they this to
    was we were what when where which who whom why will with would you your
    """.split()
)


class EmptyQueryError(LocalAgentError):
    """The query has no word that can be searched for."""


def _quote(words: list[str]) -> str:
    return '"' + " ".join(words) + '"'


def query_terms(query: str) -> list[str]:
    """The quoted FTS5 terms and phrases of ``query``; EmptyQueryError when there are none."""
    terms: list[str] = []
    phrases = _PHRASE.findall(query) if query.count('"') % 2 == 0 else []
    rest = _PHRASE.sub(" ", query) if phrases else query
    for phrase in phrases:
        words = _WORD.findall(phrase)
        if len(words) > 1:
            terms.append(_quote(words))
        elif words:
            rest += " " + words[0]
    words = _WORD.findall(rest)
    content = [w for w in words if w.lower() not in STOPWORDS]
    seen: set[str] = set()
    for word in content or ([] if terms else words):
        key = word.lower()
        if key not in seen:
            seen.add(key)
            terms.append(_quote([word]))
    if not terms:
        raise EmptyQueryError(
            f"the query {query.strip()[:60]!r} has no words to search for (use letters or digits)"
        )
    return terms[:MAX_TERMS]


def build_match(query: str) -> str:
    """An FTS5 MATCH expression for ``query``: every term quoted, joined with OR."""
    return " OR ".join(query_terms(query))
