"""`localagent chat`: the terminal UI (also what `localagent` alone starts in a terminal)."""

from __future__ import annotations

import argparse
import os
import sys

from localagent.commands.options import add_model_options, config_from_args
from localagent.errors import LocalAgentError

QUIT_GRACE_S = 3.0  # after ctrl+q, how long answering/indexing threads get to stop


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "chat",
        parents=[common],
        help="the terminal UI: ask your documents, read cited pages",
        description="Open the terminal UI: your collections and documents on the left, answers with "
        "citations streamed on the right (choose a citation to read the page). ctrl+p opens "
        "the command palette (switch model or collection, index a folder, past chats), F1 "
        "shows every key. Chats are saved in the data dir.",
    )
    add_model_options(p)
    p.add_argument("--collection", help="collection to answer from (setting: collection)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise LocalAgentError("chat needs a terminal; for scripts use `localagent ask QUESTION --json`")
    from localagent.paths import get_paths
    from localagent.tui import ChatApp
    from localagent.tui.terminal import private_terminal

    app = ChatApp(config)
    with private_terminal(get_paths().data_dir / "chat.log"):
        app.run()
    if not app.threads.wait_idle(QUIT_GRACE_S):
        # A model still loading cannot be interrupted: leave now instead of hanging the terminal.
        # Nothing is lost: chats and index commit as they go.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(app.return_code or 0)
    return app.return_code or 0
