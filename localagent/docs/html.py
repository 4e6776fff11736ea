"""HTML files through selectolax (the Lexbor HTML5 parser): the text a reader sees, by blocks.

Scripts, styles, navigation, page headers/footers outside the article, forms and hidden parts
are dropped; h1-h6 give chunks their section path; tables become one line per row; every other
block (paragraph, list item, div with text, ...) is one line. Lexbor parses any HTML the way a
browser does, so malformed markup still gives its text. Bytes are decoded by BOM, else the
declared charset (<meta charset> or http-equiv), else UTF-8, else Windows-1252.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import Any

from localagent.docs.detect import SNIFF_BYTES, bom_encoding, decode_text, looks_binary
from localagent.docs.flow import FlowBuilder
from localagent.docs.types import DocumentError, Page

MAX_HTML_BYTES = 64 * 1024 * 1024

_DROP = frozenset(
    """
    script style noscript template nav aside footer form iframe object embed svg math canvas
    button select textarea input label dialog menu head -comment
""".split()
)
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_BLOCKS = frozenset(
    """
    html body main article section div p li ul ol dl dt dd blockquote figure figcaption address
    details summary center fieldset legend caption hr header hgroup
""".split()
)
_DECLARED = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


def _declared_encoding(head: bytes) -> str | None:
    match = _DECLARED.search(head)
    if not match:
        return None
    try:
        return codecs.lookup(match.group(1).decode("ascii")).name
    except (LookupError, UnicodeDecodeError):
        return None


def decode_html(data: bytes) -> str:
    """Text of an HTML file: BOM, declared charset, UTF-8, Windows-1252; else DocumentError."""
    if looks_binary(data[:SNIFF_BYTES]):
        raise DocumentError("binary data (not HTML)")
    if bom_encoding(data) is None and (declared := _declared_encoding(data[:4096])):
        if declared in ("utf-16-le", "utf-16-be", "utf-16", "utf-32"):  # a lie without a BOM
            declared = "utf-8"
        return data.decode(declared, errors="replace")
    try:
        return decode_text(data)
    except DocumentError as exc:
        raise DocumentError(
            exc.reason.replace("undecodable text", "undecodable HTML (no charset declared)")
        ) from None


def _hidden(node) -> bool:
    attrs = node.attributes
    return (
        "hidden" in attrs
        or attrs.get("aria-hidden") == "true"
        or attrs.get("role") == "navigation"
        or "display:none" in (attrs.get("style") or "").replace(" ", "")
    )


def _in_article(node) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.tag in ("article", "main"):
            return True
        parent = parent.parent
    return False


def _add_table(builder: FlowBuilder, table) -> None:
    for row in table.css("tr"):
        builder.row([cell.text(deep=True, separator=" ") for cell in row.iter() if cell.tag in ("td", "th")])


def extract(text: str) -> FlowBuilder:
    """Paragraphs and headings of an HTML document in reading order (no recursion: any depth)."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(text)
    builder = FlowBuilder()
    title = tree.css_first("head > title")
    if title is not None:
        builder.heading(0, title.text(deep=True))
    buffer: list[str] = []

    def flush() -> None:
        if buffer:
            builder.paragraph("".join(buffer))
            buffer.clear()

    root = tree.body if tree.body is not None else tree.root
    stack: list[tuple[Any, bool]] = [(root, False)] if root is not None else []
    while stack:
        node, closing = stack.pop()
        if closing:
            flush()
            continue
        tag = node.tag
        if tag == "-text":
            buffer.append(node.text_content or "")
            continue
        if tag in _DROP or _hidden(node) or (tag == "header" and not _in_article(node)):
            continue
        if tag in _HEADINGS:
            flush()
            builder.heading(_HEADINGS[tag], node.text(deep=True, separator=" "))
        elif tag == "table":
            flush()
            _add_table(builder, node)
        elif tag == "br":
            flush()
        elif tag == "pre":
            flush()
            for line in node.text(deep=True).split("\n"):
                builder.paragraph(line)
        else:
            if tag in _BLOCKS or tag in ("td", "th", "tr"):
                flush()
                stack.append((node, True))
            stack.extend((child, False) for child in reversed(list(node.iter(include_text=True))))
    flush()
    return builder


def read_html(path: Path) -> list[Page]:
    """One Page of paragraphs (see docs.flow); DocumentError for huge, binary or empty pages."""
    try:
        size = path.stat().st_size
        if size > MAX_HTML_BYTES:
            raise DocumentError(
                f"HTML file too large ({size // 2**20} MB; at most {MAX_HTML_BYTES // 2**20} MB)"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"cannot read file: {exc.strerror or exc}") from None
    if not data.strip():
        raise DocumentError("empty file")
    return extract(decode_html(data)).page("no text in the HTML page (only markup, scripts or navigation)")
