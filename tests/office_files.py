"""Real Word, OpenDocument and HTML files for tests: written with python-docx, zipfile and text.

``make_docx`` writes a contract with a title, nested headings, a table of fees and a footnote
(python-docx has no footnote API, so the footnotes part is added through its OPC layer, as Word
stores it). Helpers derive the bad inputs the indexer must report.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

FEES = [
    ("Item", "Amount", "Due"),
    ("Late payment fee", "175 kroner", "within 14 days"),
    ("Key replacement", "60 kroner", "on request"),
]

# Sections of a real contract are longer than a line; this gives each one its own chunk.
_CLAUSE = (
    "Any notice about {topic} must be given in writing and delivered by hand or by registered "
    "post to the address stated in this agreement. A notice takes effect on the day it is "
    "received, and copies of every notice are kept by both parties for the whole term."
)

_FOOTNOTES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<w:footnotes xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
    '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r></w:p>'
    "</w:footnote>"
    '<w:footnote w:id="1"><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:footnote>'
    "</w:footnotes>"
)


def docx_document(footnote: str = "Fees follow the tenancy act of 1999, section quorvex."):
    """A python-docx Document: Title, Heading 1/2 sections, paragraphs, a fee table, a footnote."""
    import docx
    from docx.opc.constants import CONTENT_TYPE, RELATIONSHIP_TYPE
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document = docx.Document()
    document.add_heading("Tenancy Agreement", level=0)
    document.add_heading("Parties", level=1)
    document.add_paragraph("The landlord is Maren Holt. The tenant is Ivo Brandt.")
    document.add_paragraph(_CLAUSE.format(topic="the parties"))
    document.add_heading("Payment", level=1)
    document.add_paragraph("Rent is paid monthly in advance.")
    document.add_paragraph(_CLAUSE.format(topic="payment"))
    document.add_heading("Fees", level=2)
    paragraph = document.add_paragraph("The fees below apply to this agreement.")
    table = document.add_table(rows=len(FEES), cols=3)
    for row, values in zip(table.rows, FEES, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.add_heading("Ending the lease", level=1)
    document.add_paragraph("Either party may end the lease with three months notice.")
    # The footnote: its part, the relationship from the document, and a reference in the text.
    part = Part(
        PackURI("/word/footnotes.xml"),
        CONTENT_TYPE.WML_FOOTNOTES,
        _FOOTNOTES.format(text=footnote).encode(),
        document.part.package,
    )
    document.part.relate_to(part, RELATIONSHIP_TYPE.FOOTNOTES)
    run = OxmlElement("w:r")
    reference = OxmlElement("w:footnoteReference")
    reference.set(qn("w:id"), "1")
    run.append(reference)
    paragraph._p.append(run)
    return document


def make_docx(path: Path, **kwargs) -> Path:
    docx_document(**kwargs).save(str(path))
    return path


def make_encrypted_docx(path: Path, password: str = "secret") -> Path:
    """The same document protected with a password, as Word encrypts it (msoffcrypto-tool)."""
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = io.BytesIO()
    docx_document().save(plain)
    plain.seek(0)
    with path.open("wb") as out:
        OOXMLFile(plain).encrypt(password, out)
    return path


def make_zip_bomb_docx(path: Path, unpacked_mb: int = 40) -> Path:
    """A .docx whose document.xml unpacks from a few KB to ``unpacked_mb`` MB."""
    base = io.BytesIO()
    docx_document().save(base)
    with zipfile.ZipFile(base) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            if item.filename != "word/document.xml":
                out.writestr(item, source.read(item))
        with out.open("word/document.xml", "w", force_zip64=True) as member:
            block = b" " * (1 << 20)
            for _ in range(unpacked_mb):
                member.write(block)
    return path


def make_odt(path: Path) -> Path:
    """An OpenDocument text with a heading, a paragraph and a table (content.xml by hand)."""
    office = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
    text = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
    table = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="{office}" '
        f'xmlns:text="{text}" xmlns:table="{table}" office:version="1.2"><office:body><office:text>'
        '<text:h text:outline-level="1">Warranty</text:h>'
        "<text:p>The warranty lasts<text:s/>two years.</text:p>"
        '<text:h text:outline-level="2">Exclusions</text:h>'
        "<table:table><table:table-row><table:table-cell><text:p>Water damage</text:p></table:table-cell>"
        "<table:table-cell><text:p>not covered zanthorite</text:p></table:table-cell></table:table-row>"
        "</table:table></office:text></office:body></office:document-content>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text", zipfile.ZIP_STORED)
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return path


NOISY_HTML = """<!DOCTYPE html>
<html><head><title>Boiler manual</title>
<style>.nav {{ color: red }} body {{ font: stylewordfrobnic }}</style>
<script>var trackerword = "scriptwordglimmer"; document.write("injected");</script>
</head><body>
<nav><a href="/">Home</a> <a href="/shop">navwordshop</a></nav>
<header><div class="banner">headerwordbanner</div></header>
<main>
<h1>Installation</h1>
<p>Mount the boiler on a <b>load-bearing</b> wall.</p>
<h2>Clearances</h2>
<p>Leave {gap} cm free on each side.</p>
<table><tr><th>Model</th><th>Weight</th></tr><tr><td>B-200</td><td>41 kg</td></tr></table>
<ul><li>Check the gas line</li><li>Bleed the radiators</li></ul>
<div hidden>hiddenwordcloak</div>
</main>
<footer>footerwordcopyright 2026</footer>
<noscript>noscriptwordplease</noscript>
</body></html>
"""
