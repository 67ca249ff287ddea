"""The README's main job: train on scikit-learn's embedded digits and compare with PyOD.

One digit is normal, the nine others are anomalous. The detector is trained on the normal
digit's images of a stratified half of the data and tested on the other half (its held-out
normals plus every anomaly), so no test image is seen in training. PyOD's KNN and PCA get the same
split and the same pixels scaled to [0, 1].
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from skanogan.datasets import load_digits
from skanogan.model_selection import one_class_split
from skanogan.models.lran.estimator import LatentRegularizedGAN

__all__ = ["DemoResult", "baseline_scores", "digits_one_class_split", "free_path", "run_demo"]

#: Epochs for digits: the default 15 sees only ~30 batches of ~90 images; see docs/quality.md.
DEMO_EPOCHS = 50


def digits_one_class_split(
    normal_digit: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split scikit-learn's digits for the one-class protocol (one digit normal).

    :func:`skanogan.model_selection.one_class_split` with a stratified half as the test split.

    Returns
    -------
    X_train : ndarray of shape (n_train, 8, 8), uint8 in [0, 16]
        Images of ``normal_digit`` from a stratified half of the data.
    X_test : ndarray of shape (n_test, 8, 8)
        The other half: held-out normals and all anomalies.
    y_test : ndarray of shape (n_test,)
        1 for anomalies (any other digit), 0 for normals.

    Examples
    --------
    >>> X_train, X_test, y_test = digits_one_class_split(0)
    >>> X_train.shape[1:], np.unique(y_test).tolist()
    ((8, 8), [0, 1])
    """
    if normal_digit not in range(10):
        raise ValueError(f"normal_digit must be an int in 0..9, got {normal_digit!r}")
    digits = load_digits()
    return one_class_split(
        digits.images, digits.target, normal_digit, test_size=0.5, random_state=seed
    )


def free_path(path: Path) -> Path:
    """``path`` if nothing is there, else the first free ``stem-N.suffix`` beside it."""
    candidate, n = path, 0
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


@dataclass
class DemoResult:
    """Scores of each detector on the test half, and where the plot went."""

    y_test: np.ndarray
    scores: dict[str, np.ndarray]
    threshold: float
    plot_path: Path | None

    def table(self) -> str:
        """A markdown table of AUROC and average precision per detector."""
        lines = ["| detector | AUROC | AP |", "|---|---|---|"]
        for name, scores in self.scores.items():
            auroc = roc_auc_score(self.y_test, scores)
            ap = average_precision_score(self.y_test, scores)
            lines.append(f"| {name} | {auroc:.3f} | {ap:.3f} |")
        return "\n".join(lines)


def baseline_scores(X_train: np.ndarray, X_test: np.ndarray) -> dict[str, np.ndarray]:
    """Scores of PyOD's KNN and PCA on digit pixels scaled to [0, 1]; empty without PyOD."""
    if importlib.util.find_spec("pyod") is None:
        return {}
    from pyod.models.knn import KNN
    from pyod.models.pca import PCA

    flat_train = X_train.reshape(len(X_train), -1) / 16.0
    flat_test = X_test.reshape(len(X_test), -1) / 16.0
    return {
        f"PyOD {type(model).__name__}": model.fit(flat_train).decision_function(flat_test)
        for model in (KNN(), PCA(random_state=0))
    }


def _plot(result: DemoResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import roc_curve

    fig, (ax_roc, ax_hist) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    for name, scores in result.scores.items():
        fpr, tpr, _ = roc_curve(result.y_test, scores)
        ax_roc.plot(fpr, tpr, label=f"{name} (AUROC {roc_auc_score(result.y_test, scores):.3f})")
    ax_roc.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    ax_roc.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC, test half")
    ax_roc.legend(loc="lower right", fontsize="small")
    ours = result.scores["skanogan"]
    bins = np.histogram_bin_edges(ours, bins=40)
    ax_hist.hist(ours[result.y_test == 0], bins=bins, alpha=0.6, label="normal (held out)")
    ax_hist.hist(ours[result.y_test == 1], bins=bins, alpha=0.6, label="anomalous")
    ax_hist.axvline(result.threshold, color="black", linestyle="--", label="threshold_")
    ax_hist.set(xlabel="skanogan latent score", ylabel="images", title="Score histogram")
    ax_hist.legend(fontsize="small")
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run_demo(
    *,
    normal_digit: int = 0,
    epochs: int = DEMO_EPOCHS,
    seed: int = 0,
    device: str = "auto",
    plot_path: Path | None = Path("skanogan-demo.png"),
    verbose: int = 0,
) -> DemoResult:
    """Train on one digit, score the test half, compare with PyOD, and plot.

    ``plot_path`` is never overwritten: when a file is there, the plot goes to the first free
    ``stem-N.png`` beside it. ``None`` skips the plot. PyOD and matplotlib are optional
    (``pip install skanogan[demo]``); without them their parts are left out.
    """
    X_train, X_test, y_test = digits_one_class_split(normal_digit, seed)
    detector = LatentRegularizedGAN(
        epochs=epochs, validation_fraction=0.2, device=device, random_state=seed, verbose=verbose
    ).fit(X_train)
    scores = {"skanogan": detector.decision_function(X_test), **baseline_scores(X_train, X_test)}
    result = DemoResult(y_test, scores, detector.threshold_, None)
    if plot_path is not None and importlib.util.find_spec("matplotlib") is not None:
        result.plot_path = free_path(Path(plot_path))
        _plot(result, result.plot_path)
    return result
