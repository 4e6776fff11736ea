"""Lookup drills (`quantize qat reading-lookup`): questions that point into shuffled sources."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from reading_samples import TERN

from localagent.agent.reader_prompt import citation_tokens
from quantize.qat.reading.cues import WH_BY_KIND
from quantize.qat.reading.lookup import write_lookup_drills
from quantize.qat.reading.vocab import Vocab


def _runs(weights: np.ndarray) -> list[np.ndarray]:
    learned = np.flatnonzero(weights)
    return np.split(learned, np.flatnonzero(np.diff(learned) > 1) + 1)


def test_lookup_drills_answer_with_the_words_after_the_question_in_the_cited_source(small_reading, tmp_path):
    vocab = Vocab(TERN)
    write_lookup_drills(small_reading, tmp_path / "a", TERN, seq_len=400, source_tokens=300, heldout_rows=2)
    write_lookup_drills(small_reading, tmp_path / "b", TERN, seq_len=400, source_tokens=300, heldout_rows=2)
    for name in ("train.npz", "heldout.npz", "manifest.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    data = np.load(tmp_path / "a" / "train.npz")
    assert data["tokens"].shape[1] == 401 and len(data["tokens"]) == 10
    question = vocab.tokenize("Question:")
    cite = len(citation_tokens(1, vocab.tokenize))
    answered = declined = 0
    for row, weights in zip(data["tokens"].tolist(), data["mask"], strict=True):
        sources_end = next(i for i in range(len(row)) if row[i : i + len(question)] == question)
        text = vocab.llama.detokenize(row[1:sources_end]).decode("utf-8", "replace")
        sources = {
            int(line.split("]", 1)[0].strip(" [")): line for line in text.split("\n") if line.startswith(" [")
        }
        for run in _runs(weights):
            reply = [row[int(i)] for i in run]
            assert reply[-1] == vocab.eos
            if len(reply) == 1:
                declined += 1
                continue
            n = next(n for n in sources if reply[-cite - 1 : -1] == citation_tokens(n, vocab.tokenize))
            answer = vocab.llama.detokenize(reply[: -cite - 1]).decode("utf-8", "replace").strip()
            assert answer and answer in sources[n]  # copied from the source it cites
            assert not re.search(r"[.,;:!?)] ", answer)  # a span stops where a clause ends
            assert answer[0].isupper() or answer[0].isdigit() or answer[0] in "-/"  # a name, a number...
            answered += 1
    assert answered > 5 * len(data["tokens"]) and declined > 0  # many lookups a row, some unanswerable
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())["lookup_drills"]
    assert manifest["rows"] == 10 and manifest["heldout_rows"] == 2


def test_lookup_drills_mixed_into_reading_rows_keep_the_reading_held_out(small_reading, tmp_path):
    write_lookup_drills(
        small_reading, tmp_path / "mixed", TERN, seq_len=700, source_tokens=450, with_reading=True
    )
    mixed = np.load(tmp_path / "mixed" / "train.npz")["tokens"]
    original = np.load(small_reading / "train.npz")["tokens"]
    assert len(mixed) == 2 * len(original) and (mixed[: len(original)] == original).all()
    assert (tmp_path / "mixed" / "heldout.npz").read_bytes() == (small_reading / "heldout.npz").read_bytes()
    with pytest.raises(ValueError, match="not --seq-len 512"):
        write_lookup_drills(small_reading, tmp_path / "bad", TERN, seq_len=512, with_reading=True)


def test_cue_answers_are_names_numbers_with_units_options_and_paths():
    from quantize.qat.reading.cues import answer_kind, answer_words

    deposit = "A security deposit of 2,900 euros is held.".split()
    assert answer_words(deposit, 4, 0) == 2 and answer_kind("2,900") == "number"  # "2,900 euros"
    tenant = "The tenant is Maria Lopez. The rent".split()
    assert answer_words(tenant, 3, 0) == 2 and answer_kind("Maria") == "name"  # stops at the clause end
    assert answer_words(tenant, 0, 0) == 0  # a sentence's first word is no name
    assert answer_words(tenant, 5, 5) == 0 and answer_words(tenant, 1, 0) == 0
    assert (
        answer_words("run it with --verbose set".split(), 3, 0) == 1 and answer_kind("--verbose") == "option"
    )
    assert answer_kind("1932.") == "year" and answer_kind("/etc/hosts") == "path"
    assert answer_words("costs - 20 each".split(), 1, 0) == 0  # a dash alone is no option


def test_a_cue_answer_is_the_only_one_of_its_kind_in_its_sentence():
    from quantize.qat.reading.cues import Sentences, only_one_of_its_kind

    words = "Rent is 1,450 euros and the deposit 2,900 euros. Then Maria Lopez pays 12 times.".split()
    source = Sentences(words, text_of=lambda word: word)  # type: ignore[arg-type]
    assert source.bounds == [(0, 9), (9, 15)]
    assert not only_one_of_its_kind(source, 2, 2, "number")  # 2,900 is a number in the same sentence
    assert only_one_of_its_kind(source, 10, 2, "name") and only_one_of_its_kind(source, 13, 2, "number")
    assert not only_one_of_its_kind(source, 10, 1, "name")  # "Lopez" would be another name


def test_cue_drills_ask_with_words_of_the_answers_sentence_about_unshuffled_sources(small_reading, tmp_path):
    vocab = Vocab(TERN)
    for name in ("a", "b"):
        write_lookup_drills(
            small_reading, tmp_path / name, TERN, seq_len=400, source_tokens=300, heldout_rows=2, cues=True
        )
    for name in ("train.npz", "heldout.npz", "manifest.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    data = np.load(tmp_path / "a" / "train.npz")
    reading = np.load(small_reading / "train.npz")["tokens"]
    question = vocab.tokenize("Question:")
    cite = len(citation_tokens(1, vocab.tokenize))
    wh = {w.lower() for phrases in WH_BY_KIND.values() for phrase in phrases for w in phrase.split()}
    answered = declined = 0
    for row, weights in zip(data["tokens"].tolist(), data["mask"], strict=True):
        sources_end = next(i for i in range(len(row)) if row[i : i + len(question)] == question)
        # the sources as the reading row has them, in order (not shuffled)
        assert any(r[: sources_end - 1].tolist() == row[: sources_end - 1] for r in reading)
        text = vocab.llama.detokenize(row[1:sources_end]).decode("utf-8", "replace")
        sources = {
            int(line.split("]", 1)[0].strip(" [")): line for line in text.split("\n") if line.startswith(" [")
        }
        sentences = [
            set(re.findall(r"[a-z]+", s.lower()))
            for line in sources.values()
            for s in re.split(r"[.!?;:]\s", line)
        ]
        for run in _runs(weights):
            reply = [row[int(i)] for i in run]
            asked = vocab.llama.detokenize(row[: int(run[0])]).decode("utf-8", "replace")
            words = asked.rsplit("Question:", 1)[1].split("Answer:")[0].strip().rstrip("?").lower().split()
            cues = [w for w in words if w not in wh]
            if len(reply) == 1:
                declined += 1
                assert not any(all(c in s for c in cues) for s in sentences)  # no sentence answers it
                continue
            n = next(n for n in sources if reply[-cite - 1 : -1] == citation_tokens(n, vocab.tokenize))
            answer = vocab.llama.detokenize(reply[: -cite - 1]).decode("utf-8", "replace").strip()
            assert answer and answer in sources[n]
            assert answer[0].isupper() or answer[0].isdigit() or answer[0] in "-/"
            assert all(c in sources[n].lower() for c in cues)  # its cues are words of the cited source
            answered += 1
    assert answered > 2 * len(data["tokens"]) and 0 < 3 * declined <= answered + 3 * len(data["tokens"])
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())["lookup_drills"]
    assert manifest["questions"] == "cue words of the answer's sentence"
