"""`quantize qat reading`: the whole reading-comprehension dataset, with its manifest.

    out/train.npz, train.jsonl        examples of the training documents
    out/heldout.npz, heldout.jsonl    examples of the held-out documents (split by document)
    out/manifest.json                 sources (package, version, licence, sha256 of the text read),
                                      the held-out document keys, counts, the build settings

The same inputs give the same bytes: documents are read in sorted order and every random choice
comes from a generator seeded by the build seed and the example's index.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Protocol

from quantize.qat.reading.builder import BuildConfig, ExampleWriter, iter_examples, sha256_file, write_split
from quantize.qat.reading.contexts import Library, heldout
from quantize.qat.reading.model_questions import load_questions
from quantize.qat.reading.vocab import Vocab
from quantize.qat.sources import Document

RESERVED = (
    "debian-policy",
    "debian-handbook",
    "libtasn1-doc",
    "shared-mime-info",
    "/usr/share/common-licenses",
)


class Source(Protocol):
    @property
    def id(self) -> str: ...

    def documents(self) -> Iterator[Document]: ...

    def describe(self) -> dict: ...


def _check_not_reserved(key: str) -> None:
    if any(name in key for name in RESERVED):
        raise ValueError(f"{key} belongs to a source reserved for independent evaluation")


def build_reading_data(
    out: Path,
    sources: list[Source],
    tokenizer_gguf: Path,
    cfg: BuildConfig,
    log=print,
    model_questions: Path | None = None,
) -> dict:
    vocab = Vocab(tokenizer_gguf)  # a bad tokenizer fails now, before the sources are read
    documents: list[Document] = []
    described = []
    for source in sources:
        digest = hashlib.sha256()
        count = 0
        for document in source.documents():
            _check_not_reserved(document.key)
            documents.append(document)
            digest.update(document.key.encode() + b"\0" + document.text.encode() + b"\0")
            count += 1
        described.append({**source.describe(), "documents": count, "text_sha256": digest.hexdigest()})
        log(f"{source.id}: {count} documents")
    documents.sort(key=lambda d: d.key)
    library = Library([(d.key, d.text) for d in documents])
    log(f"{len(library.chunks)} chunks")
    held = [i for i, key in enumerate(library.keys) if heldout(key, cfg.heldout_percent)]
    train = [i for i in range(len(library.keys)) if i not in set(held)]
    written = load_questions(model_questions) if model_questions else {}
    writer = ExampleWriter(library, vocab, cfg, written)
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, docs, count, offset in (
        ("heldout", held, cfg.heldout_examples, 10_000_000),
        ("train", train, cfg.examples, 0),
    ):
        examples = []
        for example in iter_examples(writer, docs, count, offset):
            examples.append(example)
            if len(examples) % 1000 == 0:
                log(f"{name}: {len(examples)}/{count}")
        write_split(out / name, examples, cfg.seq_len, writer.vocab.eos, library)
        qas = [qa for e in examples for qa in e.qas]
        counts[name] = {
            "examples": len(examples),
            "questions": len(qas),
            "unanswerable": sum(not qa.answer for qa in qas),
            "kinds": dict(sorted(Counter(qa.kind for qa in qas if qa.answer).items())),
            "how": dict(sorted(Counter(qa.how for qa in qas).items())),
            "tokens": sum(len(e.tokens) for e in examples),
            "sha256": sha256_file(out / f"{name}.npz"),
        }
    manifest = {
        "settings": asdict(cfg),
        "tokenizer": {"gguf": tokenizer_gguf.name, "sha256": sha256_file(tokenizer_gguf)},
        "sources": described,
        "reserved_never_used": list(RESERVED),
        "model_questions": {
            "file": model_questions.name,
            "sha256": sha256_file(model_questions),
            "kept": len(written),
        }
        if model_questions
        else None,
        "split": {"by": "document (crc32 of its key)", "heldout_documents": [library.keys[i] for i in held]},
        "counts": counts,
    }
    tmp = out / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, out / "manifest.json")
    return manifest
