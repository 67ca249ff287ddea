"""The README's main job: train on scikit-learn's embedded digits and compare with PyOD.

Each digit in turn is normal and the nine others are anomalous: a detector is trained on the
normal digit's images of a stratified half of the data and tested on the other half (its
held-out normals plus every anomaly), so no test image is seen in training. The demo reports
the mean over all ten digits by default — a single easy digit, where every detector scores
near 1, says nothing — or one digit on request. PyOD's KNN and PCA get the same splits and the
same pixels scaled to [0, 1].
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

__all__ = [
    "DemoResult",
    "DigitResult",
    "baseline_scores",
    "digits_one_class_split",
    "free_path",
    "run_demo",
]

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
class DigitResult:
    """Scores of each detector on one digit's test half, and skanogan's threshold."""

    digit: int
    y_test: np.ndarray
    scores: dict[str, np.ndarray]
    threshold: float

    def metrics(self) -> dict[str, tuple[float, float]]:
        """``{detector: (AUROC, AP)}`` on this digit."""
        return {
            name: (roc_auc_score(self.y_test, s), average_precision_score(self.y_test, s))
            for name, s in self.scores.items()
        }


@dataclass
class DemoResult:
    """The result of every digit run, and where the plot went."""

    digits: list[DigitResult]
    plot_path: Path | None

    @property
    def detectors(self) -> list[str]:
        return list(self.digits[0].scores)

    def table(self) -> str:
        """A markdown table: mean AUROC and AP over the digits run, and AUROC per digit."""
        per_digit = [result.metrics() for result in self.digits]
        header = "| detector | mean AUROC | mean AP | " + " | ".join(
            f"digit {result.digit}" for result in self.digits
        )
        lines = [header + " |", "|---" * (3 + len(self.digits)) + "|"]
        for name in self.detectors:
            auroc = [metrics[name][0] for metrics in per_digit]
            ap = [metrics[name][1] for metrics in per_digit]
            cells = " | ".join(f"{value:.3f}" for value in auroc)
            lines.append(f"| {name} | {np.mean(auroc):.3f} | {np.mean(ap):.3f} | {cells} |")
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

    fig, (ax_bars, ax_hist) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    names = result.detectors
    width = 0.8 / len(names)
    positions = np.arange(len(result.digits))
    for k, name in enumerate(names):
        auroc = [digit.metrics()[name][0] for digit in result.digits]
        label = f"{name} (mean {np.mean(auroc):.3f})"
        ax_bars.bar(positions + (k - (len(names) - 1) / 2) * width, auroc, width, label=label)
    ax_bars.set_xticks(positions, [str(digit.digit) for digit in result.digits])
    ax_bars.axhline(0.5, color="grey", linestyle=":", linewidth=1)
    ax_bars.set(xlabel="normal digit", ylabel="AUROC, test half", ylim=(0, 1.05))
    ax_bars.set_title("AUROC per normal digit")
    ax_bars.legend(loc="lower left", fontsize="small")
    # The hardest digit for skanogan: where its scores are worth looking at.
    hardest = min(result.digits, key=lambda digit: digit.metrics()["skanogan"][0])
    ours = hardest.scores["skanogan"]
    bins = np.histogram_bin_edges(ours, bins=40)
    ax_hist.hist(ours[hardest.y_test == 0], bins=bins, alpha=0.6, label="normal (held out)")
    ax_hist.hist(ours[hardest.y_test == 1], bins=bins, alpha=0.6, label="anomalous")
    ax_hist.axvline(hardest.threshold, color="black", linestyle="--", label="threshold_")
    ax_hist.set(xlabel="skanogan score (decision_function)", ylabel="images")
    ax_hist.set_title(f"skanogan scores, digit {hardest.digit} normal (its hardest)")
    ax_hist.legend(fontsize="small")
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run_demo(
    *,
    normal_digits: tuple[int, ...] = tuple(range(10)),
    epochs: int = DEMO_EPOCHS,
    seed: int = 0,
    device: str = "auto",
    plot_path: Path | None = Path("skanogan-demo.png"),
    verbose: int = 0,
) -> DemoResult:
    """Train on each of ``normal_digits`` in turn, score its test half, compare with PyOD, plot.

    skanogan runs with its default score and loss weights. ``plot_path`` is never overwritten:
    when a file is there, the plot goes to the first free ``stem-N.png`` beside it. ``None``
    skips the plot. PyOD and matplotlib are optional (``pip install skanogan[demo]``); without
    them their parts are left out.
    """
    results = []
    for digit in normal_digits:
        X_train, X_test, y_test = digits_one_class_split(digit, seed)
        detector = LatentRegularizedGAN(
            epochs=epochs,
            validation_fraction=0.2,
            device=device,
            random_state=seed,
            verbose=verbose,
        ).fit(X_train)
        scores = {"skanogan": detector.decision_function(X_test)}
        scores.update(baseline_scores(X_train, X_test))
        results.append(DigitResult(digit, y_test, scores, detector.threshold_))
    result = DemoResult(results, None)
    if plot_path is not None and importlib.util.find_spec("matplotlib") is not None:
        result.plot_path = free_path(Path(plot_path))
        _plot(result, result.plot_path)
    return result
