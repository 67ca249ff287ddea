"""skanogan.model_selection: one-class protocols, normal-only CV splitters, AUROC/AP scorers."""

import numpy as np
import pytest
from sklearn import config_context
from sklearn.metrics import get_scorer, roc_auc_score
from sklearn.model_selection import GridSearchCV, check_cv, cross_val_score

from skanogan.model_selection import (
    GroupOneClassKFold,
    OneClassKFold,
    OneClassSplit,
    auroc_scorer,
    average_precision_scorer,
    one_class_split,
)

# ----------------------------------------------------------------- data


def _labelled(n_per_class=6, n_classes=3, start=0):
    """Rows (id, class) for ids start, start+1, …: where each sample ends up is readable."""
    y = np.tile(np.arange(n_classes), n_per_class)
    ids = np.arange(start, start + len(y))
    return np.column_stack([ids, y]), y


def _binary(n_normal=10, n_anomalous=6, seed=0):
    """A shuffled binary label vector (0 normal, 1 anomaly) and matching placeholder X."""
    y = np.random.default_rng(seed).permutation(np.repeat([0, 1], [n_normal, n_anomalous]))
    return np.zeros((len(y), 3)), y


def _one_class_digits(digits, normal=0, n_normal=100, n_anomalous=60):
    """100 images of one digit (normal) and 60 of the others (anomalies), labels 1 = anomaly."""
    X, y = digits
    rng = np.random.default_rng(0)
    anomalies = rng.choice(np.flatnonzero(y != normal), n_anomalous, replace=False)
    keep = rng.permutation(np.concatenate([np.flatnonzero(y == normal)[:n_normal], anomalies]))
    return X[keep], (y[keep] != normal).astype(int)


def _assert_partition(folds, n_samples):
    """Test parts are disjoint and cover every sample once; train and test never overlap."""
    tested = np.concatenate([test for _, test in folds])
    assert np.array_equal(np.sort(tested), np.arange(n_samples))
    for train, test in folds:
        assert np.intersect1d(train, test).size == 0


# ----------------------------------------------------------------- one_class_split


def test_one_vs_rest_trains_on_the_normal_training_class_and_tests_on_the_whole_test_split():
    """one_vs_rest: training = class c of the training split only; test = the whole test split."""
    X_train, y_train = _labelled()
    X_test, y_test = _labelled(n_per_class=4, start=100)
    task = one_class_split(X_train, y_train, 1, X_test=X_test, y_test=y_test)
    assert isinstance(task, OneClassSplit)
    assert np.array_equal(task.X_train, X_train[y_train == 1])
    assert (task.X_train[:, 0] < 100).all()  # nothing from the test split
    assert np.array_equal(task.X_test, X_test)  # the whole test split, in order
    assert np.array_equal(task.y_test, (y_test != 1).astype(int))
    assert task.y_test.dtype == np.int64 and set(task.y_test.tolist()) == {0, 1}


def test_rest_vs_one_holds_one_class_out_as_the_anomaly():
    """rest_vs_one (GANomaly's): training = all other classes; only class c is labelled 1."""
    X_train, y_train = _labelled()
    X_test, y_test = _labelled(n_per_class=4, start=100)
    X_normal, X_all, labels = one_class_split(
        X_train, y_train, 2, protocol="rest_vs_one", X_test=X_test, y_test=y_test
    )
    assert set(X_normal[:, 1].tolist()) == {0, 1}
    assert len(X_normal) == (y_train != 2).sum() and (X_normal[:, 0] < 100).all()
    assert np.array_equal(X_all, X_test)
    assert np.array_equal(labels, (y_test == 2).astype(int))


