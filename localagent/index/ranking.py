"""Choosing the best chunk ids for a query inside FTS5, fast even for very common words.

FTS5's bm25 costs about 3 µs per matching row (plus a pass over each term's whole postings list
for its IDF), so a word found in most chunks of a 100k-chunk index would cost hundreds of ms.
Such words carry no weight anyway: FTS5 clamps the IDF of a term found in more than half of the
rows to 1e-6. So terms in more than half of the chunks ("noise terms") are left out of the
ranked query when other terms remain, which does not change the order of the results. A query
made only of noise terms has nothing to rank by: it returns chunks containing all its words, in
index order, with score 0.
"""

from __future__ import annotations

import sqlite3

TEXT_COLUMNS = "{text heading}"  # user terms never match the collection tag column


def _is_noise(conn: sqlite3.Connection, term: str, total: int) -> bool:
    """True when ``term`` occurs in more than half of the ``total`` chunks."""
    if total < 64:  # small indexes: ranking everything is cheap and exact
        return False
    row = conn.execute(
        "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? LIMIT 1 OFFSET ?",
        (f"{TEXT_COLUMNS} : {term}", total // 2),
    ).fetchone()
    return row is not None


def ranked(
    conn: sqlite3.Connection, terms: list[str], tag: str | None, wanted: int
) -> tuple[str, list[tuple[int, float]]]:
    """The MATCH expression used (for snippets) and (chunk id, score) pairs, best first.

    Scores are bm25 made positive (higher is better); 0.0 when the query had only noise terms.
    """
    total = conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
    kept = [term for term in terms if not _is_noise(conn, term, total)]
    prefix = f'tag : "{tag}" AND ' if tag else ""
    if kept:
        match = f"{prefix}{TEXT_COLUMNS} : ({' OR '.join(kept)})"
        rows = conn.execute(
            "SELECT rowid, rank FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY rank LIMIT ?",
            (match, wanted),
        ).fetchall()
        return match, [(rowid, round(-rank, 6)) for rowid, rank in rows]
    match = f"{prefix}{TEXT_COLUMNS} : ({' AND '.join(terms)})"
    rows = conn.execute(
        "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? LIMIT ?", (match, wanted)
    ).fetchall()
    return match, [(rowid, 0.0) for (rowid,) in rows]
