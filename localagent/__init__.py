"""localagent: a private, offline document assistant on ternary and binary transformers."""

__version__ = "0.1.0"
