"""The detector base: what every skanogan detector shares, whatever its networks.

:class:`BaseDetector` holds, once:

- PyOD's conventions (:class:`pyod.models.base.BaseDetector` is the model):
  ``decision_scores_``, ``threshold_`` at the ``1 - contamination`` quantile, ``labels_``,
  :meth:`~BaseDetector.predict`, :meth:`~BaseDetector.predict_proba`, and scikit-learn's
  :meth:`~BaseDetector.score_samples` with ``offset_``;
- the checks of a ``fit``: the parameter table (``_param_rules``, checked by
  :func:`~skanogan.core._validation.check_params`), the input samples, the validation split and
  the pixel scaling of the training rows;
- the training run around a detector's epoch: checkpoints, resume, rollback and the error
  handling of :func:`~skanogan.training.fit_loop` (:meth:`~BaseDetector._train`);
- the input plumbing: a batch read from the samples, scaled and moved to ``device_``, mapped to
  the network's square input (``geometry_``) and back, and the batched eval loop
  :meth:`~BaseDetector._map_batches` that every score and map goes through.

A detector adds its parameters and networks, ``fit`` and :meth:`decision_function`. Its
networks live in ``networks_``, a container with ``train(mode)``, as
:class:`~skanogan.models.lran.networks.GANetworks`.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import numpy as np
import torch
from scipy.special import erf
from sklearn.base import BaseEstimator, OutlierMixin

from skanogan.core._device import cuda_autotune, to_device
from skanogan.core._samples import Samples
from skanogan.core._shapes import PixelScaler
from skanogan.core._validation import check_params, validate_samples
from skanogan.exceptions import DivergenceError
from skanogan.io._checkpoint import Checkpoint
from skanogan.training import Batches, Checkpointing, fit_loop, verbose_callbacks

__all__ = ["BaseDetector"]


def _training_rows(samples: Samples, train_idx: np.ndarray) -> Iterator[np.ndarray]:
    """Every sample read once, in chunks (so every value is checked); each chunk's training rows."""
    is_train = np.zeros(len(samples), dtype=bool)
    is_train[train_idx] = True
    for rows, chunk in samples.chunks():
        yield chunk[is_train[rows]]


