"""Anomaly scores of the Latent Regularized Adversarial Network (paper §3.3, ``docs/paper.md``).

Every score is per sample and higher means more anomalous. :data:`SCORE_TYPES` names them and
says what each is; the estimator's ``score_type``, the command line's ``--score-type`` and the
ONNX graph all read that one table:

- ``"latent"`` (the paper's): mean over latent dims of ``(z - z_rec)**2``, where
  ``z = G_e(x)`` and ``z_rec = G_e'(G_d(z))``.
- ``"image"``: mean over pixels (and channels) of ``|x - x_rec|`` at the input's resolution, in
  the network's ``[-1, 1]`` units.
- ``"latent_density"``: squared Mahalanobis distance of ``z`` under a Gaussian fitted to the
  codes of the training rows (:class:`GaussianDensity`: mean and Ledoit–Wolf shrinkage
  covariance). The paper's low-rank argument (§3.1) made a score: training concentrates the
  normal codes, so anomalies fall outside their distribution.
- ``"residual_density"``: the same for the latent residual ``z - z_rec``.
- ``"combined"``: the sum of the latent and image scores after each is standardised with the
  mean and standard deviation of the *training* scores (:class:`ScoreScaler`).

Statistics of the data being scored are never used: that would leak test information and make
a sample's score depend on its batch. Everything here runs with the networks in ``eval()`` mode,
so a sample's score depends neither on the batch size nor on the other samples in its batch.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import torch

from skanogan.models.lran.networks import GANetworks

__all__ = [
    "DENSITY_SCORES",
    "SCORE_TYPES",
    "GaussianDensity",
    "Reconstruction",
    "ScoreScaler",
    "ScoreStatistics",
    "density_codes",
    "image_score",
    "latent_score",
    "pixel_error",
    "reconstruct_batch",
    "saliency_map",
    "score_batch",
]

#: Every ``score_type``, with what it measures (higher = more anomalous for all of them).
SCORE_TYPES = {
    "latent": "mean (z - z_rec)**2 over latent dims (the paper's score)",
    "image": "mean |x - x_rec| over pixels",
    "latent_density": (
        "squared Mahalanobis distance of z under a Gaussian fitted to the training codes"
    ),
    "residual_density": (
        "squared Mahalanobis distance of z - z_rec under a Gaussian fitted to the training "
        "residuals"
    ),
    "combined": "latent + image score, each standardised by its training mean and std",
}

#: The scores that need a density fitted on the training codes, and the code each one models.
DENSITY_SCORES = {"latent_density": "z", "residual_density": "z - z_rec"}


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


def density_codes(rec: Reconstruction) -> dict[str, torch.Tensor]:
    """The codes each density score models (:data:`DENSITY_SCORES`), in full precision."""
    z, z_rec = _full_precision(rec.z), _full_precision(rec.z_rec)
    return {"latent_density": z, "residual_density": z - z_rec}


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


def image_score(x: torch.Tensor, x_rec: torch.Tensor) -> torch.Tensor:
    """Mean over pixels and channels of ``|x - x_rec|``: shape ``(B,)``."""
    return pixel_error(x, x_rec).flatten(1).mean(dim=1)


@dataclass(frozen=True)
class GaussianDensity:
    """A Gaussian over codes, kept as plain arrays: its mean and precision matrix.

    Fitted with scikit-learn's :class:`~sklearn.covariance.LedoitWolf` shrinkage estimator,
    which stays well conditioned when the codes are fewer than, or nearly as many as, their
    dimensions, and when training has concentrated them near a low-rank subspace.

    Examples
    --------
    >>> codes = np.random.default_rng(0).standard_normal((200, 3))
    >>> density = GaussianDensity.fit(codes)
    >>> density.score(torch.zeros(1, 3, dtype=torch.float64)).shape
    torch.Size([1])
    """

    mean: np.ndarray
    precision: np.ndarray

    @classmethod
    def fit(cls, codes: np.ndarray) -> GaussianDensity:
        """Mean and shrunk precision of ``codes`` (n_samples, n_dims), in float64."""
        from sklearn.covariance import LedoitWolf

        estimate = LedoitWolf().fit(np.asarray(codes, dtype=np.float64))
        if not np.trace(estimate.covariance_) > 0:
            # Every code equal (a degenerate fit): no covariance to invert, and its
            # pseudo-inverse, zero, would score every sample 0.
            warnings.warn(
                "the training codes are all equal, so their covariance is zero; the density "
                "scores fall back to the squared distance from their mean",
                UserWarning,
                stacklevel=2,
            )
            return cls(mean=estimate.location_, precision=np.eye(len(estimate.location_)))
        return cls(mean=estimate.location_, precision=estimate.get_precision())

    def score(self, codes: torch.Tensor) -> torch.Tensor:
        """Squared Mahalanobis distance of each row of ``codes``: shape ``(B,)``, float64.

        Computed in float64, so that it does not depend on the batch size through the float32
        kernels BLAS picks for different shapes.
        """
        mean = torch.as_tensor(self.mean, dtype=torch.float64, device=codes.device)
        precision = torch.as_tensor(self.precision, dtype=torch.float64, device=codes.device)
        centred = codes.to(torch.float64) - mean
        return ((centred @ precision) * centred).sum(dim=1)


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

    def combine(self, latent: Any, image: Any) -> Any:
        """The combined score: the sum of both standardised scores (arrays or tensors)."""
        return (latent - self.mean[0]) / self.std[0] + (image - self.mean[1]) / self.std[1]


@dataclass(frozen=True)
class ScoreStatistics:
    """What the scores learn from the training rows; ``None`` where not fitted (yet).

    ``densities`` maps each name of :data:`DENSITY_SCORES` to its :class:`GaussianDensity`;
    ``scaler`` serves ``"combined"``.
    """

    densities: dict[str, GaussianDensity] | None = None
    scaler: ScoreScaler | None = None

    def available(self) -> tuple[str, ...]:
        """The score types these statistics can compute, in :data:`SCORE_TYPES` order."""
        return tuple(
            name
            for name in SCORE_TYPES
            if (name not in DENSITY_SCORES or self.densities is not None)
            and (name != "combined" or self.scaler is not None)
        )


def score_batch(
    score_type: str, x: torch.Tensor, rec: Reconstruction, stats: ScoreStatistics
) -> torch.Tensor:
    """The ``score_type`` score of each sample of one batch: shape ``(B,)``.

    ``x`` is the scaled batch at the input's resolution and ``rec`` its reconstruction. The
    one implementation of every score: scoring, saliency maps and the ONNX graph all call it.
    """
    if score_type == "latent":
        return latent_score(rec.z, rec.z_rec)
    if score_type == "image":
        return image_score(x, rec.x_rec)
    if score_type in DENSITY_SCORES:
        return stats.densities[score_type].score(density_codes(rec)[score_type])
    return stats.scaler.combine(latent_score(rec.z, rec.z_rec), image_score(x, rec.x_rec))


def saliency_map(
    nets: GANetworks,
    x: torch.Tensor,
    to_network: Callable[[torch.Tensor], torch.Tensor],
    to_input: Callable[[torch.Tensor], torch.Tensor],
    score: Callable[[torch.Tensor, Reconstruction], torch.Tensor],
) -> torch.Tensor:
    """``|d score / d x|`` averaged over channels: where the score is sensitive.

    ``score(x, rec)`` returns each sample's score, e.g. :func:`score_batch` with a score type.
    The gradient of each sample's score with respect to its own (scaled) pixels, at the input
    resolution: ``(B, H, W)`` for images, ``(B, F)`` for tables. The networks must be in
    ``eval()`` mode, so that samples do not interact, and gradients must be enabled.
    """
    x = x.detach().requires_grad_(True)
    rec = reconstruct_batch(nets, x, to_network, to_input)
    (grad,) = torch.autograd.grad(score(x, rec).sum(), x)
    grad = _full_precision(grad).abs()
    return grad.mean(dim=1) if grad.ndim == 4 else grad
