"""Anomaly scores of the Latent Regularized Adversarial Network (paper §3.3, ``SPEC.md``).

Every score is per sample and higher means more anomalous:

- ``"latent"`` (default, the paper's): mean over latent dims of ``(z - z_rec)**2``, where
  ``z = G_e(x)`` and ``z_rec = G_e'(G_d(z))``.
- ``"image"``: mean over pixels (and channels) of ``|x - x_rec|`` at the input's resolution, in
  the network's ``[-1, 1]`` units.
- ``"combined"``: the sum of both after each is standardised with the mean and standard
  deviation of the *training* scores (:class:`ScoreScaler`). Statistics of the data being scored
  are never used: that would leak test information and make a sample's score depend on its batch.

Everything here runs under :func:`torch.inference_mode` with the networks in ``eval()`` mode,
so a sample's score depends neither on the batch size nor on the other samples in its batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

from skanogan.networks import GANetworks

__all__ = [
    "SCORE_TYPES",
    "Reconstruction",
    "ScoreScaler",
    "image_score",
    "latent_score",
    "pixel_error",
    "reconstruct_batch",
    "saliency_map",
]

SCORE_TYPES = ("latent", "image", "combined")


class Reconstruction(NamedTuple):
    """One batch through ``G_e → G_d → G_e'``; ``x_rec`` is at the input's resolution."""

    z: torch.Tensor
    x_rec: torch.Tensor
    z_rec: torch.Tensor


def reconstruct_batch(
    nets: GANetworks,
    x: torch.Tensor,
    to_network: Callable[[torch.Tensor], torch.Tensor],
    to_input: Callable[[torch.Tensor], torch.Tensor],
) -> Reconstruction:
    """Run one scaled batch ``x`` (input resolution) through the generator side.

    The caller puts the networks in ``eval()`` mode and holds :func:`torch.inference_mode`.
    """
    z = nets.encoder(to_network(x))
    x_rec_network = nets.decoder(z)
    z_rec = nets.aux_encoder(x_rec_network)
    return Reconstruction(z=z, x_rec=to_input(x_rec_network), z_rec=z_rec)


def _full_precision(x: torch.Tensor) -> torch.Tensor:
    """Half-precision outputs of autocast are measured in float32; float64 stays float64."""
    return x.to(torch.promote_types(x.dtype, torch.float32))


def latent_score(z: torch.Tensor, z_rec: torch.Tensor) -> torch.Tensor:
    """Mean over latent dims of ``(z - z_rec)**2``: shape ``(B,)``."""
    return (_full_precision(z) - _full_precision(z_rec)).pow(2).mean(dim=1)


def pixel_error(x: torch.Tensor, x_rec: torch.Tensor) -> torch.Tensor:
    """``|x - x_rec|`` averaged over channels: ``(B, H, W)`` for images, ``(B, F)`` for tables."""
    error = (_full_precision(x) - _full_precision(x_rec)).abs()
    return error.mean(dim=1) if error.ndim == 4 else error


def saliency_map(
    nets: GANetworks,
    x: torch.Tensor,
    to_network: Callable[[torch.Tensor], torch.Tensor],
    to_input: Callable[[torch.Tensor], torch.Tensor],
) -> torch.Tensor:
    """``|d latent_score / d x|`` averaged over channels: where the latent score is sensitive.

    The gradient of each sample's latent score with respect to its own (scaled) pixels, at the
    input resolution: ``(B, H, W)`` for images, ``(B, F)`` for tables. The networks must be in
    ``eval()`` mode, so that samples do not interact, and gradients must be enabled.
    """
    x = x.detach().requires_grad_(True)
    rec = reconstruct_batch(nets, x, to_network, to_input)
    (grad,) = torch.autograd.grad(latent_score(rec.z, rec.z_rec).sum(), x)
    grad = _full_precision(grad).abs()
    return grad.mean(dim=1) if grad.ndim == 4 else grad


def image_score(x: torch.Tensor, x_rec: torch.Tensor) -> torch.Tensor:
    """Mean over pixels and channels of ``|x - x_rec|``: shape ``(B,)``."""
    return pixel_error(x, x_rec).flatten(1).mean(dim=1)


@dataclass(frozen=True)
class ScoreScaler:
    """Standardises the latent and image scores with statistics of the training scores.

    Examples
    --------
    >>> scaler = ScoreScaler.fit(np.array([1.0, 2.0, 3.0]), np.array([10.0, 20.0, 30.0]))
    >>> scaler.combine(np.array([2.0]), np.array([20.0]))
    array([0.])
    """

    mean: tuple[float, float]
    std: tuple[float, float]

    @classmethod
    def fit(cls, latent: np.ndarray, image: np.ndarray) -> ScoreScaler:
        """Learn mean and standard deviation of each score on the training data."""
        stds = []
        for scores in (latent, image):
            std = float(np.std(scores))
            stds.append(std if std > 0 else 1.0)
        return cls(mean=(float(np.mean(latent)), float(np.mean(image))), std=tuple(stds))

    def combine(self, latent: np.ndarray, image: np.ndarray) -> np.ndarray:
        """The combined score: the sum of both standardised scores."""
        return (latent - self.mean[0]) / self.std[0] + (image - self.mean[1]) / self.std[1]
