"""The :class:`LatentRegularizedGAN` estimator: validation and orchestration only.

It reads top to bottom as: validate, build the networks, train, fit the threshold. The layers
are in :mod:`skanogan.networks`, the loss terms in :mod:`skanogan.losses`, one epoch of training
in :mod:`skanogan.training` and the scores in :mod:`skanogan.scoring`.
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import warnings
from collections.abc import Callable, Iterator
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import torch
from scipy.special import erf
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from skanogan._checkpoint import Checkpoint
from skanogan._device import (
    cuda_autotune,
    resolve_amp_dtype,
    resolve_device,
    to_device,
)
from skanogan._samples import Samples
from skanogan._saving import NETWORKS, SavingMixin
from skanogan._shapes import ImageGeometry, PixelScaler
from skanogan._validation import (
    BOOL,
    DEVICE,
    NONE,
    RANDOM_STATE,
    ImageShape,
    InstanceOf,
    Interval,
    Options,
    check_params,
    validate_samples,
)
from skanogan.exceptions import DivergenceError
from skanogan.losses import ADVERSARIAL_LOSSES, RANK_FORMS
from skanogan.networks import GANetworks, build_networks
from skanogan.scoring import (
    DENSITY_SCORES,
    SCORE_TYPES,
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
from skanogan.training import (
    COLLAPSE_D_LOSS,
    TrainConfig,
    make_optimizers,
    restart_discriminator,
    train_epoch,
)

__all__ = ["LatentRegularizedGAN"]

#: on_divergence="restart_d" retries a diverging epoch this often before giving up.
_MAX_D_RESTARTS = 3


def _training_rows(samples: Samples, train_idx: np.ndarray) -> Iterator[np.ndarray]:
    """Every sample read once, in chunks (so every value is checked); each chunk's training rows."""
    is_train = np.zeros(len(samples), dtype=bool)
    is_train[train_idx] = True
    for rows, chunk in samples.chunks():
        yield chunk[is_train[rows]]


