"""Every benchmark detector builds, fits, scores with PyOD's sign, and gets the same pixels.

The task is tiny and easy on purpose: 40 training images (1×16×16 uint8) of smooth Gaussian
blobs; the test set is 10 more blobs and 10 images of uniform noise. Any detector that learned
anything and scores with the right sign separates them, even after 5 epochs.
"""

import random

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from benchmarks.detectors import (
    DETECTORS,
    check_sign,
    make_detector,
    prepare_inputs,
    score,
    spec,
)

#: Tiny but reliable: with these, every detector passes the AUROC bar for seeds 0–5.
SETTINGS = {
    "epochs": 5,
    "image_shape": (1, 16, 16),
    "anogan_iterations": 20,
    "skanogan": {"latent_dim": 16, "base_channels": 8, "batch_size": 16, "device": "cpu"},
}
DEEP_PYOD = ("AutoEncoder", "VAE", "DeepSVDD", "AnoGAN", "ALAD")
#: Row names of the paper's Tables 1–2 (MNIST and CIFAR-10), as printed there.
PAPER_ROWS = {
    "KDE ('06)",
    "DAE ('06)",
    "VAE ('13)",
    "Pix CNN ('16)",
    "GAN ('17)",
    "AND ('19)",
    "AnoGAN ('17)",
    "DSVDD ('18)",
    "IGMM-GAN ('18)",
    "OCGAN ('19)",
    "Proposed method",
}


def _blobs(rng: np.random.Generator, n: int) -> np.ndarray:
    grid = np.arange(16)
    cy, cx = rng.uniform(5, 11, (2, n))
    width = rng.uniform(2, 4, n)
    dist2 = (grid[None, :, None] - cy[:, None, None]) ** 2
    dist2 = dist2 + (grid[None, None, :] - cx[:, None, None]) ** 2
    return (255 * np.exp(-dist2 / (2 * width[:, None, None] ** 2))).astype(np.uint8)[:, None]


@pytest.fixture(scope="module")
def task():
    """(X_train, X_test, y_test): uint8 images (n, 1, 16, 16); y_test 1 = noise."""
    rng = np.random.default_rng(0)
    X_train = _blobs(rng, 40)
    noise = rng.integers(0, 256, (10, 1, 16, 16), dtype=np.uint8)
    X_test = np.concatenate([_blobs(rng, 10), noise])
    return X_train, X_test, np.r_[np.zeros(10), np.ones(10)]


def _build(name: str, seed: int = 0, settings: dict | None = None):
    """``make_detector``, skipping (with the reason) when PyOD or pandas is not installed."""
    try:
        return make_detector(name, seed=seed, settings=SETTINGS if settings is None else settings)
    except ImportError as error:
        pytest.skip(str(error))


@pytest.fixture(scope="module")
def fitted(task):
    """Fitted detectors, one per name, built on first use and shared by the tests."""
    cache = {}

    def get(name: str):
        if name not in cache:
            cache[name] = _build(name).fit(prepare_inputs(name, task[0]))
        return cache[name]

    return get


@pytest.mark.slow
@pytest.mark.parametrize("name", DETECTORS)
def test_detector_ranks_noise_above_blobs(name, task, fitted):
    """Finite float64 scores, one per sample, higher for the anomalies (AUROC > 0.7)."""
    _, X_test, y_test = task
    X_prepared = prepare_inputs(name, X_test)
    scores = score(name, fitted(name), X_prepared)
    assert scores.dtype == np.float64
    assert scores.shape == (len(X_test),)
    assert np.isfinite(scores).all()
    assert roc_auc_score(y_test, scores) > 0.7
    assert check_sign(name, fitted(name), X_prepared[y_test == 0], X_prepared[y_test == 1])


