"""The four networks of the Latent Regularized Adversarial Network, as pure ``torch.nn.Module``.

- :class:`Encoder` ``G_e`` (and, with its own weights, the auxiliary encoder ``G_e'``): image → z.
- :class:`Decoder` ``G_d``: z → image, ending in ``tanh``.
- :class:`Discriminator` ``D``: image → (real/fake logit, penultimate features).

The convolutional networks follow DCGAN/GANomaly blocks and derive their depth from the square,
power-of-two ``image_size`` (one stride-2 block per halving down to 4 × 4). For tabular input the
same three roles are played by small MLPs (:class:`MLPEncoder`, :class:`MLPDecoder`,
:class:`MLPDiscriminator`), so the estimator has one training loop for both.

See Also
--------
skanogan.losses : the loss terms that combine these networks' outputs.
skanogan.training : one epoch of the adversarial game.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch
from torch import nn

__all__ = [
    "Decoder",
    "Discriminator",
    "Encoder",
    "GANetworks",
    "MLPDecoder",
    "MLPDiscriminator",
    "MLPEncoder",
    "build_networks",
    "init_dcgan_weights",
]

_SLOPE = 0.2


def _check_image_size(image_size: int) -> None:
    if image_size < 16 or image_size & (image_size - 1):
        raise ValueError(f"image_size must be a power of two >= 16, got {image_size!r}")


def _conv_pyramid(
    in_channels: int, image_size: int, base_channels: int
) -> tuple[nn.Sequential, int]:
    """Stride-2 conv blocks from ``image_size`` down to 4 × 4; returns the stack and its width."""
    layers = nn.Sequential()
    layers.add_module(
        f"initial-conv-{in_channels}-{base_channels}",
        nn.Conv2d(in_channels, base_channels, 4, 2, 1, bias=False),
    )
    layers.add_module(f"initial-relu-{base_channels}", nn.LeakyReLU(_SLOPE, inplace=True))
    size, channels = image_size // 2, base_channels
    while size > 4:
        out = channels * 2
        layers.add_module(
            f"pyramid-{channels}-{out}-conv", nn.Conv2d(channels, out, 4, 2, 1, bias=False)
        )
        layers.add_module(f"pyramid-{out}-batchnorm", nn.BatchNorm2d(out))
        layers.add_module(f"pyramid-{out}-relu", nn.LeakyReLU(_SLOPE, inplace=True))
        size, channels = size // 2, out
    return layers, channels


class Encoder(nn.Module):
    """DCGAN encoder ``G_e``: ``(B, C, S, S)`` image → ``(B, latent_dim)`` code.

    Parameters
    ----------
    in_channels : int
        Image channels ``C``.
    image_size : int
        Side ``S`` of the square input, a power of two >= 16.
    latent_dim : int
        Size of the code z.
    base_channels : int
        Width of the first conv layer; it doubles at every halving.

    Examples
    --------
    >>> encoder = Encoder(in_channels=1, image_size=32, latent_dim=16, base_channels=8)
    >>> encoder(torch.zeros(5, 1, 32, 32)).shape
    torch.Size([5, 16])
    """

    def __init__(self, in_channels: int, image_size: int, latent_dim: int, base_channels: int):
        super().__init__()
        _check_image_size(image_size)
        self.features, width = _conv_pyramid(in_channels, image_size, base_channels)
        self.final_conv = nn.Conv2d(width, latent_dim, 4, 1, 0, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.final_conv(self.features(x)).flatten(1)


class Decoder(nn.Module):
    """DCGAN decoder ``G_d``: ``(B, latent_dim)`` code → ``(B, C, S, S)`` image in ``[-1, 1]``.

    Parameters are those of :class:`Encoder`; the widths mirror it.

    Examples
    --------
    >>> decoder = Decoder(out_channels=3, image_size=16, latent_dim=16, base_channels=8)
    >>> decoder(torch.zeros(2, 16)).shape
    torch.Size([2, 3, 16, 16])
    """

    def __init__(self, out_channels: int, image_size: int, latent_dim: int, base_channels: int):
        super().__init__()
        _check_image_size(image_size)
        n_halvings = int(math.log2(image_size)) - 2
        width = base_channels * 2 ** (n_halvings - 1)
        layers = nn.Sequential()
        layers.add_module(
            f"initial-{latent_dim}-{width}-convt",
            nn.ConvTranspose2d(latent_dim, width, 4, 1, 0, bias=False),
        )
        layers.add_module(f"initial-{width}-batchnorm", nn.BatchNorm2d(width))
        layers.add_module(f"initial-{width}-relu", nn.ReLU(inplace=True))
        size = 4
        while size < image_size // 2:
            out = width // 2
            layers.add_module(
                f"pyramid-{width}-{out}-convt", nn.ConvTranspose2d(width, out, 4, 2, 1, bias=False)
            )
            layers.add_module(f"pyramid-{out}-batchnorm", nn.BatchNorm2d(out))
            layers.add_module(f"pyramid-{out}-relu", nn.ReLU(inplace=True))
            size, width = size * 2, out
        layers.add_module(
            f"final-{width}-{out_channels}-convt",
            nn.ConvTranspose2d(width, out_channels, 4, 2, 1, bias=False),
        )
        layers.add_module(f"final-{out_channels}-tanh", nn.Tanh())
        self.layers = layers

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.layers(z[:, :, None, None])


class Discriminator(nn.Module):
    """DCGAN discriminator ``D``: image → (logit ``(B,)``, penultimate features ``(B, F, 4, 4)``).

    Parameters
    ----------
    in_channels, image_size, base_channels
        As for :class:`Encoder`.

    Examples
    --------
    >>> discriminator = Discriminator(in_channels=1, image_size=16, base_channels=8)
    >>> logit, features = discriminator(torch.zeros(4, 1, 16, 16))
    >>> logit.shape, features.shape
    (torch.Size([4]), torch.Size([4, 16, 4, 4]))
    """

    def __init__(self, in_channels: int, image_size: int, base_channels: int):
        super().__init__()
        _check_image_size(image_size)
        self.features, width = _conv_pyramid(in_channels, image_size, base_channels)
        self.classifier = nn.Conv2d(width, 1, 4, 1, 0, bias=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.features(x)
        return self.classifier(features).flatten(), features


def _mlp(sizes: list[int], out_activation: nn.Module | None) -> nn.Sequential:
    layers = nn.Sequential()
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.add_module(f"linear-{n_in}-{n_out}", nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.add_module(f"batchnorm-{n_out}", nn.BatchNorm1d(n_out))
            layers.add_module(f"relu-{n_out}", nn.LeakyReLU(_SLOPE, inplace=True))
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
        self.layers = _mlp([n_features, 4 * base_channels, 2 * base_channels, latent_dim], None)

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
        self.layers = _mlp(
            [latent_dim, 2 * base_channels, 4 * base_channels, n_features], nn.Tanh()
        )

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
        self.features = _mlp([n_features, 4 * base_channels, 2 * base_channels], None)
        self.features.add_module("out-batchnorm", nn.BatchNorm1d(2 * base_channels))
        self.features.add_module("out-relu", nn.LeakyReLU(_SLOPE, inplace=True))
        self.classifier = nn.Linear(2 * base_channels, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.features(x)
        return self.classifier(features).flatten(), features


@dataclass
class GANetworks:
    """The four networks of one model, in the paper's roles."""

    encoder: nn.Module
    decoder: nn.Module
    aux_encoder: nn.Module
    discriminator: nn.Module

    def generator_parameters(self) -> list[nn.Parameter]:
        """Parameters trained by the generator's optimizer: ``G_e``, ``G_d`` and ``G_e'``."""
        return [
            *self.encoder.parameters(),
            *self.decoder.parameters(),
            *self.aux_encoder.parameters(),
        ]

    def modules(self) -> dict[str, nn.Module]:
        return {
            "encoder": self.encoder,
            "decoder": self.decoder,
            "aux_encoder": self.aux_encoder,
            "discriminator": self.discriminator,
        }


