"""One-class tasks from labelled data: :func:`one_class_split` and its protocols."""

from __future__ import annotations

from collections.abc import Hashable
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from sklearn.model_selection import train_test_split

from skanogan.model_selection._checks import _check_labels, _given, _n_samples, _preview

__all__ = ["PROTOCOLS", "OneClassSplit", "one_class_split"]

#: The one-class protocols of :func:`one_class_split`; the first is the standard one.
PROTOCOLS = ("one_vs_rest", "rest_vs_one")


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
