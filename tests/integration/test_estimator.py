"""LatentRegularizedGAN: inputs, fitted state, scores, inspection methods, devices, randomness."""

import random
import warnings

import numpy as np
import pytest
import torch

from skanogan import LatentRegularizedGAN
from skanogan.exceptions import ImageShapeWarning
from skanogan.models.lran.train_step import HISTORY_KEYS
from skanogan.scoring import SCORE_TYPES

# ----------------------------------------------------------------- input layouts


@pytest.mark.slow
@pytest.mark.parametrize(
    ("layout", "image_shape"),
    [("flat", (12, 12)), ("flat", (1, 12, 12)), ("3d", None), ("4d", None), ("list", None)],
)
def test_input_layouts_give_the_same_model(tiny, images, layout, image_shape):
    """Flat + image_shape, (n, H, W), (n, 1, H, W) and nested lists are one and the same input."""
    reference = tiny().fit(images).decision_function(images)
    X = {
        "flat": images.reshape(len(images), -1),
        "3d": images,
        "4d": images[:, None],
        "list": images.tolist(),
    }[layout]
    detector = tiny(image_shape=image_shape).fit(X)
    assert detector.image_shape_ == (1, 12, 12)
    assert detector.n_features_in_ == 144
    np.testing.assert_allclose(detector.decision_function(X), reference, rtol=1e-6)


def test_scoring_accepts_any_layout_of_the_fitted_shape(tiny, images):
    """A model fitted on (n, H, W) scores flat and 4-D input of the same images identically."""
    detector = tiny().fit(images)
    expected = detector.decision_function(images)
    np.testing.assert_array_equal(detector.decision_function(images.reshape(40, -1)), expected)
    np.testing.assert_array_equal(detector.decision_function(images[:, None]), expected)


def test_uint8_input_is_scaled_by_the_training_range(tiny):
    """uint8 images train, and the learned pixel range is the training data's per channel."""
    rng = np.random.default_rng(1)
    X = rng.integers(10, 200, size=(20, 3, 16, 16), dtype=np.uint8)
    detector = tiny().fit(X)
    np.testing.assert_array_equal(detector.pixel_scaler_.data_min, X.min(axis=(0, 2, 3)))
    np.testing.assert_array_equal(detector.pixel_scaler_.data_max, X.max(axis=(0, 2, 3)))
    assert detector.geometry_.side == 16
    assert np.isfinite(detector.decision_function(X)).all()


@pytest.mark.parametrize(
    ("shape", "side"), [((1, 28, 28), 32), ((1, 8, 20), 32), ((3, 2, 5), 16), ((2, 40, 17), 64)]
)
def test_any_image_size_and_channel_count(tiny, shape, side):
    """Odd, rectangular and tiny sizes and any channel count fit; maps come back at input size."""
    X = np.random.default_rng(2).random((10, *shape)).astype(np.float32)
    detector = tiny().fit(X)
    assert detector.geometry_.side == side
    assert detector.reconstruct(X).shape == X.shape
    assert detector.anomaly_map(X).shape == (10, *shape[1:])


def test_tabular_input_uses_the_mlp_path(tiny):
    """2-D input without image_shape is tabular: MLP networks, per-feature maps."""
    X = np.random.default_rng(3).normal(size=(30, 5))
    detector = tiny().fit(X)
    assert detector.image_shape_ is None and detector.geometry_ is None
    assert isinstance(detector.encoder_.layers[0], torch.nn.Linear)
    assert detector.anomaly_map(X).shape == (30, 5)
    assert detector.reconstruct(X).shape == (30, 5)


@pytest.mark.parametrize("n_features", [64, 784, 3 * 32 * 32])
def test_flat_image_without_image_shape_warns(tiny, n_features):
    """A 2-D input that looks like flattened images warns that image_shape was probably meant."""
    X = np.random.default_rng(0).random((4, n_features))
    with pytest.warns(ImageShapeWarning, match="image_shape"):
        tiny().fit(X)


