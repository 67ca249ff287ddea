"""Cross-validation folds whose training parts hold normals only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.model_selection import BaseCrossValidator, GroupKFold
from sklearn.utils import check_random_state

from skanogan.model_selection._checks import (
    _check_binary,
    _check_fold_params,
    _check_labels,
    _preview,
    _warn_groups_ignored,
)

__all__ = ["GroupOneClassKFold", "OneClassKFold"]

Folds = Iterator[tuple[np.ndarray, np.ndarray]]


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
