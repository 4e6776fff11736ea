"""Small reading-data samples shared by the reader's data tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from quantize.qat.sources import Document

REPO = Path(__file__).resolve().parents[1]
TERN = REPO / "models" / "tern-18m-tq2_0.gguf"


@dataclass(frozen=True)
class TextFiles:
    """A corpus source made of the shipped held-out texts, cut into documents of 40 lines."""

    id: str = "test-texts"

    def documents(self):
        for name in ("tern-18m-heldout-prose.txt", "tern-18m-heldout-general.txt"):
            lines = (REPO / "models" / name).read_text(encoding="utf-8").splitlines()
            for i in range(0, min(len(lines), 1200), 40):
                yield Document(f"{self.id}/{name}/{i}", "\n".join(lines[i : i + 40]), general=True)

    def describe(self) -> dict:
        return {"id": self.id, "licence": "as models/tern-18m-corpus.json says"}
