"""`localagent search QUERY`: the best matching chunks, with file, page and marked snippet."""

from __future__ import annotations

import argparse
import re
import sys

from localagent.commands.output import print_json
from localagent.config import load_config
from localagent.errors import LocalAgentError


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "search",
        parents=[common],
        help="full-text search of the indexed documents",
        description="Rank indexed chunks by bm25 for the words of QUERY (any word may match; "
        "chunks matching more and rarer words come first). Put words in double quotes "
        "to search for them as a phrase. Query text is never interpreted as syntax.",
    )
    p.add_argument("query", nargs="+", metavar="QUERY", help="words to search for")
    p.add_argument("--collection", help="collection to search (setting: collection)")
    p.add_argument("--limit", "-k", type=int, default=10, help="most results to show (default 10)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def hit_json(hit) -> dict:
    return {
        "file": hit.file,
        "page": hit.page,
        "page_label": hit.page_label,
        "place": hit.place,
        "heading": hit.heading,
        "line_start": hit.line_start,
        "line_end": hit.line_end,
        "snippet": hit.snippet,
        "score": hit.score,
        "chunk_id": hit.chunk_id,
    }


def _rich_snippet(snippet: str, styled: bool) -> str:
    """One line; matched words in bold on a terminal, between the plain markers otherwise."""
    from rich.markup import escape

    from localagent.index import MARK_END, MARK_START

    if not styled:
        return escape(" ".join(snippet.split()))
    parts = re.split(f"{re.escape(MARK_START)}(.*?){re.escape(MARK_END)}", snippet, flags=re.S)
    out = [escape(part) if i % 2 == 0 else f"[bold yellow]{escape(part)}[/]" for i, part in enumerate(parts)]
    return " ".join("".join(out).split())


def run(args: argparse.Namespace) -> int:
    from localagent.index import Index

    if args.limit < 1:
        raise LocalAgentError(f"--limit must be at least 1, got {args.limit}")
    config = load_config({"collection": args.collection})
    query = " ".join(args.query)
    with Index.open() as index:
        if not index.list_documents(config.collection):
            raise LocalAgentError(
                f"collection {config.collection!r} has no documents yet; run `localagent index PATH` first"
            )
        hits = index.search(query, collection=config.collection, limit=args.limit)
    if args.json:
        print_json(
            {"query": query, "collection": config.collection, "results": [hit_json(hit) for hit in hits]}
        )
        return 0
    if not hits:
        print(f"no results for {query!r} in collection {config.collection!r}", file=sys.stderr)
        return 0
    from rich.console import Console
    from rich.markup import escape

    from localagent.docs.flow import is_flow

    console = Console(highlight=False, soft_wrap=True)
    for rank, hit in enumerate(hits, start=1):
        lines = (
            f"line {hit.line_start}"
            if hit.line_start == hit.line_end
            else f"lines {hit.line_start}-{hit.line_end}"
        )
        where = hit.place if is_flow(hit.file) else f"{hit.place}, {lines}"
        console.print(
            f"[bold]{rank}.[/] [cyan]{escape(hit.file)}[/] {escape(where)}  [dim]score {hit.score:.2f}[/]"
        )
        console.print(f"   {_rich_snippet(hit.snippet, console.is_terminal)}")
    return 0
