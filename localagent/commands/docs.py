"""`localagent docs list|remove`: what the index holds, what failed and why."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from localagent.commands.output import human_size, print_json
from localagent.errors import LocalAgentError


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "docs",
        parents=[common],
        help="list or remove indexed documents",
        description="Show the documents in the index (with failure reasons) or "
        "remove some. Removing does not touch the files themselves.",
    )
    dsub = p.add_subparsers(dest="docs_command", metavar="ACTION")
    ls = dsub.add_parser("list", parents=[common], help="indexed documents, pages, chunks, status")
    ls.add_argument("--failed", action="store_true", help="only files that could not be read")
    ls.add_argument("--collection", help="only this collection (default: all)")
    ls.add_argument("--json", action="store_true", help="print JSON")
    ls.set_defaults(func=run_list)
    rm = dsub.add_parser("remove", parents=[common], help="forget files (or everything under a folder)")
    rm.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    rm.add_argument("--collection", help="only from this collection (default: all)")
    rm.add_argument("--json", action="store_true", help="print JSON")
    rm.set_defaults(func=run_remove)
    p.set_defaults(func=run_list, failed=False, collection=None, json=False)


def run_list(args: argparse.Namespace) -> int:
    from localagent.index import Index

    with Index.open() as index:
        documents = index.list_documents(args.collection, failed=args.failed)
    if args.json:
        print_json(
            {
                "documents": [
                    {
                        "path": d.path,
                        "collection": d.collection,
                        "status": d.status,
                        "error": d.error,
                        "pages": d.pages,
                        "chunks": d.chunks,
                        "size": d.size,
                        "indexed_at": d.indexed_at,
                        "notes": d.notes,
                        "glued_pages": d.glued_pages,
                        "ocr_pages": d.ocr_pages,
                        "exists": os.path.exists(d.path),
                    }
                    for d in documents
                ]
            }
        )
        return 0
    if not documents:
        print("no failed documents" if args.failed else "the index is empty; run `localagent index PATH`")
        return 0
    width = max(10, *(len(d.collection) for d in documents))
    print(f"{'status':<7} {'pages':>6} {'chunks':>7} {'size':>9}  {'collection':<{width}}  path")
    for d in documents:
        reason = f"  — {d.error}" if d.status == "failed" else f"  — {d.notes}" if d.notes else ""
        if not os.path.exists(d.path):
            reason += "  — file no longer exists (search skips it; `localagent index` on its folder drops it)"
        print(
            f"{d.status:<7} {d.pages:>6} {d.chunks:>7} {human_size(d.size):>9}  "
            f"{d.collection:<{width}}  {d.path}{reason}"
        )
    failed = sum(d.status == "failed" for d in documents)
    glued = sum(d.glued_pages > 0 for d in documents)
    extra = f", {glued} with glued words (spaces lost in the PDF's text layer)" if glued else ""
    print(f"{len(documents)} document(s), {failed} failed{extra}")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    from localagent.index import Index

    removed: dict[str, int] = {}
    with Index.open() as index:
        for path in args.paths:
            removed[str(path)] = index.remove(path.expanduser(), args.collection)
    if args.json:
        print_json({"removed": removed})
    else:
        for path, count in removed.items():
            print(f"removed {count} document(s) for {path}")
    missing = [path for path, count in removed.items() if count == 0]
    if missing:
        raise LocalAgentError(f"not in the index: {missing[0]}")
    return 0