def test_tabular_feature_counts_do_not_warn(tiny):
    """Ordinary tabular widths raise no ImageShapeWarning."""
    X = np.random.default_rng(0).random((8, 10))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ImageShapeWarning)
        tiny().fit(X)


# ----------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("X", "params", "error", "match"),
    [
        (np.full((4, 6, 6), np.nan), {}, ValueError, "NaN"),
        (np.full((4, 6, 6), np.inf), {}, ValueError, "infinity"),
        (np.zeros((0, 6, 6)), {}, ValueError, "0 sample"),
        (np.zeros((1, 6, 6)), {}, ValueError, "at least 2 samples"),
        (np.zeros(6), {}, ValueError, "Expected 2D array"),
        (np.zeros((2, 1, 1, 6, 6)), {}, ValueError, "5-D"),
        (np.zeros((4, 100)), {"image_shape": (10, 11)}, ValueError, "needs 110"),
        (np.zeros((4, 6, 6)), {"image_shape": (7, 7)}, ValueError, "does not match"),
        (np.zeros((4, 1, 6)), {}, ValueError, "degenerate"),
        (np.zeros((4, 10)), {"image_shape": (1, 10)}, ValueError, "degenerate"),
        (np.zeros((4, 16, 16, 3)), {}, ValueError, "channels-last"),
        (np.array([["a", "b"], ["c", "d"]]), {}, ValueError, "could not convert"),
        (np.ones((4, 2), dtype=complex), {}, ValueError, "[Cc]omplex"),
        ([[1.0, 2.0], [3.0]], {}, ValueError, "could not be turned into an array"),
    ],
)
def test_bad_input_is_a_clear_error(tiny, X, params, error, match):
    """Bad arrays raise ValueError/TypeError naming the problem, never a torch error."""
    with pytest.raises(error, match=match):
        tiny(**params).fit(X)


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        (
            {"contamination": 0.0},
            ValueError,
            r"contamination must be a finite number in \(0, 0.5\]",
        ),
        ({"contamination": 0.6}, ValueError, "contamination"),
        ({"contamination": "auto"}, TypeError, "contamination"),
        ({"score_type": "pixel"}, ValueError, "score_type must be one of"),
        ({"adversarial_loss": "wgan"}, ValueError, "adversarial_loss"),
        ({"epochs": 0}, ValueError, "epochs"),
        ({"batch_size": 2.5}, ValueError, "batch_size"),
        ({"latent_dim": True}, ValueError, "latent_dim"),
        ({"w_rank": -1}, ValueError, "w_rank"),
        ({"w_adv": float("nan")}, ValueError, "w_adv"),
        ({"lr": 0}, ValueError, "lr"),
        ({"validation_fraction": 1.0}, ValueError, "validation_fraction"),
        ({"amp": "yes"}, ValueError, "amp"),
        ({"verbose": 3}, ValueError, "verbose"),
        ({"device": 3}, ValueError, "device"),
        ({"device": "tpu"}, ValueError, "device"),
        ({"image_shape": (0, 4)}, ValueError, "image_shape"),
        ({"w_irec": 0, "w_adv": 0, "w_zrec": 0, "w_rank": 0}, ValueError, "at least one"),
        ({"rank": 4, "w_rank": 0.05}, ValueError, "rank must be smaller than latent_dim"),
        ({"validation_fraction": 0.8}, ValueError, "leaves 1 of 8"),
    ],
)
def test_bad_parameters_are_reported_at_fit(tiny, params, error, match):
    """Each bad parameter is named with its rule and value when fit starts, not in __init__."""
    detector = tiny(**params)  # __init__ must not validate
    with pytest.raises(error, match=match):
        detector.fit(np.random.default_rng(0).random((8, 6, 6)))


