"""Parameter rules and the checker that enforces them, with messages that name the parameter.

The table of rules lives on the estimator (``LatentRegularizedGAN._param_rules``); it is checked
once, at the start of ``fit``. It is deliberately not called ``_parameter_constraints``:
scikit-learn's own checks read that attribute and expect its private constraint classes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch


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
