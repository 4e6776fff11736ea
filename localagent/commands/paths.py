"""`localagent paths`: where config, data and cache live."""

from __future__ import annotations

import argparse

from localagent.commands.output import print_record
from localagent.paths import get_paths


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "paths",
        parents=[common],
        help="print the config, data and cache folders",
        description="Print where localagent keeps its config, index and models. "
        "Set LOCALAGENT_HOME to keep all of them under one folder.",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    print_record(get_paths().as_dict(), args.json)
    return 0
