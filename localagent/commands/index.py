"""`localagent index PATH...`: read files and folders into the document index."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from localagent.commands.output import human_size, print_json
from localagent.config import load_config
from localagent.errors import LocalAgentError

if TYPE_CHECKING:
    from rich.progress import TaskID


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "index",
        parents=[common],
        help="index files and folders (PDF, Word, HTML, text, Markdown)",
        description="Read PDF, Word (.docx), OpenDocument (.odt), HTML, text and Markdown files (and "
        "scans and images with the [ocr] extra) into the local index. Folders are walked "
        "(hidden and clearly binary files are skipped). Only new and changed files are "
        "read; files deleted from disk leave the index. An interrupted run resumes "
        "where it stopped. Files that cannot be read are recorded with the reason "
        "(see `localagent docs list --failed`).",
    )
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders")
    p.add_argument("--collection", help="collection to index into (setting: collection)")
    p.add_argument("--rebuild", action="store_true", help="read every file again, even unchanged ones")
    p.add_argument(
        "--jobs",
        type=int,
        default=0,
        metavar="N",
        help="processes reading documents (default 0: cores minus one, at most 4; 1 on two cores)",
    )
    p.add_argument(
        "--watch",
        action="store_true",
        help="keep running: index changes (new, changed, deleted, renamed files) as they "
        "happen, until Ctrl-C",
    )
    p.add_argument(
        "--json", action="store_true", help="print the summary as JSON (one line per run with --watch)"
    )
    p.set_defaults(func=run)


class _ProgressBar:
    """A rich progress bar on stderr (only when stderr is a terminal)."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        console = Console(stderr=True)
        self.enabled = console.is_terminal
        self.progress = Progress(
            TextColumn("[bold]indexing[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rates]}"),
            TimeElapsedColumn(),
            TextColumn("[dim]{task.fields[current]}"),
            console=console,
            transient=True,
        )
        self.task: TaskID | None = None

    def __enter__(self) -> _ProgressBar:
        if self.enabled:
            self.progress.start()
            self.task = self.progress.add_task("index", total=None, rates="", current="")
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.enabled:
            self.progress.stop()

    def __call__(self, event) -> None:
        if self.task is None:
            return
        elapsed = max(event.elapsed, 1e-6)
        rates = f"{event.files_done / elapsed:.1f} files/s {event.pages_done / elapsed:.1f} pages/s"
        name = Path(event.path).name if event.path else ""
        self.progress.update(
            self.task, total=event.files_total, completed=event.files_done, rates=rates, current=name[:40]
        )


def _print_summary(summary) -> None:
    elapsed = max(summary.elapsed, 1e-6)
    if summary.indexed:
        print(
            f"indexed {summary.indexed} file(s), {summary.pages} page(s), {summary.chunks} chunk(s) "
            f"in {summary.elapsed:.1f} s ({summary.pages / elapsed:.1f} pages/s, "
            f"{human_size(summary.bytes_read / elapsed)}/s) into collection {summary.collection!r}"
        )
    else:
        print(
            f"no new or changed files in collection {summary.collection!r} "
            f"(checked in {summary.elapsed:.2f} s)"
        )
    print(
        f"unchanged {summary.unchanged}, removed {summary.removed}, failed {len(summary.failed)}, "
        f"skipped {summary.skipped} (hidden or binary)"
    )
    if summary.ocr_pages:
        print(
            f"OCR: {summary.ocr_pages} page(s) in {summary.ocr_seconds:.1f} s "
            f"({summary.ocr_seconds / summary.ocr_pages:.2f} s/page)"
        )
    for failed in summary.failed:
        print(f"  failed: {failed.path}: {failed.reason}")
    for missing in summary.missing:
        print(f"  not found: {missing}")
    if summary.cancelled:
        print("interrupted: finished files are kept; run the same command again to go on")


def run(args: argparse.Namespace) -> int:
    from localagent.index import index_paths

    if args.jobs < 0:
        raise LocalAgentError(f"--jobs must be 0 (automatic) or more, got {args.jobs}")
    config = load_config({"collection": args.collection})
    cancel = threading.Event()

    def on_interrupt(signum, frame):  # first Ctrl-C: finish the current file, then stop
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, on_interrupt)
    if args.watch:
        try:
            return _watch(args, config, cancel)
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
    try:
        with _ProgressBar() as bar:
            summary = index_paths(
                args.paths,
                collection=config.collection,
                rebuild=args.rebuild,
                progress=bar,
                cancel=cancel,
                chunk_tokens=config.chunk_tokens,
                chunk_overlap=config.chunk_overlap,
                jobs=args.jobs,
            )
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if summary.files_seen == 0 and summary.removed == 0 and not summary.cancelled:
        where = ", ".join(str(p) for p in args.paths)
        raise LocalAgentError(f"no documents found in {where} (hidden and binary files are skipped)")
    if args.json:
        print_json(summary.as_dict())
    else:
        _print_summary(summary)
    sys.stdout.flush()
    return 130 if summary.cancelled else 0


def _watch(args: argparse.Namespace, config, cancel: threading.Event) -> int:
    """`index --watch`: the first run's summary, then one line per batch of changes."""
    import time

    from localagent.index.watch import watch_paths

    def on_batch(batch) -> None:
        if args.json:
            print_json(
                {
                    "changed": list(batch.changed),
                    "error": batch.error,
                    "summary": batch.summary.as_dict() if batch.summary else None,
                }
            )
        elif batch.error:
            print(f"{time.strftime('%H:%M:%S')} {batch.error}")
        elif not batch.changed:  # the first run
            _print_summary(batch.summary)
        else:
            s = batch.summary
            print(
                f"{time.strftime('%H:%M:%S')} indexed {s.indexed}, removed {s.removed}, "
                f"failed {len(s.failed)} ({len(batch.changed)} change(s))"
            )
            for failed in s.failed:
                if failed.path in batch.changed:
                    print(f"  failed: {failed.path}: {failed.reason}")
        sys.stdout.flush()

    def ready() -> None:
        if not args.json:
            print(f"watching {len(args.paths)} path(s) for changes; Ctrl-C stops")
            sys.stdout.flush()

    watch_paths(
        args.paths,
        on_batch,
        cancel,
        collection=config.collection,
        ready=ready,
        rebuild=args.rebuild,
        chunk_tokens=config.chunk_tokens,
        chunk_overlap=config.chunk_overlap,
        jobs=args.jobs,
    )
    if not args.json:
        print("stopped watching")
    return 0
