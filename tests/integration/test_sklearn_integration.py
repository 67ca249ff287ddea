"""scikit-learn integration: clone, params, Pipeline, GridSearchCV on normal-only folds."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skanogan import LatentRegularizedGAN


def test_clone_and_params_round_trip(tiny):
    """clone keeps every parameter as given; set_params changes only what it names."""
    detector = tiny(w_rank=0.5, image_shape=(8, 8), device="cpu")
    copy = clone(detector)
    assert copy.get_params() == detector.get_params()
    assert copy.set_params(w_zrec=0.0).w_zrec == 0.0 and detector.w_zrec == 1.0
    assert set(LatentRegularizedGAN().get_params()) >= {
        "w_irec", "w_adv", "w_zrec", "w_rank", "rank", "latent_dim", "base_channels",
        "adversarial_loss", "score_type", "contamination", "device", "amp", "random_state",
    }  # fmt: skip


def test_pipeline_with_a_preprocessing_step(tiny, digits):
    """A Pipeline of a transformer and the detector fits and scores flat digit images."""
    X, y = digits
    flat = X.reshape(len(X), -1)
    pipe = make_pipeline(FunctionTransformer(lambda a: a / 16.0), tiny(image_shape=(8, 8)))
    pipe.fit(flat[y == 0][:60])
    assert pipe.decision_function(flat[:20]).shape == (20,)
    assert set(np.unique(pipe.predict(flat[:20]))) <= {0, 1}


def _normal_only_folds(y, n_splits=2, seed=0):
    """CV folds: training parts hold normals only, test parts held-out normals and anomalies."""
    rng = np.random.default_rng(seed)
    normals = rng.permutation(np.flatnonzero(y == 0))
    anomalies = rng.permutation(np.flatnonzero(y == 1))
    folds = []
    for k in range(n_splits):
        test_normals = np.array_split(normals, n_splits)[k]
        train = np.setdiff1d(normals, test_normals)
        test = np.concatenate([test_normals, np.array_split(anomalies, n_splits)[k]])
        folds.append((train, test))
    return folds


def _one_class_digits(digits, normal=0, n_anomalies=60):
    X, y = digits
    rng = np.random.default_rng(0)
    anomalies = rng.choice(np.flatnonzero(y != normal), n_anomalies, replace=False)
    keep = np.concatenate([np.flatnonzero(y == normal)[:120], anomalies])
    return X[keep], (y[keep] != normal).astype(int)


def test_grid_search_over_loss_weights_with_roc_auc(tiny, digits):
    """GridSearchCV over w_* with scoring='roc_auc' on normal-only training folds ranks the grid."""
    X, y = _one_class_digits(digits)
    folds = _normal_only_folds(y)
    assert all((y[train] == 0).all() for train, _ in folds)
    grid = {"w_rank": [0.0, 0.05], "w_zrec": [1.0, 2.0]}
    search = GridSearchCV(tiny(epochs=3), grid, scoring="roc_auc", cv=folds, refit=False)
    search.fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    # The scorer uses decision_function with labels 1 = anomaly: check one cell by hand.
    train, test = folds[0]
    params = search.cv_results_["params"][0]
    detector = tiny(epochs=3, **params).fit(X[train])
    by_hand = roc_auc_score(y[test], detector.decision_function(X[test]))
    assert search.cv_results_["split0_test_score"][0] == pytest.approx(by_hand)


def test_one_class_refit_recipe(tiny, digits):
    """The documented recipe: refit=False, then fit best_params_ on the normal samples only."""
    X, y = _one_class_digits(digits)
    search = GridSearchCV(
        tiny(epochs=3), {"w_rank": [0.0, 0.05]}, scoring="roc_auc", cv=_normal_only_folds(y),
        refit=False,
    )  # fmt: skip
    search.fit(X, y)
    assert not hasattr(search, "best_estimator_")
    final = tiny(epochs=3).set_params(**search.best_params_).fit(X[y == 0])
    assert final.w_rank == search.best_params_["w_rank"]
    assert final.decision_scores_.shape == ((y == 0).sum(),)
