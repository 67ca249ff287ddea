"""The LRAN's public scores and maps, as a mixin of :class:`~skanogan.LatentRegularizedGAN`.

:class:`ScoringMethods` holds :meth:`~ScoringMethods.decision_function`, the inspection methods
(:meth:`~ScoringMethods.encode`, :meth:`~ScoringMethods.reconstruct`,
:meth:`~ScoringMethods.anomaly_map`, :meth:`~ScoringMethods.latent_saliency`) and the fitting of
the score statistics at the end of ``fit``. Every method runs the batched eval loop of
:class:`~skanogan.base.BaseDetector` over the arithmetic of :mod:`skanogan.models.lran.scoring`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from skanogan.core._samples import Samples
from skanogan.core._validation import validate_samples
from skanogan.models.lran.scoring import (
    DENSITY_SCORES,
    GaussianDensity,
    Reconstruction,
    ScoreScaler,
    ScoreStatistics,
    density_codes,
    pixel_error,
    reconstruct_batch,
    saliency_map,
    score_batch,
)

__all__ = ["ScoringMethods"]


class ScoringMethods:
    """Scores, codes, reconstructions and maps of a fitted LRAN (a mixin)."""

    def _fit_scores(self, samples: Samples, train_idx: np.ndarray, val_idx: np.ndarray) -> None:
        """Fit the score statistics on the training rows, then the threshold (PyOD's)."""
        widths = [self.latent_dim] * len(DENSITY_SCORES)

        def codes(x: torch.Tensor) -> torch.Tensor:
            return torch.cat(list(density_codes(self._reconstruct(x)).values()), dim=1)

        train_codes = self._map_batches(samples, codes, rows=train_idx).astype(np.float64)
        for name, part in zip(
            DENSITY_SCORES, np.split(train_codes, np.cumsum(widths)[:-1], axis=1), strict=True
        ):
            setattr(self, f"{name}_", GaussianDensity.fit(part))
        raw = self._raw_scores(samples)
        self.score_scaler_ = ScoreScaler.fit(raw["latent"][train_idx], raw["image"][train_idx])
        self._set_threshold(self._select_score(raw), val_idx)

    def _reconstruct(self, x: torch.Tensor) -> Reconstruction:
        return reconstruct_batch(self._runtime_networks(), x, self._to_network, self._to_input)

    def _score_statistics(self) -> ScoreStatistics:
        """The fitted statistics of the scores; a model saved before 0.2 has no densities."""
        densities = None
        if all(hasattr(self, f"{name}_") for name in DENSITY_SCORES):
            densities = {name: getattr(self, f"{name}_") for name in DENSITY_SCORES}
        return ScoreStatistics(densities=densities, scaler=getattr(self, "score_scaler_", None))

    def _check_score_type(self, stats: ScoreStatistics) -> None:
        if self.score_type not in stats.available():
            raise ValueError(
                f"score_type={self.score_type!r} needs the code densities that fit computes "
                "since skanogan 0.2; this detector was loaded from an older model file: "
                f"refit it, or use one of {stats.available()}"
            )

    def _raw_scores(self, samples: Samples) -> dict[str, np.ndarray]:
        """Every score except ``"combined"`` (which is built from two of them), per sample."""
        stats = self._score_statistics()
        names = [name for name in stats.available() if name != "combined"]

        def every(x: torch.Tensor) -> torch.Tensor:
            rec = self._reconstruct(x)
            return torch.stack([score_batch(name, x, rec, stats).double() for name in names], 1)

        scores = self._map_batches(samples, every)
        bad = ~np.isfinite(scores).all(axis=1)
        if bad.any():
            # Finite inputs whose scaled values overflow the float32 networks (e.g. 1e38 after
            # training on [0, 1]) would otherwise come back as NaN scores.
            low, high = self.pixel_scaler_.data_min.min(), self.pixel_scaler_.data_max.max()
            raise ValueError(
                f"X holds {int(bad.sum())} sample(s) whose scores overflow {self._dtype} (first at "
                f"index {int(np.flatnonzero(bad)[0])}): their values lie far outside the "
                f"training range [{low:g}, {high:g}]; rescale X like the training data"
            )
        return dict(zip(names, scores.T, strict=True))

    def _select_score(self, raw: dict[str, np.ndarray]) -> np.ndarray:
        if self.score_type == "combined":
            return self.score_scaler_.combine(raw["latent"], raw["image"])
        return raw[self.score_type]

    # ------------------------------------------------------------ scoring

    def decision_function(self, X: Any) -> np.ndarray:
        """Anomaly score of each sample: higher = more anomalous (PyOD's sign).

        The score is the one chosen by ``score_type``. It depends only on the sample and the
        fitted model: not on the batch size, the order of samples, or the other samples.

        Parameters
        ----------
        X : array-like
            Samples in any layout accepted by :meth:`fit`, with the fitted image shape.

        Returns
        -------
        scores : ndarray of shape (n_samples,), float64
        """
        check_is_fitted(self)
        samples = validate_samples(self, X, reset=False)
        self._check_score_type(self._score_statistics())
        return self._select_score(self._raw_scores(samples))

    # --------------------------------------------------------- inspection

    def encode(self, X: Any) -> np.ndarray:
        """The latent code ``z = G_e(x)`` of each sample.

        Returns
        -------
        z : ndarray of shape (n_samples, latent_dim), float32
        """
        check_is_fitted(self)
        samples = validate_samples(self, X, reset=False)
        encoder = self._runtime_networks().encoder
        return self._map_batches(samples, lambda x: encoder(self._to_network(x)))

    def reconstruct(self, X: Any) -> np.ndarray:
        """The reconstruction ``x_rec = G_d(G_e(x))`` in the input's layout, resolution and units.

        Returns
        -------
        x_rec : ndarray of the same shape as ``X``, float32
            Padding removed, resizing undone, and the pixel scaling learned in :meth:`fit`
            inverted, so ``x_rec`` can be compared with ``X`` directly.
        """
        check_is_fitted(self)
        validated = validate_samples(self, X, reset=False)
        x_rec = self._map_batches(
            validated, lambda x: self.pixel_scaler_.inverse_transform(self._reconstruct(x).x_rec)
        )
        return x_rec.reshape(np.shape(X))

    def anomaly_map(self, X: Any) -> np.ndarray:
        """Per-pixel ``|x - x_rec|`` at the input's resolution, averaged over channels.

        Measured in the network's ``[-1, 1]`` units, so maps of different inputs are comparable;
        its mean over pixels is the ``"image"`` score.

        Returns
        -------
        maps : ndarray of shape (n_samples, H, W), float32
            For tabular data, shape (n_samples, n_features): the per-feature error.
        """
        check_is_fitted(self)
        samples = validate_samples(self, X, reset=False)
        return self._map_batches(samples, lambda x: pixel_error(x, self._reconstruct(x).x_rec))

    def latent_saliency(self, X: Any) -> np.ndarray:
        """Per-pixel ``|d score / d x|`` of the ``score_type`` score, averaged over channels.

        Where the selected score reacts to a pixel: the anomaly map that belongs to a latent
        score (``"latent"``, ``"latent_density"``, ...), as :meth:`anomaly_map` belongs to the
        image score. Each sample's map depends on that sample only. Gradients are taken with
        respect to the pixels in the network's ``[-1, 1]`` units, so maps of different inputs
        are comparable.

        Returns
        -------
        maps : ndarray of shape (n_samples, H, W), float32
            For tabular data, shape (n_samples, n_features).
        """
        check_is_fitted(self)
        samples = validate_samples(self, X, reset=False)
        stats = self._score_statistics()
        self._check_score_type(stats)
        nets = self._runtime_networks()

        def score(x: torch.Tensor, rec: Reconstruction) -> torch.Tensor:
            return score_batch(self.score_type, x, rec, stats)

        return self._map_batches(
            samples,
            lambda x: saliency_map(nets, x, self._to_network, self._to_input, score),
            gradients=True,
        )
