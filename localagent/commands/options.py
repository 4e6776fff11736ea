"""Command-line options shared by the commands that load a model."""

from __future__ import annotations

import argparse


def add_model_options(parser: argparse.ArgumentParser,
                      threads_help: str = "CPU threads (default: physical cores)") -> None:
    """--model, --n-ctx and --threads (settings model, n_ctx, n_threads)."""
    parser.add_argument("--model", help="model name from `localagent models list`, or a path to a .gguf file")
    parser.add_argument("--n-ctx", type=int, dest="n_ctx", help="context window in tokens")
    parser.add_argument("--threads", type=int, dest="n_threads", help=threads_help)
