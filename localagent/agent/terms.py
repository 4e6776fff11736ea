"""Word-level text helpers shared by retrieval, context assembly and answer verification.

Terms are lower-cased words cut to 5 letters (a crude stemmer that matches "ends" with "ended",
"payments" with "payment"), numbers with their thousands separators removed ("1,450" ~ "1450"). Function words and question
words are not terms.
"""

from __future__ import annotations

import re

TOKEN = re.compile(r"\d[\d,.]*\d|\d|[^\W\d_]+", re.UNICODE)
_SENTENCE = re.compile(r"(?<=[.!?;])\s+(?=\S)|\n\s*")

STOPWORDS = frozenset(
    """
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had has
have having he her here hers herself him himself his how i if in into is it its itself just let me
more most my myself no nor not now of off on once only or other our ours out over own same she
should so some such than that the their theirs them themselves then there these they this those
through to too under until up very was we were what when where which while who whom whose why will
with would you your yours yourself please tell give find say said according document documents
much many kind often long large big yes like know want wish need wonder curious info information
question exactly actually really just anything something thing get got going able name
""".split()
)


def normalize(word: str) -> str:
    """One word as a comparable term: lower case; numbers without thousands separators; other
    words cut to their first 5 letters after a plural "s" ("invoices" ~ "invoice", "descaled" ~
    "descale", "licence" ~ "license")."""
    w = word.lower()
    if w[0].isdigit():
        return w.replace(",", "").rstrip(".")
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        w = w[:-1]
    return w[:5]


def terms(text: str) -> list[str]:
    """Content terms of ``text`` in order (repeats kept)."""
    out = []
    for token in TOKEN.findall(text):
        if token.lower() in STOPWORDS or (len(token) == 1 and not token.isdigit()):
            continue
        out.append(normalize(token))
    return out


def is_number(term: str) -> bool:
    return term[:1].isdigit()


def sentences(text: str) -> list[str]:
    """``text`` cut into sentences (and lines); empty pieces dropped."""
    return [s.strip() for s in _SENTENCE.split(text) if s and s.strip()]


def coverage(wanted: list[str] | set[str], present: set[str]) -> float:
    """Fraction of ``wanted`` terms found in ``present`` (1.0 when nothing is wanted)."""
    wanted = set(wanted)
    return len(wanted & present) / len(wanted) if wanted else 1.0


def flatten(text: str) -> str:
    """Lines joined into one, a full stop added after a line that has none (a heading, a table
    row), so "INVOICE 7\nBilled to X" reads "INVOICE 7. Billed to X" and splits into sentences."""
    out = []
    for line in text.splitlines():
        line = " ".join(line.split()).lstrip("#").strip()
        if not line:
            continue
        out.append(line if line[-1] in ".!?;:," else line + ".")
    return " ".join(out)


def one_line(text: str) -> str:
    """Whitespace (newlines included) collapsed to single spaces."""
    return " ".join(text.split())
