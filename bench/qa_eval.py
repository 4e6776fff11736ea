"""Grounded-answer quality on a question set: answer contains gold, citation page accuracy,
refusal accuracy.

    python bench/qa_eval.py SET.jsonl [SET.jsonl ...] [--model M] [--model READER,M ...] [--agent] [--show]

Every --model (a model, or a cascade "a,b") is measured on every set in the same run, one table
row each: answer contains gold with the right file and page, gold anywhere, refusals, seconds per
question, median time to first token, and how many answers each model of a cascade gave.

DATASET.jsonl lines are either documents or questions:
  {"document": "lease.pdf", "pages": ["page 1 text", ...]}   generated here (.pdf, .txt, .md)
  {"document": "contract.pdf", "path": "files/contract.pdf"}  an existing file (relative path)
  {"question": "...", "answers": ["gold", ...], "file": "lease.pdf", "page": 3}
  {"question": "...", "answers": []}                            unanswerable: must be refused
The documents are indexed into a fresh temporary LOCALAGENT_HOME, then every question is asked.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # before bench/: its kernels.py would shadow the kernels package


def load_dataset(path: Path) -> tuple[list[dict], list[dict]]:
    documents, questions = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        if "document" in row:
            documents.append(row)
        elif "question" in row:
            questions.append(row)
        else:
            raise SystemExit(f"{path}:{number}: neither a document nor a question")
    return documents, questions


def write_documents(documents: list[dict], base: Path, folder: Path) -> None:
    sys.path.insert(0, str(REPO / "tests"))
    from pdfs import make_pdf

    for doc in documents:
        target = folder / doc["document"]
        if "path" in doc:
            shutil.copyfile(base / doc["path"], target)
        elif target.suffix.lower() == ".pdf":
            make_pdf(target, [page.splitlines() for page in doc["pages"]])
        else:
            target.write_text("\f".join(doc["pages"]), encoding="utf-8")


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w.,%-]+", " ", text.lower()).split())


def contains_gold(answer: str, golds: list[str]) -> bool:
    plain = _norm(answer).replace(",", "")
    return any(_norm(g).replace(",", "") in plain for g in golds)


def evaluate(asker, questions: list[dict], show: bool) -> dict:
    """Ask every question; counts of gold answers, right pages, refusals, and who answered."""
    counts = {
        "answerable": 0,
        "gold": 0,
        "cited_page": 0,
        "gold_and_page": 0,
        "answered": 0,
        "unanswerable": 0,
        "refused": 0,
        "seconds": 0.0,
        "by_model": {},
    }
    ttfts: list[float] = []
    for q in questions:
        started = time.perf_counter()
        answer = asker.ask(q["question"])
        counts["seconds"] += time.perf_counter() - started
        if answer.timings.ttft_ms:
            ttfts.append(answer.timings.ttft_ms)
        golds = q.get("answers") or []
        pages = [(Path(c.file).name, c.page) for c in answer.citations]
        if answer.found:
            model = getattr(answer, "model", "") or "?"
            counts["by_model"][model] = counts["by_model"].get(model, 0) + 1
        if golds:
            counts["answerable"] += 1
            ok = answer.found and contains_gold(answer.text, golds)
            page_ok = answer.found and (q.get("file"), q.get("page")) in pages
            counts["gold"] += ok
            counts["cited_page"] += page_ok
            counts["gold_and_page"] += ok and page_ok
            counts["answered"] += answer.found
            verdict = "OK " if ok and page_ok else ("ok?" if ok else "MISS")
        else:
            counts["unanswerable"] += 1
            counts["refused"] += not answer.found
            verdict = "OK " if not answer.found else "BAD"
        if show:
            print(
                f"{verdict} {q['question']!r} -> {answer.text!r} {pages} by {getattr(answer, 'model', '')} "
                f"| draft {answer.draft.strip()!r} | {answer.reason}",
                flush=True,
            )
    ttfts.sort()
    counts["ttft_median_ms"] = ttfts[len(ttfts) // 2] if ttfts else 0.0
    return counts


def report_line(name: str, c: dict) -> str:
    n, u, q = max(1, c["answerable"]), max(1, c["unanswerable"]), max(1, c["answerable"] + c["unanswerable"])
    shares = ", ".join(f"{m} {k}" for m, k in sorted(c["by_model"].items()))
    return (
        f"| {name} | {c['gold_and_page']}/{c['answerable']} = {c['gold_and_page'] / n:.0%} "
        f"| {c['gold']}/{c['answerable']} | {c['refused']}/{c['unanswerable']} = {c['refused'] / u:.0%} "
        f"| {c['seconds'] / q:.2f} | {c['ttft_median_ms']:.0f} | {shares or '-'} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("datasets", type=Path, nargs="+", metavar="DATASET")
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="MODELS",
        help="a model name or .gguf path, or a cascade 'a,b' (tried in turn); repeat to compare "
        "several side by side in one run (default: what `ask` uses, the registry's default answer models)",
    )
    parser.add_argument("--agent", action="store_true", help="use the agent loop instead of the pipeline")
    parser.add_argument("--show", action="store_true", help="print every question with its answer")
    parser.add_argument("--limit", type=int, default=0, help="ask only the first N questions")
    parser.add_argument("--threads", type=int, default=0, help="llama.cpp threads (0: the physical cores)")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="qa_eval-"))
    os.environ["LOCALAGENT_HOME"] = str(tmp / "home")

    from localagent.agent.cascade import Cascade, answer_models
    from localagent.config import load_config
    from localagent.engine import load_engine
    from localagent.index import Index, index_paths
    from localagent.models.registry import Registry

    config = load_config({"n_threads": args.threads or None})
    # default: what `ask` uses (the agent: the default model)
    configs = args.model or [Registry.load().default_name if args.agent else ",".join(answer_models(config))]
    engines: dict = {}

    def load(cfg, name):  # one engine per model for the whole run, shared by every cascade
        if name not in engines:
            engines[name] = load_engine(cfg, model=name)
        return engines[name]

    print(
        "| set | models | gold + right page | gold | unanswerable refused | s/question | ttft ms | answered by |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for number, dataset in enumerate(args.datasets):
        documents, questions = load_dataset(dataset)
        if args.limit:
            questions = questions[: args.limit]
        folder = tmp / f"docs{number}"
        folder.mkdir()
        write_documents(documents, dataset.parent, folder)
        collection = f"set{number}"
        with Index.open() as index:
            index_paths([folder], index=index, collection=collection)
            for models in configs:
                names = [m.strip() for m in models.split(",") if m.strip()]
                if args.agent:
                    from localagent.agent.loop import AgentLoop

                    asker = AgentLoop(load(config, names[0]), index, config)
                else:
                    asker = Cascade(index, config, names, load=load)
                counts = evaluate(_Scoped(asker, collection), questions, args.show)
                print(report_line(f"{dataset.stem} | {models}", counts), flush=True)
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


class _Scoped:
    """Ask within one collection."""

    def __init__(self, asker, collection: str):
        self.asker, self.collection = asker, collection

    def ask(self, question: str):
        return self.asker.ask(question, collection=self.collection)


if __name__ == "__main__":
    sys.exit(main())
