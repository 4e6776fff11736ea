"""Chunks of documents, and the sets of sources a reader sees, placed as retrieval places them.

Documents are cut with the index's own chunker (``localagent.docs.chunking``, 200 tokens), so a
training source looks like a source of ``ask``. A context is one chunk of a document (the gold
chunk), often its neighbours, then chunks of other documents that share the gold chunk's rarer
words (what bm25 would bring up next to it), until the sources hold the wanted number of tokens.
"""

from __future__ import annotations

import random
import zlib
from collections import defaultdict
from dataclasses import dataclass

from localagent.agent.terms import flatten, terms
from localagent.docs.chunking import chunk_pages
from localagent.docs.types import Page

CHUNK_TOKENS, CHUNK_OVERLAP = 200, 30
MAX_DF = 400  # words in more chunks than this are too common to pick distractors by


@dataclass(frozen=True)
class ChunkRef:
    doc: int  # index into Library.keys
    number: int  # chunk number within the document
    text: str  # flattened (terms.flatten), as a reader source shows it


def reflow(text: str) -> str:
    """Join the lines of wrapped paragraphs (man pages, reStructuredText, addresses), so that
    sentences are not cut at every line end; blank lines, indented blocks and list items stay."""
    out: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if (
            out
            and stripped
            and out[-1].strip()
            and not out[-1].rstrip().endswith((".", ":", "!", "?"))
            and stripped[0].islower()
            and len(out[-1]) - len(out[-1].lstrip()) == len(line) - len(line.lstrip())
        ):
            out[-1] = out[-1].rstrip() + " " + stripped
        else:
            out.append(line)
    return "\n".join(out)


def heldout(key: str, percent: int) -> bool:
    """The train/held-out split, made by document: a stable hash of the document's key."""
    return zlib.crc32(key.encode("utf-8")) % 100 < percent


class Library:
    """Every chunk of every document, and an inverted index of their rarer words."""

    def __init__(self, documents: list[tuple[str, str]]):
        self.keys = [key for key, _ in documents]
        self.chunks: list[ChunkRef] = []
        self.by_doc: list[list[int]] = []
        for doc, (_, text) in enumerate(documents):
            ids = []
            for number, chunk in enumerate(chunk_pages([Page(1, reflow(text))], CHUNK_TOKENS, CHUNK_OVERLAP)):
                flat = flatten(chunk.text)
                if len(flat) >= 120:
                    ids.append(len(self.chunks))
                    self.chunks.append(ChunkRef(doc, number, flat))
            self.by_doc.append(ids)
        postings: dict[str, list[int]] = defaultdict(list)
        for i, ref in enumerate(self.chunks):
            for term in set(terms(ref.text)):
                postings[term].append(i)
        self.postings = {t: ids for t, ids in postings.items() if 2 <= len(ids) <= MAX_DF}

    def related(self, chunk_id: int, rng: random.Random, allowed_docs: set[int], limit: int) -> list[int]:
        """Chunks of other documents sharing the most rare words with ``chunk_id``, best first,
        with a few random ones mixed in (retrieval is not perfect either)."""
        gold = self.chunks[chunk_id]
        words = sorted(
            (t for t in set(terms(gold.text)) if t in self.postings), key=lambda t: (len(self.postings[t]), t)
        )[:12]
        hits: dict[int, int] = defaultdict(int)
        for word in words:
            for other in self.postings[word]:
                if self.chunks[other].doc != gold.doc and self.chunks[other].doc in allowed_docs:
                    hits[other] += 1
        ranked = sorted(hits, key=lambda c: (-hits[c], c))[:limit]
        pool = [
            c for d in rng.sample(sorted(allowed_docs), k=min(3, len(allowed_docs))) for c in self.by_doc[d]
        ]
        if pool:
            ranked += rng.sample(pool, k=min(2, len(pool)))
        return ranked


def pick_sources(
    library: Library,
    gold: int,
    rng: random.Random,
    allowed_docs: set[int],
    count_tokens,
    min_tokens: int,
    max_tokens: int,
) -> list[int]:
    """Chunk ids of one context: the gold chunk, maybe neighbours, then related chunks, shuffled
    the way a ranked list mixes them; between ``min_tokens`` and ``max_tokens`` of text."""
    ref = library.chunks[gold]
    siblings = library.by_doc[ref.doc]
    position = siblings.index(gold)
    chosen = [gold]
    for step in (1, -1, 2):
        if 0 <= position + step < len(siblings) and rng.random() < 0.5:
            chosen.append(siblings[position + step])
    for other in library.related(gold, rng, allowed_docs, limit=16):
        if other not in chosen:
            chosen.append(other)
    sources, used = [], 0
    for chunk_id in chosen:
        cost = count_tokens(library.chunks[chunk_id].text) + 12
        if used + cost > max_tokens:
            continue
        sources.append(chunk_id)
        used += cost
        if used >= min_tokens:
            break
    head = sources[:1]
    rest = sources[1:]
    rng.shuffle(rest)
    insert_at = rng.randrange(0, min(len(rest), 3) + 1)  # the gold chunk is usually near the top
    return rest[:insert_at] + head + rest[insert_at:]