@pytest.mark.parametrize("name", [n for n in DETECTORS if spec(n).scoring == "batch"])
def test_batch_scores_do_not_depend_on_the_batch(name, task, fitted):
    """A "batch" detector scores each sample as it would alone, so one call is fair."""
    X_test = prepare_inputs(name, task[1])
    detector = fitted(name)
    alone = np.concatenate([detector.decision_function(X_test[i : i + 1]) for i in range(20)])
    np.testing.assert_allclose(score(name, detector, X_test), alone, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("name", [n for n in DETECTORS if spec(n).scoring == "per_sample"])
def test_per_sample_scores_are_rows_scored_alone(name, task, fitted):
    """``score`` gives each row alone; the batch call would use the other test rows."""
    X_test = prepare_inputs(name, task[1])
    detector = fitted(name)
    alone = np.concatenate([detector.decision_function(X_test[i : i + 1]) for i in range(20)])
    np.testing.assert_array_equal(score(name, detector, X_test), alone)
    assert not np.allclose(detector.decision_function(X_test), alone)


def test_single_sample_ecod_scores_are_not_degenerate(task, fitted):
    """ECOD on one row still ranks against the training data: distinct, finite scores."""
    X_test = prepare_inputs("ECOD", task[1])
    alone = score("ECOD", fitted("ECOD"), X_test)
    assert len(np.unique(alone)) == len(alone)


def test_prepare_inputs_gives_every_pyod_detector_the_same_pixels(task):
    """uint8 images become one (n, C*H*W) float32 array in [0, 1]; skanogan's stay as given."""
    X_train = task[0]
    arrays = [prepare_inputs(name, X_train) for name in DETECTORS if name != "skanogan"]
    for flat in arrays:
        assert flat.dtype == np.float32
        assert flat.shape == (40, 256)
        np.testing.assert_array_equal(flat, arrays[0])
    assert arrays[0].min() >= 0 and arrays[0].max() <= 1
    np.testing.assert_allclose(arrays[0], X_train.reshape(40, -1) / 255, rtol=1e-6)
    assert prepare_inputs("skanogan", X_train) is X_train


def test_prepare_inputs_keeps_float_pixels_and_is_idempotent(task):
    """Float input is taken as already in [0, 1]; preparing twice changes nothing."""
    flat = prepare_inputs("KNN", task[0])
    np.testing.assert_array_equal(prepare_inputs("KNN", flat), flat)
    as_float64 = task[0].astype(np.float64) / 255
    np.testing.assert_allclose(prepare_inputs("LOF", as_float64), flat, rtol=1e-6)


def test_prepare_inputs_rejects_bad_arrays():
    """A 1-D array or non-numeric pixels are a ValueError that says what is wrong."""
    with pytest.raises(ValueError, match="shape"):
        prepare_inputs("KNN", np.zeros(5))
    with pytest.raises(ValueError, match="dtype"):
        prepare_inputs("KNN", np.array([["a", "b"]]))


@pytest.mark.parametrize(
    "call",
    [
        lambda: spec("knn"),
        lambda: make_detector("COPOD", seed=0, settings={}),
        lambda: prepare_inputs("nope", np.zeros((2, 2))),
        lambda: score("nope", None, np.zeros((2, 2))),
    ],
)
def test_unknown_name_is_a_value_error_listing_the_detectors(call):
    """Every entry point refuses a name outside DETECTORS and lists the valid ones."""
    with pytest.raises(ValueError, match="'skanogan', 'KNN'"):
        call()


@pytest.mark.parametrize("name", ["skanogan", *DEEP_PYOD])
@pytest.mark.parametrize("epochs", [None, 0, 2.5])
def test_deep_detectors_need_a_positive_int_of_epochs(name, epochs):
    """``settings["epochs"]`` is required for every deep detector, skanogan included."""
    settings = {} if epochs is None else {"epochs": epochs}
    with pytest.raises(ValueError, match=r"settings\['epochs'\]"):
        make_detector(name, seed=0, settings=settings)


def test_specs_are_complete():
    """A spec per name, a valid scoring mode, a one-line note, a row of the paper or None."""
    for name in DETECTORS:
        entry = spec(name)
        assert entry.name == name
        assert entry.scoring in {"batch", "per_sample"}
        assert entry.note and "\n" not in entry.note
        assert entry.paper_row is None or entry.paper_row in PAPER_ROWS
    assert spec("ECOD").scoring == "per_sample"
    assert spec("skanogan").paper_row == "Proposed method"


def test_skanogan_gets_the_profile_settings():
    """Epochs and the seed from the arguments; the profile's skanogan dict can override."""
    detector = make_detector(
        "skanogan", seed=3, settings={"epochs": 2, "skanogan": {"w_rank": 0, "device": "cpu"}}
    )
    params = detector.get_params()
    assert (params["epochs"], params["random_state"], params["w_rank"]) == (2, 3, 0)
    assert (params["image_shape"], params["device"]) == (None, "cpu")


@pytest.mark.parametrize("name", ["skanogan", *DEEP_PYOD])
def test_same_seed_same_scores_whatever_ran_before(name, task):
    """Two fits with one seed agree, although the global generators moved in between."""
    X_train, X_test = prepare_inputs(name, task[0]), prepare_inputs(name, task[1])
    first = score(name, _build(name, seed=1).fit(X_train), X_test)
    random.random(), np.random.rand(), torch.rand(3)  # noqa: NPY002 - the global state
    second = score(name, _build(name, seed=1).fit(X_train), X_test)
    np.testing.assert_array_equal(first, second)


def test_anogan_and_alad_knobs(task):
    """AnoGAN's search length comes from settings; ALAD's epochs survive fit as passes."""
    anogan = _build("AnoGAN", settings={**SETTINGS, "anogan_iterations": 7})
    assert anogan.epochs_query == 7
    alad = _build("ALAD").fit(prepare_inputs("ALAD", task[0]))
    assert alad.get_params()["epochs"] == SETTINGS["epochs"]


@pytest.mark.parametrize("preprocessing", [False, True])
def test_alad_diagnosis_scores_come_from_the_fitted_model(task, fitted, preprocessing):
    """below_chance.alad_scores: PyOD's own score plus the reference scores, modes restored;
    with PyOD's standardisation on, every score sees the inputs scaled exactly once."""
    from benchmarks.below_chance import alad_scores

    if preprocessing:
        model = _build("ALAD")
        model.preprocessing = True
        model.fit(prepare_inputs("ALAD", task[0]))
    else:
        model = fitted("ALAD")
    X_test = prepare_inputs("ALAD", task[1])
    modes = [m.training for m in (model.enc, model.dec, model.disc_xx)]
    scores = alad_scores(model, X_test)
    assert set(scores) == {"pyod", "features_l1", "reconstruction", "d_real", "d_reconstructed"}
    assert all(v.shape == (len(X_test),) and np.isfinite(v).all() for v in scores.values())
    np.testing.assert_allclose(scores["pyod"], score("ALAD", model, X_test))
    np.testing.assert_allclose(
        scores["pyod"], (scores["d_real"] - scores["d_reconstructed"]) ** 2, rtol=1e-5, atol=1e-7
    )
    assert (scores["features_l1"] >= 0).all() and (scores["reconstruction"] >= 0).all()
    assert ((scores["d_real"] >= 0) & (scores["d_real"] <= 1)).all()
    assert [m.training for m in (model.enc, model.dec, model.disc_xx)] == modes
