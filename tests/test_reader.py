"""tern-reader end to end on a real index: `ask` copies its answer from a source and cites it,
declines with the closest passages listed, and a cascade falls through to the next model."""

from __future__ import annotations

import json

import pytest
from pdfs import make_pdf

from localagent.cli import main

PAGES = [
    [
        "Harbor Logistics annual report",
        "The company was founded in 1998 in Rotterdam.",
        "It employs 420 people in four countries.",
    ],
    [
        "Warehouses",
        "The main warehouse stores up to 12,000 pallets.",
        "A second warehouse opened in Gdansk in 2019.",
    ],
    [
        "Outlook",
        "The new headquarters will open in Tallinn in March 2026.",
        "The board approved a budget of 3.5 million euros for the move.",
    ],
]


def _ask(capsys, *argv: str) -> dict:
    assert main(["ask", "--json", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def test_reader_answers_a_planted_fact_with_its_page(tmp_path, capsys, monkeypatch):
    # The reader's own answer, however unsure it is of it (reader_min_confidence is tested below).
    monkeypatch.setenv("LOCALAGENT_READER_MIN_CONFIDENCE", "0")
    pdf = make_pdf(tmp_path / "report.pdf", PAGES)
    assert main(["index", str(pdf), "--json"]) == 0
    capsys.readouterr()
    data = _ask(capsys, "--model", "tern-reader", "How many pallets does the main warehouse store?")
    assert data["found"] is True and data["model"] == "tern-reader"
    # a whole number (spans start and end at word boundaries: never "12" or "000"), alone or in the
    # sentence that holds it (a reader trained to quote: qat reading --answer-unit sentence)
    assert "12,000" in data["answer"].rstrip(".").split()
    assert data["citations"][0]["file"] == str(pdf) and data["citations"][0]["page"] == 2
    assert data["answer"] in " ".join(PAGES[1])  # copied, not written


def test_reader_declines_an_unrelated_question_and_lists_the_closest_passages(tmp_path, capsys):
    pdf = make_pdf(tmp_path / "report.pdf", PAGES)
    assert main(["index", str(pdf)]) == 0
    capsys.readouterr()
    data = _ask(
        capsys, "--model", "tern-reader", "What is the melting point of the warehouse roof in Kelvin?"
    )
    assert data["found"] is False and data["citations"] == []
    assert data["closest"] and data["closest"][0]["file"] == str(pdf)
    assert (
        main(["ask", "--model", "tern-reader", "What is the melting point of the warehouse roof in Kelvin?"])
        == 0
    )
    out = capsys.readouterr().out
    assert "Not found in your documents." in out and "Closest passages" in out and "report.pdf, page" in out


@pytest.mark.model
def test_cascade_falls_through_to_the_next_model_when_the_reader_declines(
    tmp_path, capsys, monkeypatch, default_model
):
    pdf = make_pdf(tmp_path / "report.pdf", PAGES)
    assert main(["index", str(pdf)]) == 0
    capsys.readouterr()
    monkeypatch.setenv("LOCALAGENT_ANSWER_MODELS", "tern-reader,gemma3-270m")
    monkeypatch.setenv("LOCALAGENT_READER_MIN_CONFIDENCE", "0")  # the reader answers what it can
    assert (
        main(["ask", "--json", "--trace", "What is the melting point of the warehouse roof in Kelvin?"]) == 0
    )
    captured = capsys.readouterr()
    tried = [line for line in captured.err.splitlines() if "'model':" in line]
    assert "'tern-reader'" in tried[0] and "'found': False" in tried[0]
    assert "'gemma3-270m'" in tried[1]  # the reader declined: the next model was asked
    data = _ask(capsys, "How many pallets does the main warehouse store?")
    assert data["found"] is True and data["model"] == "tern-reader"  # answered first: Gemma not asked


def _verdict(capsys, *argv: str) -> tuple[dict, str]:
    """ask --json --trace: the answer and the trace's verdict line."""
    assert main(["ask", "--json", "--trace", *argv]) == 0
    captured = capsys.readouterr()
    verdict = [line for line in captured.err.splitlines() if line.startswith("trace: verdict:")]
    return json.loads(captured.out), verdict[-1]


def test_an_answer_below_the_least_confidence_is_passed_on_not_given(tmp_path, capsys, monkeypatch):
    pdf = make_pdf(tmp_path / "report.pdf", PAGES)
    assert main(["index", str(pdf)]) == 0
    capsys.readouterr()
    question = "How many pallets does the main warehouse store?"
    monkeypatch.setenv("LOCALAGENT_READER_MIN_CONFIDENCE", "0")
    answered, verdict = _verdict(capsys, "--model", "tern-reader", question)
    confidence = float(verdict.split("confidence ")[1].rstrip(")"))
    assert answered["found"] is True and 0 < confidence <= 1
    monkeypatch.setenv("LOCALAGENT_READER_MIN_CONFIDENCE", f"{confidence * 1.01:.6g}")
    data, verdict = _verdict(capsys, "--model", "tern-reader", question)
    assert data["found"] is False and data["answer"] == "Not found in your documents."
    assert "the reader is unsure of its answer" in verdict and data["closest"][0]["page"] == 2


def test_a_quoting_readers_confidence_locates_its_span_and_needs_the_first_hint():
    import math

    from localagent.agent.reader import reader_confidence
    from localagent.engine.spans import SpanReply

    reply = SpanReply(False, 0, [5, 6, 7], 0, logprob=-4.0, locate_logprob=-0.2)
    assert reader_confidence(reply, None) == pytest.approx(math.exp(-4.0))  # no hints: every token
    assert reader_confidence(reply, True) == pytest.approx(math.exp(-0.2))  # the tokens that locate it
    assert reader_confidence(reply, False) == 0.0  # a quote the first hint does not name


def test_the_reader_reads_each_source_cut_to_the_sentences_around_the_questions_words(tmp_path):
    from localagent.agent.cascade import Cascade
    from localagent.agent.reader import READER_EXCERPT_TOKENS
    from localagent.config import load_config
    from localagent.index import Index, index_paths

    filler = [
        f"Section {i} of the handbook repeats the general rules for visitors and staff." for i in range(30)
    ]
    fact = "The emergency generator in hall C runs for 72 hours on one tank."
    pdf = make_pdf(tmp_path / "handbook.pdf", [["Site handbook", *filler[:15], fact, *filler[15:]]])
    with Index.open() as index:
        index_paths([pdf], index=index)
        reader = Cascade(index, load_config({}), ["tern-reader"]).answerer("tern-reader")
        sources = reader.retrieve("How long does the emergency generator in hall C run?")
    assert sources and fact in sources[0].text  # the sentence holding the question's words is kept
    assert all(reader.count_tokens(s.text) <= READER_EXCERPT_TOKENS for s in sources)
    assert len(sources[0].chunk_text) > len(sources[0].text)  # cut, not the whole chunk