def test_scoring_rejects_another_shape_or_feature_count(tiny, images):
    """Scoring with a different image shape or feature count is a ValueError."""
    detector = tiny().fit(images)
    with pytest.raises(ValueError, match="fitted on images"):
        detector.decision_function(np.zeros((2, 10, 10)))
    with pytest.raises(ValueError, match="144 features"):
        detector.predict(np.zeros((2, 100)))
    with pytest.raises(ValueError, match="NaN"):
        detector.anomaly_map(np.full((2, 12, 12), np.nan))


def test_tabular_model_rejects_images(tiny):
    """A model fitted on tabular data refuses image-shaped input at scoring."""
    detector = tiny().fit(np.random.default_rng(0).random((8, 4)))
    with pytest.raises(ValueError, match="fitted on tabular data"):
        detector.decision_function(np.zeros((2, 2, 2)))


def test_w_zrec_zero_with_latent_score_warns(tiny, images):
    """Switching off L_zrec leaves G_e' untrained; the latent score then warns."""
    with pytest.warns(UserWarning, match="score_type='image'"):
        tiny(w_zrec=0).fit(images)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tiny(w_zrec=0, score_type="image").fit(images)


def test_y_is_ignored(tiny, images):
    """fit(X, y) ignores y silently and returns self."""
    detector = tiny()
    assert detector.fit(images, y=np.arange(40)) is detector
    np.testing.assert_array_equal(detector.decision_scores_, tiny().fit(images).decision_scores_)


# ------------------------------------------------------------- fitted state


def test_fitted_attributes(tiny, images):
    """PyOD's decision_scores_/threshold_/labels_, history_ and friends after fit."""
    detector = tiny(epochs=3, contamination=0.2, w_rank=0.05).fit(images)
    assert detector.decision_scores_.shape == (40,)
    assert detector.decision_scores_.dtype == np.float64
    assert detector.threshold_ == pytest.approx(np.percentile(detector.decision_scores_, 80))
    np.testing.assert_array_equal(
        detector.labels_, (detector.decision_scores_ > detector.threshold_).astype(int)
    )
    assert detector.labels_.sum() == 8
    assert detector.offset_ == -detector.threshold_
    assert detector.n_iter_ == 3
    assert detector.device_ == torch.device("cpu")
    assert detector.validation_scores_ is None
    assert len(detector.history_) == 3
    for record in detector.history_:
        assert tuple(record) == HISTORY_KEYS
        assert all(type(value) is float for value in record.values())
        assert record["svd_skipped"] == 0.0 and record["g_rank"] > 0 and record["seconds"] > 0


def test_history_total_is_the_weighted_sum(tiny, images):
    """g_total is w_irec*g_irec + w_adv*g_adv + w_zrec*g_zrec + w_rank*g_rank for one batch."""
    detector = tiny(batch_size=40, w_irec=2.0, w_adv=0.5, w_zrec=3.0, w_rank=0.1).fit(images)
    record = detector.history_[0]
    weighted = (
        2.0 * record["g_irec"] + 0.5 * record["g_adv"] + 3.0 * record["g_zrec"]
    ) + 0.1 * record["g_rank"]
    assert record["g_total"] == pytest.approx(weighted, rel=1e-5)


def test_zero_weight_terms_are_zero_in_history(tiny, images):
    """A term switched off by a zero weight is recorded as 0.0."""
    detector = tiny(w_adv=0, w_rank=0).fit(images)
    assert detector.history_[0]["g_adv"] == 0.0
    assert detector.history_[0]["g_rank"] == 0.0
    assert detector.history_[0]["g_irec"] > 0


def test_validation_fraction_sets_threshold_on_held_out_normals(tiny, images):
    """With validation_fraction, threshold_ is the quantile of the held-out scores only."""
    detector = tiny(validation_fraction=0.25, contamination=0.1).fit(images)
    assert detector.validation_scores_.shape == (10,)
    assert detector.decision_scores_.shape == (40,)
    assert detector.threshold_ == pytest.approx(np.percentile(detector.validation_scores_, 90))
    assert np.isin(detector.validation_scores_, detector.decision_scores_).all()


