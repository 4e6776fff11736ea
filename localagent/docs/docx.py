"""Word files (.docx) through python-docx: paragraphs, headings and tables in reading order.

Headings are paragraphs styled "Title" (level 0) or "Heading N" (level N), or with an outline
level; they give chunks their section path. Tables become one line per row. Footnotes, which
python-docx does not expose, are read from the footnotes part and added under "Footnotes".
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from localagent.docs.flow import FlowBuilder
from localagent.docs.office import check_zip
from localagent.docs.types import DocumentError, Page

_HEADING_STYLE = re.compile(r"^heading\s*([1-9])$", re.I)
_FOOTNOTES_RELTYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footnotes"
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _heading_level(paragraph, style_names: dict[str, str]) -> int | None:
    """Heading level from the paragraph's style (looked up by id in a dict made once: python-docx's
    ``paragraph.style`` searches the styles part on every call) or its outline level."""
    style_id = paragraph._p.style
    style = style_names.get(style_id, "") if style_id else ""
    if style.lower() == "title":
        return 0
    match = _HEADING_STYLE.match(style or "")
    if match:
        return int(match.group(1))
    outline = paragraph._p.find(f"{_W}pPr/{_W}outlineLvl")
    if outline is not None and (value := outline.get(f"{_W}val", "")).isdigit() and int(value) < 9:
        return int(value) + 1
    return None


def _cell_text(cell) -> str:
    return " ".join("".join(t.text or "" for t in p.iter(f"{_W}t")) for p in cell.iter(f"{_W}p"))


def _add_table(builder: FlowBuilder, table) -> None:
    """One line per row, read from the XML (python-docx's row.cells lays out the whole grid for
    every row); a merged cell is one cell, a vertically merged continuation is empty."""
    for row in table._tbl.tr_lst:
        builder.row([_cell_text(cell) for cell in row.tc_lst])


def _add_footnotes(builder: FlowBuilder, document) -> None:
    notes = []
    for rel in document.part.rels.values():
        if rel.reltype == _FOOTNOTES_RELTYPE and not rel.is_external:
            from docx.oxml import parse_xml

            root = parse_xml(rel.target_part.blob)
            for note in root.iter(f"{_W}footnote"):
                if note.get(f"{_W}type") in ("separator", "continuationSeparator", "continuationNotice"):
                    continue
                text = "".join(t.text or "" for t in note.iter(f"{_W}t"))
                if text.strip():
                    notes.append((note.get(f"{_W}id", "?"), text))
    if notes:
        builder.heading(1, "Footnotes")
        for number, text in notes:
            builder.paragraph(f"[{number}] {text}")


def read_docx(path: Path) -> list[Page]:
    """One Page of paragraphs (see docs.flow); DocumentError for protected or damaged files."""
    check_zip(path, "Word document (.docx)")
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
        builder = FlowBuilder()
        style_names = {style.style_id: style.name or "" for style in document.styles}
        for block in document.iter_inner_content():
            if hasattr(block, "rows"):
                _add_table(builder, block)
                continue
            level = _heading_level(block, style_names)
            if level is None:
                builder.paragraph(block.text)
            else:
                builder.heading(level, block.text)
        _add_footnotes(builder, document)
    except (PackageNotFoundError, KeyError, zipfile.BadZipFile) as exc:
        raise DocumentError(f"not a Word document (.docx) ({str(exc)[:80] or type(exc).__name__})") from None
    except ValueError as exc:  # python-docx: wrong content type (e.g. a renamed .xlsx)
        raise DocumentError(f"not a Word document (.docx) ({str(exc)[:80]})") from None
    except (SyntaxError, OSError) as exc:  # lxml's XMLSyntaxError is a SyntaxError
        raise DocumentError(f"damaged Word document (.docx) ({str(exc)[:80]})") from None
    return builder.page("empty Word document (no text)")
