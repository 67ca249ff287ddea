"""DCGAN weight initialisation, drawn from a local random generator."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["init_dcgan_weights"]


def init_dcgan_weights(module: nn.Module, rng: torch.Generator) -> None:
    """DCGAN initialisation of one layer: weights ~ N(0, 0.02), norm scales ~ N(1, 0.02).

    Apply with ``network.apply(partial(init_dcgan_weights, rng=rng))``; every learnable
    tensor of the layer is set, so the result depends on ``rng`` alone.
    """
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02, generator=rng)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        nn.init.normal_(module.weight, 1.0, 0.02, generator=rng)
        nn.init.zeros_(module.bias)
