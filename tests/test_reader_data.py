"""Reading-comprehension data (`quantize qat reading`) and the reader's prompt and copy constraint."""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reading_samples import TERN, TextFiles

from localagent.agent.reader_hints import best_sentences, hint_line, is_first_hint, weight_of
from localagent.agent.reader_prompt import ReaderLayout, SourceText, build_prompt
from localagent.agent.terms import sentences
from localagent.engine.spans import SourceRuns
from quantize.qat.reading.builder import MAX_QUOTE_CHARS, BuildConfig, quote_of
from quantize.qat.reading.contexts import heldout, reflow
from quantize.qat.reading.copying import add_drills, write_short_drills
from quantize.qat.reading.dataset import build_reading_data
from quantize.qat.reading.natural import base_form, natural_question
from quantize.qat.reading.questions import ask_about, find_spans, is_prose
from quantize.qat.reading.vocab import Vocab


@pytest.fixture(scope="module")
def vocab() -> Vocab:
    return Vocab(TERN)


def test_spans_and_questions_by_kind():
    sentence = "Camlidl version 1.04 was released on 1 May 2002 and uses 12 MB of memory at most."
    kinds = {span.kind: span.text(sentence) for span in find_spans(sentence)}
    assert (
        kinds["version"] == "version 1.04" and kinds["date"] == "1 May 2002" and kinds["quantity"] == "12 MB"
    )
    rng = random.Random(3)
    for span in find_spans(sentence):
        for _ in range(5):
            asked = ask_about(sentence, span, rng)
            assert asked is None or (
                asked[0].endswith("?")
                and span.text(sentence).lower() not in asked[0].lower()
                and asked[1] in ("natural", "rule")
            )


@pytest.mark.parametrize(
    ("sentence", "answer", "question"),
    [
        ("The warranty ends on 30 June 2026.", "30 June 2026", "When does the warranty end?"),
        ("Annual fee: EUR 1,200", "1,200", "What is the annual fee?"),
        ("The trial period is 60 days.", "60 days", "How long is the trial period?"),
        ("Version 2.0 was released on 1 May 2002.", "1 May 2002", "When was Version 2.0 released?"),
        ("Acme Ltd is the owner of the building.", "Acme Ltd", "Who is the owner of the building?"),
        ("The log file is stored in /var/log/app.log.", "/var/log/app.log", "Where is the log file stored?"),
        ("The agreement was signed by Jane Doe in London.", "Jane Doe", "Who was the agreement signed by?"),
        ("Gemma supports 140 languages.", "140", "How many languages does Gemma support?"),
        ("The program created 15 files.", "15", "How many files did the program create?"),
        ("The VAT rate is 20%.", "20%", "What is the VAT rate?"),
        (
            "The daemon writes its log to /var/log/d.log hourly.",
            "/var/log/d.log",
            "Where does the daemon write its log?",
        ),
        ("A late fee of 35 dollars is charged.", "35 dollars", "How much is the late fee?"),
        ("It is signed by the buyer Tom Reed.", "Tom Reed", "Who is the buyer?"),
        ("It was sold by Northwind Traders Inc, the seller.", "Northwind Traders Inc", "Who is the seller?"),
        ("32 cleanup functions can be registered.", "32", "How many cleanup functions can be registered?"),
        ("In 1776, the colonies declared independence.", "1776", None),  # no rule for a fronted date
        ("Each request times out after 30 seconds.", "30 seconds", None),  # "times" is not read as a verb
    ],
)
def test_natural_questions_are_whole_questions(sentence, answer, question):
    spans = {span.text(sentence): span for span in find_spans(sentence)}
    span = spans[answer]
    assert natural_question(sentence, span.start, span.end, span.kind, random.Random(0)) == question


def test_base_form_and_prose():
    verbs = ["requires", "ends", "passes", "carries", "ended", "created", "stopped", "provided", "called"]
    assert [base_form(v) for v in verbs] == [
        "require", "end", "pass", "carry", "end", "create", "stop", "provide", "call",
    ]  # fmt: skip
    assert is_prose("The lease ends on 31 March 2025.")
    assert not is_prose("usage: prog.py [-h] [--sum] N [N ...]")
    assert not is_prose("GCLOUD WIDE FLAGS These flags are available to all commands")
    assert not is_prose(">>> parser.parse_args(['--foo', '1'])")


