"""Command-line options shared by the commands that load a model."""

from __future__ import annotations

import argparse

from localagent.config import SETTINGS, Config, load_config


def add_model_options(
    parser: argparse.ArgumentParser, threads_help: str = "CPU threads (default: physical cores)"
) -> None:
    """--model, --n-ctx and --threads (settings model, n_ctx, n_threads)."""
    parser.add_argument("--model", help="model name from `localagent models list`, or a path to a .gguf file")
    parser.add_argument("--n-ctx", type=int, dest="n_ctx", help="context window in tokens")
    parser.add_argument("--threads", type=int, dest="n_threads", help=threads_help)


def config_from_args(args: argparse.Namespace) -> Config:
    """The settings with this command's flags applied: every parsed option whose dest is a setting
    name counts when given (None means not given); --verbose counts only when set."""
    flags = {name: getattr(args, name, None) for name in SETTINGS}
    flags["verbose"] = getattr(args, "verbose", None) or None
    return load_config(flags)
