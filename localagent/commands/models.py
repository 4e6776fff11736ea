"""`localagent models list|info|add|default`: the model registry."""

from __future__ import annotations

import argparse
from pathlib import Path

from localagent.commands.output import human_size, print_json, print_record
from localagent.errors import LocalAgentError
from localagent.models import ModelEntry, Registry, read_gguf_info
from localagent.models.checksum import cached_sha256


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "models",
        parents=[common],
        help="list, inspect, add and choose models",
        description="Models come from models/registry.toml (shipped) and from models "
        "you add with `localagent models add`.",
    )
    msub = p.add_subparsers(dest="models_command", metavar="ACTION")
    ls = msub.add_parser("list", parents=[common], help="name, type, bits/weight, size, installed, default")
    ls.add_argument("--json", action="store_true", help="print JSON")
    ls.set_defaults(func=run_list)
    info = msub.add_parser("info", parents=[common], help="everything known about one model")
    info.add_argument("name")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(func=run_info)
    add = msub.add_parser(
        "add",
        parents=[common],
        help="register a GGUF file you have",
        description="Validate a GGUF file (magic, version, tensor data in bounds) "
        "and register it under a name. The file is not copied.",
    )
    add.add_argument("path", type=Path)
    add.add_argument("--name", required=True, help="the name to use with --model")
    add.add_argument("--licence", default="", help="licence of the weights, for your records")
    add.add_argument("--json", action="store_true", help="print JSON")
    add.set_defaults(func=run_add)
    default = msub.add_parser("default", parents=[common], help="choose the model used when none is given")
    default.add_argument("name")
    default.set_defaults(func=run_default)
    p.set_defaults(func=run_list, json=False)


def _row(registry: Registry, entry: ModelEntry, with_file_facts: bool) -> dict:
    path = entry.local_path
    row = {
        "name": entry.name,
        "source": entry.source,
        "type": entry.quant,
        "architecture": entry.architecture,
        "params": entry.params,
        "installed": entry.installed,
        "install": entry.install_hint or None,
        "default": entry.name == registry.default_name,
        "status": entry.status,
        "path": str(path) if path else None,
        "size": None,
        "bits_per_weight": None,
        "licence": entry.licence,
        "notes": entry.notes,
    }
    if with_file_facts and path is not None and path.is_file():
        try:
            info = read_gguf_info(path)
            row.update(
                size=info.file_size, bits_per_weight=info.bits_per_weight, type=row["type"] or info.main_type
            )
        except LocalAgentError as exc:
            row["status"] = f"broken: {exc}"
    return row


def run_list(args: argparse.Namespace) -> int:
    registry = Registry.load()
    rows = [_row(registry, e, with_file_facts=True) for e in registry.entries]
    if args.json:
        print_json({"default": registry.default_name, "models": rows})
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, header_style="bold")
    for column in ("", "name", "type", "bits/w", "size", "installed", "source", "status"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            "*" if r["default"] else "",
            r["name"],
            r["type"] or "?",
            f"{r['bits_per_weight']:.2f}" if r["bits_per_weight"] else "-",
            human_size(r["size"]) if r["size"] else "-",
            "yes" if r["installed"] else "no",
            r["source"],
            r["status"],
        )
    Console().print(table)
    print("* default model; `localagent models info NAME` for details")
    for r in rows:
        if r["install"]:
            print(f"to install {r['name']}: {r['install']}")
    return 0


def run_info(args: argparse.Namespace) -> int:
    registry = Registry.load()
    entry = registry.get(args.name)
    row = _row(registry, entry, with_file_facts=False)
    path = registry.path_for(entry)
    info = read_gguf_info(path)
    row.update(
        path=str(path),
        size=info.file_size,
        bits_per_weight=info.bits_per_weight,
        gguf_architecture=info.architecture,
        gguf_name=info.name,
        n_params=info.n_params,
        tensor_types=info.type_mix,
        context_length=info.context_length,
        chat_template=info.has_chat_template,
        sha256=cached_sha256(path),
    )
    print_record(row, args.json)
    return 0


def run_add(args: argparse.Namespace) -> int:
    path = args.path.expanduser().resolve()
    info = read_gguf_info(path)
    registry = Registry.load()
    entry = ModelEntry(
        name=args.name,
        source="user",
        path=str(path),
        sha256=cached_sha256(path),
        architecture=info.architecture,
        quant=info.main_type,
        licence=args.licence,
        params=f"{info.n_params / 1e6:.0f}M",
    )
    registry.add_user_model(entry)
    if args.json:
        print_json(_row(registry, entry, with_file_facts=True))
    else:
        print(
            f"added {args.name}: {path} ({info.architecture}, {info.main_type}, "
            f"{info.bits_per_weight:.2f} bits/weight)"
        )
    return 0


def run_default(args: argparse.Namespace) -> int:
    registry = Registry.load()
    registry.set_default(args.name)
    print(f"default model: {args.name}")
    return 0