def test_reflow_joins_wrapped_lines_only():
    text = "The option sets the\nsize of the buffer.\n\n  -v, --verbose\n  print more\nNext paragraph."
    assert reflow(text) == (
        "The option sets the size of the buffer.\n\n  -v, --verbose print more\nNext paragraph."
    )


def test_prompt_sources_are_token_runs_of_their_text(vocab):
    sources = [
        SourceText(1, "/x/lease.pdf", 2, "The lease term ends on 31 March 2027."),
        SourceText(2, "notes.md", 1, "Rent is 1,450 euros."),
    ]
    prompt = build_prompt(sources, "When does the lease end?", vocab.tokenize, vocab.bos, vocab.newline)
    assert prompt.tokens[0] == vocab.bos
    for i, source in enumerate(sources):
        assert prompt.source_tokens(i) == vocab.tokenize(source.text)
    text = vocab.llama.detokenize(prompt.tokens[1:]).decode()
    assert "[1] lease.pdf, page 2:" in text and text.rstrip().endswith("Answer:")


def test_question_first_prompt_asks_before_the_sources_and_keeps_their_tokens(vocab):
    sources = [SourceText(1, "lease.pdf", 2, "The lease term ends on 31 March 2027.")]
    question = "When does the lease end?"
    plain = build_prompt(sources, question, vocab.tokenize, vocab.bos, vocab.newline)
    first = build_prompt(
        sources, question, vocab.tokenize, vocab.bos, vocab.newline, ReaderLayout(question_first=True)
    )
    line = [*vocab.tokenize("Question: " + question), *vocab.newline]
    assert first.tokens == [vocab.bos, *line, *plain.tokens[1:]]  # the same prompt, asked first too
    assert first.source_tokens(0) == plain.source_tokens(0) == vocab.tokenize(sources[0].text)


def test_a_sentences_weight_is_the_same_in_any_order_of_its_words():
    # these three weights sum to two different floats in different orders with a plain sum, so
    # two sentences sharing the same words would rank by the order of a set, which
    # PYTHONHASHSEED changes between processes (a CI run ranked them the other way)
    weights = {"lease": 0.9808292530117263, "end": 0.9808292530117263, "term": 0.8109302162163288}
    assert len({sum(weights[w] for w in order) for order in itertools.permutations(weights)}) == 2
    assert len({weight_of(order, weights) for order in itertools.permutations(weights)}) == 1


def test_hints_name_the_sentences_sharing_the_questions_rarer_words_best_first():
    texts = [
        "Payment terms. The monthly rent is 1,450 euros, payable on the first day of each month. "
        "Rent is paid by bank transfer.",
        "The lease term ends on 31 March 2027. The deposit is returned when the lease term ends.",
    ]
    line = hint_line("When does the lease term end?", [4, 7], texts)
    # the sentences holding "lease", "term" and "end" first (equal weights: in the order they are
    # written, in every process), one holding only "term" ("terms") last
    assert (
        line
        == "Near: [7] The lease term ends on 31 … [7] The deposit is returned when the … [4] Payment terms. …"
    )
    assert best_sentences("How much is the monthly rent?", texts)[0] == (0, sentences(texts[0])[1])
    assert hint_line("What is the capital of Australia?", [1, 2], texts) == "Near: nothing"
    # a copied span agrees with the first hint when it is that sentence, lies in it or holds it
    question = "When does the lease term end?"
    assert is_first_hint(question, texts, 1, "31 March 2027")
    assert is_first_hint(question, texts, 1, "The lease term ends on 31 March 2027. The deposit")
    assert not is_first_hint(question, texts, 1, "The deposit is returned")  # the second hint
    assert not is_first_hint(question, texts, 0, "1,450 euros")  # another source
    assert not is_first_hint("What is the capital of Australia?", texts, 1, "31 March 2027")


