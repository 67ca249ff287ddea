"""Tests of skanogan.plotting: the artists of each figure, its PNG rendering, bad arguments."""

import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score

from skanogan import LatentRegularizedGAN
from skanogan.plotting import (
    plot_latent_space,
    plot_precision_recall,
    plot_reconstructions,
    plot_roc,
    plot_score_histogram,
    plot_training_history,
)


@pytest.fixture(scope="module")
def fitted():
    """One tiny detector fitted on 64 zeros of digits, and a test set of 10 zeros + 10 others."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X.reshape(-1, 8, 8)
    zeros, others = X[y == 0], X[y != 0]
    detector = LatentRegularizedGAN(
        latent_dim=4,
        base_channels=4,
        epochs=2,
        batch_size=16,
        w_rank=0.05,
        device="cpu",
        random_state=0,
    ).fit(zeros[:64])
    X_test = np.concatenate([zeros[-10:], others[:10]])
    y_test = np.repeat([0, 1], 10)
    return detector, X_test, y_test, detector.decision_function(X_test)


def rendered(fig: Figure, path: Path) -> Figure:
    """Draw ``fig`` to a PNG, the step where layout and colour-mapping errors surface."""
    fig.savefig(path / "figure.png", dpi=60)
    assert (path / "figure.png").stat().st_size > 0
    return fig


def legend_texts(ax) -> list[str]:
    return [text.get_text() for text in ax.get_legend().get_texts()]


def test_plot_roc_legend_has_auroc(fitted, tmp_path):
    """One curve plus the chance line; the legend gives the detector's AUROC."""
    _, _, y, scores = fitted
    fig = rendered(plot_roc(y, scores, label="skanogan"), tmp_path)
    (ax,) = fig.axes
    assert len(ax.get_lines()) == 2
    auroc = roc_auc_score(y, scores)
    assert legend_texts(ax) == [f"skanogan (AUROC = {auroc:.3f})", "chance (AUROC = 0.5)"]


def test_plot_roc_dict_draws_one_curve_per_detector_on_given_ax(fitted):
    _, _, y, scores = fitted
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_roc(y, {"a": scores, "b": -scores}, ax=ax) is fig
    assert len(ax.get_lines()) == 3
    assert [text.split(" (")[0] for text in legend_texts(ax)] == ["a", "b", "chance"]
    assert all("AUROC" in text for text in legend_texts(ax))


def test_plot_precision_recall_baseline_is_anomaly_rate(fitted, tmp_path):
    _, _, y, scores = fitted
    (ax,) = rendered(plot_precision_recall(y[:15], scores[:15]), tmp_path).axes
    curve, baseline = ax.get_lines()
    assert curve.get_drawstyle() == "steps-post"
    assert baseline.get_ydata()[0] == pytest.approx(5 / 15)
    assert legend_texts(ax)[0].startswith("AP = ")
    assert legend_texts(ax)[1] == "chance (AP = 0.333)"


def test_plot_score_histogram_groups_and_threshold(fitted, tmp_path):
    """Normals and anomalies in two histograms; the dashed line sits at ``threshold_``."""
    detector, _, y, scores = fitted
    fig = plot_score_histogram(scores, y, threshold=detector.threshold_, bins=10)
    (ax,) = rendered(fig, tmp_path).axes
    assert len(ax.patches) == 2
    (line,) = ax.get_lines()
    assert line.get_xdata()[0] == detector.threshold_
    assert legend_texts(ax)[:2] == ["normal (n = 10)", "anomaly (n = 10)"]


def test_plot_score_histogram_without_labels_draws_one_group(fitted):
    (ax,) = plot_score_histogram(fitted[3]).axes
    assert len(ax.patches) == 1
    assert ax.get_lines() == []
    assert legend_texts(ax) == ["all samples (n = 20)"]


def test_plot_reconstructions_grid(fitted, tmp_path):
    """3 rows × n columns of images, rows labelled, plus one colour bar for the maps."""
    detector, X, _, _ = fitted
    fig = rendered(plot_reconstructions(detector, X[5:15], n=5), tmp_path)
    images = [image for ax in fig.axes for image in ax.images]
    assert len(images) == 3 * 5
    assert len(fig.axes) == 3 * 5 + 1
    assert [fig.axes[i].get_ylabel() for i in (0, 5, 10)] == ["input", "reconstruction", "|x − x'|"]
    # Inputs are scaled by the training range into [0, 1]; maps share one colour scale.
    assert images[0].get_array().shape == (8, 8)
    assert 0.0 <= images[0].get_array().min() and images[0].get_array().max() <= 1.0
    assert len({image.get_clim() for image in images[10:]}) == 1


def test_plot_reconstructions_rgb_and_fewer_samples_than_n(tiny, tmp_path):
    X = np.random.default_rng(0).random((16, 3, 8, 8))
    fig = rendered(plot_reconstructions(tiny().fit(X), X[:3], n=8), tmp_path)
    images = [image for ax in fig.axes for image in ax.images]
    assert len(images) == 3 * 3
    assert images[0].get_array().shape == (8, 8, 3)
    assert images[-1].get_array().shape == (8, 8)


