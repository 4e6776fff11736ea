"""Cutting pages into overlapping chunks that keep page, line span and character offsets.

Chunks never cross a page (every chunk cites exactly one page). Within a page the text is cut
into units (a line, or a word-boundary piece of a very long line); units are packed up to the
target size, preferring to cut where a paragraph or a Markdown heading starts. A new chunk
repeats the last units of the previous one (up to ``overlap_tokens``) unless it starts a new
section, so a sentence cut at a boundary is still found whole in one of the two chunks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from localagent.docs.tokens import count_tokens
from localagent.docs.types import Chunk, Heading, Page

_WORD = re.compile(r"\S+")
CHARS_PER_TOKEN = 4  # for cutting a single word too long to fit one chunk


@dataclass
class _Unit:
    start: int  # char offsets in the page text
    end: int
    line: int  # 0-based line index within the page
    tokens: int
    kind: str  # "heading", "para" (first line after a blank line), "line", "cont" (same line)
    heading: str | None


def _heading_paths(headings: Iterable[Heading]) -> dict[int, str]:
    """Line (1-based) -> "A > B > C" section path that starts at that heading."""
    stack: list[Heading] = []
    paths: dict[int, str] = {}
    for heading in headings:
        while stack and stack[-1].level >= heading.level:
            stack.pop()
        stack.append(heading)
        paths[heading.line] = " > ".join(h.title for h in stack if h.title)
    return paths


def _split_long(text: str, offset: int, target: int) -> list[tuple[int, int, int]]:
    """(start, end, tokens) pieces of one long line, cut between words, each about <= target."""
    pieces: list[tuple[int, int, int]] = []
    start = end = -1
    tokens = 0
    for match in _WORD.finditer(text):
        word_tokens = count_tokens(match.group())
        if word_tokens > target:  # one giant "word" (base64, a URL list): cut by characters
            if start >= 0:
                pieces.append((offset + start, offset + end, tokens))
                start, tokens = -1, 0
            step = target * CHARS_PER_TOKEN
            for at in range(match.start(), match.end(), step):
                stop = min(at + step, match.end())
                pieces.append((offset + at, offset + stop, count_tokens(text[at:stop])))
            continue
        if start >= 0 and tokens + word_tokens > target:
            pieces.append((offset + start, offset + end, tokens))
            start, tokens = -1, 0
        if start < 0:
            start = match.start()
        end = match.end()
        tokens += word_tokens
    if start >= 0:
        pieces.append((offset + start, offset + end, tokens))
    return pieces


def _units(page: Page, target: int) -> list[_Unit]:
    paths = _heading_paths(page.headings)
    heading_lines = set(paths)
    units: list[_Unit] = []
    current_heading: str | None = None
    offset = 0
    previous_blank = True
    for index, line in enumerate(page.text.split("\n")):
        line_start, offset = offset, offset + len(line) + 1
        if index + 1 in paths:
            current_heading = paths[index + 1]
        if not line.strip():
            previous_blank = True
            continue
        kind = "heading" if index + 1 in heading_lines else "para" if previous_blank else "line"
        previous_blank = False
        stripped_start = line_start + (len(line) - len(line.lstrip()))
        stripped_end = line_start + len(line.rstrip())
        tokens = count_tokens(line)
        if tokens <= target:
            units.append(_Unit(stripped_start, stripped_end, index, tokens, kind, current_heading))
            continue
        for n, (start, end, piece_tokens) in enumerate(_split_long(line, line_start, target)):
            units.append(_Unit(start, end, index, piece_tokens, kind if n == 0 else "cont", current_heading))
    return units


def _overlap(units: list[_Unit], budget: int) -> list[_Unit]:
    """The trailing units of a finished chunk that fit in ``budget`` tokens."""
    tail: list[_Unit] = []
    used = 0
    for unit in reversed(units):
        if used + unit.tokens > budget:
            break
        tail.insert(0, unit)
        used += unit.tokens
    return tail if len(tail) < len(units) else tail[1:]


def _make_chunk(page: Page, units: list[_Unit]) -> Chunk:
    start, end = units[0].start, units[-1].end
    return Chunk(
        page=page.number,
        line_start=page.first_line + units[0].line,
        line_end=page.first_line + units[-1].line,
        char_start=start,
        char_end=end,
        text=page.text[start:end],
        heading=units[0].heading,
        tokens=sum(u.tokens for u in units),
    )


def _cut_point(current: list[_Unit], size: int, incoming: int, target: int) -> int:
    """Where to end the chunk: the last paragraph start past half the target, if the rest
    still fits with the incoming unit; else after everything collected."""
    cut, running = len(current), 0
    for index, item in enumerate(current):
        if (
            index
            and item.kind in ("para", "heading")
            and running >= target // 2
            and size - running + incoming <= target
        ):
            cut = index
        running += item.tokens
    return cut


def _chunk_page(page: Page, target: int, overlap: int) -> list[Chunk]:
    chunks: list[Chunk] = []
    current: list[_Unit] = []
    carried = 0  # leading units of `current` repeated from the previous chunk
    size = 0
    for unit in _units(page, target):
        fresh = len(current) - carried
        # A heading closes the chunk unless the chunk is only a short run of headings/intro of
        # the same section (so "# Title" stays with its first paragraph).
        section_break = (
            unit.kind == "heading"
            and fresh > 0
            and (size >= target // 4 or current[carried].kind != "heading")
        )
        if unit.kind == "heading" and fresh == 0:
            current, carried, size = [], 0, 0  # no overlap into a new section
        elif section_break or (fresh > 0 and size + unit.tokens > target):
            cut = len(current) if section_break else _cut_point(current, size, unit.tokens, target)
            cut = max(cut, carried + 1)
            done, rest = current[:cut], current[cut:]
            chunks.append(_make_chunk(page, done))
            rest_size = sum(u.tokens for u in rest)
            budget = 0 if section_break else min(overlap, target - rest_size - unit.tokens)
            tail = _overlap(done, budget) if budget > 0 else []
            current, carried = tail + rest, len(tail)
            size = sum(u.tokens for u in current)
        current.append(unit)
        size += unit.tokens
    if len(current) > carried:
        chunks.append(_make_chunk(page, current))
    return chunks


def chunk_pages(pages: Iterable[Page], target_tokens: int, overlap_tokens: int) -> list[Chunk]:
    """Chunks of about ``target_tokens`` (see count_tokens), neighbours sharing ``overlap_tokens``."""
    if target_tokens < 1:
        raise ValueError("target_tokens must be at least 1")
    overlap = max(0, min(overlap_tokens, target_tokens // 2))
    chunks: list[Chunk] = []
    for page in pages:
        chunks.extend(_chunk_page(page, target_tokens, overlap))
    return chunks