def test_stratified_split_without_an_official_test_split():
    """Without X_test: a stratified, seeded split; every class tested, no sample on both sides."""
    X, y = _labelled(n_per_class=8)
    task = one_class_split(X, y, 0, test_size=0.25, random_state=0)
    assert len(task.X_test) == 6 and set(task.X_test[:, 1].tolist()) == {0, 1, 2}
    assert (task.X_train[:, 1] == 0).all() and len(task.X_train) == 6
    assert np.intersect1d(task.X_train[:, 0], task.X_test[:, 0]).size == 0
    assert np.array_equal(task.y_test, (task.X_test[:, 1] != 0).astype(int))
    again = one_class_split(X, y, 0, test_size=0.25, random_state=0)
    assert all(np.array_equal(a, b) for a, b in zip(task, again, strict=True))
    # The inverse protocol on the same seed draws the same test split.
    inverse = one_class_split(X, y, 0, protocol="rest_vs_one", test_size=0.25, random_state=0)
    assert np.array_equal(inverse.X_test, task.X_test)
    assert np.array_equal(inverse.y_test, 1 - task.y_test)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"protocol": "one_vs_one"}, "protocol must be one of"),
        ({"y": [0, 1, 2]}, "X and y must have the same length, got 18 and 3"),
        ({"one_class": 7}, "one_class must be a label that occurs in y, got 7"),
        ({"X_test": np.zeros((3, 2))}, "X_test and y_test must be given together"),
        ({"X_test": np.zeros((3, 2)), "y_test": [0, 1]}, "X_test and y_test must have the same"),
        ({"X_test": np.zeros((3, 5)), "y_test": [0, 1, 2]}, "X_test must have the same sample"),
        ({"X_test": np.zeros((3, 2)), "y_test": [0, 1, 2], "test_size": 0.5}, "test_size and"),
        ({"X_test": np.zeros((2, 2)), "y_test": [1, 2]}, "y_test holds no normal samples"),
        ({"X_test": np.zeros((2, 2)), "y_test": [0, 0]}, "y_test holds no anomalous samples"),
    ],
)
def test_one_class_split_errors_name_the_argument(kwargs, match):
    """Bad inputs raise a ValueError that names the argument at fault."""
    X, y = _labelled()
    arguments = {"X": X, "y": y, "one_class": 0, **kwargs}
    with pytest.raises(ValueError, match=match):
        one_class_split(
            arguments.pop("X"), arguments.pop("y"), arguments.pop("one_class"), **arguments
        )


def test_rest_vs_one_needs_another_class_to_train_on():
    """rest_vs_one on a single-class training split has no normal sample: a clear error."""
    with pytest.raises(ValueError, match="needs classes besides one_class=0"):
        one_class_split(
            np.zeros((3, 2)), [0, 0, 0], 0, protocol="rest_vs_one",
            X_test=np.zeros((2, 2)), y_test=[0, 1],
        )  # fmt: skip


# ----------------------------------------------------------------- OneClassKFold


@pytest.mark.parametrize("n_splits", [2, 3, 5])
def test_one_class_kfold_trains_on_normals_and_tests_every_sample_once(n_splits):
    """Training folds are normal-only; test folds are disjoint, cover all, hold both classes."""
    X, y = _binary(n_normal=17, n_anomalous=11)
    cv = OneClassKFold(n_splits)
    folds = list(cv.split(X, y))
    assert len(folds) == cv.get_n_splits() == n_splits
    _assert_partition(folds, len(y))
    for train, test in folds:
        assert (y[train] == 0).all()
        assert set(y[test].tolist()) == {0, 1}
        # Training takes every normal not held out for this fold.
        assert len(train) + (y[test] == 0).sum() == (y == 0).sum()


def test_one_class_kfold_shuffle_is_reproducible_with_random_state():
    """shuffle=True with an int seed gives the same folds every call; another seed differs."""
    X, y = _binary(n_normal=20, n_anomalous=10)

    def folds(**params):
        return [np.concatenate(fold) for fold in OneClassKFold(4, **params).split(X, y)]

    first = folds(shuffle=True, random_state=0)
    assert all(map(np.array_equal, first, folds(shuffle=True, random_state=0)))
    assert not all(map(np.array_equal, first, folds(shuffle=True, random_state=1)))
    assert not all(map(np.array_equal, first, folds()))  # unshuffled: contiguous runs
    _assert_partition(list(OneClassKFold(4, shuffle=True, random_state=0).split(X, y)), len(y))


def test_one_class_kfold_accepts_boolean_labels_and_lists():
    """y as bools or a list, X as a list: the same folds as integer arrays."""
    X, y = _binary()
    reference = list(OneClassKFold(2).split(X, y))
    other = list(OneClassKFold(2).split(X.tolist(), (y == 1).tolist()))
    for (train, test), (other_train, other_test) in zip(reference, other, strict=True):
        assert np.array_equal(train, other_train) and np.array_equal(test, other_test)