def test_hints_prompt_names_sentences_after_the_question_and_keeps_the_sources(vocab):
    sources = [
        SourceText(1, "lease.pdf", 2, "The lease term ends on 31 March 2027."),
        SourceText(2, "notes.md", 1, "Rent is 1,450 euros."),
    ]
    question = "How much is the rent?"
    plain = build_prompt(sources, question, vocab.tokenize, vocab.bos, vocab.newline)
    hinted = build_prompt(
        sources, question, vocab.tokenize, vocab.bos, vocab.newline, ReaderLayout(hints=True)
    )
    answer = vocab.tokenize("Answer:")
    near = [*vocab.tokenize("Near: [2] Rent is 1,450 euros. …"), *vocab.newline]
    assert hinted.tokens == [*plain.tokens[: -len(answer)], *near, *answer]
    assert [hinted.source_tokens(i) for i in range(2)] == [plain.source_tokens(i) for i in range(2)]


def test_hints_data_names_sentences_after_every_question(tmp_path, vocab):
    cfg = BuildConfig(
        examples=6, heldout_examples=2, heldout_percent=20, min_tokens=300, max_tokens=450, seq_len=900
    )
    build_reading_data(tmp_path / "h", [TextFiles()], TERN, replace(cfg, hints=True), log=lambda line: None)
    data = np.load(tmp_path / "h" / "train.npz")
    rows = [json.loads(line) for line in (tmp_path / "h" / "train.jsonl").read_text().splitlines()]
    for tokens, row in zip(data["tokens"], rows, strict=True):
        text = vocab.llama.detokenize([int(t) for t in tokens]).decode("utf-8", "replace")
        assert text.count("Near: ") == text.count("Question: ") == len(row["qas"])


def test_source_runs_only_continue_spans_that_exist():
    runs = SourceRuns([[5, 6, 7, 6, 8], [6, 9]])
    assert runs.first_tokens().tolist() == [5, 6, 7, 8, 9]
    after_6 = runs.matching(runs.starts, 6)
    assert runs.next_tokens(after_6).tolist() == [7, 8, 9]
    after_6_8 = runs.matching(after_6, 8)
    assert runs.next_tokens(after_6_8).tolist() == []  # end of source 0
    assert runs.owner[after_6_8 - 1].tolist() == [0]