class BaseDetector(OutlierMixin, BaseEstimator):
    """Shared base of the detectors: PyOD's scores and labels, fit checks, batched scoring.

    Subclasses define ``_param_rules`` (parameter → allowed values), ``fit``, ``_loop_parts``,
    ``_fit_scores`` and :meth:`decision_function`, and have the parameters ``contamination``,
    ``validation_fraction``, ``eval_batch_size``, ``epochs``, ``on_divergence``, the checkpoint
    settings and ``verbose``.
    """

    _param_rules: ClassVar[dict[str, list]] = {}
    #: D-loss bound below which an epoch counts as collapsed (the verbose warning's).
    _collapse_bound: ClassVar[float] = 0.0

    # ------------------------------------------------------------------ fit

    def _check_params(self) -> None:
        """Check every parameter against ``_param_rules``, naming the first bad one."""
        check_params(self.get_params(deep=False), self._param_rules)

    def _prepare_fit(
        self, X: Any, rng: np.random.RandomState, *, continuing: bool
    ) -> tuple[Samples, np.ndarray, np.ndarray, PixelScaler]:
        """Validate ``X``, split it and scale it: ``(samples, train_idx, val_idx, scaler)``.

        One pass over every sample before any training, so that a NaN anywhere fails now
        rather than after the epochs; the training rows' range is the pixel scaling. A
        detector that was not fitted before is left unfitted when this raises.
        """
        try:
            samples = validate_samples(self, X, reset=not continuing)
            train_idx, val_idx = self._split(len(samples), rng)
            scaler = PixelScaler.fit(_training_rows(samples, train_idx))
            if not continuing:
                self._check_range(scaler)
        except (TypeError, ValueError):
            if not continuing:
                self._forget_fit()  # validation set n_features_in_: do not look fitted
            raise
        return samples, train_idx, val_idx, scaler

    def _split(self, n_samples: int, rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
        """Indices of training and validation samples (sorted), with the minimum sizes checked."""
        if n_samples < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 samples to fit, got {n_samples} sample"
            )
        if not self.validation_fraction:
            return np.arange(n_samples), np.arange(0)
        n_val = math.ceil(self.validation_fraction * n_samples)
        if n_samples - n_val < 2:
            raise ValueError(
                f"validation_fraction={self.validation_fraction} leaves {n_samples - n_val} "
                f"of {n_samples} samples for training; at least 2 are needed"
            )
        order = rng.permutation(n_samples)
        return np.sort(order[n_val:]), np.sort(order[:n_val])

    def _check_range(self, scaler: PixelScaler) -> None:
        low, high = float(scaler.data_min.min()), float(scaler.data_max.max())
        if self.image_shape_ is not None and high - low > np.finfo(np.float32).max:
            raise ValueError(
                f"X spans [{low:g}, {high:g}], a range too wide for the float32 networks; rescale X"
            )

    def _train(
        self,
        samples: Samples,
        train_idx: np.ndarray,
        val_idx: np.ndarray,
        *,
        seed: int,
        batches: Batches,
    ) -> None:
        """Train ``epochs`` more epochs with checkpoints and fault handling, then fit the scores.

        The epoch itself comes from the subclass's ``_loop_parts(samples, train_idx, batches)``:
        ``run_epoch``, ``restart`` and ``state`` of :func:`~skanogan.training.fit_loop`, asked
        for after a resume (which replaces the networks and optimizers). On Ctrl-C or a
        :class:`~skanogan.exceptions.DivergenceError` the loop has rolled the networks back to
        the last completed epoch; the detector is made consistent with them (usable, or
        unfitted if no epoch ever completed) before the error propagates.
        """
        # Counted before a resume: a resumed fit trains only the epochs its checkpoint lacks.
        target = self.n_iter_ + self.epochs
        callbacks = verbose_callbacks(self.verbose, batches.n_batches, self._collapse_bound)
        if self.checkpoint_dir is not None:
            checkpoint = Checkpoint.for_fit(self, samples.chunks(train_idx))
            if self.resume:
                self._resume(checkpoint)
            callbacks.append(
                Checkpointing(lambda: checkpoint.save(self.__getstate__()), self.checkpoint_every)
            )
        try:
            fit_loop(
                self,
                n_epochs=target - self.n_iter_,
                n_samples=len(train_idx),
                seed=seed,
                **self._loop_parts(samples, train_idx, batches),
                on_divergence=self.on_divergence,
                callbacks=callbacks,
            )
        except (KeyboardInterrupt, DivergenceError):
            if self.n_iter_:
                self._fit_scores(samples, train_idx, val_idx)
            else:
                self._forget_fit()
            raise
        self._fit_scores(samples, train_idx, val_idx)

    def _resume(self, checkpoint: Any) -> None:
        """Continue from ``checkpoint`` (:class:`~skanogan.io._checkpoint.Checkpoint`) if saved."""
        state = checkpoint.load()
        if state is not None:
            # The checkpoint's key covers every parameter that shapes training; the others
            # (verbose, device, checkpoint settings...) are this call's.
            self.__setstate__({**state, **self.get_params(deep=False)})

    def _forget_fit(self) -> None:
        for name in [key for key in vars(self) if key.endswith("_")]:
            delattr(self, name)

    def _set_threshold(self, scores: np.ndarray, val_idx: np.ndarray) -> None:
        """PyOD's ``_process_decision_scores``: threshold and labels from the fit's scores.

        The threshold is the ``1 - contamination`` quantile of the held-out scores when
        ``validation_fraction`` kept some, else of every training score.
        """
        self.decision_scores_ = scores
        self.validation_scores_ = scores[val_idx] if len(val_idx) else None
        reference = scores if len(val_idx) == 0 else self.validation_scores_
        self.threshold_ = float(np.percentile(reference, 100 * (1 - self.contamination)))
        self.offset_ = -self.threshold_
        self.labels_ = (self.decision_scores_ > self.threshold_).astype(np.int64)

    # ------------------------------------------------------------ batches

    def _to_network(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.geometry_ is None else self.geometry_.to_network(x)

    def _to_input(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.geometry_ is None else self.geometry_.to_input(x)

    def _scaled(self, batch: np.ndarray) -> torch.Tensor:
        """One batch read from the samples, on ``device_`` in the network's range."""
        return self.pixel_scaler_.transform(to_device(batch, self.device_, self._dtype))

    @property
    def _dtype(self) -> torch.dtype:
        # BLAS picks other kernels for other batch sizes, so float32 scores of the MLPs differ
        # by ~1e-7 with the batch size; the tabular networks are small enough to run in float64.
        return torch.float64 if self.geometry_ is None else torch.float32

    def _map_batches(
        self,
        samples: Samples,
        fn: Callable[[torch.Tensor], torch.Tensor],
        *,
        gradients: bool = False,
        rows: np.ndarray | None = None,
    ) -> np.ndarray:
        """Apply ``fn`` to every scaled batch in eval mode; concatenate on CPU.

        Runs in inference mode unless ``fn`` needs ``gradients`` with respect to its input.
        ``rows`` (sorted indices) restricts it to those samples, in that order.
        """
        n_rows = len(samples) if rows is None else len(rows)
        self.networks_.train(False)
        outputs: np.ndarray | None = None
        bar = None
        if self.verbose and n_rows > 10 * self.eval_batch_size:
            from tqdm.auto import tqdm

            bar = tqdm(total=n_rows, desc="score", unit="sample")
        with (
            contextlib.closing(bar) if bar is not None else contextlib.nullcontext(),
            cuda_autotune(self.device_),
            torch.enable_grad() if gradients else torch.inference_mode(),
            torch.autocast(
                self.device_.type, dtype=self.amp_dtype_, enabled=self.amp_dtype_ is not None
            ),
        ):
            for start in range(0, n_rows, self.eval_batch_size):
                batch = slice(start, start + self.eval_batch_size)
                read = batch if rows is None else rows[batch]
                out = fn(self._scaled(samples.read(read))).detach()
                if out.dtype in (torch.bfloat16, torch.float16):
                    # Autocast's outputs (codes, reconstructions) are returned as float32:
                    # numpy has no bfloat16, and the public methods promise float32.
                    out = out.float()
                out = out.cpu().numpy()
                if outputs is None:
                    # Filled in place: per-batch arrays kept alive until a final concatenate
                    # fragment the heap, and memory then grows with n (glibc keeps it).
                    outputs = np.empty((n_rows, *out.shape[1:]), dtype=out.dtype)
                outputs[batch] = out
                if bar is not None:
                    bar.update(len(out))
        return outputs

    # ------------------------------------------------------------ scoring

    def decision_function(self, X: Any) -> np.ndarray:
        """Anomaly score of each sample: higher = more anomalous (PyOD's sign)."""
        raise NotImplementedError

    def score_samples(self, X: Any) -> np.ndarray:
        """Normality of each sample: ``-decision_function(X)``, higher = more normal.

        This is scikit-learn's sign, as in :class:`~sklearn.ensemble.IsolationForest`.

        Returns
        -------
        scores : ndarray of shape (n_samples,), float64
        """
        return -self.decision_function(X)

    def predict(self, X: Any) -> np.ndarray:
        """Label each sample 0 (inlier) or 1 (outlier): ``decision_function(X) > threshold_``.

        Returns
        -------
        labels : ndarray of shape (n_samples,), int64
        """
        return (self.decision_function(X) > self.threshold_).astype(np.int64)

    def predict_proba(self, X: Any, method: str = "linear") -> np.ndarray:
        """Outlier probability, as PyOD computes it from the training scores.

        Parameters
        ----------
        X : array-like
            Samples to score.
        method : {"linear", "unify"}, default="linear"
            ``"linear"``: min–max scaling by the training scores ``decision_scores_``, clipped
            to [0, 1]. ``"unify"``: Gaussian scaling, ``erf((s - mean) / (std * sqrt(2)))``
            with the mean and std of ``decision_scores_``, clipped to [0, 1] (Kriegel et al.,
            2011).

        Returns
        -------
        proba : ndarray of shape (n_samples, 2)
            Column 0 is the inlier probability, column 1 the outlier probability.
        """
        if method not in ("linear", "unify"):
            raise ValueError(f"method must be 'linear' or 'unify', got {method!r}")
        scores = self.decision_function(X)
        train = self.decision_scores_
        if method == "linear":
            span = train.max() - train.min()
            outlier = (scores - train.min()) / (span if span > 0 else 1.0)
        else:
            std = train.std()
            outlier = erf((scores - train.mean()) / ((std if std > 0 else 1.0) * np.sqrt(2)))
        outlier = np.clip(outlier, 0.0, 1.0)
        return np.column_stack([1.0 - outlier, outlier])