@pytest.mark.parametrize(
    ("y", "match"),
    [
        (None, "y is required"),
        ([0, 1, 2, 0, 1, 2], "y must be binary"),
        (["normal", "anomaly"] * 3, "y must be binary"),
        ([0, 1, 0], "X and y must have the same length, got 6 and 3"),
        ([0, 0, 1, 1, 1, 1], "at least 3 normal samples"),
        ([0, 0, 0, 0, 0, 0], "at least 3 anomalies"),
        ([0, 0, 0, 0, 1, 1], "at least 3 anomalies"),
    ],
)
def test_one_class_kfold_rejects_labels_it_cannot_split(y, match):
    """Missing, non-binary, too few normals or anomalies: a ValueError at split time."""
    with pytest.raises(ValueError, match=match):
        OneClassKFold(3).split(np.zeros((6, 2)), y)


@pytest.mark.parametrize("cls", [OneClassKFold, GroupOneClassKFold])
@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"n_splits": 1}, "n_splits must be an int >= 2, got 1"),
        ({"n_splits": 2.0}, "n_splits must be an int >= 2"),
        ({"n_splits": True}, "n_splits must be an int >= 2"),
        ({"shuffle": "yes"}, "shuffle must be True or False"),
        ({"random_state": 0}, "random_state has an effect only with shuffle=True"),
    ],
)
def test_splitter_parameters_are_checked_at_construction(cls, params, match):
    """A splitter has no fit or set_params, so its parameters are checked in __init__."""
    with pytest.raises(ValueError, match=match):
        cls(**params)


def test_one_class_kfold_warns_that_groups_are_ignored():
    """Groups passed to OneClassKFold are ignored, with a pointer to GroupOneClassKFold."""
    X, y = _binary()
    with pytest.warns(UserWarning, match="use GroupOneClassKFold"):
        OneClassKFold(2).split(X, y, groups=np.arange(len(y)))


def test_splitters_pass_check_cv_unchanged_and_print_their_parameters():
    """check_cv returns the splitter itself; repr shows its parameters, as sklearn's do."""
    for cv in (OneClassKFold(3), GroupOneClassKFold(3, shuffle=True, random_state=1)):
        assert check_cv(cv, y=[0, 1] * 5, classifier=False) is cv
    assert repr(OneClassKFold(3)) == "OneClassKFold(n_splits=3, random_state=None, shuffle=False)"


# ----------------------------------------------------------------- GroupOneClassKFold


def _patients(n_patients=8, slices=6, seed=0):
    """Each patient (group) has normal and tumour (anomalous) slices."""
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(n_patients), slices)
    y = (rng.random(len(groups)) < 0.4).astype(int)
    y[::slices], y[1::slices] = 0, 1  # at least one slice of each kind per patient
    order = rng.permutation(len(y))
    return np.zeros((len(y), 2)), y[order], groups[order]


@pytest.mark.parametrize("params", [{}, {"shuffle": True, "random_state": 0}])
def test_group_one_class_kfold_keeps_groups_whole_and_trains_on_normals(params):
    """No group on both sides of a fold; training normal-only; test = whole test groups."""
    X, y, groups = _patients()
    folds = list(GroupOneClassKFold(3, **params).split(X, y, groups))
    assert len(folds) == 3
    _assert_partition(folds, len(y))
    for train, test in folds:
        assert np.intersect1d(groups[train], groups[test]).size == 0
        assert (y[train] == 0).all()
        assert np.array_equal(test, np.flatnonzero(np.isin(groups, groups[test])))
        # Every normal of the training groups trains.
        assert np.array_equal(train, np.flatnonzero(~np.isin(groups, groups[test]) & (y == 0)))
        assert set(y[test].tolist()) == {0, 1}