@pytest.mark.slow
def test_training_reduces_the_reconstruction_loss(tiny, images):
    """Over a few epochs the image reconstruction term falls."""
    detector = tiny(epochs=8, batch_size=8).fit(images)
    assert detector.history_[-1]["g_irec"] < detector.history_[0]["g_irec"]


def test_batch_size_is_clamped_and_single_leftover_skipped(tiny):
    """batch_size > n trains on one batch; a last batch of one sample is skipped (BatchNorm)."""
    X = np.random.default_rng(0).random((9, 6, 6))
    assert tiny(batch_size=100).fit(X).n_iter_ == 1
    assert tiny(batch_size=4).fit(X).history_[0]["g_total"] > 0


# ------------------------------------------------------------------ scoring


def test_sign_conventions(tiny, images):
    """decision_function: higher = anomalous; score_samples = -decision_function; predict 0/1."""
    detector = tiny(epochs=5, batch_size=8).fit(images)
    normal = detector.decision_function(images).mean()
    noise = np.random.default_rng(9).uniform(-4, 4, size=(10, 12, 12))
    assert detector.decision_function(noise).mean() > normal
    np.testing.assert_array_equal(
        detector.score_samples(images[:5]), -detector.decision_function(images[:5])
    )
    labels = detector.predict(np.concatenate([images, noise]))
    assert set(np.unique(labels)) <= {0, 1} and labels.dtype == np.int64
    assert labels[40:].all()


@pytest.mark.parametrize("score_type", list(SCORE_TYPES))
def test_scores_do_not_depend_on_batch_size_or_order(tiny, images, score_type):
    """A sample's score is the same whatever eval_batch_size and sample order."""
    detector = tiny(score_type=score_type).fit(images)
    expected = detector.decision_function(images)
    for batch in (1, 3, 7, 64):
        detector.set_params(eval_batch_size=batch)
        np.testing.assert_allclose(detector.decision_function(images), expected, rtol=1e-6)
    order = np.random.default_rng(0).permutation(40)
    np.testing.assert_allclose(
        detector.decision_function(images[order]), expected[order], rtol=1e-6
    )


def test_scores_match_their_definitions(tiny, images):
    """latent = mean (z - z_rec)^2; image = mean anomaly map; combined uses training statistics."""
    detector = tiny(score_type="image").fit(images)
    image = detector.decision_function(images)
    np.testing.assert_allclose(image, detector.anomaly_map(images).mean(axis=(1, 2)), rtol=1e-5)

    detector.set_params(score_type="latent")
    latent = detector.decision_function(images)
    x = torch.as_tensor(images[:, None])
    scaled = detector.pixel_scaler_.transform(x)
    with torch.inference_mode():
        z = detector.encoder_(detector.geometry_.to_network(scaled))
        z_rec = detector.aux_encoder_(detector.decoder_(z))
    np.testing.assert_allclose(latent, (z - z_rec).pow(2).mean(1).numpy(), rtol=1e-5)

    detector.set_params(score_type="combined")
    scaler = detector.score_scaler_
    expected = (latent - scaler.mean[0]) / scaler.std[0] + (image - scaler.mean[1]) / scaler.std[1]
    np.testing.assert_allclose(detector.decision_function(images), expected, rtol=1e-6)
    # Scoring a subset gives the same values: nothing is normalised by the data being scored.
    np.testing.assert_allclose(detector.decision_function(images[:3]), expected[:3], rtol=1e-6)


