"""`localagent config show`: merged settings and where each value came from."""

from __future__ import annotations

import argparse

from localagent.commands.output import print_json
from localagent.config import SETTINGS, load_config
from localagent.errors import LocalAgentError
from localagent.paths import get_paths


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "config",
        parents=[common],
        help="show settings and where they come from",
        description="Settings merge as: defaults < config.toml < LOCALAGENT_* env < flags.",
    )
    csub = p.add_subparsers(dest="config_command", metavar="ACTION")
    show = csub.add_parser("show", parents=[common], help="print the merged settings with their sources")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(func=run_show)
    path = csub.add_parser("path", parents=[common], help="print the config.toml path")
    path.set_defaults(func=lambda args: print(get_paths().config_file) or 0)
    p.set_defaults(func=run_show, json=False)


def run_show(args: argparse.Namespace) -> int:
    config = load_config()
    rows = [
        {"name": name, "value": v.value, "source": v.source, "help": SETTINGS[name].help}
        for name, v in config.items()
    ]
    if args.json:
        print_json({"config_file": str(get_paths().config_file), "settings": rows})
        return 0
    if not rows:
        raise LocalAgentError("no settings defined")
    print(f"# config file: {get_paths().config_file}")
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        print(f"{r['name']:<{width}} = {r['value']!r:<12} # {r['source']}")
    return 0