def test_reading_data_is_deterministic_answers_are_copied_and_split_by_document(tmp_path, vocab):
    cfg = BuildConfig(
        examples=30,
        heldout_examples=6,
        heldout_percent=20,
        min_tokens=300,
        max_tokens=450,
        seq_len=700,
        questions=5,
    )
    build_reading_data(tmp_path / "a", [TextFiles()], TERN, cfg, log=lambda line: None)
    build_reading_data(tmp_path / "b", [TextFiles()], TERN, cfg, log=lambda line: None)
    for name in ("train.npz", "heldout.npz", "train.jsonl", "heldout.jsonl", "manifest.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    held = set(manifest["split"]["heldout_documents"])
    assert held and all(heldout(key, 20) for key in held)
    assert manifest["sources"][0]["text_sha256"] and manifest["counts"]["train"]["questions"] > 30
    assert manifest["counts"]["train"]["unanswerable"] > 0
    assert manifest["counts"]["train"]["how"].get("natural", 0) > 0  # some questions in users' words

    data = np.load(tmp_path / "a" / "train.npz")
    rows = [json.loads(line) for line in (tmp_path / "a" / "train.jsonl").read_text().splitlines()]
    answered = 0
    for tokens, mask, row in zip(data["tokens"], data["mask"], rows, strict=True):
        text = vocab.llama.detokenize([int(t) for t in tokens if t != vocab.eos]).decode("utf-8", "replace")
        sources = {
            int(line.split("]", 1)[0].strip(" [")): line for line in text.split("\n") if line.startswith(" [")
        }
        for qa in row["qas"]:
            if qa["answer"]:
                assert qa["answer"] in sources[qa["source"]], qa  # copied from the source it cites
                answered += 1
        reply_tokens = tokens[mask.astype(bool)]
        assert (reply_tokens == vocab.eos).sum() == len(row["qas"])  # every reply ends with end-of-sequence
    assert answered > 20
    assert not {doc for row in rows for doc in row["documents"]} & held  # no held-out document in training
    heldout_rows = [json.loads(line) for line in (tmp_path / "a" / "heldout.jsonl").read_text().splitlines()]
    assert heldout_rows and all(set(row["documents"]) <= held for row in heldout_rows)


def test_question_first_data_lays_out_the_first_question_before_the_sources(tmp_path, vocab):
    cfg = BuildConfig(
        examples=8, heldout_examples=2, heldout_percent=20, min_tokens=300, max_tokens=450, seq_len=700
    )
    build_reading_data(tmp_path / "plain", [TextFiles()], TERN, cfg, log=lambda line: None)
    first = BuildConfig(**{**cfg.__dict__, "question_first": True})
    build_reading_data(tmp_path / "first", [TextFiles()], TERN, first, log=lambda line: None)
    manifest = json.loads((tmp_path / "first" / "manifest.json").read_text())
    assert manifest["settings"]["question_first"] is True
    plain = [json.loads(line) for line in (tmp_path / "plain" / "train.jsonl").read_text().splitlines()]
    rows = [json.loads(line) for line in (tmp_path / "first" / "train.jsonl").read_text().splitlines()]
    data = np.load(tmp_path / "first" / "train.npz")
    for tokens, row, before in zip(data["tokens"], rows, plain, strict=True):
        question = row["qas"][0]["question"]
        assert question == before["qas"][0]["question"]  # the same questions, laid out differently
        line = [vocab.bos, *vocab.tokenize("Question: " + question), *vocab.newline]
        assert [int(t) for t in tokens[: len(line)]] == line


def test_distinct_questions_ask_more_different_questions_per_context(tmp_path):
    cfg = BuildConfig(
        examples=10,
        heldout_examples=2,
        heldout_percent=20,
        min_tokens=500,
        max_tokens=650,
        seq_len=1400,
        questions=16,
    )
    distinct = BuildConfig(**{**cfg.__dict__, "distinct_questions": True})
    counts = {}
    for name, c in (("repeats", cfg), ("distinct", distinct)):
        build_reading_data(tmp_path / name, [TextFiles()], TERN, c, log=lambda line: None)
        rows = [json.loads(line) for line in (tmp_path / name / "train.jsonl").read_text().splitlines()]
        for row in rows:  # never the same question twice in one context
            assert len({qa["question"] for qa in row["qas"]}) == len(row["qas"])
        answered = [qa for row in rows for qa in row["qas"] if qa["answer"]]
        assert all(qa["answer"] in qa["sentence"] for qa in answered)
        counts[name] = (len(answered), sum(len(row["qas"]) for row in rows) - len(answered), len(rows))
    assert counts["distinct"][0] > counts["repeats"][0]  # more different answers taught
    answerable, unanswerable, examples = counts["distinct"]
    # questions about other documents keep their share of what was asked (plus at most one question
    # per context whose sentence was cut out, and half a question of rounding), however many
    # questions there was room for
    share = cfg.unanswerable_share
    assert 0 < unanswerable <= answerable * share / (1 - share) + 1.5 * examples


def test_quote_of_a_long_sentence_keeps_the_clauses_around_the_answer():
    short = "The monthly rent is 1,450 euros."
    assert quote_of(short, "1,450 euros") == short
    long = (
        "When the option is set, which happens rarely in practice, the default weight is 50, and "
        "the maximum weight is 100; otherwise the program stops with an error that names the option."
    )
    assert len(long) > MAX_QUOTE_CHARS
    assert quote_of(long, "50") == "the default weight is 50"
    assert quote_of(long, "an error") == "otherwise the program stops with an error that names the option."


def test_sentence_answers_copy_the_quote_that_holds_the_answer(tmp_path, vocab):
    cfg = BuildConfig(
        examples=8,
        heldout_examples=2,
        heldout_percent=20,
        min_tokens=300,
        max_tokens=450,
        seq_len=900,
        answer_unit="sentence",
    )
    build_reading_data(tmp_path / "s", [TextFiles()], TERN, cfg, log=lambda line: None)
    data = np.load(tmp_path / "s" / "train.npz")
    rows = [json.loads(line) for line in (tmp_path / "s" / "train.jsonl").read_text().splitlines()]
    quotes = 0
    for tokens, mask, row in zip(data["tokens"], data["mask"], rows, strict=True):
        replies = vocab.llama.detokenize([int(t) for t in tokens[mask.astype(bool)]]).decode("utf-8")
        for qa in row["qas"]:
            if qa["answer"]:
                # the reply is the quote, the quote holds the answer and is a part of its sentence
                assert qa["answer"] in qa["reply"] and qa["reply"] in qa["sentence"], qa
                assert f"{qa['reply']} [{qa['source']}]" in replies
                quotes += qa["reply"] != qa["answer"]
    assert quotes > 10  # most replies quote more than the bare answer


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.lists(
            st.sampled_from(
                [
                    "the",
                    "lease",
                    "ends",
                    "on",
                    "31",
                    "March",
                    "2027",
                    "rent",
                    "is",
                    "1,450",
                    "euros",
                    "/etc/app.conf",
                    "--verbose",
                    "version",
                    "4.19.0",
                    "naïve",
                    "café",
                    "(see",
                    "below)",
                    "[2]",
                    "x86-64",
                ]
            ),
            min_size=3,
            max_size=30,
        ),
        min_size=1,
        max_size=5,
    ),
    st.text(alphabet="abcdefghij klmnop?", min_size=3, max_size=40),
)
def test_every_copied_span_is_verbatim_in_the_source_it_cites(tern_engine, texts, question):
    from localagent.agent.reader import span_text
    from localagent.agent.reader_prompt import span_end_tokens
    from localagent.engine.spans import copy_span

    engine = tern_engine
    sources = [SourceText(i + 1, f"doc{i}.txt", 1, " ".join(words)) for i, words in enumerate(texts)]
    prompt = build_prompt(sources, question, engine.tokenize, engine.llama.token_bos(), engine.tokenize("\n"))
    end, numbers = span_end_tokens(engine.tokenize, len(sources))
    reply = copy_span(
        engine,
        prompt.tokens,
        [prompt.source_tokens(i) for i in range(len(sources))],
        end,
        numbers,
        engine.llama.token_eos(),
        decline_bias=-50.0,
    )  # never decline: every reply is a span
    assert not reply.declined
    text = span_text(engine, prompt.source_tokens(reply.source), reply.start, len(reply.tokens))
    assert text is not None and text in sources[reply.source].text
    # the tokens that locate the span are a prefix of its tokens: their log-probability is no lower
    assert reply.logprob <= reply.locate_logprob <= 0