@pytest.mark.parametrize(
    ("y", "groups", "match"),
    [
        ([0, 1] * 4, None, "groups is required"),
        ([0, 1] * 4, [0, 1, 2], "X and groups must have the same length, got 8 and 3"),
        ([0, 1] * 4, [0, 0, 0, 0, 1, 1, 1, 1], "at least 3 distinct groups, got 2"),
        ([0, 2] * 4, [0, 0, 1, 1, 2, 2, 3, 3], "y must be binary"),
        # GroupKFold puts groups {0, 3}, {2} and {1} in test folds 0, 1 and 2.
        ([0, 1, 0, 1, 1, 1, 0, 0], [0, 0, 1, 1, 2, 2, 3, 3], "fold 1 .* holds no normal samples"),
        ([0, 0, 0, 0, 0, 1, 0, 1], [0, 0, 1, 1, 2, 2, 3, 3], "fold 2 .* holds no anomalies"),
        ([0, 1, 1, 1, 1, 1, 0, 0], [0, 0, 1, 1, 2, 2, 3, 3], "no normal sample to train on"),
    ],
)
def test_group_one_class_kfold_errors(y, groups, match):
    """Missing or short groups, too few groups, a one-class test fold: a clear ValueError."""
    with pytest.raises(ValueError, match=match):
        GroupOneClassKFold(3).split(np.zeros((8, 2)), y, groups)


# ----------------------------------------------------------------- scorers and integration


@pytest.mark.slow
def test_named_scorers_equal_the_explicit_ones_and_use_decision_function(tiny, digits):
    """'roc_auc'/'average_precision' and our scorers all score decision_function, 1 = anomaly."""
    X, y = _one_class_digits(digits)
    detector = tiny(epochs=2).fit(X[y == 0][:50])
    scores = detector.decision_function(X)
    auroc = roc_auc_score(y, scores)
    assert get_scorer("roc_auc")(detector, X, y) == pytest.approx(auroc)
    assert auroc_scorer(detector, X, y) == pytest.approx(auroc)
    assert auroc > 0.5  # sign check: anomalies score higher
    assert get_scorer("average_precision")(detector, X, y) == pytest.approx(
        average_precision_scorer(detector, X, y)
    )


@pytest.mark.slow
def test_grid_search_with_one_class_kfold_same_results_by_name_and_by_object(tiny, digits):
    """GridSearchCV(cv=OneClassKFold): 'roc_auc' and auroc_scorer give identical cv_results_."""
    X, y = _one_class_digits(digits)
    results = []
    for scoring in ("roc_auc", auroc_scorer):
        search = GridSearchCV(
            tiny(epochs=2), {"w_rank": [0.0, 0.05]}, scoring=scoring, cv=OneClassKFold(2),
            refit=False,
        )  # fmt: skip
        results.append(search.fit(X, y).cv_results_)
    for key in ("split0_test_score", "split1_test_score", "mean_test_score", "rank_test_score"):
        np.testing.assert_allclose(results[0][key], results[1][key])
    assert np.isfinite(results[0]["mean_test_score"]).all()
    # One cell by hand: the search trained on the normal-only fold the splitter made.
    train, test = next(OneClassKFold(2).split(X, y))
    detector = tiny(epochs=2, w_rank=0.0).fit(X[train])
    by_hand = roc_auc_score(y[test], detector.decision_function(X[test]))
    assert results[0]["split0_test_score"][0] == pytest.approx(by_hand)


@pytest.mark.slow
def test_cross_val_score_with_group_one_class_kfold(tiny, digits):
    """cross_val_score passes y and groups on: scores match fits on the splitter's folds."""
    X, y = _one_class_digits(digits)
    patients = np.arange(len(y)) % 8
    cv = GroupOneClassKFold(2)
    scores = cross_val_score(tiny(epochs=2), X, y, groups=patients, scoring="roc_auc", cv=cv)
    by_hand = [
        roc_auc_score(y[test], tiny(epochs=2).fit(X[train]).decision_function(X[test]))
        for train, test in cv.split(X, y, patients)
    ]
    np.testing.assert_allclose(scores, by_hand)
    # Under metadata routing, the splitter asks for groups, as GroupKFold does.
    with config_context(enable_metadata_routing=True):
        routed = cross_val_score(
            tiny(epochs=2), X, y, params={"groups": patients}, scoring="roc_auc", cv=cv
        )
    np.testing.assert_allclose(routed, scores)
