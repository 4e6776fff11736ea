"""OpenDocument text (.odt): content.xml read with the standard library's XML parser.

An .odt is a zip whose content.xml holds text:h (headings with an outline level), text:p,
lists and table:table in reading order; that is all a reader needs, so no extra package.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.etree import ElementTree

from localagent.docs.flow import FlowBuilder
from localagent.docs.office import check_zip
from localagent.docs.types import DocumentError, Page

_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_SPACES = {f"{_TEXT}s": " ", f"{_TEXT}tab": "\t", f"{_TEXT}line-break": " "}


def _text(element: ElementTree.Element) -> str:
    """An element's text with ODF's space, tab and line-break elements as whitespace."""
    parts = [element.text or ""]
    for child in element:
        parts.append(_SPACES.get(child.tag, "") or _text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _walk(builder: FlowBuilder, element: ElementTree.Element) -> None:
    for child in element:
        tag = child.tag
        if tag == f"{_TEXT}h":
            level = child.get(f"{_TEXT}outline-level", "1")
            builder.heading(int(level) if level.isdigit() else 1, _text(child))
        elif tag == f"{_TEXT}p":
            builder.paragraph(_text(child))
        elif tag == f"{_TABLE}table":
            for row in child.iter(f"{_TABLE}table-row"):
                builder.row([_text(cell) for cell in row if cell.tag == f"{_TABLE}table-cell"])
        elif tag in (f"{_TEXT}tracked-changes", f"{_OFFICE}forms", f"{_TEXT}sequence-decls"):
            continue
        else:  # lists, list items, sections, frames: their paragraphs in order
            _walk(builder, child)


def read_odt(path: Path) -> list[Page]:
    """One Page of paragraphs (see docs.flow); DocumentError for damaged or protected files."""
    check_zip(path, "OpenDocument text (.odt)")
    try:
        with zipfile.ZipFile(path) as archive:
            if "META-INF/manifest.xml" in archive.namelist() and b"encryption-data" in archive.read(
                "META-INF/manifest.xml"
            ):
                raise DocumentError("password-protected OpenDocument text (.odt)")
            root = ElementTree.fromstring(archive.read("content.xml"))
    except KeyError:
        raise DocumentError("not an OpenDocument text (.odt) (no content.xml)") from None
    except (zipfile.BadZipFile, ElementTree.ParseError, OSError, RecursionError) as exc:
        raise DocumentError(f"damaged OpenDocument text (.odt) ({str(exc)[:80]})") from None
    body = root.find(f"{_OFFICE}body/{_OFFICE}text")
    builder = FlowBuilder()
    try:
        _walk(builder, body if body is not None else root)
    except RecursionError:
        raise DocumentError("damaged OpenDocument text (.odt) (nested too deeply)") from None
    return builder.page("empty OpenDocument text (no text)")
