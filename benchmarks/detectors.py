"""How each benchmark detector is built, fed and scored: skanogan beside PyOD's detectors.

Every name in :data:`DETECTORS` has a :class:`DetectorSpec` (:func:`spec`), is built unfitted by
:func:`make_detector`, gets its input from :func:`prepare_inputs` and is scored by :func:`score`.
Scores are float64 of shape ``(n,)``, higher = more anomalous (PyOD's sign) for every detector;
:func:`check_sign` checks that on a known normal/anomalous pair.

Inputs. Every detector sees the same pixels. skanogan gets the images ``(n, C, H, W)`` as they
are and learns its own pixel scaling in ``fit``. PyOD's detectors get them flattened to
``(n, C*H*W)`` float32 in ``[0, 1]``: integer images are divided by 255; float images are
assumed to be in ``[0, 1]`` already, because :func:`prepare_inputs` sees one array at a time and
cannot min–max scale the test set with the training set's range.

Scoring. A ``"batch"`` detector scores each sample independently of the others, so the test set
is passed at once. ECOD is ``"per_sample"``: PyOD's ECOD ranks the rows being scored together
with the training rows, so in a batch the score of a sample depends on the other test samples
(test statistics). :func:`score` gives it one row at a time, each scored against the training
data alone.

Randomness. skanogan seeds local generators from ``random_state``. PyOD's deep detectors draw
from the global ``random``, ``numpy`` and ``torch`` generators and reseed them in ``__init__``
(``BaseDeepLearningDetector._set_seed``, DeepSVDD's ``torch.manual_seed``); AnoGAN and ALAD have
no ``random_state`` at all. The adapters here reseed those three global generators from ``seed``
at the start of ``fit``, so a fit gives the same scores whatever ran before it in the process.
That changes the process's global state: the benchmark runs in a process of its own.

Departures from PyOD 3.6.7, each also in the detector's ``note``:

- AutoEncoder, VAE, DeepSVDD: ``preprocessing=False``. The input is already in ``[0, 1]``;
  PyOD's per-pixel standardisation divides by ``std + 1e-8``, which turns a pixel that is
  constant in training (an image border) into a value of about 1e8 at test time.
- VAE: scored with the decoded posterior mean. PyOD samples ``z`` when scoring, which makes the
  scores random and the score of a sample depend on its position in the batch.
- ALAD: ``epochs`` counts passes over the training data (PyOD's ALAD takes one random batch per
  "epoch"), and scoring runs with dropout off (PyOD never switches ALAD to eval mode).
- AnoGAN: the test-time latent search of Schlegl et al. (2017), run for each sample, with
  their loss (residual plus λ = 0.1 times the distance of discriminator features). PyOD's
  ``decision_function`` compares every sample with one generated sample, whose latent point
  was optimised in ``fit`` over the training samples in turn, and takes the discriminator's
  output probability as its feature.

See Also
--------
benchmarks.runner : profiles, tasks and the resumable runner that calls these functions.
"""

from __future__ import annotations

import functools
import importlib
import math
import random
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from skanogan import LatentRegularizedGAN

__all__ = [
    "DETECTORS",
    "DetectorSpec",
    "check_sign",
    "make_detector",
    "prepare_inputs",
    "score",
    "skanogan_params",
    "spec",
]

#: Every detector the benchmark knows, skanogan first.
DETECTORS: tuple[str, ...] = (
    "skanogan",
    "KNN",
    "LOF",
    "IForest",
    "PCA",
    "OCSVM",
    "ECOD",
    "KDE",
    "AutoEncoder",
    "VAE",
    "DeepSVDD",
    "AnoGAN",
    "ALAD",
)

#: Default number of latent-search steps per test sample for AnoGAN (Schlegl et al. use 500).
ANOGAN_ITERATIONS = 100
#: Weight of AnoGAN's discrimination loss against its residual loss (Schlegl et al.'s λ).
ANOGAN_LAMBDA = 0.1

_DEEP = frozenset({"skanogan", "AutoEncoder", "VAE", "DeepSVDD", "AnoGAN", "ALAD"})
_FLAT = "pixels flattened to [0, 1]"