@pytest.mark.parametrize("method", ["linear", "unify"])
def test_predict_proba_follows_pyod(tiny, images, method):
    """predict_proba: (n, 2), rows sum to 1, outlier column monotone in the score."""
    detector = tiny().fit(images)
    proba = detector.predict_proba(images, method=method)
    assert proba.shape == (40, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert ((proba >= 0) & (proba <= 1)).all()
    scores = detector.decision_function(images)
    order = np.argsort(scores)
    assert (np.diff(proba[order, 1]) >= -1e-12).all()
    if method == "linear":
        assert proba[order[-1], 1] == pytest.approx(1.0)
        assert proba[order[0], 1] == pytest.approx(0.0)


def test_predict_proba_rejects_unknown_method(tiny, images):
    """An unknown predict_proba method names itself."""
    with pytest.raises(ValueError, match="method must be 'linear' or 'unify'"):
        tiny().fit(images).predict_proba(images, method="sigmoid")


def test_unfitted_methods_raise_not_fitted(images):
    """Every scoring and inspection method refuses an unfitted detector."""
    from sklearn.exceptions import NotFittedError

    detector = LatentRegularizedGAN()
    for method in ("decision_function", "predict", "predict_proba", "score_samples", "encode"):
        with pytest.raises(NotFittedError):
            getattr(detector, method)(images)


# --------------------------------------------------------------- inspection


@pytest.mark.slow
def test_encode_reconstruct_anomaly_map(tiny, images):
    """encode gives (n, latent_dim); reconstruct the input's layout and units; maps |x - x'|."""
    X = (images - images.min()) * 40 + 7  # input units far from [-1, 1]
    detector = tiny(epochs=10, batch_size=8).fit(X)
    assert detector.encode(X).shape == (40, 4)
    for layout in (X, X[:, None], X.reshape(40, -1)):
        assert detector.reconstruct(layout).shape == layout.shape
    x_rec = detector.reconstruct(X)
    assert x_rec.dtype == np.float32
    # Back in input units: the reconstruction lives in the training range, not in [-1, 1].
    assert abs(x_rec.mean() - X.mean()) < 0.25 * X.std()
    maps = detector.anomaly_map(X)
    span = detector.pixel_scaler_.data_max - detector.pixel_scaler_.data_min
    np.testing.assert_allclose(maps, np.abs(X - x_rec) * 2 / span, rtol=1e-4, atol=1e-5)


def test_no_transform_method():
    """No method named transform: scikit-learn would treat the detector as a transformer."""
    assert not hasattr(LatentRegularizedGAN(), "transform")


# -------------------------------------------------------- randomness, devices


def test_same_random_state_gives_identical_scores(tiny, images):
    """Two CPU fits with the same random_state give identical scores; another seed differs."""
    first = tiny(epochs=2).fit(images).decision_scores_
    second = tiny(epochs=2).fit(images).decision_scores_
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, tiny(epochs=2, random_state=1).fit(images).decision_scores_)


def test_global_random_state_is_untouched(tiny, images):
    """fit with an int random_state neither reseeds nor consumes torch/numpy/random global state."""
    torch_state = torch.get_rng_state()
    numpy_state = np.random.get_state()[1].copy()  # noqa: NPY002 - the global state is the point
    python_state = random.getstate()
    tiny(validation_fraction=0.2).fit(images)
    assert torch.equal(torch.get_rng_state(), torch_state)
    np.testing.assert_array_equal(np.random.get_state()[1], numpy_state)  # noqa: NPY002
    assert random.getstate() == python_state


def test_init_only_stores_parameters():
    """__init__ stores its arguments unchanged and does no torch work."""
    detector = LatentRegularizedGAN(device="cuda:7", image_shape=[3, 4], contamination=9)
    assert detector.device == "cuda:7" and detector.image_shape == [3, 4]
    assert not [key for key in vars(detector) if key.endswith("_")]


