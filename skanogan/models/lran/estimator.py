"""The :class:`LatentRegularizedGAN` estimator: parameters and orchestration only.

``fit`` reads top to bottom as: validate, build the networks, train, fit the scores and the
threshold. The parts are the sibling modules of :mod:`skanogan.models.lran`, the epoch loop of
:mod:`skanogan.training`, :class:`skanogan.base.BaseDetector` and :mod:`skanogan.io`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.utils import check_random_state

from skanogan.base import BaseDetector
from skanogan.core._device import cuda_autotune, resolve_amp_dtype, resolve_device
from skanogan.core._samples import Samples
from skanogan.core._shapes import ImageGeometry
from skanogan.io._saving import SavingMixin
from skanogan.models.lran.networks import FittedNetwork, GANetworks, build_networks
from skanogan.models.lran.params import PARAM_RULES, check_param_combinations
from skanogan.models.lran.scoring_methods import ScoringMethods
from skanogan.models.lran.train_step import (
    COLLAPSE_D_LOSS,
    TrainConfig,
    make_optimizers,
    restart_discriminator,
    train_epoch,
)
from skanogan.training import Batches

__all__ = ["LatentRegularizedGAN"]


class LatentRegularizedGAN(SavingMixin, ScoringMethods, BaseDetector):
    """Latent Regularized Adversarial Network for image anomaly detection.

    Trained on normal samples only. An encoder ``G_e`` maps an image ``x`` to a code ``z``, a
    decoder ``G_d`` reconstructs ``x_rec`` from it, an auxiliary encoder ``G_e'`` re-encodes
    ``x_rec`` to ``z_rec``, and a discriminator ``D`` tells ``x`` from ``x_rec``. The generator
    minimises ``w_irec * L_irec + w_adv * L_adv + w_zrec * L_zrec + w_rank * L_rank`` (paper
    eq. 1, formulas in :mod:`skanogan.models.lran.losses`); a weight of 0 switches its term
    off. By default a sample is anomalous when its latent residual ``z - z_rec`` is unlikely
    under the distribution of the training residuals (``score_type="residual_density"``).

    Scores follow PyOD: :meth:`decision_function` is higher for more anomalous samples and
    :meth:`predict` returns 0 (inlier) or 1 (outlier); :meth:`score_samples` keeps
    scikit-learn's sign (higher = more normal). With labels 1 = anomaly,
    ``scoring="roc_auc"`` is correct in :class:`~sklearn.model_selection.GridSearchCV`.

    Parameters
    ----------
    image_shape : tuple of int or None, default=None
        ``(H, W)`` or ``(C, H, W)`` of the images when ``X`` is 2-D ``(n_samples, C*H*W)``;
        ``None`` for 3-D ``(n, H, W)`` or 4-D ``(n, C, H, W)`` input. A 2-D ``X`` with ``None``
        is tabular data, modelled with MLPs (an :class:`~skanogan.exceptions.ImageShapeWarning`
        says when it looks like flattened images). Sides of at least 2 pixels; below 16 they are
        resized up, and images are edge-padded to a power-of-two square (invertibly).
    latent_dim : int, default=100
        Size of the code ``z``.
    base_channels : int, default=64
        Width of the first conv layer (doubling at every halving of the image); for tabular
        data the MLPs' hidden widths are ``4 * base_channels`` and ``2 * base_channels``.
    adversarial_loss : {"feature_matching", "bce"}, default="feature_matching"
        Generator's adversarial term: GANomaly's feature matching on D's penultimate features
        (stable), or the paper's eq. 3 in its non-saturating BCE form.
    w_irec, w_adv, w_zrec, w_rank : float, default=50, 1, 1, 0.1
        Weights of the image reconstruction (L1), adversarial, latent reconstruction (L2) and
        low-rank terms (the paper's ``w_i, w_a, w_z, w_o``). At least one must be positive.
        The defaults are GANomaly's balance with a light scale-free low-rank term, chosen on
        our validation sweep and its every-class confirmation
        (``benchmarks/results/validation*.md``, training data only); the paper's printed
        ``1, 5, 1, 0.05`` (nuclear norm) are in :data:`skanogan.PAPER_SETTINGS`. With ``w_zrec=0``
        the auxiliary encoder is never trained, so the latent and residual scores compare ``z``
        with an untrained encoding: use ``score_type="latent_density"`` or ``"image"`` then.
    rank : int, default=0
        Singular values of the batch latent matrix kept free by ``L_rank``; the term penalises
        the sum of the others (``rank=0``: the nuclear norm). Must be below ``latent_dim``.
    rank_form : {"nuclear", "scale_free"}, default="scale_free"
        ``"nuclear"``: the paper's truncated nuclear norm, ``svdvals(Z)[rank:].sum() /
        sqrt(B)``, which also falls when every code shrinks. ``"scale_free"``: the same sum
        divided by the Frobenius norm of ``Z``, which only a more concentrated spectrum lowers
        (between 0 and ``sqrt(latent_dim)``; see :func:`skanogan.models.lran.losses.rank_loss`).
        The nuclear norm lowered every score on our validation sweep; the scale-free form at
        ``w_rank=0.1`` raised the default score slightly but consistently.
    score_type : {"latent", "image", "latent_density", "residual_density", "combined"}, \
default="residual_density"
        The score of :meth:`decision_function` (:data:`skanogan.scoring.SCORE_TYPES`; the
        default won our validation sweep). ``"latent"``: mean ``(z - z_rec)**2`` (the paper's).
        ``"image"``: mean ``|x - x_rec|``. ``"latent_density"``: squared Mahalanobis distance of
        ``z`` under a Gaussian (Ledoit–Wolf covariance) fitted to the training codes;
        ``"residual_density"``: the same for ``z - z_rec``. ``"combined"``: latent plus image
        score, each standardised on the training scores. Every score is ready after one fit:
        ``set_params(score_type=...)`` switches without refitting (``threshold_`` and
        ``decision_scores_`` stay those of the score fitted with).
    contamination : float in (0, 0.5], default=0.1
        Expected proportion of outliers; sets ``threshold_`` at the ``1 - contamination``
        quantile of the training (or validation) scores, as PyOD does.
    epochs : int, default=15
        Passes over the training data in each call to :meth:`fit`.
    ema_decay : float in [0, 1), default=0.0
        Decay of an exponential moving average of the generator's weights, updated after every
        step (with a warm-up: :class:`~skanogan.models.lran.averaging.WeightAverage`); with
        ``ema_decay > 0`` the average is what scores, is saved and exports. 0 scores the last
        step's weights. ``warm_start`` and ``resume`` go on training the live weights.
    batch_size : int, default=64
        Training batch size, clamped to the number of training samples.
    eval_batch_size : int, default=256
        Batch size for scoring; results do not depend on it.
    lr : float, default=2e-4
        Adam learning rate for both optimizers (betas 0.5, 0.999). The paper's "0.002" is read
        as DCGAN's 2e-4, the rate these networks train stably at (``docs/paper.md``).
    validation_fraction : float in [0, 1), default=0.0
        Fraction of ``X`` held out of training (at random) to set ``threshold_`` on scores of
        normals the networks did not see. Prefer it: training scores are optimistic, so a
        threshold from them flags too many new normals.
    device : "auto", "cpu", "cuda", "cuda:N" or torch.device, default="auto"
        Where the networks run (``"auto"``: CUDA when present; a missing CUDA device is a
        ``ValueError``). Data stays on the CPU and moves one batch at a time.
    amp : "auto" or bool, default="auto"
        Mixed precision (autocast) for training and scoring; the rank term's SVD, the densities
        and the scores stay in full precision. On CUDA, ``"auto"`` and ``True`` use bfloat16
        where the GPU has it, else float16 with loss scaling. On the CPU both use bfloat16 where
        the CPU has it natively (AVX-512 BF16 or AMX: about twice as fast, validation AUROC
        within the float32 seed spread); elsewhere ``"auto"`` is float32 and ``True`` a
        ``ValueError``. ``False``: float32 everywhere, for results that match across CPUs.
        Tabular data: float64.
    compile : bool, default=False
        Wrap the networks in :func:`torch.compile` (slow first steps, faster later ones mostly
        on GPUs; results agree to float32 rounding). The wrappers are never saved or pickled.
        Needs a working C++ compiler on the CPU.
    on_divergence : {"raise", "restart_d"}, default="raise"
        When a loss turns NaN or infinite (checked every 32 steps and at each epoch's end), the
        networks go back to the last completed epoch; ``"raise"`` then raises
        :class:`~skanogan.exceptions.DivergenceError` naming the epoch and term (the detector
        stays usable), ``"restart_d"`` re-initialises D and its optimizer (GANomaly's remedy,
        counted in ``history_["d_restarts"]``) and retries the epoch, at most three times.
    checkpoint_dir : str, os.PathLike or None, default=None
        Folder (created if needed) where :meth:`fit` saves its progress atomically, in a file
        named after a hash of the training parameters, starting epoch and data (so grid-search
        clones and CV folds never share one).
    checkpoint_every : int, default=1
        Epochs between checkpoints.
    resume : bool, default=False
        With ``checkpoint_dir``: continue from this run's checkpoint (weights, optimizer moments,
        ``history_``) and train only the epochs left, identical on CPU to an uninterrupted fit.
        Another configuration's or other data's checkpoint is a ``ValueError``.
    verbose : int, default=0
        0 silent, 1 a progress bar with the running losses, 2 one line per epoch. From 1, a
        collapsed D gives a warning and scoring over 10 batches shows a progress bar.
    warm_start : bool, default=False
        When True and already fitted, :meth:`fit` continues training the same networks for
        another ``epochs`` epochs instead of starting again; the pixel scaling is kept.
    random_state : int, RandomState instance or None, default=None
        Seeds the weights, batch order and validation split through local generators (global
        RNG states are never reseeded); equal seeds on one CPU give identical scores.

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
    networks_ : skanogan.models.lran.networks.GANetworks
        The four trained networks on ``device_``, with their state dicts.
    encoder_, decoder_, aux_encoder_, discriminator_ : torch.nn.Module
        The trained ``G_e``, ``G_d``, ``G_e'`` and ``D``: ``networks_.encoder`` and so on.
    optimizers_ : skanogan.models.lran.train_step.Optimizers
        The two Adam optimizers and the grad scaler, kept for ``warm_start``.
    device_ : torch.device
        The device actually used.
    amp_dtype_ : torch.dtype or None
        The autocast dtype the model trained and scores in (``None``: full precision, always for
        tabular data). Saved and pickled; on a CPU that cannot run it the model scores in float32,
        with a :class:`~skanogan.exceptions.DeviceWarning`.
    history_ : list of dict
        One dict of floats per epoch: the unweighted ``g_irec``, ``g_adv``, ``g_zrec``,
        ``g_rank``, then ``g_total``, ``d_loss``, ``svd_skipped`` (steps without a rank term),
        ``d_collapsed`` (1.0 when D's loss stayed below ``COLLAPSE_D_LOSS`` all epoch),
        ``d_restarts`` and ``seconds``.
    n_iter_ : int
        Epochs trained in total (across warm starts).
    score_scaler_ : ScoreScaler
        Mean and standard deviation of the latent and image training scores (used by
        ``score_type="combined"``).
    latent_density_, residual_density_ : GaussianDensity
        Mean and precision (plain arrays) of the Gaussians of the density scores, fitted on the
        codes and residuals of the training rows (not the ``validation_fraction`` rows) in
        ``eval()`` mode after the last epoch, and refitted after every ``fit`` (``warm_start``).
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
    GANomaly (Akcay et al., 2018). Where the paper is vague, ``docs/paper.md`` says what is done
    instead (the loss formulas, the learning rate, the score normalisation).

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
    _implicit_params: ClassVar[dict[str, Any]] = {"rank_form": "nuclear", "ema_decay": 0.0}

    _param_rules: ClassVar[dict[str, list]] = PARAM_RULES

    def __init__(
        self,
        *,
        image_shape: tuple[int, ...] | None = None,
        latent_dim: int = 100,
        base_channels: int = 64,
        adversarial_loss: str = "feature_matching",
        w_irec: float = 50.0,
        w_adv: float = 1.0,
        w_zrec: float = 1.0,
        w_rank: float = 0.1,
        rank: int = 0,
        rank_form: str = "scale_free",
        score_type: str = "residual_density",
        contamination: float = 0.1,
        epochs: int = 15,
        ema_decay: float = 0.0,
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
        self.ema_decay = ema_decay
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

    # The fitted networks, as documented attributes; networks_ holds the modules.
    encoder_ = FittedNetwork()
    decoder_ = FittedNetwork()
    aux_encoder_ = FittedNetwork()
    discriminator_ = FittedNetwork()

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
        self._check_params()
        check_param_combinations(self.get_params(deep=False))
        continuing = self.warm_start and hasattr(self, "networks_")
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(2**31 - 1))
        samples, train_idx, val_idx, scaler = self._prepare_fit(X, rng, continuing=continuing)

        if not continuing:
            self.device_ = resolve_device(self.device)
            self.amp_dtype_ = resolve_amp_dtype(self.amp, self.device_)
            if self.image_shape_ is None:
                # The tabular networks run in float64, which autocast leaves alone.
                self.amp_dtype_ = None
            self.pixel_scaler_ = scaler
            self._initialize_networks(rng=torch.Generator().manual_seed(seed))
            self._initialize_optimizers()
            self.history_ = []
            self.n_iter_ = 0

        batches = Batches(len(train_idx), self.batch_size)
        self._train(samples, train_idx, val_idx, seed=seed, batches=batches)
        return self

    _collapse_bound = COLLAPSE_D_LOSS

    def _loop_parts(self, samples: Samples, train_idx: np.ndarray, batches: Batches) -> dict:
        """``run_epoch``, ``restart`` and ``state`` of :func:`~skanogan.training.fit_loop`
        (asked for by BaseDetector._train after a resume, which replaces ``networks_`` and
        ``optimizers_``)."""
        return {
            "run_epoch": self._epoch_runner(samples, train_idx, batches),
            "restart": lambda rng: restart_discriminator(self.networks_, self.optimizers_, rng),
            "state": (self.networks_, self.optimizers_),
        }

    def _initialize_networks(
        self, rng: torch.Generator, states: dict[str, dict] | None = None
    ) -> None:
        """Build the four networks (from ``states`` when given) and move them to ``device_``."""
        shape = self.image_shape_
        self.geometry_ = None if shape is None else ImageGeometry.plan(shape)
        self.networks_ = build_networks(
            in_channels=None if self.geometry_ is None else self.image_shape_[0],
            image_size=None if self.geometry_ is None else self.geometry_.side,
            n_features=self.n_features_in_,
            latent_dim=self.latent_dim,
            base_channels=self.base_channels,
            rng=rng,
        ).to(self.device_, self._dtype)
        if states is not None:
            self.networks_.load_state_dict(states)

    def _initialize_optimizers(self, states: dict[str, dict] | None = None) -> None:
        self.optimizers_ = make_optimizers(self.networks_, self.lr, self.device_, self.amp_dtype_)
        if states is not None:
            self.optimizers_.load_state_dict(states)

    def _runtime_networks(self) -> GANetworks:
        """The networks that train and score: with ``compile``, cached :func:`torch.compile`
        wrappers sharing the fitted modules' parameters (never saved)."""
        return self.networks_.compiled() if self.compile else self.networks_

    def _epoch_runner(self, samples: Samples, train_idx: np.ndarray, batches: Batches) -> Any:
        """``run_epoch(order, on_batch)`` for :func:`~skanogan.training.fit_loop`: one epoch."""
        config, nets = self._train_config(), self._runtime_networks()
        average = self.optimizers_.weight_average

        def run_epoch(order: np.ndarray, on_batch: Callable[[], None]) -> dict[str, float]:
            xs = (
                self._to_network(self._scaled(samples.read(train_idx[rows])))
                for rows in batches.rows(order)
            )
            with (
                cuda_autotune(self.device_),
                average.epoch(self.networks_, self.ema_decay, on_batch) as step_done,
            ):
                return train_epoch(nets, self.optimizers_, xs, config, step_done)

        return run_epoch

    def _train_config(self) -> TrainConfig:
        return TrainConfig.from_params(self.get_params(deep=False), amp_dtype=self.amp_dtype_)
