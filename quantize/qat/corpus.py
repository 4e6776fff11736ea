"""Build the training corpus offline from the Python documentation sources.

Source: the reStructuredText sources of the Python 3.11 documentation as shipped by the
Debian package ``python3.11-doc`` (``/usr/share/doc/python3.11/html/_sources``), licensed
under the PSF License Version 2 (code examples also Zero-Clause BSD). Install it with
``apt-get install python3.11-doc``. Markup is reduced to plain text; documents are split
into train and held-out sets by a hash of their path, so the result is deterministic.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

DEFAULT_SOURCE = Path("/usr/share/doc/python3.11/html/_sources")
SOURCE_PACKAGE = "python3.11-doc"
SOURCE_LICENCE = "PSF-2.0 (Python Software Foundation License Version 2); code examples also 0BSD"
HELDOUT_EVERY = 20  # one document in 20 (by path hash) is held out

_ROLE = re.compile(r":[a-zA-Z:+-]+:`(~|!)?([^`<]*?)\s*(<[^`>]*>)?`")
_LITERAL = re.compile(r"``([^`]+)``")
_LINK = re.compile(r"`([^`<]+?)\s*<[^`>]+>`_+")
_REF = re.compile(r"`([^`]+)`_+")
_UNDERLINE = re.compile(r"^\s*([=\-~*^\"'#+.`:_])\1{3,}\s*$")
_LABEL = re.compile(r"^\.\. _[^:]*:\s*$")
_DROP_DIRECTIVES = ("index", "toctree", "highlight", "sectionauthor", "moduleauthor", "testsetup",
                    "testcleanup", "only", "raw", "include", "literalinclude", "image", "figure",
                    "currentmodule", "tabularcolumns", "audit-event", "impl-detail", "csv-table")
_DIRECTIVE = re.compile(r"^\.\.\s+([a-zA-Z:-]+)::\s*(.*)$")


class CorpusError(Exception):
    """The corpus cannot be built (missing source)."""


@dataclass(frozen=True)
class CorpusFiles:
    train: Path
    heldout: Path
    heldout_prose: Path
    manifest: Path


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


def is_heldout(relpath: str, every: int = HELDOUT_EVERY) -> bool:
    digest = hashlib.sha256(relpath.encode()).digest()
    return int.from_bytes(digest[:4], "little") % every == 0


def _package_version(package: str) -> str:
    try:
        done = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package],
                              capture_output=True, text=True, check=False)
    except OSError:
        return "unknown"
    return done.stdout.strip() or "unknown"


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def build_corpus(out_dir: Path, source: Path = DEFAULT_SOURCE, heldout_every: int = HELDOUT_EVERY) -> CorpusFiles:
    """Write train.txt, heldout.txt, heldout_prose.txt and manifest.json into out_dir; return their paths."""
    files = sorted(source.rglob("*.rst.txt")) if source.is_dir() else []
    if not files:
        raise CorpusError(f"no .rst.txt files under {source}: install the Debian package {SOURCE_PACKAGE}")
    out_dir.mkdir(parents=True, exist_ok=True)
    parts: dict[str, list[str]] = {"train": [], "heldout": []}
    documents = []
    for path in files:
        rel = path.relative_to(source).as_posix()
        text = rst_to_text(path.read_text(encoding="utf-8", errors="replace"))
        if len(text) < 200:
            continue
        split = "heldout" if is_heldout(rel, heldout_every) else "train"
        parts[split].append(text)
        documents.append({"path": rel, "split": split, "chars": len(text)})
    for split, texts in parts.items():
        if not texts:
            raise CorpusError(f"{source}: too few documents ({len(documents)}): the {split} split is empty")
    result = CorpusFiles(out_dir / "train.txt", out_dir / "heldout.txt", out_dir / "heldout_prose.txt",
                         out_dir / "manifest.json")
    # Documents are separated by a blank line and a form feed line, used as a document boundary.
    for split, path in (("train", result.train), ("heldout", result.heldout)):
        _write_atomic(path, "\f\n".join(parts[split]))
    _write_atomic(result.heldout_prose, "\n\n".join(prose_paragraphs("\n\n".join(parts["heldout"]))) + "\n")
    manifest = {
        "sources": [{
            "name": "Python 3.11 documentation (reStructuredText sources)",
            "package": f"Debian {SOURCE_PACKAGE} {_package_version(SOURCE_PACKAGE)}",
            "path": str(source),
            "licence": SOURCE_LICENCE,
            "copyright": "Copyright (c) 2001-2023 Python Software Foundation",
        }],
        "split": f"sha256(relative path) mod {heldout_every} == 0 -> heldout",
        "outputs": {
            p.name: {"bytes": p.stat().st_size, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
            for p in (result.train, result.heldout, result.heldout_prose)
        },
        "documents": documents,
    }
    _write_atomic(result.manifest, json.dumps(manifest, indent=1) + "\n")
    return result


def prose_paragraphs(text: str, min_chars: int = 160) -> list[str]:
    """Paragraphs of running English text: unindented, mostly letters, at least two sentences."""
    kept = []
    for para in re.split(r"\n\s*\n", text):
        if not para or para[0].isspace() or len(para) < min_chars:
            continue
        letters = sum(ch.isalpha() or ch == " " for ch in para)
        if letters / len(para) > 0.9 and para.count(". ") >= 1 and "(" not in para.split("\n")[0][:40]:
            kept.append(" ".join(para.split()))
    return kept


def read_documents(path: Path) -> list[str]:
    """Split a corpus file written by build_corpus back into documents."""
    return [doc for doc in path.read_text(encoding="utf-8").split("\f\n") if doc.strip()]