class LatentRegularizedGAN(SavingMixin, OutlierMixin, BaseEstimator):
    """Latent Regularized Adversarial Network for image anomaly detection.

    Trained on normal samples only. An encoder ``G_e`` maps an image ``x`` to a code ``z``, a
    decoder ``G_d`` reconstructs ``x_rec`` from it, an auxiliary encoder ``G_e'`` re-encodes
    ``x_rec`` to ``z_rec``, and a discriminator ``D`` tells ``x`` from ``x_rec``. The generator
    minimises ``w_irec * L_irec + w_adv * L_adv + w_zrec * L_zrec + w_rank * L_rank`` (paper
    eq. 1, formulas in :mod:`skanogan.losses`); a weight of 0 switches its term off. Samples that
    the model reconstructs badly, in latent space by default, are anomalous.

    Scores follow PyOD: :meth:`decision_function` is higher for more anomalous samples and
    :meth:`predict` returns 0 (inlier) or 1 (outlier); :meth:`score_samples` keeps
    scikit-learn's sign (higher = more normal). With labels 1 = anomaly,
    ``scoring="roc_auc"`` is correct in :class:`~sklearn.model_selection.GridSearchCV`.

    Parameters
    ----------
    image_shape : tuple of int or None, default=None
        ``(H, W)`` or ``(C, H, W)`` of the images when ``X`` is 2-D ``(n_samples, C*H*W)``
        (channels first). Leave ``None`` for 3-D ``(n, H, W)`` or 4-D ``(n, C, H, W)`` input,
        whose shape is read from ``X``. A 2-D ``X`` with ``image_shape=None`` is tabular data and
        is modelled with MLP versions of the four networks (with an
        :class:`~skanogan.exceptions.ImageShapeWarning` when its feature count looks like a
        flattened image). Every side must be at
        least 2 pixels; sides below 16 are resized up and images are edge-padded to a
        power-of-two square, an invertible mapping described in :mod:`skanogan._shapes`.
    latent_dim : int, default=100
        Size of the code ``z``.
    base_channels : int, default=64
        Width of the first conv layer (doubling at every halving of the image); for tabular
        data the MLPs' hidden widths are ``4 * base_channels`` and ``2 * base_channels``.
    adversarial_loss : {"feature_matching", "bce"}, default="feature_matching"
        Generator's adversarial term: GANomaly's feature matching on D's penultimate features
        (stable), or the paper's eq. 3 in its non-saturating BCE form.
    w_irec, w_adv, w_zrec, w_rank : float, default=1, 5, 1, 0.05
        Weights of the image reconstruction (L1), adversarial, latent reconstruction (L2) and
        low-rank terms (the paper's ``w_i, w_a, w_z, w_o``). At least one must be positive.
        With ``w_zrec=0`` the auxiliary encoder is never trained, so the latent score compares
        ``z`` with an untrained encoding: use ``score_type="image"`` then. ``w_rank=0``
        scored far higher than the paper's 0.05 in our MNIST loss ablation
        (``docs/benchmarks.md``): tune it on your data.
    rank : int, default=0
        Singular values of the batch latent matrix kept free by ``L_rank``; the term penalises
        the sum of the others (``rank=0``: the nuclear norm). Must be below ``latent_dim``.
    rank_form : {"nuclear", "scale_free"}, default="nuclear"
        ``"nuclear"``: the paper's truncated nuclear norm, ``svdvals(Z)[rank:].sum() /
        sqrt(B)``, which also falls when every code shrinks. ``"scale_free"``: the same sum
        divided by the Frobenius norm of ``Z``, which only a more concentrated spectrum lowers
        (between 0 and ``sqrt(latent_dim)``; see :func:`skanogan.losses.rank_loss`).
    score_type : {"latent", "image", "latent_density", "residual_density", "combined"}, \
default="latent"
        The score of :meth:`decision_function` (:data:`skanogan.scoring.SCORE_TYPES`).
        ``"latent"``: mean ``(z - z_rec)**2`` (the paper's score). ``"image"``: mean
        ``|x - x_rec|`` over pixels. ``"latent_density"``: squared Mahalanobis distance of
        ``z = G_e(x)`` under a Gaussian (mean, Ledoit–Wolf shrinkage covariance) fitted to the
        codes of the training rows; ``"residual_density"``: the same for ``z - z_rec``.
        ``"combined"``: latent plus image score after standardising each with the mean and
        standard deviation of the training scores. :meth:`fit` prepares every score, so
        ``set_params(score_type=...)`` after one fit switches scores without refitting (then
        ``threshold_`` and ``decision_scores_`` still belong to the score fitted with).
    contamination : float in (0, 0.5], default=0.1
        Expected proportion of outliers; sets ``threshold_`` at the ``1 - contamination``
        quantile of the training (or validation) scores, as PyOD does.
    epochs : int, default=15
        Passes over the training data in each call to :meth:`fit`.
    batch_size : int, default=64
        Training batch size, clamped to the number of training samples.
    eval_batch_size : int, default=256
        Batch size for scoring; results do not depend on it.
    lr : float, default=2e-4
        Adam learning rate for both optimizers (betas 0.5, 0.999). The paper states "0.002";
        we read it as DCGAN's 2e-4, the rate GANomaly and DCGAN use with these betas, because
        2e-3 is ten times the rate these architectures are known to train stably at.
    validation_fraction : float in [0, 1), default=0.0
        Fraction of ``X`` held out of training (at random) to set ``threshold_`` on scores of
        normals the networks did not see. Prefer it: training scores are optimistic, so a
        threshold from them flags too many new normals.
    device : "auto", "cpu", "cuda", "cuda:N" or torch.device, default="auto"
        Where the networks train and score. ``"auto"`` picks CUDA when present; an explicit
        CUDA device on a machine without one is a ``ValueError``. Data stays on the CPU and
        moves one batch at a time.
    amp : "auto" or bool, default="auto"
        Mixed precision for training and scoring (autocast; the rank term's SVD, the code
        densities and the scores themselves stay in full precision). On CUDA, ``"auto"`` and
        ``True`` use bfloat16 where the GPU supports it, else float16 with loss scaling. On
        the CPU, ``True`` uses bfloat16 where the CPU has native bfloat16 instructions
        (AVX-512 BF16 or AMX) and is a ``ValueError`` elsewhere, where bfloat16 would be
        emulated and slower than float32; ``"auto"`` stays float32 on the CPU for now, until
        the speed and validation quality of bfloat16 are measured on such CPUs. Float16 is
        never used on the CPU. Tabular data runs in float64, which autocast leaves alone.
    compile : bool, default=False
        Wrap the four networks in :func:`torch.compile` for training and scoring. The first
        steps are slow (compilation; again for a new batch size or mode), later ones faster
        where the compiler helps (mostly on GPUs); results agree with ``compile=False`` to
        float32 rounding. The compiled wrappers are never saved or pickled: the fitted
        ``encoder_`` etc. stay plain modules. Needs a working C++ compiler on the CPU.
    on_divergence : {"raise", "restart_d"}, default="raise"
        What :meth:`fit` does when a loss becomes NaN or infinite (checked every 32 steps and
        at the end of each epoch, without a host sync per step). Either way the networks go
        back to the last completed epoch first. ``"raise"`` then raises
        :class:`~skanogan.exceptions.DivergenceError` naming the epoch and the loss term (the
        detector stays usable at that epoch); ``"restart_d"`` re-initialises D and its optimizer
        state (GANomaly's remedy), counts it in ``history_`` under ``d_restarts`` and retries
        the epoch, up to three times per epoch before raising.
    checkpoint_dir : str, os.PathLike or None, default=None
        Folder (created if needed) where :meth:`fit` saves its progress every
        ``checkpoint_every`` epochs and after the last one, atomically, as a model file named
        after a hash of the parameters that shape training, the starting epoch and the training
        data. Clones in a grid search and CV folds thus never share a checkpoint.
    checkpoint_every : int, default=1
        Epochs between checkpoints.
    resume : bool, default=False
        With ``checkpoint_dir``: continue from this run's checkpoint when there is one (weights,
        optimizer moments, ``history_``, ``n_iter_``) and train only the epochs left, so an
        interrupted ``fit`` finishes with ``epochs`` epochs, identical on CPU to an
        uninterrupted one. A checkpoint written by another configuration or other data is
        refused with a ``ValueError``. Distinct from ``warm_start``, which trains further.
    verbose : int, default=0
        0 silent, 1 a progress bar with the running losses, 2 one line per epoch. From 1, an
        epoch in which D collapsed (``history_`` key ``d_collapsed``) also gives a warning,
        and scoring (``decision_function``, maps...) shows a progress bar when it takes more
        than 10 batches of ``eval_batch_size``.
    warm_start : bool, default=False
        When True and already fitted, :meth:`fit` continues training the same networks for
        another ``epochs`` epochs instead of starting again; the pixel scaling is kept.
    random_state : int, RandomState instance or None, default=None
        Seeds the weights, the batch order and the validation split through local generators;
        the global ``torch``/``numpy``/``random`` states are never reseeded. Two fits on the
        same CPU with the same ``random_state`` give identical scores.

    Attributes
    ----------
    n_features_in_ : int
        Number of features (``C * H * W`` for images) seen in :meth:`fit`.
    image_shape_ : tuple of int or None
        ``(C, H, W)`` of the images, ``None`` for tabular data.
    geometry_ : ImageGeometry or None
        The resize/pad mapping between ``image_shape_`` and the network's square input.
    pixel_scaler_ : PixelScaler
        Per-channel minimum and maximum of the training data, mapped to ``[-1, 1]``.
    encoder_, decoder_, aux_encoder_, discriminator_ : torch.nn.Module
        The trained ``G_e``, ``G_d``, ``G_e'`` and ``D`` on ``device_``.
    optimizers_ : skanogan.training.Optimizers
        The two Adam optimizers and the grad scaler, kept for ``warm_start``.
    device_ : torch.device
        The device actually used.
    amp_dtype_ : torch.dtype or None
        The precision the model was trained in and scores in: the autocast dtype
        (``torch.bfloat16`` on CUDA or the CPU, ``torch.float16`` on CUDA only), ``None`` for
        full precision, always for tabular data (its networks run in float64). Kept by
        ``save``/``load`` and pickling; a model loaded onto a CPU that cannot run it (float16,
        or bfloat16 without native support) runs in float32 instead, with a
        :class:`~skanogan.exceptions.DeviceWarning`.
    history_ : list of dict
        One dict of plain floats per epoch: ``g_irec``, ``g_adv``, ``g_zrec``, ``g_rank``
        (unweighted), ``g_total``, ``d_loss``, ``svd_skipped`` (steps whose SVD failed or was not
        finite, whose rank term was skipped), ``d_collapsed`` (1.0 when D's loss stayed below
        ``skanogan.training.COLLAPSE_D_LOSS`` all epoch), ``d_restarts`` (times D was
        re-initialised by ``on_divergence="restart_d"``) and ``seconds``.
    n_iter_ : int
        Epochs trained in total (across warm starts).
    score_scaler_ : ScoreScaler
        Mean and standard deviation of the latent and image training scores (used by
        ``score_type="combined"``).
    latent_density_, residual_density_ : GaussianDensity
        Mean and precision matrix (plain arrays) of the Gaussians that the density scores use,
        fitted on the codes ``z`` and residuals ``z - z_rec`` of the training rows (never of the
        ``validation_fraction`` rows), computed in ``eval()`` mode after the last epoch; refitted
        after every ``fit``, so after a ``warm_start`` they describe the networks as trained.
    decision_scores_ : ndarray of shape (n_samples,)
        Scores of the training data ``X`` (held-out samples included). Higher = more abnormal.
    validation_scores_ : ndarray or None
        Scores of the samples held out by ``validation_fraction``, ``None`` without.
    threshold_ : float
        The ``1 - contamination`` quantile of ``validation_scores_`` when there are any, else of
        ``decision_scores_``. :meth:`predict` flags ``decision_function(X) > threshold_``.
    labels_ : ndarray of shape (n_samples,)
        ``decision_scores_ > threshold_`` as 0/1.
    offset_ : float
        ``-threshold_``, so that ``predict`` flags ``score_samples(X) < offset_``. Because
        ``decision_function`` keeps PyOD's sign, ``decision_function = offset_ - score_samples``
        (not scikit-learn's ``score_samples - offset_``).

    See Also
    --------
    pyod.models.base.BaseDetector : the detector contract whose names and signs we follow.

    Notes
    -----
    Based on "Brain Tumor Anomaly Detection Via Latent Regularized Adversarial Network" and
    GANomaly (Akcay et al., 2018). Where the paper is vague, ``SPEC.md`` in the project says what
    is done instead (the loss formulas, the learning rate, the score normalisation).

    ``GridSearchCV`` refits the best parameters on all of ``X`` by default, anomalies
    included. For one-class model selection, search with ``refit=False`` and a CV whose training
    folds hold normals only, then fit ``best_params_`` on the normal samples yourself.

    Examples
    --------
    >>> import numpy as np
    >>> from skanogan import LatentRegularizedGAN
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((32, 8, 8))
    >>> detector = LatentRegularizedGAN(epochs=1, latent_dim=4, base_channels=4, random_state=0)
    >>> detector.fit(X).decision_function(X[:3]).shape
    (3,)
    >>> detector.predict(X[:3]).dtype
    dtype('int64')
    """

    # Older model files and pickles lack parameters added since; they were trained with these.
    _implicit_params: ClassVar[dict[str, Any]] = {"rank_form": "nuclear"}

    _param_rules: ClassVar[dict[str, list]] = {
        "image_shape": [ImageShape()],
        "latent_dim": [Interval(Integral, 1, None)],
        "base_channels": [Interval(Integral, 1, None)],
        "adversarial_loss": [Options(ADVERSARIAL_LOSSES)],
        "w_irec": [Interval(Real, 0, None)],
        "w_adv": [Interval(Real, 0, None)],
        "w_zrec": [Interval(Real, 0, None)],
        "w_rank": [Interval(Real, 0, None)],
        "rank": [Interval(Integral, 0, None)],
        "rank_form": [Options(RANK_FORMS)],
        "score_type": [Options(tuple(SCORE_TYPES))],
        "contamination": [Interval(Real, 0, 0.5, closed="right")],
        "epochs": [Interval(Integral, 1, None)],
        "batch_size": [Interval(Integral, 1, None)],
        "eval_batch_size": [Interval(Integral, 1, None)],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "device": DEVICE,
        "amp": [Options(("auto", True, False))],
        "compile": [BOOL],
        "on_divergence": [Options(("raise", "restart_d"))],
        "checkpoint_dir": [NONE, InstanceOf((str, os.PathLike), "a folder path")],
        "checkpoint_every": [Interval(Integral, 1, None)],
        "resume": [BOOL],
        "verbose": [Interval(Integral, 0, 2)],
        "warm_start": [BOOL],
        "random_state": RANDOM_STATE,
    }

    def __init__(
        self,
        *,
        image_shape: tuple[int, ...] | None = None,
        latent_dim: int = 100,
        base_channels: int = 64,
        adversarial_loss: str = "feature_matching",
        w_irec: float = 1.0,
        w_adv: float = 5.0,
        w_zrec: float = 1.0,
        w_rank: float = 0.05,
        rank: int = 0,
        rank_form: str = "nuclear",
        score_type: str = "latent",
        contamination: float = 0.1,
        epochs: int = 15,
        batch_size: int = 64,
        eval_batch_size: int = 256,
        lr: float = 2e-4,
        validation_fraction: float = 0.0,
        device: str | torch.device = "auto",
        amp: str | bool = "auto",
        compile: bool = False,
        on_divergence: str = "raise",
        checkpoint_dir: str | os.PathLike | None = None,
        checkpoint_every: int = 1,
        resume: bool = False,
        verbose: int = 0,
        warm_start: bool = False,
        random_state: int | np.random.RandomState | None = None,
    ):
        self.image_shape = image_shape
        self.latent_dim = latent_dim
        self.base_channels = base_channels
        self.adversarial_loss = adversarial_loss
        self.w_irec = w_irec
        self.w_adv = w_adv
        self.w_zrec = w_zrec
        self.w_rank = w_rank
        self.rank = rank
        self.rank_form = rank_form
        self.score_type = score_type
        self.contamination = contamination
        self.epochs = epochs
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size
        self.lr = lr
        self.validation_fraction = validation_fraction
        self.device = device
        self.amp = amp
        self.compile = compile
        self.on_divergence = on_divergence
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = checkpoint_every
        self.resume = resume
        self.verbose = verbose
        self.warm_start = warm_start
        self.random_state = random_state

    # ------------------------------------------------------------------ fit

    def fit(self, X: Any, y: Any = None) -> LatentRegularizedGAN:
        """Train on ``X``, assumed normal, then set the threshold.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), (n_samples, H, W) or (n_samples, C, H, W)
            Training samples, uint8 or float. See ``image_shape`` for the layouts. Arrays,
            memmaps and sliceable array-likes (h5py, zarr, dask) are read a batch at a time and
            never converted whole.
        y : ignored
            Accepted for API compatibility; one-class training never uses labels.

        Returns
        -------
        self : LatentRegularizedGAN
        """
        check_params(self.get_params(deep=False), self._param_rules)
        self._check_param_combinations()
        continuing = self.warm_start and hasattr(self, "encoder_")
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(2**31 - 1))
        try:
            samples = validate_samples(self, X, reset=not continuing)
            train_idx, val_idx = self._split(len(samples), rng)
            # One pass over every sample before any training, so that a NaN anywhere fails now
            # rather than after the epochs; the training rows' range is the pixel scaling.
            scaler = PixelScaler.fit(_training_rows(samples, train_idx))
            if not continuing:
                self._check_range(scaler)
        except (TypeError, ValueError):
            if not continuing:
                self._forget_fit()  # validation set n_features_in_: do not look fitted
            raise

        if not continuing:
            self.device_ = resolve_device(self.device)
            self.amp_dtype_ = resolve_amp_dtype(self.amp, self.device_)
            if self.image_shape_ is None:
                # The tabular networks run in float64, which autocast leaves alone.
                self.amp_dtype_ = None
            self.pixel_scaler_ = scaler
            self._initialize_networks(generator=torch.Generator().manual_seed(seed))
            self._initialize_optimizers()
            self.history_ = []
            self.n_iter_ = 0

        target = self.n_iter_ + self.epochs
        checkpoint = None
        if self.checkpoint_dir is not None:
            checkpoint = Checkpoint(
                self.checkpoint_dir,
                type(self).__name__,
                self.get_params(deep=False),
                samples.chunks(train_idx),
                self.n_iter_,
            )
            if self.resume:
                self._resume(checkpoint)
        try:
            self._train(samples, train_idx, seed, target, checkpoint)
        except (KeyboardInterrupt, DivergenceError):
            # _train rolled the networks back to the last completed epoch: make the object
            # consistent with them (usable, or unfitted if no epoch ever completed) and re-raise.
            if self.n_iter_:
                self._fit_threshold(samples, train_idx, val_idx)
            else:
                self._forget_fit()
            raise
        self._fit_threshold(samples, train_idx, val_idx)
        return self

    def _check_param_combinations(self) -> None:
        weights = (self.w_irec, self.w_adv, self.w_zrec, self.w_rank)
        if not any(weights):
            raise ValueError("at least one of w_irec, w_adv, w_zrec and w_rank must be positive")
        if self.resume and self.checkpoint_dir is None:
            raise ValueError("resume=True needs checkpoint_dir: the folder to resume from")
        if self.w_rank and self.rank >= self.latent_dim:
            raise ValueError(
                f"rank must be smaller than latent_dim ({self.latent_dim}) when w_rank > 0, "
                f"got rank={self.rank}"
            )
        if not self.w_zrec and self.score_type not in ("image", "latent_density"):
            warnings.warn(
                f"w_zrec=0 leaves the auxiliary encoder untrained, so score_type="
                f"{self.score_type!r} compares z with an untrained encoding; "
                "consider score_type='image' or 'latent_density'",
                UserWarning,
                stacklevel=3,
            )

    def _forget_fit(self) -> None:
        for name in [key for key in vars(self) if key.endswith("_")]:
            delattr(self, name)

    def _check_range(self, scaler: PixelScaler) -> None:
        low, high = float(scaler.data_min.min()), float(scaler.data_max.max())
        if self.image_shape_ is not None and high - low > np.finfo(np.float32).max:
            raise ValueError(
                f"X spans [{low:g}, {high:g}], a range too wide for the float32 networks; rescale X"
            )

    def _resume(self, checkpoint: Checkpoint) -> None:
        state = checkpoint.load()
        if state is not None:
            # The checkpoint's key covers every parameter that shapes training; the others
            # (verbose, device, checkpoint settings...) are this call's.
            self.__setstate__({**state, **self.get_params(deep=False)})

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

    def _initialize_networks(
        self, generator: torch.Generator, states: dict[str, dict] | None = None
    ) -> None:
        """Build the four networks (from ``states`` when given) and move them to ``device_``."""
        if self.image_shape_ is None:
            self.geometry_ = None
        else:
            self.geometry_ = ImageGeometry.plan(self.image_shape_)
        nets = build_networks(
            in_channels=None if self.geometry_ is None else self.image_shape_[0],
            image_size=None if self.geometry_ is None else self.geometry_.side,
            n_features=self.n_features_in_,
            latent_dim=self.latent_dim,
            base_channels=self.base_channels,
            generator=generator,
        )
        for name, module in nets.modules().items():
            module.to(self.device_, self._dtype)
            if states is not None:
                module.load_state_dict(states[name + "_"])
            setattr(self, name + "_", module)

    def _initialize_optimizers(self, states: dict[str, dict] | None = None) -> None:
        self.optimizers_ = make_optimizers(self._networks(), self.lr, self.device_, self.amp_dtype_)
        if states is not None:
            self.optimizers_.generator.load_state_dict(states["generator"])
            self.optimizers_.discriminator.load_state_dict(states["discriminator"])
            self.optimizers_.scaler.load_state_dict(states["scaler"])

    def _networks(self) -> GANetworks:
        return GANetworks(*(getattr(self, name) for name in NETWORKS))

    def _runtime_networks(self) -> GANetworks:
        """The networks that train and score: :func:`torch.compile` wrappers with ``compile``.

        The wrappers share the fitted modules' parameters and buffers; they are built once per
        set of modules and never saved (see ``SavingMixin.__getstate__``).
        """
        nets = self._networks()
        if not self.compile:
            return nets
        modules = tuple(nets.modules().values())
        cached = getattr(self, "_compiled", None)
        if cached is None or any(a is not b for a, b in zip(cached[0], modules, strict=True)):
            self._compiled = (modules, GANetworks(*(torch.compile(m) for m in modules)))
        return self._compiled[1]

    def _train(
        self,
        samples: Samples,
        train_idx: np.ndarray,
        seed: int,
        target: int,
        checkpoint: Checkpoint | None,
    ) -> None:
        """Train on the ``train_idx`` rows of ``samples`` until ``n_iter_`` reaches ``target``.

        Each epoch appends its record to ``history_``.

        Epoch ``k``'s batch order depends on ``seed`` and ``k`` only, so a resumed run sees the
        same batches as an uninterrupted one. A diverging or interrupted epoch is rolled back
        to the end of the previous one before the error propagates (see ``on_divergence``).
        """
        config = self._train_config()
        n_train = len(train_idx)
        batch_size = min(self.batch_size, n_train)
        # BatchNorm cannot train on one sample: a last batch of one is left out of that epoch.
        n_batches = n_train // batch_size + (n_train % batch_size > 1)
        nets = self._runtime_networks()
        bar = None
        if self.verbose == 1:
            from tqdm.auto import tqdm

            bar = tqdm(total=(target - self.n_iter_) * n_batches, desc="fit", unit="batch")
        snapshot = self._snapshot()
        try:
            while self.n_iter_ < target:
                generator = torch.Generator().manual_seed(seed + self.n_iter_)
                order = torch.randperm(n_train, generator=generator).numpy()
                for restarts in range(_MAX_D_RESTARTS + 1):
                    batches = (
                        self._to_network(
                            self._scaled(
                                samples.read(train_idx[np.sort(order[i : i + batch_size])])
                            )
                        )
                        for i in range(0, n_batches * batch_size, batch_size)
                    )
                    try:
                        with cuda_autotune(self.device_):
                            record = train_epoch(
                                nets,
                                self.optimizers_,
                                batches,
                                config,
                                None if bar is None else bar.update,
                            )
                        break
                    except DivergenceError as error:
                        self._restore(snapshot)
                        if self.on_divergence == "raise" or restarts == _MAX_D_RESTARTS:
                            raise self._divergence(error, restarts) from None
                        restart_discriminator(self._networks(), self.optimizers_, generator)
                    except KeyboardInterrupt:
                        self._restore(snapshot)
                        raise
                record["d_restarts"] = float(restarts)
                self.history_.append(record)
                self.n_iter_ += 1
                snapshot = self._snapshot()
                self._report_epoch(record, bar)
                if checkpoint is not None and (
                    self.n_iter_ % self.checkpoint_every == 0 or self.n_iter_ == target
                ):
                    checkpoint.save(self.__getstate__())
        finally:
            if bar is not None:
                bar.close()

    def _train_config(self) -> TrainConfig:
        """The loss weights and options of one generator step, from the parameters."""
        return TrainConfig(
            w_irec=float(self.w_irec),
            w_adv=float(self.w_adv),
            w_zrec=float(self.w_zrec),
            w_rank=float(self.w_rank),
            rank=int(self.rank),
            rank_form=self.rank_form,
            adversarial_loss=self.adversarial_loss,
            amp_dtype=self.amp_dtype_,
        )

    def _snapshot(self) -> dict[str, Any]:
        """Copies of every network's and optimizer's state, on the device: the rollback point."""
        return copy.deepcopy(
            {
                **{name: getattr(self, name).state_dict() for name in NETWORKS},
                "generator": self.optimizers_.generator.state_dict(),
                "discriminator": self.optimizers_.discriminator.state_dict(),
                "scaler": self.optimizers_.scaler.state_dict(),
            }
        )

    def _restore(self, snapshot: dict[str, Any]) -> None:
        for name in NETWORKS:
            getattr(self, name).load_state_dict(snapshot[name])
        for name in ("generator", "discriminator", "scaler"):
            getattr(self.optimizers_, name).load_state_dict(snapshot[name])

    def _divergence(self, error: DivergenceError, restarts: int) -> DivergenceError:
        epoch = self.n_iter_ + 1
        retried = f" after {restarts} restarts of D" if restarts else ""
        return DivergenceError(
            f"training diverged in epoch {epoch}{retried}: the loss term {error.term!r} became "
            f"NaN or infinite at step {error.step}. The networks were rolled back to epoch "
            f"{self.n_iter_}. Try a smaller lr, on_divergence='restart_d', or check the input "
            "scaling.",
            term=error.term,
            step=error.step,
            epoch=epoch,
        )

    def _report_epoch(self, record: dict[str, float], bar: Any) -> None:
        if bar is not None:
            bar.set_postfix(g_total=record["g_total"], d_loss=record["d_loss"])
        elif self.verbose == 2:
            print(
                f"epoch {self.n_iter_}: "
                + " ".join(f"{key}={value:.4g}" for key, value in record.items())
            )
        if self.verbose and record["d_collapsed"]:
            warnings.warn(
                f"epoch {self.n_iter_}: the discriminator collapsed (its loss stayed below "
                f"{COLLAPSE_D_LOSS:g} all epoch), so the adversarial term no longer guides G; "
                "consider a smaller w_adv or lr",
                UserWarning,
                stacklevel=4,
            )

    def _fit_threshold(self, samples: Samples, train_idx: np.ndarray, val_idx: np.ndarray) -> None:
        """Fit the score statistics on the training rows, then the threshold."""
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
        self.decision_scores_ = self._select_score(raw)
        self.validation_scores_ = self.decision_scores_[val_idx] if len(val_idx) else None
        reference = self.decision_scores_ if len(val_idx) == 0 else self.validation_scores_
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
        for module in self._networks().modules().values():
            module.eval()
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
                out = fn(self._scaled(samples.read(read))).detach().cpu().numpy()
                if outputs is None:
                    # Filled in place: per-batch arrays kept alive until a final concatenate
                    # fragment the heap, and memory then grows with n (glibc keeps it).
                    outputs = np.empty((n_rows, *out.shape[1:]), dtype=out.dtype)
                outputs[batch] = out
                if bar is not None:
                    bar.update(len(out))
        return outputs

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