@dataclass(frozen=True)
class DetectorSpec:
    """What a results table must know about one detector.

    Parameters
    ----------
    name : str
        The detector's name in :data:`DETECTORS`.
    scoring : {"batch", "per_sample"}
        ``"batch"``: :func:`score` calls ``decision_function`` once on the whole test set.
        ``"per_sample"``: once per test sample, for detectors whose score of a sample depends on
        the other samples scored with it.
    paper_row : str or None
        The row of this method in the paper's Tables 1–2, ``None`` where the paper has none.
    note : str
        One line: input, settings and departures from the library's defaults.
    """

    name: str
    scoring: str
    paper_row: str | None
    note: str


_SPECS: dict[str, DetectorSpec] = {
    spec_.name: spec_
    for spec_ in (
        DetectorSpec(
            "skanogan",
            "batch",
            "Proposed method",
            "LatentRegularizedGAN on the images as given (pixel range learned in fit); epochs "
            "and extra parameters from the profile; local seeding; CUDA when present",
        ),
        DetectorSpec("KNN", "batch", None, f"PyOD KNN defaults (5 neighbours, largest); {_FLAT}"),
        DetectorSpec(
            "LOF", "batch", None, f"PyOD LOF defaults (20 neighbours, novelty=True); {_FLAT}"
        ),
        DetectorSpec(
            "IForest", "batch", None, f"PyOD IForest defaults (100 trees), seeded; {_FLAT}"
        ),
        DetectorSpec(
            "PCA",
            "batch",
            None,
            f"PyOD PCA defaults (all components, standardised, weighted), seeded; {_FLAT}",
        ),
        DetectorSpec(
            "OCSVM",
            "batch",
            None,
            f"PyOD OCSVM defaults (RBF, gamma=1/n_features, nu=0.5); {_FLAT}",
        ),
        DetectorSpec(
            "ECOD",
            "per_sample",
            None,
            "PyOD ECOD defaults, scored one test sample at a time against the training data "
            "(in a batch it ranks test samples together); about 1.3 s per sample on one CPU core "
            f"at 6,000 × 784 training pixels; {_FLAT}",
        ),
        DetectorSpec(
            "KDE",
            "batch",
            "KDE ('06)",
            f"PyOD KDE defaults (Gaussian kernel, bandwidth 1.0); {_FLAT}",
        ),
        DetectorSpec(
            "AutoEncoder",
            "batch",
            "DAE ('06)",
            "PyOD AutoEncoder, MLP 128-64 (batch norm, dropout 0.2, Adam 1e-3, batch 32), "
            "epochs from the profile, preprocessing off; a plain, not denoising, autoencoder, "
            f"so the nearest to the paper's DAE row, not the same model; {_FLAT}",
        ),
        DetectorSpec(
            "VAE",
            "batch",
            "VAE ('13)",
            "PyOD VAE, MLP 128-64, latent 16, beta 1 (Adam 1e-3, batch 32), epochs from the "
            "profile, preprocessing off; scored with the decoded posterior mean (PyOD samples z "
            f"when scoring); {_FLAT}",
        ),
        DetectorSpec(
            "DeepSVDD",
            "batch",
            "DSVDD ('18)",
            "PyOD one-class DeepSVDD, bias-free MLP 128-64 (Adam 1e-4, batch 32), epochs from the "
            "profile, preprocessing off; CPU only (no device parameter); the paper's DSVDD is a "
            f"LeNet-type CNN; {_FLAT}",
        ),
        DetectorSpec(
            "AnoGAN",
            "batch",
            "AnoGAN ('17)",
            "PyOD AnoGAN, MLP G 16-64-128 (sigmoid output) and D 128-64, epochs from the profile; "
            "scored by our per-sample latent search as Schlegl et al. (Adam from z=0.5, "
            f"settings['anogan_iterations'] steps, default {ANOGAN_ITERATIONS}, they use 500; "
            f"loss 0.9 |x-G(z)| + 0.1 |f(x)-f(G(z))|, f = D's last hidden layer): PyOD's own "
            "scoring compares every sample with one generated sample and uses D's output as f; "
            f"{_FLAT}",
        ),
        DetectorSpec(
            "ALAD",
            "batch",
            None,
            "PyOD ALAD, MLP encoder 128-64, decoder 64-128, latent 16, discriminators 128-64; "
            "epochs from the profile counted as passes over the data (PyOD: one batch per "
            f"epoch); scored with dropout off (PyOD leaves it on); {_FLAT}",
        ),
    )
}