@pytest.fixture(scope="module")
def tern_engine():
    from localagent.engine import Engine

    return Engine(TERN, n_ctx=2048, n_threads=1)


def test_spans_start_and_end_at_word_boundaries():
    pieces = {1: b" The", 2: b" ", 3: b"1", 4: b"2", 5: b",", 6: b"0", 7: b" pal", 8: b"lets", 9: b"."}
    # " The 12,000 pallets."
    runs = SourceRuns([[1, 2, 3, 4, 5, 6, 6, 6, 7, 8, 9]], pieces.get)
    assert runs.seq[runs.starts].tolist() == [1, 2, 3, 7]  # not "2", ",", "0", "lets" or "."
    ends_before = [int(t) for t, ok in zip(runs.seq, runs.can_end, strict=True) if ok and t >= 0]
    assert ends_before == [1, 2, 7, 9]  # "12" cannot end before ",000"; "pal" cannot end before "lets"


def _assert_windows_are_copies(
    row: np.ndarray, weight: np.ndarray, shown: list[int], newline: list[int]
) -> int:
    """Every run of weighted tokens is a window of ``shown`` (but its first token) on its own
    line; returns how many windows there are."""
    learned = np.flatnonzero(weight)
    runs = np.split(learned, np.flatnonzero(np.diff(learned) > 1) + 1)  # each a window but its first token
    for run in runs:
        first = int(run[0]) - 1
        assert row[first - len(newline) : first].tolist() == newline  # a window starts a line
        window = row[first : int(run[-1]) + 1].tolist()
        assert any(shown[s : s + len(window)] == window for s in range(len(shown))), window
    return len(runs)


