"""Questions written by a model (few-shot, the default Gemma), kept only when they survive a
round trip: the question must lead back to the sentence holding its answer.

The rule-based questions of ``questions.py`` keep the document's words; a model writes the way a
person asks ("How long does the warranty last?" for "covers parts and labour for 24 months").
Measured here, the default model writes a usable question for only about half of the spans, so
each question is checked before it is kept:

- it is a question (ends with "?"), short, and does not contain its answer;
- the answer is the kind of thing it asks for (``localagent.agent.answer_types.kind_matches``);
- of the sentences of the passage, the one holding the answer shares the most words with the
  question, at least two of them, and one of those stands within eight words of the answer (the
  question leads back to its span, not just to its sentence).

    python -m quantize.qat qat reading-questions --data DIR --out questions.jsonl --count 400
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from pathlib import Path

from localagent.agent.answer_types import kind_matches
from localagent.agent.terms import sentences, terms

FEW_SHOT = """Write one short question that the passage answers with exactly the given answer.

Passage: The warranty covers parts and labour for 24 months from the date of delivery.
Answer: 24 months
Question: How long does the warranty last?

Passage: The museum was founded by Carl Berg in 1910 and opens at 9 am.
Answer: Carl Berg
Question: Who started the museum?

Passage: Set the cache directory with --cache-dir; by default it is ~/.cache/tool.
Answer: --cache-dir
Question: Which option changes where the cache is kept?

"""


def round_trip(question: str, answer: str, passage: str, sentence: str) -> str | None:
    """None when ``question`` passes the checks of the module docstring, else why not."""
    if not question.endswith("?") or len(question) > 160 or len(question.split()) < 3:
        return "not a short question"
    if answer.lower() in question.lower():
        return "gives the answer away"
    if not kind_matches(question, answer):
        return "asks for another kind of answer"
    wanted = set(terms(question))
    scores = {s: len(wanted & set(terms(s))) for s in sentences(passage)}
    if scores.get(sentence, 0) < 2 or scores[sentence] < max(scores.values()):
        return "does not lead back to the answer's sentence"
    at = sentence.find(answer)
    near = terms(" ".join(sentence[:at].split()[-8:] + sentence[at + len(answer) :].split()[:8]))
    if not wanted & set(near):
        return "does not lead back to the answer's place in its sentence"
    return None


def write_question(engine, passage: str, answer: str) -> str:
    text = engine.complete(
        f"{FEW_SHOT}Passage: {passage}\nAnswer: {answer}\nQuestion:",
        max_tokens=40,
        temperature=0.0,
        stop=["\n"],
    )
    return " ".join("".join(text).split())


def candidates(data_jsonl: Path, rng: random.Random) -> Iterator[tuple[str, str, str]]:
    """(passage, sentence, answer) of rule-made questions in a `qat reading` .jsonl, shuffled."""
    rows = [json.loads(line) for line in data_jsonl.read_text(encoding="utf-8").splitlines()]
    rng.shuffle(rows)
    for row in rows:
        for qa in row["qas"]:
            if qa["answer"] and qa["how"] == "rule":
                yield qa["window"], qa["sentence"], qa["answer"]


def generate(engine, data_jsonl: Path, out: Path, count: int, seed: int = 1234, log=print) -> dict:
    """Write up to ``count`` accepted questions to ``out`` (jsonl); returns the tallies."""
    rng = random.Random(seed)
    tally = {"asked": 0, "kept": 0}
    tmp = out.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as sink:
        for passage, sentence, answer in candidates(data_jsonl, rng):
            if tally["kept"] >= count:
                break
            question = write_question(engine, sentence, answer)
            tally["asked"] += 1
            why = round_trip(question, answer, passage, sentence)
            tally[why or "kept"] = tally.get(why or "kept", 0) + 1
            if why is None:
                sink.write(json.dumps({"sentence": sentence, "answer": answer, "question": question}) + "\n")
                sink.flush()
            if tally["asked"] % 50 == 0:
                log(json.dumps(tally))
    os.replace(tmp, out)
    return tally


def load_questions(path: Path) -> dict[tuple[str, str], str]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {(row["sentence"], row["answer"]): row["question"] for row in rows}
