"""The chat-template prompt path of `Answerer`: a GGUF with a chat template gets its question
through `Engine.chat`, and a reply the sources do not support is refused (tiny random model)."""

from __future__ import annotations

from pathlib import Path

from checkpoints import make_llama, train_sentencepiece

from localagent.agent import Answerer
from localagent.config import load_config
from localagent.engine import Engine
from localagent.index import Index
from localagent.index.indexer import index_paths
from quantize.convert import convert


def test_chat_model_answers_through_its_template_and_unsupported_replies_are_refused(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "kettle.md").write_text("# Kettle\n\nThe kettle boils one litre of water in 90 seconds.\n")
    ckpt = make_llama(tmp_path / "ckpt", train_sentencepiece())
    model = tmp_path / "chat.gguf"
    convert(ckpt, model, weight_type="tq2_0")
    engine = Engine(model, n_ctx=512, n_threads=1)
    with Index.open(tmp_path / "index.sqlite3") as index:
        index_paths([docs], collection="default", index=index)
        calls = []
        original_chat = engine.chat

        def spy_chat(messages, **kwargs):
            calls.append(messages)
            return original_chat(messages, **kwargs)

        engine.chat = spy_chat  # type: ignore[method-assign]
        answerer = Answerer(engine, index, load_config())
        assert answerer.prompt_style == "chat"
        answer = answerer.ask("How long does the kettle take to boil water?")
    assert calls, "the chat path was not used"
    user_turn = calls[0][-1]["content"]
    assert "90 seconds" in user_turn and "How long does the kettle take" in user_turn
    assert engine.stats.gen_tokens >= 1
    # a random-weight model cannot copy the answer: the verifier must refuse rather than show noise
    assert not answer.found and answer.citations == []
