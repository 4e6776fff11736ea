"""Quantization-aware training (BitNet b1.58 recipe) for the project's own ternary model.

Importing this package does not import torch; the torch-dependent modules are
``bitlinear``, ``model``, ``trainer`` and ``export`` (install the ``[train]`` extra).
The corpus and tokenizer builders only need the standard library and sentencepiece.
"""
