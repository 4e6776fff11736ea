"""Warm starts (`qat train --init-gguf`): a model loaded from a shipped GGUF computes what it does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="needs the [train] extra (torch)")

from quantize.qat.model import LlamaLM, ModelConfig  # noqa: E402
from quantize.qat.warmstart import read_gguf_weights  # noqa: E402

pytestmark = pytest.mark.train
MODELS = Path(__file__).resolve().parent.parent / "models"


def test_warm_started_model_predicts_what_its_gguf_predicts() -> None:
    from localagent.engine.loader import open_llama

    gguf = MODELS / "tern-reader-tq2_0.gguf"
    weights, shape = read_gguf_weights(gguf)
    model = LlamaLM(ModelConfig(**shape, max_position_embeddings=256))
    model.load_state_dict({k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in weights.items()})
    prose = (MODELS / "tern-18m-heldout-prose.txt").read_text(encoding="utf-8")
    llm = open_llama(gguf, n_ctx=256, logits_all=True, n_threads=2)
    tokens = llm.tokenize(prose.encode())[:200]
    llm.eval(tokens)
    expected = np.array(llm.scores[: len(tokens)]).argmax(-1)
    with torch.no_grad():
        got = model.eval()(torch.tensor([tokens])).float().numpy()[0].argmax(-1)
    assert (got == expected).mean() >= 0.9  # 0.38 when mean|W| was the scale times the non-zero share