def spec(name: str) -> DetectorSpec:
    """The :class:`DetectorSpec` of detector ``name``.

    Raises
    ------
    ValueError
        If ``name`` is not in :data:`DETECTORS`.

    Examples
    --------
    >>> spec("ECOD").scoring
    'per_sample'
    >>> spec("skanogan").paper_row
    'Proposed method'
    """
    try:
        return _SPECS[name]
    except (KeyError, TypeError):
        raise ValueError(f"detector must be one of {DETECTORS}, got {name!r}") from None


def skanogan_params(*, seed: int, settings: dict[str, Any]) -> dict[str, Any]:
    """The parameters :func:`make_detector` gives skanogan over the library's defaults.

    The harness's own (images as given, ``epochs`` from the profile, ``random_state=seed``,
    ``device="auto"``), then ``settings["skanogan"]``. The report recomputes them to check the
    parameters a record stores (:func:`benchmarks.configs.check_record`).

    Parameters
    ----------
    seed : int
    settings : dict
        As for :func:`make_detector`, with ``"epochs"``.

    Returns
    -------
    params : dict

    Examples
    --------
    >>> skanogan_params(seed=1, settings={"epochs": 2, "skanogan": {"w_adv": 1.0}})
    {'image_shape': None, 'epochs': 2, 'random_state': 1, 'device': 'auto', 'w_adv': 1.0}
    """
    return {
        "image_shape": None,
        "epochs": int(settings["epochs"]),
        "random_state": seed,
        "device": "auto",
        **settings.get("skanogan", {}),
    }


def make_detector(name: str, *, seed: int, settings: dict[str, Any]) -> Any:
    """An unfitted detector with ``fit(X)`` and ``decision_function(X)`` (higher = anomalous).

    Parameters
    ----------
    name : str
        One of :data:`DETECTORS`.
    seed : int
        Seeds the detector: ``random_state`` where it has one; for PyOD's deep detectors, also
        the global ``random``/``numpy``/``torch`` generators at the start of ``fit``.
    settings : dict
        Profile knobs. ``"epochs"`` (int): passes over the training data for every deep
        detector, skanogan included (required for them). ``"skanogan"`` (dict): extra
        :class:`~skanogan.LatentRegularizedGAN` parameters, which may override the defaults set
        here. ``"image_shape"``: ``(C, H, W)`` of the images (optional; DeepSVDD otherwise reads
        its input width in ``fit``). ``"anogan_iterations"`` (int): AnoGAN's latent-search
        steps per test sample, default :data:`ANOGAN_ITERATIONS`.

    Returns
    -------
    detector : object
        A :class:`~skanogan.LatentRegularizedGAN` or a PyOD detector (PyOD's deep detectors as
        small subclasses that seed ``fit`` and fix the scoring, see the module docstring). Fit
        and score it on the output of :func:`prepare_inputs`.

    Raises
    ------
    ValueError
        If ``name`` is unknown, or a deep detector's ``settings`` lack ``"epochs"``.
    ImportError
        If PyOD (or pandas, for AnoGAN and ALAD) is not installed.

    Examples
    --------
    >>> X = np.linspace(0, 0.1, 16).reshape(8, 2)
    >>> knn = make_detector("KNN", seed=0, settings={}).fit(X)
    >>> score("KNN", knn, np.array([[0.05, 0.05], [0.9, 0.9]])).round(3).tolist()
    [0.047, 1.212]
    """
    spec(name)
    epochs = 0
    if name in _DEEP:
        epochs = settings.get("epochs")
        if not isinstance(epochs, Integral) or isinstance(epochs, bool) or epochs < 1:
            raise ValueError(
                f"settings['epochs'] must be a positive int for {name}, got {epochs!r}"
            )
    if name == "skanogan":
        return LatentRegularizedGAN(**skanogan_params(seed=seed, settings=settings))
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "KNN":
        return _pyod("knn", "KNN")()
    if name == "LOF":
        return _pyod("lof", "LOF")()
    if name == "IForest":
        return _pyod("iforest", "IForest")(random_state=seed)
    if name == "PCA":
        return _pyod("pca", "PCA")(random_state=seed)
    if name == "OCSVM":
        return _pyod("ocsvm", "OCSVM")()
    if name == "ECOD":
        return _pyod("ecod", "ECOD")()
    if name == "KDE":
        return _pyod("kde", "KDE")()
    deep: Any
    if name == "AutoEncoder":
        deep = _adapter("AutoEncoder")(
            epoch_num=int(epochs),
            hidden_neuron_list=[128, 64],
            preprocessing=False,
            device=device,
            random_state=seed,
            verbose=0,
        )
    elif name == "VAE":
        deep = _adapter("VAE")(
            epoch_num=int(epochs),
            encoder_neuron_list=[128, 64],
            decoder_neuron_list=[64, 128],
            latent_dim=16,
            preprocessing=False,
            device=device,
            random_state=seed,
            verbose=0,
        )
    elif name == "DeepSVDD":
        shape = settings.get("image_shape")
        deep = _adapter("DeepSVDD")(
            n_features=None if shape is None else math.prod(shape),
            hidden_neurons=[128, 64],
            epochs=int(epochs),
            preprocessing=False,
            random_state=seed,
            verbose=0,
        )
    elif name == "AnoGAN":
        deep = _adapter("AnoGAN")(
            latent_dim_G=16,
            G_layers=[64, 128],
            D_layers=[128, 64],
            output_activation="sigmoid",
            epochs=int(epochs),
            epochs_query=int(settings.get("anogan_iterations", ANOGAN_ITERATIONS)),
            device=device,
            verbose=0,
        )
    else:  # ALAD
        deep = _adapter("ALAD")(
            latent_dim=16,
            enc_layers=[128, 64],
            dec_layers=[64, 128],
            disc_xx_layers=[128, 64],
            disc_zz_layers=[128, 64],
            disc_xz_layers=[128, 64],
            epochs=int(epochs),
            device=device,
            verbose=0,
        )
    deep._benchmark_seed = seed
    return deep


