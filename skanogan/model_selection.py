"""One-class model selection: protocols, normal-only cross-validation folds and scorers.

A one-class detector is fitted on normal samples only and judged on normals and anomalies
together. scikit-learn's splitters cannot express that (their training folds would hold
anomalies too), so this module provides:

- :func:`one_class_split` turns a labelled multi-class dataset into a one-class task, under
  the standard protocol ``"one_vs_rest"`` (one class normal, all others anomalous; the one the
  paper's tables report) or GANomaly's inverse ``"rest_vs_one"`` (one class anomalous, all
  others normal). It returns a :class:`OneClassSplit`.
- :class:`OneClassKFold` makes K folds whose training parts hold normals only and whose test
  parts hold held-out normals plus a share of the anomalies.
- :class:`GroupOneClassKFold` does the same with groups (e.g. the slices of one patient) kept
  whole on one side of every fold.
- ``auroc_scorer`` and ``average_precision_scorer`` are scorers on ``decision_function``. The
  names ``"roc_auc"`` and ``"average_precision"`` give the same numbers in ``GridSearchCV``.

Labels are 1 = anomaly and 0 = normal throughout. ``decision_function`` is higher for more
anomalous samples (PyOD's sign), so AUROC and average precision need no sign flip.

See Also
--------
skanogan.estimator : ``LatentRegularizedGAN``, the detector these helpers select.
docs/user_guide.md : "Model selection (one class)": search with ``refit=False``, then fit
    the best parameters on the normal samples only.

Examples
--------
>>> from skanogan.model_selection import auroc_scorer, average_precision_scorer
>>> auroc_scorer
make_scorer(roc_auc_score, response_method='decision_function')
>>> average_precision_scorer
make_scorer(average_precision_score, response_method='decision_function')
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Iterator
from numbers import Integral
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import average_precision_score, make_scorer, roc_auc_score
from sklearn.model_selection import BaseCrossValidator, GroupKFold, train_test_split
from sklearn.utils import check_random_state

__all__ = [
    "PROTOCOLS",
    "GroupOneClassKFold",
    "OneClassKFold",
    "OneClassSplit",
    "auroc_scorer",
    "average_precision_scorer",
    "one_class_split",
]

#: The one-class protocols of :func:`one_class_split`; the first is the standard one.
PROTOCOLS = ("one_vs_rest", "rest_vs_one")

# scikit-learn's "roc_auc" and "average_precision" try decision_function first on anything
# that is not a classifier, which is what these do; naming the method makes the sign explicit.
#: AUROC of ``decision_function`` against labels 1 = anomaly (same as ``scoring="roc_auc"``).
auroc_scorer = make_scorer(roc_auc_score, response_method="decision_function")
#: Average precision of ``decision_function``, anomalies positive (``"average_precision"``).
average_precision_scorer = make_scorer(average_precision_score, response_method="decision_function")

Folds = Iterator[tuple[np.ndarray, np.ndarray]]


class OneClassSplit(NamedTuple):
    """The three arrays of a one-class task, as returned by :func:`one_class_split`.

    It unpacks like a tuple: ``X_train, X_test, y_test = one_class_split(...)``.

    Attributes
    ----------
    X_train : ndarray
        The normal training samples only: fit the detector on these.
    X_test : ndarray
        The whole test split, normal and anomalous samples, in their original order.
    y_test : ndarray of shape (n_test,), dtype int64
        1 for an anomaly, 0 for a normal sample.
    """

    X_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def one_class_split(
    X: ArrayLike,
    y: ArrayLike,
    one_class: Hashable,
    *,
    protocol: str = "one_vs_rest",
    X_test: ArrayLike | None = None,
    y_test: ArrayLike | None = None,
    test_size: float | int | None = None,
    random_state: int | np.random.RandomState | None = None,
) -> OneClassSplit:
    """Make a one-class anomaly-detection task from a labelled multi-class dataset.

    Two protocols single out ``one_class``:

    - ``"one_vs_rest"`` (standard): ``one_class`` is normal and every other class is an
      anomaly. Train on the *training* samples of ``one_class``; test on the whole test split.
      This is the protocol of the paper's Tables 1–2 (its §4.1 takes "one class as the normal
      each time", as do the baselines it compares with) and of our benchmarks.
    - ``"rest_vs_one"`` (GANomaly's): ``one_class`` is the anomaly and all other classes are
      normal. Train on the training samples of every other class; test on the whole test split.

    With a dataset's official split, pass its training part as ``X, y`` and its test part as
    ``X_test, y_test``. Without one, leave them out: ``X, y`` is then split here, stratified by
    class, with ``test_size`` and ``random_state`` as in
    :func:`sklearn.model_selection.train_test_split`.

    Parameters
    ----------
    X : array-like of shape (n_samples, ...)
        Samples (images or rows) of the training split, or of the whole dataset when
        ``X_test`` is None. Converted with :func:`numpy.asarray`.
    y : array-like of shape (n_samples,)
        Class labels of ``X`` (any labels, e.g. digits 0–9).
    one_class : label
        The class the protocol singles out: the normal class under ``"one_vs_rest"``, the
        anomalous class under ``"rest_vs_one"``. It must occur in ``y``.
    protocol : {"one_vs_rest", "rest_vs_one"}, default="one_vs_rest"
        Which protocol, see above.
    X_test : array-like of shape (n_test, ...), default=None
        The official test split; given together with ``y_test``.
    y_test : array-like of shape (n_test,), default=None
        Class labels of ``X_test``.
    test_size : float or int, default=None
        Only without ``X_test``: the test fraction (or count) of the stratified split; None
        means 0.25, as in ``train_test_split``.
    random_state : int, RandomState instance or None, default=None
        Only without ``X_test``: seeds the stratified split.

    Returns
    -------
    OneClassSplit
        ``(X_train, X_test, y_test)``: the normal training samples only, the whole test split,
        and its labels, 1 = anomaly and 0 = normal (int64).

    Raises
    ------
    ValueError
        If ``protocol`` is unknown, lengths differ, ``one_class`` is not in ``y``, only one of
        ``X_test``/``y_test`` is given, ``test_size``/``random_state`` come with ``X_test``,
        ``X_test``'s sample shape differs from ``X``'s, or the test split lacks normals or
        anomalies (AUROC needs both).

    See Also
    --------
    OneClassKFold : cross-validation folds on the resulting binary labels.

    Examples
    --------
    >>> import numpy as np
    >>> from skanogan.model_selection import one_class_split
    >>> X_train, y_train = np.arange(12).reshape(6, 2), np.array([0, 1, 2, 0, 1, 2])
    >>> X_test, y_test = np.arange(12, 18).reshape(3, 2), np.array([0, 1, 2])
    >>> task = one_class_split(X_train, y_train, 0, X_test=X_test, y_test=y_test)
    >>> task.X_train  # class 0 of the training split only
    array([[0, 1],
           [6, 7]])
    >>> task.y_test  # classes 1 and 2 are anomalies
    array([0, 1, 1])
    >>> inverse = one_class_split(
    ...     X_train, y_train, 0, protocol="rest_vs_one", X_test=X_test, y_test=y_test
    ... )
    >>> len(inverse.X_train), inverse.y_test  # classes 1 and 2 normal, class 0 anomalous
    (4, array([1, 0, 0]))

    Without an official split, ``X, y`` is split here, stratified:

    >>> X, y = np.arange(40).reshape(20, 2), np.repeat([0, 1], 10)
    >>> X_normal, X_test, y_test = one_class_split(X, y, 1, test_size=0.5, random_state=0)
    >>> X_normal.shape, X_test.shape, int(y_test.sum())
    ((5, 2), (10, 2), 5)
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    X = np.asarray(X)
    y = _check_labels(y, "y", _n_samples(X), "X")
    if one_class not in set(y.tolist()):
        raise ValueError(
            f"one_class must be a label that occurs in y, got {one_class!r} "
            f"(labels in y: {_preview(np.unique(y))})"
        )
    if (X_test is None) != (y_test is None):
        raise ValueError(
            "X_test and y_test must be given together (an official test split) or both left "
            f"None (split X, y here), got X_test {_given(X_test)} and y_test {_given(y_test)}"
        )
    if X_test is None:
        X, X_test, y, y_test = train_test_split(
            X, y, test_size=0.25 if test_size is None else test_size,
            random_state=random_state, stratify=y,
        )  # fmt: skip
    else:
        if test_size is not None or random_state is not None:
            # Nothing is drawn at random with an official split: refuse rather than ignore.
            raise ValueError(
                "test_size and random_state apply only when X_test is None, got "
                f"test_size={test_size!r} and random_state={random_state!r} with X_test"
            )
        X_test = np.asarray(X_test)
        y_test = _check_labels(y_test, "y_test", _n_samples(X_test), "X_test")
        if X_test.shape[1:] != X.shape[1:]:
            raise ValueError(
                "X_test must have the same sample shape as X, got "
                f"{X_test.shape[1:]} and {X.shape[1:]}"
            )

    singled_out, singled_out_test = y == one_class, y_test == one_class
    if protocol == "one_vs_rest":
        train_normal, y_binary = singled_out, ~singled_out_test
    else:
        train_normal, y_binary = ~singled_out, singled_out_test
    if not train_normal.any():
        raise ValueError(
            f"protocol='rest_vs_one' needs classes besides one_class={one_class!r} in y to "
            "train on, but y holds that class only"
        )
    if y_binary.all() or not y_binary.any():
        missing = "normal" if y_binary.all() else "anomalous"
        raise ValueError(
            f"y_test holds no {missing} samples under protocol={protocol!r} with "
            f"one_class={one_class!r}; AUROC and average precision need both"
        )
    return OneClassSplit(X[train_normal], X_test, y_binary.astype(np.int64))


class _OneClassKFoldBase(BaseCrossValidator):
    """``n_splits``, ``shuffle`` and ``random_state``, shared by both one-class splitters."""

    def __init__(
        self,
        n_splits: int = 5,
        *,
        shuffle: bool = False,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        # Validated here, as scikit-learn's splitters do: a splitter has no fit or set_params.
        _check_fold_params(n_splits, shuffle, random_state)
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.random_state = random_state

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """Return ``n_splits``; the arguments are ignored (scikit-learn's signature)."""
        return self.n_splits


class OneClassKFold(_OneClassKFoldBase):
    """K-fold cross-validation for one-class detectors: normal-only training folds.

    ``y`` is binary, 0 = normal and 1 = anomaly. The normals are split into ``n_splits``
    folds; fold k trains on the other ``n_splits - 1`` folds of normals and tests on normal
    fold k plus anomaly fold k. The anomalies are partitioned into ``n_splits`` folds too, never
    used for training, so test folds are disjoint and every sample, normal or anomalous, is
    tested exactly once (as in :class:`~sklearn.model_selection.KFold`); each test fold then
    holds both classes, which AUROC and average precision need.

    Use it as ``cv=`` of :class:`~sklearn.model_selection.GridSearchCV`,
    :func:`~sklearn.model_selection.cross_val_score` and friends, which pass ``y`` on to
    :meth:`split`. With ``GridSearchCV`` set ``refit=False``: a refit would fit all of ``X``,
    anomalies included.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2. ``y`` needs at least this many normals and anomalies.
    shuffle : bool, default=False
        Whether to shuffle the normals and the anomalies (each on its own) before cutting them
        into folds; without shuffling, folds are contiguous runs of the sample order.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffle; an int gives the same folds at every call. Only with
        ``shuffle=True``.

    See Also
    --------
    GroupOneClassKFold : the same, keeping groups (e.g. patients) whole.
    one_class_split : build binary labels from a multi-class dataset.

    Examples
    --------
    >>> import numpy as np
    >>> from skanogan.model_selection import OneClassKFold
    >>> X, y = np.zeros((6, 2)), np.array([0, 0, 0, 0, 1, 1])
    >>> cv = OneClassKFold(n_splits=2)
    >>> for train, test in cv.split(X, y):
    ...     print("train", train, "test", test, "test labels", y[test])
    train [2 3] test [0 1 4] test labels [0 0 1]
    train [0 1] test [2 3 5] test labels [0 0 1]
    """

    def split(self, X: ArrayLike, y: ArrayLike | None = None, groups: Any = None) -> Folds:
        """Generate the (train, test) indices of each fold.

        The folds are checked before the first one is returned, so a bad ``y`` raises here.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Samples; only their number is used.
        y : array-like of shape (n_samples,)
            Required: 0 = normal, 1 = anomaly (bools work).
        groups : None
            Ignored (a warning says so); use :class:`GroupOneClassKFold` for groups.

        Yields
        ------
        train : ndarray of int
            Sorted indices of the training normals of the fold.
        test : ndarray of int
            Sorted indices of the held-out normals and the anomalies of the fold.

        Raises
        ------
        ValueError
            If ``y`` is missing or not binary, its length differs from ``X``'s, or it holds
            fewer than ``n_splits`` normals or anomalies.
        """
        if groups is not None:
            _warn_groups_ignored()
        anomalous = _check_binary(y, X, type(self).__name__)
        k = self.n_splits
        normals, anomalies = np.flatnonzero(~anomalous), np.flatnonzero(anomalous)
        counts = {"normal samples (y == 0)": len(normals), "anomalies (y == 1)": len(anomalies)}
        for kind, count in counts.items():
            if count < k:
                raise ValueError(
                    f"OneClassKFold(n_splits={k}) needs at least {k} {kind}, one per test "
                    f"fold, got {count}"
                )
        if self.shuffle:
            rng = check_random_state(self.random_state)
            normals, anomalies = rng.permutation(normals), rng.permutation(anomalies)
        normal_folds = np.array_split(normals, k)
        anomaly_folds = np.array_split(anomalies, k)
        folds = [
            (
                np.sort(np.concatenate(normal_folds[:i] + normal_folds[i + 1 :])),
                np.sort(np.concatenate([normal_folds[i], anomaly_folds[i]])),
            )
            for i in range(k)
        ]
        return iter(folds)


class GroupOneClassKFold(_OneClassKFoldBase):
    """K-fold one-class cross-validation that keeps every group on one side of each fold.

    Groups (e.g. the slices of one patient) are assigned whole to ``n_splits`` folds, as
    :class:`~sklearn.model_selection.GroupKFold` does (which this uses). Fold k tests on
    every sample of its groups, normal and anomalous, and trains on the *normal* samples of
    the other groups only; the anomalies of those training groups sit out that fold (they are
    tested in their own group's fold). So no group straddles train and test, every sample is
    tested exactly once, and training folds are normal-only.

    Every test fold must hold both classes (AUROC and average precision need them): when the
    group assignment leaves a test fold with one class, :meth:`split` raises a ``ValueError``
    naming the fold, rather than letting the search score it NaN.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2; there must be at least this many distinct groups.
    shuffle : bool, default=False
        False: assign the largest groups first to the lightest fold (balanced sample counts).
        True: shuffle the groups, then cut them into folds of about equal group counts.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffle. Only with ``shuffle=True``.

    See Also
    --------
    OneClassKFold : the same without groups.

    Examples
    --------
    >>> import numpy as np
    >>> from skanogan.model_selection import GroupOneClassKFold
    >>> y = np.array([0, 0, 1, 0, 0, 1, 0, 1])
    >>> patients = np.array([1, 1, 1, 2, 2, 2, 3, 3])
    >>> cv = GroupOneClassKFold(n_splits=2)
    >>> for train, test in cv.split(np.zeros((8, 2)), y, groups=patients):
    ...     print("train", train, patients[train], "test", test, patients[test])
    train [0 1] [1 1] test [3 4 5 6 7] [2 2 2 3 3]
    train [3 4 6] [2 2 3] test [0 1 2] [1 1 1]
    """

    # Ask for ``groups`` under scikit-learn's metadata routing, as GroupKFold does.
    __metadata_request__split = {"groups": True}  # noqa: RUF012 (scikit-learn's convention)

    def split(
        self, X: ArrayLike, y: ArrayLike | None = None, groups: ArrayLike | None = None
    ) -> Folds:
        """Generate the (train, test) indices of each fold.

        The folds are checked before the first one is returned, so bad inputs raise here.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Samples; only their number is used.
        y : array-like of shape (n_samples,)
            Required: 0 = normal, 1 = anomaly (bools work).
        groups : array-like of shape (n_samples,)
            Required: the group (e.g. patient) of each sample.

        Yields
        ------
        train : ndarray of int
            Sorted indices of the normal samples of the training groups.
        test : ndarray of int
            Sorted indices of every sample of the test groups.

        Raises
        ------
        ValueError
            If ``y`` or ``groups`` is missing, ``y`` is not binary, lengths differ, there are
            fewer distinct groups than ``n_splits``, or a fold's test part lacks a class or its
            training part holds no normal sample.
        """
        name = f"GroupOneClassKFold(n_splits={self.n_splits})"
        anomalous = _check_binary(y, X, type(self).__name__)
        if groups is None:
            raise ValueError(
                "groups is required: GroupOneClassKFold keeps each group (e.g. a patient) "
                "whole on one side of every fold"
            )
        groups = _check_labels(groups, "groups", len(anomalous), "X")
        n_groups = len(np.unique(groups))
        if n_groups < self.n_splits:
            raise ValueError(
                f"{name} needs at least {self.n_splits} distinct groups, got {n_groups}"
            )
        assigner = GroupKFold(self.n_splits, shuffle=self.shuffle, random_state=self.random_state)
        folds = []
        for i, (_, test) in enumerate(assigner.split(anomalous, groups=groups)):
            in_test = np.zeros(len(anomalous), dtype=bool)
            in_test[test] = True
            train = np.flatnonzero(~in_test & ~anomalous)
            test_groups = _preview(np.unique(groups[test]))
            if anomalous[test].all() or not anomalous[test].any():
                missing = "normal samples" if anomalous[test].all() else "anomalies"
                raise ValueError(
                    f"test fold {i} of {name} holds no {missing} (its groups: {test_groups}); "
                    "AUROC and average precision need both classes in every test fold. Use "
                    "fewer splits, or shuffle=True with another random_state"
                )
            if len(train) == 0:
                raise ValueError(
                    f"fold {i} of {name} has no normal sample to train on: every normal "
                    f"sample is in its test groups ({test_groups})"
                )
            folds.append((train, np.sort(test)))
        return iter(folds)


def _check_fold_params(n_splits: Any, shuffle: Any, random_state: Any) -> None:
    if isinstance(n_splits, (bool, np.bool_)) or not isinstance(n_splits, Integral):
        raise ValueError(f"n_splits must be an int >= 2, got {n_splits!r}")
    if n_splits < 2:
        raise ValueError(f"n_splits must be an int >= 2, got {n_splits!r}")
    if not isinstance(shuffle, (bool, np.bool_)):
        raise ValueError(f"shuffle must be True or False, got {shuffle!r}")
    if not shuffle and random_state is not None:
        # As KFold: a seed that changes nothing is most likely a forgotten shuffle=True.
        raise ValueError(
            f"random_state has an effect only with shuffle=True, got random_state={random_state!r}"
            " with shuffle=False"
        )


def _check_labels(labels: Any, name: str, n_samples: int, samples_name: str) -> np.ndarray:
    """``labels`` as a 1-D array of ``n_samples`` values, or a ValueError naming it."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {labels.shape}")
    if len(labels) != n_samples:
        raise ValueError(
            f"{samples_name} and {name} must have the same length, got {n_samples} and "
            f"{len(labels)}"
        )
    return labels


def _check_binary(y: Any, X: Any, splitter: str) -> np.ndarray:
    """The anomaly mask of a binary ``y`` (0 normal, 1 anomaly), checked against ``X``."""
    if y is None:
        raise ValueError(
            f"y is required: {splitter} trains on normals (y == 0) and tests on held-out "
            "normals plus anomalies (y == 1)"
        )
    if X is None:
        raise ValueError(f"X is required by {splitter}.split (its length is checked against y)")
    y = _check_labels(y, "y", _n_samples(X), "X")
    # A numeric check first: comparing strings or objects with 0 and 1 proves nothing.
    if y.dtype.kind not in "biuf" or not np.isin(y, (0, 1)).all():
        raise ValueError(
            f"y must be binary, 0 = normal and 1 = anomaly, got values {_preview(y)}; "
            "build it with one_class_split or (labels != normal_class).astype(int)"
        )
    return y.astype(bool)


def _n_samples(X: Any) -> int:
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) > 0:
        return int(shape[0])
    try:
        return len(X)
    except TypeError:
        raise ValueError(f"X must be an array-like of samples, got {type(X).__name__}") from None


def _preview(values: np.ndarray, limit: int = 10) -> str:
    """The first distinct ``values`` (at most ``limit``), for error messages."""
    distinct = list(dict.fromkeys(np.asarray(values).ravel().tolist()))
    more = ", …" if len(distinct) > limit else ""
    return "[" + ", ".join(repr(v) for v in distinct[:limit]) + more + "]"


def _given(value: Any) -> str:
    return "given" if value is not None else "None"


def _warn_groups_ignored() -> None:
    warnings.warn(
        "groups is ignored by OneClassKFold; use GroupOneClassKFold to keep groups whole",
        UserWarning,
        stacklevel=3,
    )
