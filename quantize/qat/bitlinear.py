"""BitLinear: the BitNet b1.58 linear layer (ternary weights, int8 activations, STE)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

EPS = 1e-5


def absmean_scale(weight: torch.Tensor) -> torch.Tensor:
    """Per-tensor scale s = mean|W| (clamped away from zero)."""
    return weight.abs().mean().clamp(min=EPS)


def ternary_codes(weight: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Codes in {-1, 0, +1}: clamp(round(W / s), -1, 1)."""
    return (weight / scale).round().clamp(-1, 1)


def ternarize(weight: torch.Tensor) -> torch.Tensor:
    """W_q = codes * s with s = mean|W| (no gradient trick)."""
    scale = absmean_scale(weight)
    return ternary_codes(weight, scale) * scale


def quantize_activations(x: torch.Tensor) -> torch.Tensor:
    """Per-token absmax int8 fake quantization: round(x * 127/max|x|) clamped to int8, scaled back."""
    scale = 127.0 / x.abs().amax(dim=-1, keepdim=True).clamp(min=EPS)
    return (x * scale).round().clamp(-128, 127) / scale


class BitLinear(nn.Linear):
    """nn.Linear whose forward uses ternary weights and int8 activations.

    The straight-through estimator passes gradients to the latent full-precision
    weights and inputs unchanged: ``x + (q(x) - x).detach()``.
    """

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__(in_features, out_features, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float()  # quantize in fp32 even under bf16 autocast
        x_q = x + (quantize_activations(x) - x).detach()
        w_q = self.weight + (ternarize(self.weight) - self.weight).detach()
        return F.linear(x_q, w_q)


class PlainLinear(nn.Linear):
    """Full-precision bias-free linear layer (the twin model's layer)."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__(in_features, out_features, bias=False)
