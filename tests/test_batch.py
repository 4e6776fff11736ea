"""Batch without the model: durable output, reconciling output and journal, CSV flattening, RAM
check, and one-line errors for bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from localagent.batch.journal import Journal, journal_path
from localagent.batch.memory import check_workers_fit
from localagent.batch.output import OutputFile
from localagent.batch.records import csv_columns, flatten, make_record
from localagent.batch.runner import BatchJob, reconcile
from localagent.batch.tasks import make_task
from localagent.batch.workers import EngineSpec
from localagent.cli import main
from localagent.errors import LocalAgentError

NESTED_SCHEMA = {
    "type": "object",
    "properties": {
        "number": {"type": "string"},
        "buyer": {"type": "object", "properties": {"name": {"type": "string"}, "city": {"type": "string"}}},
        "lines": {"type": "array", "items": {"type": "string"}},
    },
}


def _record(n: int, status: str = "ok", result: object = "invoice") -> dict:
    return make_record(
        f"/docs/{n}.txt",
        f"{n:064x}",
        "classify",
        "m",
        0.5,
        result=result if status == "ok" else None,
        error=None if status == "ok" else "bad",
    )


def _job(out: Path, labels: tuple[str, ...] = ("invoice", "letter")) -> BatchJob:
    return BatchJob(
        inputs=[],
        task=make_task("classify", 8, labels=list(labels)),
        out=out,
        format="jsonl",
        engine=EngineSpec("/nonexistent.gguf", "m", 512, 1, 512),
        model_sha256="abc",
    )


def _write_committed(
    out: Path,
    journal: Journal,
    job: BatchJob,
    records: list[dict],
    fmt: str = "jsonl",
    columns: list[str] | None = None,
) -> OutputFile:
    output = OutputFile(out, fmt, columns or csv_columns(None))
    reconcile(output, journal, job)
    output.open()
    for record in records:
        end = output.append(record)
        journal.mark_written(record, end, job.fingerprint())
    output.close()
    return output


def test_torn_last_jsonl_line_is_cut_and_uncommitted_record_adopted(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    job = _job(out)
    journal = Journal(journal_path(out))
    output = _write_committed(out, journal, job, [_record(1), _record(2)])
    committed = out.stat().st_size
    # killed after fsync but before the journal commit: a complete record the journal does not know
    adopted = _record(3)
    with out.open("ab") as handle:
        handle.write(output.encode(adopted))
    done, note = reconcile(output, journal, job)
    assert set(done) == {
        ("/docs/1.txt", f"{1:064x}"),
        ("/docs/2.txt", f"{2:064x}"),
        ("/docs/3.txt", f"{3:064x}"),
    }
    assert note == "" and journal.committed_end() > committed
    # killed in the middle of a write: the torn tail is cut, nothing before it
    size = out.stat().st_size
    with out.open("ab") as handle:
        handle.write(output.encode(_record(4))[:25])
    done, note = reconcile(output, journal, job)
    assert "cut off" in note and out.stat().st_size == size and len(done) == 3
    lines = out.read_bytes().splitlines()
    assert [json.loads(line)["file"] for line in lines] == ["/docs/1.txt", "/docs/2.txt", "/docs/3.txt"]
    journal.close()


def test_csv_row_with_newlines_survives_and_torn_row_is_cut(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    job = _job(out)
    journal = Journal(journal_path(out))
    columns = csv_columns(None)
    multi = _record(1, result='line one\nline two, with "quotes"')
    output = _write_committed(out, journal, job, [multi, _record(2)], fmt="csv", columns=columns)
    size = out.stat().st_size
    with out.open("ab") as handle:  # torn inside a quoted field that spans lines
        handle.write(output.encode(_record(3, result="a\nb\nc"))[:-6])
    done, note = reconcile(output, journal, job)
    assert "cut off" in note and out.stat().st_size == size
    rows = list(csv.DictReader(out.open(newline="", encoding="utf-8")))
    assert [r["result"] for r in rows] == [multi["result"], "invoice"]
    assert len(done) == 2
    journal.close()


def test_bad_bytes_inside_committed_output_are_refused_not_truncated(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    job = _job(out)
    journal = Journal(journal_path(out))
    output = _write_committed(out, journal, job, [_record(1), _record(2), _record(3)])
    data = out.read_bytes().splitlines(keepends=True)
    out.write_bytes(data[0] + b"{not json\n" + data[2])  # someone edited the middle line
    before = out.read_bytes()
    with pytest.raises(LocalAgentError, match="inside records already written"):
        reconcile(output, journal, job)
    assert out.read_bytes() == before
    journal.close()


def test_output_of_another_job_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    journal = Journal(journal_path(out))
    _write_committed(out, journal, _job(out), [_record(1)])
    other = _job(out, labels=("spam", "ham"))
    with pytest.raises(LocalAgentError, match="another job"):
        reconcile(OutputFile(out, "jsonl", csv_columns(None)), journal, other)
    journal.close()


def test_journal_caches_results_by_content(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    job = _job(out)
    journal = Journal(journal_path(out))
    _write_committed(out, journal, job, [_record(7)])
    assert journal.cached(f"{7:064x}", job.fingerprint())["result"] == "invoice"
    assert journal.cached(f"{7:064x}", _job(out, labels=("a", "b")).fingerprint()) is None
    journal.close()


def test_csv_flattens_nested_results() -> None:
    columns = csv_columns(NESTED_SCHEMA)
    assert columns == [
        "file",
        "sha256",
        "task",
        "status",
        "result.number",
        "result.buyer.name",
        "result.buyer.city",
        "result.lines",
        "error",
        "model",
        "elapsed_s",
    ]
    record = make_record(
        "/a.txt",
        "ff",
        "extract",
        "m",
        1.23456,
        result={"number": "7", "buyer": {"name": "Ann", "city": None}, "lines": ["x", "y"]},
    )
    row = dict(zip(columns, flatten(record, columns), strict=True))
    assert row["result.buyer.name"] == "Ann" and row["result.buyer.city"] == ""
    assert json.loads(row["result.lines"]) == ["x", "y"] and row["elapsed_s"] == "1.235"
    assert row["status"] == "ok" and row["error"] == ""


def test_workers_that_do_not_fit_are_refused(tmp_path: Path) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF" + bytes(1000))  # not parseable: the KV estimate falls back to a generous guess
    need = check_workers_fit(1, model, 4096, available=64 * 2**30)
    assert need > 1000
    with pytest.raises(LocalAgentError, match="--workers 9 needs about .* use --workers 4 or fewer"):
        check_workers_fit(9, model, 4096, available=int(need * 4.5 / 0.9))
    with pytest.raises(LocalAgentError, match="at least 1"):
        check_workers_fit(0, model, 4096, available=64 * 2**30)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--task", "classify", "--labels", " , "], "--labels is empty"),
        (["--task", "classify", "--labels", "a,,b"], "empty label"),
        (["--task", "classify"], "needs --labels"),
        (["--task", "extract"], "needs --schema"),
        (["--task", "summarize", "--labels", "a"], "--labels is for --task classify"),
        (["--task", "classify", "--labels", "a,b", "--workers", "0"], "--workers must be at least 1"),
    ],
)
def test_bad_options_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture, extra: list[str], message: str
) -> None:
    (tmp_path / "a.txt").write_text("hello\n")
    code = main(["batch", str(tmp_path / "a.txt"), "--out", str(tmp_path / "out.jsonl"), *extra])
    err = capsys.readouterr().err
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize(
    ("schema_text", "message"),
    [
        ("{not json", "schema is not valid JSON"),
        ('{"type": "nope"}', "not a valid JSON Schema"),
        ('{"type": "object", "properties": {"a": {"type": 5}}}', "not a valid JSON Schema"),
        ("[1, 2]", "must be an object"),
    ],
)
def test_invalid_schema_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture, schema_text: str, message: str
) -> None:
    (tmp_path / "a.txt").write_text("hello\n")
    schema = tmp_path / "schema.json"
    schema.write_text(schema_text)
    code = main(
        [
            "batch",
            str(tmp_path / "a.txt"),
            "--task",
            "extract",
            "--schema",
            str(schema),
            "--out",
            str(tmp_path / "out.jsonl"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1


def test_missing_output_folder_and_missing_input_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    (tmp_path / "a.txt").write_text("hello\n")
    code = main(
        [
            "batch",
            str(tmp_path / "a.txt"),
            "--task",
            "summarize",
            "--out",
            str(tmp_path / "no" / "such" / "out.jsonl"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and "does not exist" in err and len(err.strip().splitlines()) == 1
    code = main(
        ["batch", str(tmp_path / "missing.txt"), "--task", "summarize", "--out", str(tmp_path / "o.jsonl")]
    )
    err = capsys.readouterr().err
    assert code == 1 and "no such file or folder" in err
    (tmp_path / "empty").mkdir()
    code = main(["batch", str(tmp_path / "empty"), "--task", "summarize", "--out", str(tmp_path / "o.jsonl")])
    assert code == 1 and "no documents found" in capsys.readouterr().err


def test_second_batch_on_the_same_output_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    first = Journal(journal_path(out))
    with pytest.raises(LocalAgentError, match="another `localagent batch` is writing to out.jsonl"):
        Journal(journal_path(out))
    first.close()
    Journal(journal_path(out)).close()  # free again once the first one is done