def test_copy_drills_repeat_runs_of_their_sources_deterministically(small_reading, tmp_path, vocab):
    add_drills(small_reading, tmp_path / "a", TERN, share=0.5, weight=0.25, source_tokens=250)
    add_drills(small_reading, tmp_path / "b", TERN, share=0.5, weight=0.25, source_tokens=250)
    for name in ("train.npz", "heldout.npz", "manifest.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "a" / "heldout.npz").read_bytes() == (small_reading / "heldout.npz").read_bytes()
    reading, mixed = np.load(small_reading / "train.npz"), np.load(tmp_path / "a" / "train.npz")
    n = len(reading["tokens"])
    assert (mixed["tokens"][:n] == reading["tokens"]).all() and (mixed["mask"][:n] == reading["mask"]).all()
    drills, weights = mixed["tokens"][n:], mixed["mask"][n:].astype(np.float32)
    assert len(drills) == 6 and drills.shape[1] == 701
    assert json.loads((tmp_path / "a" / "manifest.json").read_text())["copy_drills"]["rows"] == 6
    for row, weight, source in zip(drills, weights, reading["tokens"][:6], strict=True):
        assert set(np.unique(weight)) <= {0.0, 0.25} and (weight > 0).sum() > 200
        # the sources' words in another order, unweighted: only copying predicts what follows
        assert row[0] == source[0] and sorted(row[1:250]) == sorted(source[1:250]) and not weight[:250].any()
        assert (row[:250] != source[:250]).any()
        assert _assert_windows_are_copies(row, weight, row[:250].tolist(), vocab.newline) >= 5


def test_short_drills_repeat_shuffled_words(small_reading, tmp_path, vocab):
    write_short_drills(small_reading, tmp_path / "a", TERN, seq_len=64, source_tokens=32, heldout_rows=2)
    write_short_drills(small_reading, tmp_path / "b", TERN, seq_len=64, source_tokens=32, heldout_rows=2)
    assert (tmp_path / "a" / "train.npz").read_bytes() == (tmp_path / "b" / "train.npz").read_bytes()
    drills = np.load(tmp_path / "a" / "train.npz")
    # rows whose random start (up to 600 tokens in) falls in the padding of these short examples make none
    assert drills["tokens"].shape[1] == 65 and len(drills["tokens"]) >= 3
    for row, weight in zip(drills["tokens"], drills["mask"].astype(np.float32), strict=True):
        assert row[0] == vocab.bos and set(np.unique(weight)) <= {0.0, 1.0} and not weight[:32].any()
        assert _assert_windows_are_copies(row, weight, row[:32].tolist(), vocab.newline) >= 1


@pytest.mark.parametrize(
    ("command", "missing"),
    [
        (["reading", "--tokenizer", "{tmp}/absent.gguf", "--source", "", "--man-stride", "0"], "absent.gguf"),
        (["reading-drills", "--data", "{tmp}/absent", "--tokenizer", str(TERN)], "absent/train.npz"),
        (["reading-lookup", "--data", "{tmp}/absent", "--tokenizer", str(TERN)], "absent/train.npz"),
    ],
)
def test_reading_commands_report_a_missing_input_in_one_line(tmp_path, capsys, command, missing):
    from quantize.cli import main

    argv = ["qat", *(part.format(tmp=tmp_path) for part in command), "--out", str(tmp_path / "out")]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"quantize qat {command[0]}: error:") and missing in err[-1]
    assert not (tmp_path / "out").exists()  # nothing half-written
