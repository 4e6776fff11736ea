"""Grounded-answer quality on a question set: answer contains gold, citation page accuracy,
refusal accuracy.

    python bench/qa_eval.py bench/data/qa/mixed.jsonl [--model M] [--agent] [--show]

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--model", help="model name or .gguf path (default: the registry default)")
    parser.add_argument("--agent", action="store_true", help="use the agent loop instead of the pipeline")
    parser.add_argument("--show", action="store_true", help="print every question with its answer")
    parser.add_argument("--limit", type=int, default=0, help="ask only the first N questions")
    args = parser.parse_args(argv)
    documents, questions = load_dataset(args.dataset)
    if args.limit:
        questions = questions[: args.limit]
    tmp = Path(tempfile.mkdtemp(prefix="qa_eval-"))
    os.environ["LOCALAGENT_HOME"] = str(tmp / "home")
    folder = tmp / "docs"
    folder.mkdir()
    write_documents(documents, args.dataset.parent, folder)

    from localagent.agent import Answerer
    from localagent.config import load_config
    from localagent.engine import load_engine
    from localagent.index import Index, index_paths

    config = load_config({"model": args.model})
    engine = load_engine(config)
    counts = {"answerable": 0, "gold": 0, "cited_page": 0, "answered": 0, "unanswerable": 0, "refused": 0}
    ttfts: list[float] = []
    started = time.perf_counter()
    with Index.open() as index:
        index_paths([folder], index=index, collection=config.collection)
        if args.agent:
            from localagent.agent.loop import AgentLoop

            asker = AgentLoop(engine, index, config)
        else:
            asker = Answerer(engine, index, config)
        for q in questions:
            answer = asker.ask(q["question"])
            if answer.timings.ttft_ms:
                ttfts.append(answer.timings.ttft_ms)
            golds = q.get("answers") or []
            pages = [(Path(c.file).name, c.page) for c in answer.citations]
            if golds:
                counts["answerable"] += 1
                ok = answer.found and contains_gold(answer.text, golds)
                page_ok = answer.found and (q.get("file"), q.get("page")) in pages
                counts["gold"] += ok
                counts["cited_page"] += page_ok
                counts["answered"] += answer.found
                verdict = "OK " if ok and page_ok else ("ok?" if ok else "MISS")
            else:
                counts["unanswerable"] += 1
                counts["refused"] += not answer.found
                verdict = "OK " if not answer.found else "BAD"
            if args.show:
                print(f"{verdict} {q['question']!r} -> {answer.text!r} {pages} | draft {answer.draft.strip()!r}"
                      f" | {answer.reason}", flush=True)
    elapsed = time.perf_counter() - started
    shutil.rmtree(tmp, ignore_errors=True)
    n, u = max(1, counts["answerable"]), max(1, counts["unanswerable"])
    ttfts.sort()
    print(f"dataset {args.dataset.name}: {counts['answerable']} answerable, {counts['unanswerable']} unanswerable"
          f" | mode {'agent' if args.agent else 'pipeline'} | model {engine.stats.model_name}")
    print(f"answer contains gold   {counts['gold']}/{counts['answerable']} = {counts['gold'] / n:.0%}")
    print(f"citation page accuracy {counts['cited_page']}/{counts['answerable']} = {counts['cited_page'] / n:.0%}")
    print(f"refusal accuracy       {counts['refused']}/{counts['unanswerable']} = {counts['refused'] / u:.0%}")
    print(f"answered (any)         {counts['answered']}/{counts['answerable']}")
    if ttfts:
        print(f"ttft median {ttfts[len(ttfts) // 2]:.0f} ms | total {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