def init_dcgan_weights(module: nn.Module, generator: torch.Generator) -> None:
    """DCGAN initialisation of one layer: weights ~ N(0, 0.02), norm scales ~ N(1, 0.02).

    Apply with ``network.apply(partial(init_dcgan_weights, generator=g))``; every learnable
    tensor of the layer is set, so the result depends on ``generator`` alone.
    """
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02, generator=generator)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        nn.init.normal_(module.weight, 1.0, 0.02, generator=generator)
        nn.init.zeros_(module.bias)


def build_networks(
    *,
    in_channels: int | None,
    image_size: int | None,
    n_features: int,
    latent_dim: int,
    base_channels: int,
    generator: torch.Generator,
) -> GANetworks:
    """Build and initialise the four networks on the CPU.

    Convolutional networks when ``image_size`` is given, MLPs (over ``n_features``) when it is
    ``None``. Construction runs inside :func:`torch.random.fork_rng`, so PyTorch's default
    initialisers leave the global random state as they found it; every weight is then drawn
    from ``generator``.
    """
    with torch.random.fork_rng(devices=[]):
        if image_size is None:
            nets = GANetworks(
                encoder=MLPEncoder(n_features, latent_dim, base_channels),
                decoder=MLPDecoder(n_features, latent_dim, base_channels),
                aux_encoder=MLPEncoder(n_features, latent_dim, base_channels),
                discriminator=MLPDiscriminator(n_features, base_channels),
            )
        else:
            nets = GANetworks(
                encoder=Encoder(in_channels, image_size, latent_dim, base_channels),
                decoder=Decoder(in_channels, image_size, latent_dim, base_channels),
                aux_encoder=Encoder(in_channels, image_size, latent_dim, base_channels),
                discriminator=Discriminator(in_channels, image_size, base_channels),
            )
    for module in nets.modules().values():
        module.apply(lambda layer: init_dcgan_weights(layer, generator))
    return nets