def prepare_inputs(name: str, X: np.ndarray) -> np.ndarray:
    """The input detector ``name`` is fitted and scored on, from images ``(n, C, H, W)``.

    skanogan gets ``X`` unchanged. PyOD's detectors all get the same array: ``X`` flattened to
    ``(n, C*H*W)`` float32, divided by 255 when ``X`` holds integers (uint8 pixels); float input
    is assumed to be in ``[0, 1]`` already and is not rescaled. Calling it again on its own
    output returns the same values.

    Raises
    ------
    ValueError
        If ``name`` is unknown, or ``X`` has fewer than 2 dimensions or is not numeric.

    Examples
    --------
    >>> X = np.full((2, 1, 2, 2), 255, dtype=np.uint8)
    >>> prepare_inputs("KNN", X)
    array([[1., 1., 1., 1.],
           [1., 1., 1., 1.]], dtype=float32)
    >>> prepare_inputs("skanogan", X).shape
    (2, 1, 2, 2)
    """
    spec(name)
    X = np.asarray(X)
    if name == "skanogan":
        return X
    if X.ndim < 2:
        raise ValueError(f"X must be (n, C, H, W) images or (n, F) rows, got shape {X.shape}")
    flat = X.reshape(len(X), -1)
    if np.issubdtype(flat.dtype, np.integer) or flat.dtype == np.bool_:
        return flat.astype(np.float32) / np.float32(255)
    if np.issubdtype(flat.dtype, np.floating):
        return flat.astype(np.float32, copy=False)
    raise ValueError(f"X must hold integer or float pixels, got dtype {flat.dtype}")


def score(name: str, detector: Any, X_test: np.ndarray, *, per_sample: bool = True) -> np.ndarray:
    """Scores of ``X_test`` (the output of :func:`prepare_inputs`), higher = more anomalous.

    ``"batch"`` detectors score ``X_test`` in one call; ``"per_sample"`` ones one row at a
    time, so that no score depends on the other test samples. ``per_sample=False`` scores
    those in one call too (much faster for ECOD on large sets): their scores then use
    statistics of the test batch, and the results must be flagged as such.

    Returns
    -------
    scores : ndarray of shape (n_samples,), float64

    Examples
    --------
    >>> X = np.array([[0.0], [0.1], [0.2], [0.3], [5.0]])
    >>> ecod = make_detector("ECOD", seed=0, settings={}).fit(X[:4])
    >>> score("ECOD", ecod, X).shape
    (5,)
    """
    if per_sample and spec(name).scoring == "per_sample":
        scores = [
            np.ravel(detector.decision_function(X_test[i : i + 1])) for i in range(len(X_test))
        ]
        values = np.concatenate(scores) if scores else np.empty(0)
    else:
        values = detector.decision_function(X_test)
    values = np.asarray(values, dtype=np.float64).ravel()
    if values.shape != (len(X_test),):
        raise ValueError(f"{name} returned {values.shape[0]} scores for {len(X_test)} samples")
    return values