def test_warm_start_continues_training(tiny, images):
    """warm_start keeps the networks and the pixel scaling and adds epochs to history_."""
    detector = tiny(epochs=2, warm_start=True).fit(images)
    encoder, scaler = detector.encoder_, detector.pixel_scaler_
    weights = [p.detach().clone() for p in encoder.parameters()]
    detector.fit(images * 2)
    assert detector.encoder_ is encoder and detector.pixel_scaler_ is scaler
    assert detector.n_iter_ == 4 and len(detector.history_) == 4
    assert any(not torch.equal(w, p) for w, p in zip(weights, encoder.parameters(), strict=True))
    with pytest.raises(ValueError, match="fitted on images"):
        detector.fit(np.zeros((4, 8, 8)))
    detector.set_params(warm_start=False).fit(images)
    assert detector.n_iter_ == 2 and detector.encoder_ is not encoder


def test_cuda_device_without_cuda_is_an_error(tiny, images, monkeypatch):
    """device='cuda' on a machine without CUDA is a clear ValueError, not a fallback."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="CUDA is not available"):
        tiny(device="cuda").fit(images)
    assert LatentRegularizedGAN(device="auto", epochs=1).fit(images).device_.type == "cpu"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_fit_and_score_on_cuda(tiny, images):
    """On CUDA (with AMP by default) training and scoring work and agree with the CPU closely."""
    detector = tiny(device="cuda").fit(images)
    assert detector.device_.type == "cuda" and detector.amp_dtype_ is not None
    assert next(detector.encoder_.parameters()).is_cuda
    assert np.isfinite(detector.decision_function(images)).all()
    full = tiny(device="cuda", amp=False).fit(images)
    assert full.amp_dtype_ is None and np.isfinite(full.decision_scores_).all()


@pytest.mark.parametrize("verbose", [1, 2])
def test_verbose_reports_progress(tiny, images, capsys, verbose):
    """verbose=1 draws a progress bar (stderr), verbose=2 prints one line per epoch."""
    tiny(epochs=2, verbose=verbose).fit(images)
    out, err = capsys.readouterr()
    if verbose == 2:
        assert out.count("epoch") == 2 and "g_total=" in out
    else:
        assert "fit" in err and "d_loss" in err


def test_silent_by_default(tiny, images, capsys):
    """verbose=0 prints nothing."""
    tiny().fit(images)
    assert capsys.readouterr() == ("", "")


def test_scores_that_overflow_float32_are_a_clear_error(tiny, images):
    """Finite but huge values at scoring raise a ValueError naming the sample, not NaN scores."""
    detector = tiny().fit(images)
    X = images[:3].copy()
    X[1] = 3e38
    with pytest.raises(ValueError, match=r"1 sample\(s\) whose scores overflow.*index 1"):
        detector.decision_function(X)


def test_latent_saliency_is_per_sample_and_at_input_resolution(tiny, images):
    """Maps have the input's H x W, are non-negative, and do not depend on the batch."""
    detector = tiny(epochs=2, eval_batch_size=4).fit(images)
    maps = detector.latent_saliency(images[:6])
    assert maps.shape == (6, 12, 12) and (maps >= 0).all() and maps.max() > 0
    np.testing.assert_allclose(detector.latent_saliency(images[3:4])[0], maps[3], rtol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("score_type", list(SCORE_TYPES))
def test_latent_saliency_is_the_gradient_of_the_selected_score(tiny, images, score_type):
    """A finite difference of the selected score matches the map (tabular float64 model)."""
    X = images.reshape(40, -1)[:, :6].astype(np.float64)
    detector = tiny(epochs=2, score_type=score_type).fit(X)
    saliency = detector.latent_saliency(X[:1])[0]
    span = detector.pixel_scaler_.data_max - detector.pixel_scaler_.data_min
    eps = 1e-6
    for j in range(6):
        moved = X[:1].copy()
        moved[0, j] += eps
        scores = [detector.decision_function(rows)[0] for rows in (moved, X[:1])]
        change = (scores[0] - scores[1]) / eps
        # The map is taken in network units: x_network = 2 (x - min) / span - 1.
        assert abs(change) == pytest.approx(saliency[j] * 2 / span[j], rel=1e-3, abs=1e-9)
