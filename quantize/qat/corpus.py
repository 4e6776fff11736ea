"""Build the training corpus offline from the sources in ``quantize.qat.sources``.

Documents are split into train and held-out sets by a hash of their key, so the result is
deterministic. Besides train.txt and heldout.txt it writes the running-prose paragraphs of the
held-out documents, as evaluation text: heldout_prose.txt (the technical documentation) and
heldout_general.txt (the everyday English sources, when there are any). manifest.json records
sources and licences.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from quantize.qat.sources import PythonDocs, SourceError, StdlibDataset, rst_to_text

__all__ = [
    "CorpusError",
    "CorpusFiles",
    "build_corpus",
    "is_heldout",
    "prose_paragraphs",
    "read_documents",
    "rst_to_text",
]

HELDOUT_EVERY = 20  # one document in 20 (by key hash) is held out
MIN_DOCUMENT_CHARS = 200
Source = PythonDocs | StdlibDataset


class CorpusError(Exception):
    """The corpus cannot be built (missing source)."""


@dataclass(frozen=True)
class CorpusFiles:
    train: Path
    heldout: Path
    heldout_prose: Path
    manifest: Path
    heldout_general: Path | None = None


def is_heldout(relpath: str, every: int = HELDOUT_EVERY) -> bool:
    digest = hashlib.sha256(relpath.encode()).digest()
    return int.from_bytes(digest[:4], "little") % every == 0


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def build_corpus(
    out_dir: Path, sources: Sequence[Source] = (PythonDocs(),), heldout_every: int = HELDOUT_EVERY
) -> CorpusFiles:
    """Write train.txt, heldout.txt, the held-out prose files and manifest.json into out_dir."""
    if not sources:
        raise CorpusError("no corpus sources given")
    parts: dict[str, list[str]] = {"train": [], "heldout": []}
    heldout_by_kind: dict[bool, list[str]] = {False: [], True: []}  # general? -> held-out texts
    documents = []
    try:
        for source in sources:
            for doc in source.documents():
                if len(doc.text) < MIN_DOCUMENT_CHARS:
                    continue
                split = "heldout" if is_heldout(doc.key, heldout_every) else "train"
                parts[split].append(doc.text)
                if split == "heldout":
                    heldout_by_kind[doc.general].append(doc.text)
                documents.append({"key": doc.key, "split": split, "chars": len(doc.text)})
        described = [source.describe() for source in sources]
    except SourceError as exc:
        raise CorpusError(str(exc)) from exc
    for split, texts in parts.items():
        if not texts:
            raise CorpusError(f"too few documents ({len(documents)}): the {split} split is empty")
    out_dir.mkdir(parents=True, exist_ok=True)
    result = CorpusFiles(
        out_dir / "train.txt",
        out_dir / "heldout.txt",
        out_dir / "heldout_prose.txt",
        out_dir / "manifest.json",
        out_dir / "heldout_general.txt" if heldout_by_kind[True] else None,
    )
    # Documents are separated by a blank line and a form feed line, used as a document boundary.
    for split, path in (("train", result.train), ("heldout", result.heldout)):
        _write_atomic(path, "\f\n".join(parts[split]))
    _write_atomic(result.heldout_prose, _prose_file(heldout_by_kind[False] or heldout_by_kind[True]))
    if result.heldout_general:
        _write_atomic(result.heldout_general, _prose_file(heldout_by_kind[True]))
    outputs = [p for p in (result.train, result.heldout, result.heldout_prose, result.heldout_general) if p]
    manifest = {
        "sources": described,
        "split": f"sha256(document key) mod {heldout_every} == 0 -> heldout",
        "outputs": {
            p.name: {"bytes": p.stat().st_size, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
            for p in outputs
        },
        "documents": documents,
    }
    _write_atomic(result.manifest, json.dumps(manifest, indent=1) + "\n")
    return result


def _prose_file(texts: list[str]) -> str:
    return "\n\n".join(prose_paragraphs("\n\n".join(texts))) + "\n"


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
