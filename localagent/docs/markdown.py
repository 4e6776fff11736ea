"""Markdown files: read as text, with ATX (``# Title``) and setext headings kept as structure."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from localagent.docs.text import read_text
from localagent.docs.types import Heading, Page

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def _front_matter_end(lines: list[str]) -> int:
    """Index of the first line after a YAML front matter block (``---`` ... ``---``), or 0."""
    if not lines or lines[0].strip() != "---":
        return 0
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            return index + 1
    return 0


def find_headings(text: str) -> tuple[Heading, ...]:
    """Headings of a Markdown text, skipping fenced code blocks; lines are 1-based."""
    headings: list[Heading] = []
    fence: str | None = None
    lines = text.split("\n")
    start = _front_matter_end(lines)
    for index, line in enumerate(lines):
        if index < start:
            continue
        fence_match = _FENCE.match(line)
        if fence_match:
            marker = fence_match.group(1)
            if fence is None:
                fence = marker[0] * len(marker)
            elif marker.startswith(fence):
                fence = None
            continue
        if fence is not None:
            continue
        atx = _ATX.match(line)
        if atx:
            headings.append(Heading(index + 1, len(atx.group(1)), (atx.group(2) or "").strip()))
            continue
        setext = _SETEXT.match(line)
        previous = lines[index - 1].strip() if index > start else ""
        if (
            setext
            and previous
            and not _ATX.match(lines[index - 1])
            and (not headings or headings[-1].line != index)
        ):
            level = 1 if setext.group(1)[0] == "=" else 2
            headings.append(Heading(index, level, previous))
    return tuple(headings)


def read_markdown(path: Path) -> list[Page]:
    """Pages of a Markdown file (like text), each with its headings."""
    return [replace(page, headings=find_headings(page.text)) for page in read_text(path)]
