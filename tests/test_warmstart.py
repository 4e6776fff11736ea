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


def test_grown_model_computes_what_the_model_it_grew_from_computes() -> None:
    from quantize.errors import QuantizeError
    from quantize.qat.warmstart import grow_layers

    weights, shape = read_gguf_weights(MODELS / "tern-reader-tq2_0.gguf")
    layers = shape["num_hidden_layers"]
    grown = grow_layers(weights, layers, 2 * layers)
    assert len(grown) == len(weights) + sum(name.startswith("model.layers.0.") for name in weights) * layers
    assert not grown["model.layers.1.mlp.down_proj.weight"].any()  # a copy writes nothing at first
    assert np.array_equal(
        grown["model.layers.1.mlp.up_proj.weight"], weights["model.layers.0.mlp.up_proj.weight"]
    )
    tokens = torch.tensor([list(range(5, 120))])
    logits = []
    for state, depth in ((weights, layers), (grown, 2 * layers)):
        model = LlamaLM(ModelConfig(**(shape | {"num_hidden_layers": depth}), max_position_embeddings=128))
        model.load_state_dict({k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in state.items()})
        with torch.no_grad():
            logits.append(model.eval()(tokens).float())
    assert torch.allclose(logits[0], logits[1], atol=1e-5)
    with pytest.raises(QuantizeError, match="multiple"):
        grow_layers(weights, layers, layers + 1)