def check_sign(name: str, detector: Any, X_normal: np.ndarray, X_anomalous: np.ndarray) -> bool:
    """Whether fitted ``detector`` ranks ``X_anomalous`` above ``X_normal`` (AUROC > 0.5).

    Both arrays are outputs of :func:`prepare_inputs`. A ``False`` on an easy pair (noise against
    training-like images) means the sign is wrong or the detector learned nothing.

    Examples
    --------
    >>> X = np.linspace(0, 0.1, 16).reshape(8, 2)
    >>> knn = make_detector("KNN", seed=0, settings={}).fit(X)
    >>> check_sign("KNN", knn, X, X + 3.0)
    True
    """
    scores = np.concatenate([score(name, detector, X_normal), score(name, detector, X_anomalous)])
    labels = np.r_[np.zeros(len(X_normal)), np.ones(len(X_anomalous))]
    return bool(roc_auc_score(labels, scores) > 0.5)


def _pyod(module: str, cls: str) -> type:
    """``pyod.models.<module>.<cls>``, with an install hint when PyOD (or pandas) is missing."""
    try:
        return getattr(importlib.import_module(f"pyod.models.{module}"), cls)
    except ImportError as error:
        raise ImportError(
            f"the {cls} benchmark detector needs PyOD (and pandas for AnoGAN and ALAD): "
            f"pip install 'skanogan[bench]' ({error})"
        ) from error


@functools.cache
def _adapter(name: str) -> type:
    """The class :func:`make_detector` builds for PyOD deep detector ``name`` (made once)."""
    if name == "AutoEncoder":
        return _seeded(_pyod("auto_encoder", "AutoEncoder"))
    if name == "VAE":
        return _mean_vae(_pyod("vae", "VAE"))
    if name == "DeepSVDD":
        return _deep_svdd(_pyod("deep_svdd", "DeepSVDD"))
    if name == "AnoGAN":
        return _searching_anogan(_pyod("anogan", "AnoGAN"))
    return _passes_alad(_pyod("alad", "ALAD"))


def _seed_global_rngs(seed: int) -> None:
    """Reseed the global generators PyOD's deep detectors draw from (``seed`` as PyOD does)."""
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - PyOD draws from the legacy global generator
    torch.manual_seed(seed)


def _seeded(base: type) -> type:
    """``base`` whose ``fit`` first reseeds the global generators from ``_benchmark_seed``."""

    class Seeded(base):  # type: ignore[misc, valid-type]
        _benchmark_seed = 0

        def fit(self, X, y=None, **kwargs):
            _seed_global_rngs(self._benchmark_seed)
            # PyOD's loaders drop the last incomplete batch: fewer samples than batch_size
            # would train on nothing and crash inside PyOD.
            if getattr(self, "batch_size", 0) > len(X):
                self.batch_size = len(X)
            return super().fit(X, y, **kwargs)

    Seeded.__name__ = Seeded.__qualname__ = base.__name__
    Seeded.__module__ = __name__
    return Seeded


def _mean_vae(base: type) -> type:
    """PyOD's VAE, seeded, scoring the reconstruction of the posterior mean (deterministic)."""
    from pyod.utils.stat_models import pairwise_distances_no_broadcast

    class MeanVAE(_seeded(base)):  # type: ignore[misc]
        def evaluating_forward(self, batch_data):
            z_mu, _ = self.model.encode(batch_data.to(self.device))
            x_rec = self.model.decode(z_mu)
            return pairwise_distances_no_broadcast(batch_data.numpy(), x_rec.cpu().numpy())

    MeanVAE.__name__ = MeanVAE.__qualname__ = base.__name__
    return MeanVAE


def _deep_svdd(base: type) -> type:
    """PyOD's DeepSVDD, seeded, reading ``n_features`` from ``X`` when it was not given."""

    class WidthDeepSVDD(_seeded(base)):  # type: ignore[misc]
        def fit(self, X, y=None, **kwargs):
            width = np.shape(X)[1]
            if self.n_features is None:
                self.n_features = width
            elif self.n_features != width:
                raise ValueError(
                    f"DeepSVDD was built for {self.n_features} features, X has {width}"
                )
            return super().fit(X, y, **kwargs)

    WidthDeepSVDD.__name__ = WidthDeepSVDD.__qualname__ = base.__name__
    return WidthDeepSVDD


