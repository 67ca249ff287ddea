"""Checks of parameters and of input samples, with messages that name what is wrong.

- Parameters: a table of rules lives on the estimator (``LatentRegularizedGAN._param_rules``)
  and :func:`check_params` enforces it once, at the start of ``fit``. It is deliberately not
  called ``_parameter_constraints``: scikit-learn's own checks read that attribute and expect its
  private constraint classes.
- Samples: :func:`validate_samples` checks any accepted layout of ``X`` without copying it and
  returns :class:`~skanogan.core._samples.Samples`, which yields ``(n, C, H, W)`` images or
  ``(n, F)`` rows as float32, a batch at a time.
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.utils.validation import validate_data

from skanogan.core._samples import Samples
from skanogan.core._shapes import resolve_image_shape
from skanogan.exceptions import ImageShapeWarning


@dataclass(frozen=True)
class Interval:
    """A number (never a bool) in a range; ``closed`` says which ends belong to it."""

    kind: type
    low: float | None
    high: float | None
    closed: str = "both"

    def accepts(self, value: Any) -> bool:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, self.kind):
            return False
        if not math.isfinite(float(value)):
            return False
        left_ok = self.low is None or (
            value >= self.low if self.closed in ("both", "left") else value > self.low
        )
        right_ok = self.high is None or (
            value <= self.high if self.closed in ("both", "right") else value < self.high
        )
        return left_ok and right_ok

    def __str__(self) -> str:
        name = "an int" if self.kind is Integral else "a finite number"
        left = "[" if self.closed in ("both", "left") and self.low is not None else "("
        right = "]" if self.closed in ("both", "right") and self.high is not None else ")"
        low = "-inf" if self.low is None else f"{self.low:g}"
        high = "inf" if self.high is None else f"{self.high:g}"
        return f"{name} in {left}{low}, {high}{right}"


@dataclass(frozen=True)
class Options:
    """One of a fixed set of values (compared with ``==`` and by type, so ``True`` is not ``1``)."""

    values: tuple

    def accepts(self, value: Any) -> bool:
        return any(value == v and type(value) is type(v) for v in self.values)

    def __str__(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)


@dataclass(frozen=True)
class InstanceOf:
    """An instance of one of ``types``."""

    types: tuple[type, ...]
    description: str

    def accepts(self, value: Any) -> bool:
        return isinstance(value, self.types)

    def __str__(self) -> str:
        return self.description


class ImageShape:
    """``None`` or a tuple/list ``(H, W)`` or ``(C, H, W)`` of positive ints."""

    def accepts(self, value: Any) -> bool:
        if value is None:
            return True
        if not isinstance(value, (tuple, list)) or len(value) not in (2, 3):
            return False
        return all(
            isinstance(v, Integral) and not isinstance(v, (bool, np.bool_)) and v > 0 for v in value
        )

    def __str__(self) -> str:
        return "None or a tuple (H, W) or (C, H, W) of positive ints"


NONE = Options((None,))
BOOL = Options((True, False))
RANDOM_STATE = [
    NONE,
    Interval(Integral, 0, 2**32 - 1),
    InstanceOf((np.random.RandomState,), "a numpy RandomState"),
]
DEVICE = [InstanceOf((str, torch.device), "'auto', 'cpu', 'cuda', 'cuda:N' or a torch.device")]


def check_params(params: dict[str, Any], rules: dict[str, list]) -> None:
    """Raise ``ValueError`` (or ``TypeError`` for a wrong type) naming the first bad parameter."""
    for name, allowed in rules.items():
        value = params[name]
        if any(rule.accepts(value) for rule in allowed):
            continue
        expected = " or ".join(str(rule) for rule in allowed)
        numeric_rule = any(isinstance(rule, Interval) for rule in allowed)
        wrong_type = numeric_rule and not isinstance(value, (Real, np.number)) and value is not None
        error = TypeError if wrong_type else ValueError
        raise error(f"{name} must be {expected}, got {value!r}")


def _looks_like_flat_image(n_features: int) -> bool:
    for channels in (1, 3):
        side = math.isqrt(n_features // channels)
        if side >= 8 and channels * side * side == n_features:
            return True
    return False


def _is_lazy_array(X: Any) -> bool:
    """An array-like read row by row (memmap-like, h5py, dask...) rather than converted whole."""
    return (
        not isinstance(X, np.ndarray)
        and isinstance(getattr(X, "dtype", None), np.dtype)
        and hasattr(X, "shape")
        and hasattr(X, "__getitem__")
        and not sparse.issparse(X)
    )


def _image_shape_in(X: Any) -> tuple[Any, tuple[int, int, int] | None]:
    """``X`` (lists made arrays; arrays never copied), with ``(C, H, W)`` if it holds images."""
    if isinstance(X, (list, tuple)) or (not hasattr(X, "shape") and hasattr(X, "__array__")):
        try:
            X = np.asarray(X)
        except ValueError as exc:
            raise ValueError(f"X could not be turned into an array: {exc}") from None
    shape = tuple(getattr(X, "shape", ()))
    ndim = len(shape)
    if ndim > 4 or ndim < 2:
        got = f"a {ndim}-D array of shape {shape}" if hasattr(X, "shape") else repr(X)[:80]
        raise ValueError(
            "Expected 2D array X (n_samples, n_features), 3-D (n_samples, H, W) or "
            f"4-D (n_samples, C, H, W), got {got}. Reshape your data: X.reshape(-1, 1) for a "
            "single feature, X.reshape(1, -1) for a single sample"
        )
    dtype = getattr(X, "dtype", None)
    if isinstance(dtype, np.dtype) and dtype.kind == "c":
        # scikit-learn's wording, which its estimator checks match.
        raise ValueError(f"Complex data not supported: X holds dtype {dtype}")
    if isinstance(dtype, np.dtype) and dtype.kind in "SUMmV":
        raise ValueError(f"X holds dtype {dtype}: could not convert it to real numbers")
    if ndim not in (3, 4):
        return X, None
    if not _is_lazy_array(X):
        X = np.asarray(X)
    if ndim == 4 and shape[-1] in (1, 3, 4) and shape[1] not in (1, 3, 4):
        raise ValueError(
            f"X of shape {shape} looks channels-last; images must be (n, C, H, W): "
            "pass X.transpose(0, 3, 1, 2)"
        )
    return X, ((1, *shape[1:]) if ndim == 3 else tuple(shape[1:]))


def _fit_image_shape(
    declared: tuple[int, ...] | None, in_x: tuple[int, int, int] | None, n_features: int
) -> tuple[int, int, int] | None:
    """The ``(C, H, W)`` to fit on, from ``image_shape`` and ``X``; ``None`` for tabular data."""
    if declared is not None:
        shape = resolve_image_shape(declared)
        if in_x is not None and shape != resolve_image_shape(in_x):
            raise ValueError(
                f"image_shape={declared!r} does not match the images in X, of shape {in_x}"
            )
        if math.prod(shape) != n_features:
            raise ValueError(
                f"X has {n_features} features, but image_shape={declared!r} "
                f"needs {math.prod(shape)}"
            )
        return shape
    if in_x is not None:
        return resolve_image_shape(in_x)
    if _looks_like_flat_image(n_features):
        warnings.warn(
            f"X is 2-D with {n_features} features and image_shape=None, so it is treated as "
            "tabular data (MLP networks); pass image_shape=(C, H, W) if these are "
            "flattened images",
            ImageShapeWarning,
            stacklevel=4,
        )
    return None


def validate_samples(estimator: BaseEstimator, X: Any, *, reset: bool) -> Samples:
    """Validate ``X`` once per public call, without converting it; return its :class:`Samples`.

    Layout, dtype and feature count are checked here, through scikit-learn's ``validate_data``
    (its wording, its feature checks) on ``X`` itself for arrays (a view: a memmap stays on
    disk) and on its first row for other array-likes; values are converted to float32 and
    checked to be finite batch by batch, as they are read (:meth:`Samples.read`).

    With ``reset=True`` (in ``fit``) it sets ``n_features_in_`` (through ``validate_data``) and
    ``image_shape_`` on ``estimator``, from its ``image_shape`` parameter and the layout of ``X``.
    Otherwise ``X`` must hold the fitted image shape, in any layout, or the fitted feature count.
    """
    X, in_x = _image_shape_in(X)
    if not reset and in_x is not None and in_x != estimator.image_shape_:
        fitted = estimator.image_shape_
        fitted = "tabular data" if fitted is None else f"images of shape {fitted}"
        raise ValueError(f"X holds images of shape {in_x}, but this model was fitted on {fitted}")
    lazy = _is_lazy_array(X)
    checked = np.asarray(X[:1]) if lazy else X
    if in_x is not None:
        checked = checked.reshape(checked.shape[0], math.prod(in_x))
    try:
        checked = validate_data(
            estimator, checked, reset=reset, dtype="numeric", ensure_all_finite=False
        )
    except (TypeError, ValueError) as exc:
        # Some of scikit-learn's errors ("could not convert string to float") omit the name.
        if re.search(r"\bX\b", str(exc)):
            raise
        raise type(exc)(f"invalid X: {exc}") from exc
    if reset:
        estimator.image_shape_ = _fit_image_shape(estimator.image_shape, in_x, checked.shape[1])
    if estimator.image_shape_ is None:
        # The tabular networks run in float64 (see LatentRegularizedGAN._dtype).
        return Samples(X if lazy else checked, (checked.shape[1],), np.float64)
    return Samples(X if lazy else checked, estimator.image_shape_)