def test_plot_training_history_panels(fitted, tmp_path):
    detector = fitted[0]
    ax_g, ax_d = rendered(plot_training_history(detector), tmp_path).axes
    labels = [line.get_label() for line in ax_g.get_lines()]
    assert labels == ["g_irec", "g_adv", "g_zrec", "g_rank", "g_total"]
    assert all(len(line.get_xdata()) == 2 for line in ax_g.get_lines())
    assert [line.get_label() for line in ax_d.get_lines()] == ["d_loss"]


def test_plot_training_history_skips_switched_off_terms(fitted):
    """A term that is 0 in every epoch (weight 0) is left out; keys selects the rest."""
    history = [dict(record, g_rank=0.0) for record in fitted[0].history_]
    ax_g, _ = plot_training_history(history).axes
    assert "g_rank" not in [line.get_label() for line in ax_g.get_lines()]
    ax_g, _ = plot_training_history(history, keys=["g_total"]).axes
    assert [line.get_label() for line in ax_g.get_lines()] == ["g_total"]


def test_plot_latent_space_projection_fitted_on_normals(fitted, tmp_path):
    """Normals and anomalies in two colours; the PCA is centred on the normals' codes."""
    detector, X, y, _ = fitted
    (ax,) = rendered(plot_latent_space(detector, X, y), tmp_path).axes
    normals, anomalies = ax.collections
    assert normals.get_offsets().shape == (10, 2)
    np.testing.assert_allclose(normals.get_offsets().mean(axis=0), 0.0, atol=1e-5)
    assert not np.allclose(normals.get_facecolor(), anomalies.get_facecolor())
    assert legend_texts(ax) == ["normal (n = 10)", "anomaly (n = 10)"]
    assert ax.get_xlabel().startswith("PC1 (")


def test_plot_latent_space_3d(fitted, tmp_path):
    detector, X, _, _ = fitted
    (ax,) = rendered(plot_latent_space(detector, X, n_components=3), tmp_path).axes
    assert ax.name == "3d"
    assert len(ax.collections) == 1
    assert ax.get_zlabel().startswith("PC3 (")


def test_figures_leave_pyplot_state_alone(fitted):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    plot_roc(fitted[2], fitted[3])
    assert plt.get_fignums() == before


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda y, s: plot_roc(y, s[:3]), ValueError, "scores has 3 entries but y_true has 20"),
        (lambda y, s: plot_roc(2 * y, s), ValueError, "y_true must hold 0"),
        (lambda y, s: plot_roc(0 * y, s), ValueError, "both normals"),
        (lambda y, s: plot_roc(y, {"a": s}, label="b"), TypeError, "label"),
        (lambda y, s: plot_precision_recall(y, {"a": s[:2]}), ValueError, r"scores\['a'\]"),
        (lambda y, s: plot_score_histogram(s, y[:5]), ValueError, "y_true has 5 entries"),
        (lambda y, s: plot_score_histogram(s[:, None]), ValueError, "scores must be 1-D"),
    ],
)
def test_score_plots_reject_bad_arguments(fitted, call, error, match):
    with pytest.raises(error, match=match):
        call(fitted[2], fitted[3])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_components": 4}, "n_components must be 2 or 3"),
        ({"y": np.arange(20) % 3}, "y must hold 0"),
        ({"y": np.ones(20)}, "at least 2 normals"),
        ({"y": np.zeros(3)}, "y has 3 entries but X has 20"),
        ({"n_components": 3, "ax": Figure().add_subplot()}, "ax must be a 3-D axes"),
    ],
)
def test_plot_latent_space_rejects_bad_arguments(fitted, kwargs, match):
    detector, X, _, _ = fitted
    with pytest.raises(ValueError, match=match):
        plot_latent_space(detector, X, **kwargs)


def test_plot_reconstructions_rejects_bad_arguments(fitted, tiny):
    detector, X, _, _ = fitted
    with pytest.raises(ValueError, match="n must be a positive int"):
        plot_reconstructions(detector, X, n=0)
    tabular = tiny().fit(np.random.default_rng(0).random((16, 5)))
    with pytest.raises(ValueError, match="tabular data"):
        plot_reconstructions(tabular, np.zeros((2, 5)))


def test_plot_training_history_rejects_bad_arguments(fitted):
    with pytest.raises(ValueError, match=r"keys \['g_nope'\] are not in the history"):
        plot_training_history(fitted[0], keys=["g_nope"])
    with pytest.raises(ValueError, match="no epochs"):
        plot_training_history([])


@pytest.mark.parametrize(
    "plot",
    [
        lambda detector: plot_reconstructions(detector, np.zeros((2, 8, 8))),
        lambda detector: plot_training_history(detector),
        lambda detector: plot_latent_space(detector, np.zeros((2, 8, 8))),
    ],
)
def test_unfitted_detector_raises_not_fitted(tiny, plot):
    with pytest.raises(NotFittedError):
        plot(tiny())


def test_missing_matplotlib_says_what_to_install(fitted, monkeypatch):
    # A None entry in sys.modules makes `import matplotlib.figure` raise ImportError.
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r'pip install "skanogan\[plot\]"'):
        plot_roc(fitted[2], fitted[3])
