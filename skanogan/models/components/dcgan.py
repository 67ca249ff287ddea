"""DCGAN building blocks: the conv pyramid and the encoder, decoder and discriminator built on it.

The networks follow DCGAN/GANomaly blocks and derive their depth from the square, power-of-two
``image_size`` (one stride-2 block per halving down to 4 × 4). Pure ``torch.nn``; shared by every
model that works on images (:mod:`skanogan.models.lran.networks` uses all three).

See Also
--------
skanogan.models.components.mlp : the same three roles for tabular rows.
skanogan.models.components.init : the DCGAN weight initialisation.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["LEAKY_SLOPE", "Decoder", "Discriminator", "Encoder", "check_image_size", "conv_pyramid"]

#: DCGAN's LeakyReLU slope, in the conv and the MLP networks alike.
LEAKY_SLOPE = 0.2


def check_image_size(image_size: int) -> None:
    if image_size < 16 or image_size & (image_size - 1):
        raise ValueError(f"image_size must be a power of two >= 16, got {image_size!r}")


def conv_pyramid(
    in_channels: int, image_size: int, base_channels: int
) -> tuple[nn.Sequential, int]:
    """Stride-2 conv blocks from ``image_size`` down to 4 × 4; returns the stack and its width."""
    layers = nn.Sequential()
    layers.add_module(
        f"initial-conv-{in_channels}-{base_channels}",
        nn.Conv2d(in_channels, base_channels, 4, 2, 1, bias=False),
    )
    layers.add_module(f"initial-relu-{base_channels}", nn.LeakyReLU(LEAKY_SLOPE, inplace=True))
    size, channels = image_size // 2, base_channels
    while size > 4:
        out = channels * 2
        layers.add_module(
            f"pyramid-{channels}-{out}-conv", nn.Conv2d(channels, out, 4, 2, 1, bias=False)
        )
        layers.add_module(f"pyramid-{out}-batchnorm", nn.BatchNorm2d(out))
        layers.add_module(f"pyramid-{out}-relu", nn.LeakyReLU(LEAKY_SLOPE, inplace=True))
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
        check_image_size(image_size)
        self.features, width = conv_pyramid(in_channels, image_size, base_channels)
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
        check_image_size(image_size)
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
        check_image_size(image_size)
        self.features, width = conv_pyramid(in_channels, image_size, base_channels)
        self.classifier = nn.Conv2d(width, 1, 4, 1, 0, bias=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.features(x)
        return self.classifier(features).flatten(), features
