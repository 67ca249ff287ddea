"""MLP variants of the encoder, decoder and discriminator, for tabular rows ``(B, n_features)``.

The same three roles as :mod:`skanogan.models.components.dcgan`, so a model has one training
loop for images and tables. The hidden widths are ``4 * base_channels`` and ``2 * base_channels``.
"""

from __future__ import annotations

import itertools

import torch
from torch import nn

from skanogan.models.components.dcgan import LEAKY_SLOPE

__all__ = ["MLPDecoder", "MLPDiscriminator", "MLPEncoder", "mlp"]


def mlp(sizes: list[int], out_activation: nn.Module | None) -> nn.Sequential:
    layers = nn.Sequential()
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.add_module(f"linear-{n_in}-{n_out}", nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.add_module(f"batchnorm-{n_out}", nn.BatchNorm1d(n_out))
            layers.add_module(f"relu-{n_out}", nn.LeakyReLU(LEAKY_SLOPE, inplace=True))
    if out_activation is not None:
        layers.add_module("out", out_activation)
    return layers


class MLPEncoder(nn.Module):
    """Tabular encoder: ``(B, n_features)`` → ``(B, latent_dim)`` through two hidden layers.

    The hidden widths are ``4 * base_channels`` and ``2 * base_channels``.

    Examples
    --------
    >>> MLPEncoder(n_features=10, latent_dim=3, base_channels=4)(torch.zeros(2, 10)).shape
    torch.Size([2, 3])
    """

    def __init__(self, n_features: int, latent_dim: int, base_channels: int):
        super().__init__()
        self.layers = mlp([n_features, 4 * base_channels, 2 * base_channels, latent_dim], None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class MLPDecoder(nn.Module):
    """Tabular decoder: ``(B, latent_dim)`` → ``(B, n_features)`` in ``[-1, 1]``.

    Examples
    --------
    >>> MLPDecoder(n_features=10, latent_dim=3, base_channels=4)(torch.zeros(2, 3)).shape
    torch.Size([2, 10])
    """

    def __init__(self, n_features: int, latent_dim: int, base_channels: int):
        super().__init__()
        self.layers = mlp([latent_dim, 2 * base_channels, 4 * base_channels, n_features], nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.layers(z)


class MLPDiscriminator(nn.Module):
    """Tabular discriminator: ``(B, n_features)`` → (logit ``(B,)``, features ``(B, 2 * width)``).

    ``width`` is ``base_channels``.

    Examples
    --------
    >>> logit, features = MLPDiscriminator(n_features=10, base_channels=4)(torch.zeros(2, 10))
    >>> logit.shape, features.shape
    (torch.Size([2]), torch.Size([2, 8]))
    """

    def __init__(self, n_features: int, base_channels: int):
        super().__init__()
        self.features = mlp([n_features, 4 * base_channels, 2 * base_channels], None)
        self.features.add_module("out-batchnorm", nn.BatchNorm1d(2 * base_channels))
        self.features.add_module("out-relu", nn.LeakyReLU(LEAKY_SLOPE, inplace=True))
        self.classifier = nn.Linear(2 * base_channels, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.features(x)
        return self.classifier(features).flatten(), features
