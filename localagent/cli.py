"""`localagent` command line: a thin dispatcher over one module per command in `commands/`.

Exit codes: 0 ok, 1 user error (one line on stderr, no traceback unless --debug), 2 usage error,
130 interrupted (Ctrl-C; 128 + SIGINT, as shells report it).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from collections.abc import Sequence

from localagent import __version__
from localagent.engine.system import choose_openmp_wait_policy
from localagent.errors import LocalAgentError

# One module per command; each has register(subparsers, common) and sets `func` on its parser.
COMMAND_MODULES = [
    "localagent.commands.paths",
    "localagent.commands.config",
    "localagent.commands.models",
    "localagent.commands.generate",
    "localagent.commands.index",
    "localagent.commands.search",
    "localagent.commands.docs",
    "localagent.commands.ask",
    "localagent.commands.chat",
    "localagent.commands.batch",
]

DESCRIPTION = """\
Private, offline document assistant. Index a folder of PDF, Word, HTML, text and Markdown
files (scans too, with the [ocr] extra), then ask questions and get answers with page or
section citations, all on this machine through llama.cpp.

Start with:
  localagent index ~/Documents/contracts   read and index a folder
  localagent ask "When does the lease end?" answer from the documents, with citations
  localagent chat                           the terminal UI (also: `localagent` alone)
"""


def common_options() -> argparse.ArgumentParser:
    """Options every subcommand accepts, also after the subcommand name."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show the full traceback on errors"
    )
    common.add_argument(
        "--verbose", action="store_true", default=argparse.SUPPRESS, help="show llama.cpp's own log lines"
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="localagent",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"localagent {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    parser.add_argument("--verbose", action="store_true", help="show llama.cpp's own log lines")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = common_options()
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub, common)
    return parser


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if getattr(args, "func", None) is None:
        if (
            args.command is None
            and sys.stdin.isatty()
            and sys.stdout.isatty()
            and "localagent.commands.chat" in COMMAND_MODULES
        ):
            args = parser.parse_args(["chat"])
        else:
            parser.print_help()
            return 0 if args.command is None else 2
    return int(args.func(args) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    choose_openmp_wait_policy()  # before anything imports llama_cpp
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = getattr(args, "debug", False)
    try:
        return _run(args, parser)
    except LocalAgentError as exc:
        if debug:
            traceback.print_exc()
        print(f"localagent: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("localagent: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug, not a user error: still one line unless --debug
        if debug:
            traceback.print_exc()
        print(
            f"localagent: internal error: {type(exc).__name__}: {exc} (run with --debug for details)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
