"""Image geometry and pixel scaling: how user arrays become network inputs, and back.

Size policy (``docs/paper.md``, "image sizes"): the convolutional networks take square,
power-of-two sides >= 16.
Any other ``(H, W)`` is mapped there in two documented, invertible steps:

1. a side shorter than 16 is resized (bilinear) up to 16;
2. the image is edge-padded (replicating border pixels), centred, to a square whose side is the
   next power of two of the longer side.

Nothing is cropped: :meth:`ImageGeometry.to_input` removes the padding and resizes back
(bilinear), so reconstructions and anomaly maps come back at the input's resolution.

Pixel scaling: per channel (per feature for tabular data), the minimum and maximum seen in the
training data are mapped linearly to ``[-1, 1]``, the decoder's ``tanh`` range. Scoring reuses
those learned values; data outside the training range maps outside ``[-1, 1]`` (it is not
clipped), which the decoder cannot reproduce — as it should be for an anomaly detector.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

MIN_NETWORK_SIDE = 16


def _next_power_of_two(n: int) -> int:
    return 1 << (n - 1).bit_length()


@dataclass(frozen=True)
class ImageGeometry:
    """The mapping between an input image shape ``(C, H, W)`` and the network's ``(C, S, S)``.

    Examples
    --------
    >>> geometry = ImageGeometry.plan((1, 8, 8))
    >>> geometry.side, geometry.resized
    (16, (16, 16))
    >>> ImageGeometry.plan((3, 28, 20)).padding
    (6, 6, 2, 2)
    """

    image_shape: tuple[int, int, int]
    resized: tuple[int, int]
    side: int
    #: (left, right, top, bottom), the order of :func:`torch.nn.functional.pad`.
    padding: tuple[int, int, int, int]

    @classmethod
    def plan(cls, image_shape: tuple[int, int, int]) -> ImageGeometry:
        _, height, width = image_shape
        resized = (max(height, MIN_NETWORK_SIDE), max(width, MIN_NETWORK_SIDE))
        side = _next_power_of_two(max(resized))
        pad_h, pad_w = side - resized[0], side - resized[1]
        padding = (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2)
        return cls(tuple(image_shape), resized, side, padding)

    @property
    def needs_resize(self) -> bool:
        return self.resized != tuple(self.image_shape[1:])

    def to_network(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W)`` → ``(B, C, S, S)``: resize short sides up, then edge-pad."""
        if self.needs_resize:
            x = F.interpolate(x, size=self.resized, mode="bilinear", align_corners=False)
        if any(self.padding):
            x = F.pad(x, self.padding, mode="replicate")
        return x

    def to_input(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, S, S)`` → ``(B, C, H, W)``: remove the padding, then undo the resize."""
        left, right, top, bottom = self.padding
        x = x[:, :, top : self.side - bottom, left : self.side - right]
        if self.needs_resize:
            # Plain bilinear, not antialiased: it is the closer inverse of the bilinear upsizing
            # (antialiasing blurs small images, and with them their anomaly maps).
            x = F.interpolate(x, size=self.image_shape[1:], mode="bilinear", align_corners=False)
        return x


def resolve_image_shape(image_shape: tuple[int, ...]) -> tuple[int, int, int]:
    """``(H, W)`` or ``(C, H, W)`` → ``(C, H, W)``; a side below 2 pixels is an error."""
    shape = tuple(int(s) for s in image_shape)
    if len(shape) == 2:
        shape = (1, *shape)
    channels, height, width = shape
    if channels < 1:
        raise ValueError(f"image_shape must have at least 1 channel, got {image_shape!r}")
    if height < 2 or width < 2:
        raise ValueError(
            f"image_shape {image_shape!r} is degenerate: every image side must be at least 2 pixels"
        )
    return shape


@dataclass(frozen=True)
class PixelScaler:
    """Per-channel min/max learned from training data, mapped to ``[-1, 1]``.

    ``data_min`` and ``data_max`` have one entry per channel (per feature for tabular data).
    A channel that is constant in the training data gets a unit range, so it maps to -1.
    """

    data_min: np.ndarray
    data_max: np.ndarray

    @classmethod
    def fit(cls, batches: Iterable[np.ndarray]) -> PixelScaler:
        """Learn the range in one pass over batches of shape ``(n_i, C, H, W)`` or ``(n_i, F)``.

        Batches may be empty; at least one sample in all is needed.
        """
        low = high = None
        for batch in batches:
            if len(batch) == 0:
                continue
            axes = tuple(i for i in range(batch.ndim) if i != 1)
            batch_low = batch.min(axis=axes).astype(np.float64)
            batch_high = batch.max(axis=axes).astype(np.float64)
            low = batch_low if low is None else np.minimum(low, batch_low)
            high = batch_high if high is None else np.maximum(high, batch_high)
        if low is None:
            raise ValueError("PixelScaler.fit needs at least one sample")
        return cls(low, high)

    def _broadcast(self, values: np.ndarray, like: torch.Tensor) -> torch.Tensor:
        shape = (1, -1) + (1,) * (like.ndim - 2)
        return torch.as_tensor(values, dtype=like.dtype, device=like.device).reshape(shape)

    def _scale(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        span = np.where(self.data_max > self.data_min, self.data_max - self.data_min, 1.0)
        return self._broadcast(self.data_min, like), self._broadcast(span, like)

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        """Input units → network units."""
        low, span = self._scale(x)
        return (x - low) / span * 2.0 - 1.0

    def inverse_transform(self, x: torch.Tensor) -> torch.Tensor:
        """Network units → input units."""
        low, span = self._scale(x)
        return (x + 1.0) / 2.0 * span + low
