"""Hugging Face checkpoint -> ternary / binary GGUF converter (numpy only) and QAT (torch, optional)."""

from quantize.errors import QuantizeError

__all__ = ["QuantizeError"]