def _passes_alad(base: type) -> type:
    """PyOD's ALAD, seeded, ``epochs`` counted as passes over ``X``, scored in eval mode."""

    class PassesALAD(_seeded(base)):  # type: ignore[misc]
        def fit(self, X, y=None, **kwargs):
            passes = self.epochs
            # PyOD's ALAD draws one random batch per "epoch": as many as a pass has batches.
            self.epochs = passes * math.ceil(len(X) / self.batch_size)
            try:
                return super().fit(X, y, **kwargs)
            finally:
                self.epochs = passes

        def get_outlier_scores(self, X_norm):
            networks = (self.enc, self.dec, self.disc_xx, self.disc_zz, self.disc_xz)
            modes = [network.training for network in networks]
            for network in networks:
                network.eval()
            try:
                with torch.no_grad():
                    return super().get_outlier_scores(X_norm)
            finally:
                for network, mode in zip(networks, modes, strict=True):
                    network.train(mode)

    PassesALAD.__name__ = PassesALAD.__qualname__ = base.__name__
    return PassesALAD


def _searching_anogan(base: type) -> type:
    """PyOD's AnoGAN, seeded, scored by a latent search run for each sample (Schlegl et al.).

    PyOD's ``fit`` ends with a slow, sequential search over the training samples whose result
    its ``decision_function`` then shares among all samples; here that search is cut to one step
    per sample, and ``decision_scores_`` is recomputed with the per-sample search.
    """

    class SearchingAnoGAN(_seeded(base)):  # type: ignore[misc]
        def fit(self, X, y=None, **kwargs):
            iterations = self.epochs_query
            self.epochs_query = 1
            try:
                super().fit(X, y, **kwargs)
            finally:
                self.epochs_query = iterations
            self.decision_scores_ = self.decision_function(X)
            self._process_decision_scores()
            return self

        def decision_function(self, X):
            from sklearn.utils import check_array
            from sklearn.utils.validation import check_is_fitted

            check_is_fitted(self, ["decision_scores_"])
            X = check_array(X)
            if self.preprocessing:
                X = self.scaler_.transform(X)
            self.generator.eval()
            self.discriminator.eval()
            chunks = [
                _latent_search(self, torch.as_tensor(X[i : i + 512], dtype=torch.float32))
                for i in range(0, len(X), 512)
            ]
            return np.concatenate(chunks)

    SearchingAnoGAN.__name__ = SearchingAnoGAN.__qualname__ = base.__name__
    return SearchingAnoGAN


def _latent_search(anogan: Any, x: torch.Tensor) -> np.ndarray:
    """AnoGAN score of each row of ``x`` (Schlegl et al., 2017, §2.2).

    Adam on each row's own ``z`` from 0.5 (the centre of PyOD's uniform latent prior) for
    ``epochs_query`` steps, minimising ``(1 - λ) mean|x - G(z)| + λ mean|f(x) - f(G(z))|`` with
    ``λ = ANOGAN_LAMBDA`` and ``f`` the discriminator's last hidden layer; the score is that loss
    at the final ``z``. A row's loss depends only on its own ``z`` and Adam is elementwise, so
    the rows are searched together and each gets the score it would get alone.
    """
    x = x.to(anogan.device)
    generator = anogan.generator
    features = anogan.discriminator.model[:-2]  # drop the final Linear and Sigmoid
    with torch.no_grad():
        f_real = features(x)
    z = torch.full((len(x), anogan.latent_dim_G), 0.5, device=x.device, requires_grad=True)
    optimizer = torch.optim.Adam([z], lr=anogan.learning_rate_query)

    def losses() -> torch.Tensor:
        x_gen = generator(z)
        residual = (x - x_gen).abs().mean(dim=1)
        discrimination = (f_real - features(x_gen)).abs().mean(dim=1)
        return (1 - ANOGAN_LAMBDA) * residual + ANOGAN_LAMBDA * discrimination

    for _ in range(anogan.epochs_query):
        (z.grad,) = torch.autograd.grad(losses().sum(), z)
        optimizer.step()
    with torch.no_grad():
        return losses().cpu().numpy().astype(np.float64)
