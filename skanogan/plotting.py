"""Figures of anomaly scores and fitted detectors, each returned as a matplotlib ``Figure``.

Score plots take arrays (:func:`plot_roc`, :func:`plot_precision_recall`,
:func:`plot_score_histogram`); model plots take a fitted detector (:func:`plot_reconstructions`,
:func:`plot_training_history`, :func:`plot_latent_space`). Labels are 1 = anomaly, 0 = normal;
scores are higher for more anomalous samples, as ``decision_function`` returns them.

Figures are built as :class:`matplotlib.figure.Figure`, not with ``pyplot``: nothing is shown
and no global figure state is touched. Save one with ``fig.savefig(path)``. matplotlib is
optional: ``pip install "skanogan[plot]"``.

See Also
--------
skanogan.LatentRegularizedGAN : the detector whose fitted attributes these functions draw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Integral
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.decomposition import PCA
from sklearn.metrics import (
    average_precision_score,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)
from sklearn.utils.validation import check_is_fitted

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from skanogan.core._shapes import PixelScaler
    from skanogan.models.lran.estimator import LatentRegularizedGAN

__all__ = [
    "plot_latent_space",
    "plot_precision_recall",
    "plot_reconstructions",
    "plot_roc",
    "plot_score_histogram",
    "plot_training_history",
]

# The history_ keys of the generator panel of plot_training_history, by default.
_GENERATOR_KEYS = ("g_irec", "g_adv", "g_zrec", "g_rank", "g_total")

Scores = ArrayLike | Mapping[str, ArrayLike]

# ROC and PR curves live in the unit square; the margin keeps lines on the border visible.
_UNIT_SQUARE = {"xlim": (-0.01, 1.01), "ylim": (-0.01, 1.01), "aspect": "equal"}


def plot_roc(
    y_true: ArrayLike, scores: Scores, *, label: str | None = None, ax: Axes | None = None
) -> Figure:
    """ROC curve of one or several detectors, with the AUROC in the legend.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        1 for anomalies, 0 for normals; both must occur.
    scores : array-like of shape (n_samples,) or dict of str to array-like
        Anomaly scores (higher = more anomalous), or ``{name: scores}`` to draw several
        detectors on one axes.
    label : str, optional
        Legend name of a single score array. A dict is named by its keys.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure holding the axes.

    Examples
    --------
    >>> from skanogan.plotting import plot_roc
    >>> fig = plot_roc([0, 0, 1, 1], {"a": [0.1, 0.4, 0.35, 0.8], "b": [0.1, 0.2, 0.3, 0.4]})
    >>> [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
    ['a (AUROC = 0.750)', 'b (AUROC = 1.000)', 'chance (AUROC = 0.5)']
    """
    y, score_sets = _score_sets(y_true, scores, label)
    fig, ax = _axes(ax, figsize=(5.0, 5.0))
    for name, values in score_sets.items():
        fpr, tpr, _ = roc_curve(y, values)
        ax.plot(fpr, tpr, label=_legend_entry(name, "AUROC", roc_auc_score(y, values)))
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="chance (AUROC = 0.5)")
    ax.set(**_UNIT_SQUARE, xlabel="false positive rate", ylabel="true positive rate")
    ax.set_title("ROC curve")
    ax.legend(loc="lower right", fontsize="small")
    return fig


def plot_precision_recall(
    y_true: ArrayLike, scores: Scores, *, label: str | None = None, ax: Axes | None = None
) -> Figure:
    """Precision–recall curve of one or several detectors, with the average precision (AP).

    The chance baseline is the anomaly rate of ``y_true``: the precision of random scores.
    Parameters and return value are those of :func:`plot_roc`.

    Examples
    --------
    >>> from skanogan.plotting import plot_precision_recall
    >>> fig = plot_precision_recall([0, 0, 0, 1], [0.1, 0.4, 0.2, 0.8], label="ours")
    >>> [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
    ['ours (AP = 1.000)', 'chance (AP = 0.250)']
    """
    y, score_sets = _score_sets(y_true, scores, label)
    fig, ax = _axes(ax, figsize=(5.0, 5.0))
    for name, values in score_sets.items():
        precision, recall, _ = precision_recall_curve(y, values)
        # Steps, as average_precision_score sums them: a straight line would overstate AP.
        entry = _legend_entry(name, "AP", average_precision_score(y, values))
        ax.plot(recall, precision, drawstyle="steps-post", label=entry)
    rate = float(y.mean())
    ax.axhline(rate, color="grey", linestyle=":", label=f"chance (AP = {rate:.3f})")
    ax.set(**_UNIT_SQUARE, xlabel="recall", ylabel="precision", title="Precision–recall curve")
    ax.legend(loc="lower left", fontsize="small")
    return fig


def plot_score_histogram(
    scores: ArrayLike,
    y_true: ArrayLike | None = None,
    *,
    threshold: float | None = None,
    bins: int | str = 50,
    ax: Axes | None = None,
) -> Figure:
    """Histograms of normals' and anomalies' scores on shared bins, and the threshold.

    Each group's bars sum to 1, so a handful of anomalies is as visible as many normals.

    Parameters
    ----------
    scores : array-like of shape (n_samples,)
        Anomaly scores, higher = more anomalous (e.g. ``detector.decision_function(X)``).
    y_true : array-like of shape (n_samples,), optional
        1 for anomalies, 0 for normals. Without it, one histogram of all scores.
    threshold : float, optional
        Drawn as a dashed vertical line, e.g. ``detector.threshold_``.
    bins : int or str, default=50
        Passed to :func:`numpy.histogram_bin_edges` over all scores, so groups share bins.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    fig : matplotlib.figure.Figure

    Examples
    --------
    >>> from skanogan.plotting import plot_score_histogram
    >>> fig = plot_score_histogram([0.1, 0.2, 0.3, 0.9], [0, 0, 0, 1], threshold=0.5)
    >>> fig.axes[0].get_legend().get_texts()[-1].get_text()
    'threshold = 0.5'
    """
    values = _vector(scores, "scores")
    groups = {"all samples": values}
    if y_true is not None:
        y = _binary_labels(y_true, "y_true", len(values), "scores")
        groups = {"normal": values[y == 0], "anomaly": values[y == 1]}
    fig, ax = _axes(ax)
    edges = np.histogram_bin_edges(values, bins=bins)
    for (name, group), color in zip(groups.items(), ("C0", "C3"), strict=False):
        if len(group):
            # Shares rather than densities: with scores ~1e-4 a density reads 1e4.
            weights = np.full(len(group), 1 / len(group))
            label = f"{name} (n = {len(group)})"
            style = {"histtype": "stepfilled", "alpha": 0.5, "color": color}
            ax.hist(group, bins=edges, weights=weights, label=label, **style)
    if threshold is not None:
        ax.axvline(threshold, color="black", linestyle="--", label=f"threshold = {threshold:.3g}")
    ax.set(
        xlabel="anomaly score (higher = more anomalous)", ylabel="share of group", title="Scores"
    )
    ax.legend(fontsize="small")
    return fig


def plot_reconstructions(detector: LatentRegularizedGAN, X: ArrayLike, *, n: int = 8) -> Figure:
    """Inputs, reconstructions and ``|x − x'|`` maps of the first ``n`` samples of ``X``.

    One column per sample. Inputs and reconstructions are shown on one grey (or RGB) scale:
    the per-channel range of the training data maps to black–white, so a shade means the same
    in both rows. The maps are :meth:`~LatentRegularizedGAN.anomaly_map`, on one colour scale
    for all columns.

    Parameters
    ----------
    detector : LatentRegularizedGAN
        Fitted on 1- or 3-channel images.
    X : array-like
        Images in any layout the detector accepts.
    n : int, default=8
        Number of samples (columns) shown; fewer when ``X`` has fewer.

    Returns
    -------
    fig : matplotlib.figure.Figure
        A 3 × n grid of images plus the colour bar of the maps.

    Examples
    --------
    >>> import numpy as np
    >>> from skanogan import LatentRegularizedGAN
    >>> from skanogan.plotting import plot_reconstructions
    >>> X = np.random.default_rng(0).random((32, 8, 8))
    >>> detector = LatentRegularizedGAN(epochs=1, latent_dim=4, base_channels=4, random_state=0)
    >>> fig = plot_reconstructions(detector.fit(X), X, n=4)
    >>> sum(len(ax.images) for ax in fig.axes)
    12
    """
    check_is_fitted(detector)
    if detector.image_shape_ is None:
        raise ValueError(
            "plot_reconstructions needs a detector fitted on images; this one was fitted on "
            "tabular data (image_shape_ is None)"
        )
    channels = detector.image_shape_[0]
    if channels not in (1, 3):
        raise ValueError(f"plot_reconstructions shows 1- or 3-channel images, got {channels}")
    if not isinstance(n, Integral) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    X = np.asarray(X)[:n]
    maps = detector.anomaly_map(X)
    shape = (len(maps), *detector.image_shape_)
    rows = [
        _display(X.reshape(shape), detector.pixel_scaler_),
        _display(detector.reconstruct(X).reshape(shape), detector.pixel_scaler_),
    ]
    fig = _figure(figsize=(1.2 * len(maps) + 1.5, 4.0))
    axes = fig.subplots(3, len(maps), squeeze=False)
    grey = {"cmap": "gray", "vmin": 0.0, "vmax": 1.0} if channels == 1 else {}
    for row, images in enumerate(rows):
        for col, image in enumerate(images):
            axes[row, col].imshow(image, **grey)
    # One scale for all maps, so a brighter map means a larger error in every column.
    vmax = float(maps.max()) or 1.0
    for col, error in enumerate(maps):
        mappable = axes[2, col].imshow(error, cmap="inferno", vmin=0.0, vmax=vmax)
        axes[0, col].set_title(f"#{col}", fontsize="small")
    fig.colorbar(mappable, ax=axes[2, :], shrink=0.9, label="|x − x'|")
    for ax in axes.flat:
        # Ticks off but the axes kept on: axis("off") would hide the row labels too.
        ax.set(xticks=[], yticks=[])
    for ax, name in zip(axes[:, 0], ("input", "reconstruction", "|x − x'|"), strict=True):
        ax.set_ylabel(name, fontsize="small")
    return fig


def plot_training_history(
    detector_or_history: LatentRegularizedGAN | Sequence[Mapping[str, float]],
    *,
    keys: Sequence[str] | None = None,
) -> Figure:
    """Generator loss terms and discriminator loss per epoch, in two panels.

    Terms that are 0 in every epoch (switched off by a zero weight) are left out. The
    generator panel has a log scale when all its values are positive, since the terms differ
    by orders of magnitude.

    Parameters
    ----------
    detector_or_history : LatentRegularizedGAN or list of dict
        A fitted detector, or its ``history_``.
    keys : sequence of str, optional
        History keys for the generator panel; default ``g_irec``, ``g_adv``, ``g_zrec``,
        ``g_rank`` and ``g_total``. The second panel always shows ``d_loss``.

    Returns
    -------
    fig : matplotlib.figure.Figure
        Two axes: the generator terms, then ``d_loss``.

    Examples
    --------
    >>> import numpy as np
    >>> from skanogan import LatentRegularizedGAN
    >>> from skanogan.plotting import plot_training_history
    >>> X = np.random.default_rng(0).random((32, 8, 8))
    >>> detector = LatentRegularizedGAN(epochs=2, latent_dim=4, base_channels=4, random_state=0)
    >>> fig = plot_training_history(detector.fit(X))
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['g_irec', 'g_adv', 'g_zrec', 'g_rank', 'g_total']
    """
    from matplotlib.ticker import MaxNLocator

    if isinstance(detector_or_history, (list, tuple)):
        history = detector_or_history
    else:
        check_is_fitted(detector_or_history)
        history = detector_or_history.history_
    if not history:
        raise ValueError("detector_or_history holds no epochs")
    keys = _GENERATOR_KEYS if keys is None else [keys] if isinstance(keys, str) else list(keys)
    unknown = [key for key in [*keys, "d_loss"] if key not in history[0]]
    if unknown:
        raise ValueError(f"keys {unknown} are not in the history; it has {list(history[0])}")
    epochs = np.arange(1, len(history) + 1)
    fig = _figure(figsize=(10.0, 3.5))
    ax_g, ax_d = fig.subplots(1, 2, sharex=True)
    drawn = []
    for key in keys:
        values = np.array([record[key] for record in history], dtype=float)
        if np.any(values != 0):
            ax_g.plot(epochs, values, marker="o", markersize=3, label=key)
            drawn.append(values)
    if drawn and np.all(np.concatenate(drawn) > 0):
        ax_g.set_yscale("log")
    ax_g.set(xlabel="epoch", ylabel="loss", title="generator (g_total = weighted sum)")
    # Outside the panel: the log-scaled curves leave no corner free.
    ax_g.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.0, 0.5))
    d_loss = [record["d_loss"] for record in history]
    ax_d.plot(epochs, d_loss, marker="o", markersize=3, color="C3", label="d_loss")
    ax_d.set(xlabel="epoch", ylabel="loss", title="discriminator")
    ax_d.legend(fontsize="small")
    ax_d.xaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


def plot_latent_space(
    detector: LatentRegularizedGAN,
    X: ArrayLike,
    y: ArrayLike | None = None,
    *,
    n_components: int = 2,
    ax: Axes | None = None,
) -> Figure:
    """Latent codes ``z = G_e(x)`` projected by PCA to 2-D or 3-D (the paper's Fig. 5).

    The PCA is fitted on the normals (``y == 0``) when ``y`` is given, else on all samples, so
    its axes are the directions along which normal codes vary; anomalies are then projected
    onto them.

    Parameters
    ----------
    detector : LatentRegularizedGAN
        A fitted detector.
    X : array-like
        Samples in any layout the detector accepts.
    y : array-like of shape (n_samples,), optional
        1 for anomalies, 0 for normals; colours the points.
    n_components : {2, 3}, default=2
        Dimension of the projection.
    ax : matplotlib.axes.Axes, optional
        Where to draw (a 3-D axes for ``n_components=3``); a new figure when omitted.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The axes' labels give each component's share of the normals' variance.

    Examples
    --------
    >>> import numpy as np
    >>> from skanogan import LatentRegularizedGAN
    >>> from skanogan.plotting import plot_latent_space
    >>> X = np.random.default_rng(0).random((32, 8, 8))
    >>> detector = LatentRegularizedGAN(epochs=1, latent_dim=4, base_channels=4, random_state=0)
    >>> fig = plot_latent_space(detector.fit(X), X, np.arange(32) % 2, n_components=3)
    >>> fig.axes[0].name
    '3d'
    """
    if n_components not in (2, 3) or isinstance(n_components, bool):
        raise ValueError(f"n_components must be 2 or 3, got {n_components!r}")
    if ax is not None and (ax.name == "3d") != (n_components == 3):
        raise ValueError(f"ax must be {'a 3-D' if n_components == 3 else 'a 2-D'} axes")
    z = detector.encode(X)
    if z.shape[1] < n_components:
        raise ValueError(f"n_components={n_components} exceeds latent_dim={z.shape[1]}")
    if y is None:
        groups = {"samples": np.ones(len(z), dtype=bool)}
        reference, fitted_on = z, "all samples"
    else:
        labels = _binary_labels(y, "y", len(z), "X")
        groups = {"normal": labels == 0, "anomaly": labels == 1}
        reference, fitted_on = z[labels == 0], "normals"
        if len(reference) < n_components:
            raise ValueError(f"y must mark at least {n_components} normals (0) to fit the PCA on")
    pca = PCA(n_components=n_components, svd_solver="full").fit(reference)
    points = pca.transform(z)
    fig, ax = _axes(ax, projection="3d" if n_components == 3 else None)
    for (name, mask), color in zip(groups.items(), ("C0", "C3"), strict=False):
        if mask.any():
            label = f"{name} (n = {mask.sum()})"
            ax.scatter(*points[mask].T, s=12, alpha=0.7, color=color, label=label)
    names = [f"PC{i + 1} ({ratio:.0%})" for i, ratio in enumerate(pca.explained_variance_ratio_)]
    ax.set(xlabel=names[0], ylabel=names[1])
    if n_components == 3:
        # mplot3d draws axis labels over the tick labels unless both are pushed apart.
        ax.set_zlabel(names[2])
        ax.tick_params(labelsize="small")
        for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
            axis.labelpad = 10
    ax.set_title(f"latent codes z, PCA fitted on {fitted_on}")
    ax.legend(fontsize="small")
    return fig


# ---------------------------------------------------------------------- helpers


def _figure(**kwargs: Any) -> Figure:
    """A new constrained-layout Figure; the one place matplotlib is required."""
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(
            'skanogan.plotting needs matplotlib: pip install "skanogan[plot]"'
        ) from error
    return Figure(layout="constrained", **kwargs)


def _axes(
    ax: Axes | None, figsize: tuple[float, float] | None = None, projection: str | None = None
) -> tuple[Figure, Axes]:
    if ax is None:
        fig = _figure(figsize=figsize)
        return fig, fig.add_subplot(projection=projection)
    return ax.figure, ax


def _vector(
    values: ArrayLike, name: str, n: int | None = None, other: str = "y_true", dtype: Any = float
) -> np.ndarray:
    """``values`` as a 1-D array, of length ``n`` (that of ``other``) when given."""
    try:
        vector = np.asarray(values, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must hold numbers: {exc}") from None
    if vector.dtype.kind in "fc" and not np.isfinite(vector).all():
        raise ValueError(f"{name} must be finite, got NaN or infinity")
    if vector.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {vector.shape}")
    if n is not None and len(vector) != n:
        raise ValueError(f"{name} has {len(vector)} entries but {other} has {n}")
    return vector


def _binary_labels(y: ArrayLike, name: str, n: int | None = None, other: str = "") -> np.ndarray:
    labels = _vector(y, name, n, other, dtype=None)
    if not np.isin(labels, (0, 1)).all():
        found = np.unique(labels)[:5].tolist()
        raise ValueError(f"{name} must hold 0 (normal) and 1 (anomaly) only, got {found}")
    return labels.astype(np.int64)


def _score_sets(
    y_true: ArrayLike, scores: Scores, label: str | None
) -> tuple[np.ndarray, dict[str | None, np.ndarray]]:
    """Validate the labels, then one or several score arrays against them."""
    y = _binary_labels(y_true, "y_true")
    if len(np.unique(y)) < 2:
        raise ValueError("y_true must hold both normals (0) and anomalies (1)")
    if not isinstance(scores, Mapping):
        return y, {label: _vector(scores, "scores", len(y))}
    if label is not None:
        raise TypeError("label names a single score array; a dict of scores is named by its keys")
    if not scores:
        raise ValueError("scores is an empty dict")
    return y, {str(k): _vector(v, f"scores[{k!r}]", len(y)) for k, v in scores.items()}


def _legend_entry(name: str | None, metric: str, value: float) -> str:
    return f"{metric} = {value:.3f}" if name is None else f"{name} ({metric} = {value:.3f})"


def _display(x: np.ndarray, scaler: PixelScaler) -> np.ndarray:
    """``(n, C, H, W)`` in input units → ``(n, H, W)`` or ``(n, H, W, 3)`` in [0, 1]."""
    low = scaler.data_min.reshape(1, -1, 1, 1)
    span = np.where(scaler.data_max > scaler.data_min, scaler.data_max - scaler.data_min, 1.0)
    shown = np.clip((x - low) / span.reshape(1, -1, 1, 1), 0.0, 1.0)
    return shown[:, 0] if shown.shape[1] == 1 else shown.transpose(0, 2, 3, 1)
