"""Argument checks shared by the splitters, with messages that name the argument."""

from __future__ import annotations

import warnings
from numbers import Integral
from typing import Any

import numpy as np


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
