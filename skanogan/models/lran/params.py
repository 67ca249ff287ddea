"""The parameters of :class:`~skanogan.models.lran.estimator.LatentRegularizedGAN`: what each
may hold (checked one by one, naming the first bad one) and the rules that tie them together."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from numbers import Integral, Real
from typing import Any

from skanogan.core._validation import (
    BOOL,
    DEVICE,
    NONE,
    RANDOM_STATE,
    ImageShape,
    InstanceOf,
    Interval,
    Options,
)
from skanogan.models.lran.losses import ADVERSARIAL_LOSSES, RANK_FORMS
from skanogan.models.lran.scoring import SCORE_TYPES

#: Parameter name -> the values it may take (see :mod:`skanogan.core._validation`).
PARAM_RULES: dict[str, list] = {
    "image_shape": [ImageShape()],
    "latent_dim": [Interval(Integral, 1, None)],
    "base_channels": [Interval(Integral, 1, None)],
    "adversarial_loss": [Options(ADVERSARIAL_LOSSES)],
    "w_irec": [Interval(Real, 0, None)],
    "w_adv": [Interval(Real, 0, None)],
    "w_zrec": [Interval(Real, 0, None)],
    "w_rank": [Interval(Real, 0, None)],
    "rank": [Interval(Integral, 0, None)],
    "rank_form": [Options(RANK_FORMS)],
    "score_type": [Options(tuple(SCORE_TYPES))],
    "contamination": [Interval(Real, 0, 0.5, closed="right")],
    "epochs": [Interval(Integral, 1, None)],
    "ema_decay": [Interval(Real, 0, 1, closed="left")],
    "batch_size": [Interval(Integral, 1, None)],
    "eval_batch_size": [Interval(Integral, 1, None)],
    "lr": [Interval(Real, 0, None, closed="neither")],
    "validation_fraction": [Interval(Real, 0, 1, closed="left")],
    "device": DEVICE,
    "amp": [Options(("auto", True, False))],
    "compile": [BOOL],
    "on_divergence": [Options(("raise", "restart_d"))],
    "checkpoint_dir": [NONE, InstanceOf((str, os.PathLike), "a folder path")],
    "checkpoint_every": [Interval(Integral, 1, None)],
    "resume": [BOOL],
    "verbose": [Interval(Integral, 0, 2)],
    "warm_start": [BOOL],
    "random_state": RANDOM_STATE,
}


def check_param_combinations(params: Mapping[str, Any]) -> None:
    """Raise a ``ValueError`` for parameters that are valid alone but not together.

    Warns (``UserWarning``) when ``w_zrec=0`` leaves the score comparing ``z`` with an
    untrained encoding.
    """
    weights = [params[name] for name in ("w_irec", "w_adv", "w_zrec", "w_rank")]
    if not any(weights):
        raise ValueError("at least one of w_irec, w_adv, w_zrec and w_rank must be positive")
    if params["resume"] and params["checkpoint_dir"] is None:
        raise ValueError("resume=True needs checkpoint_dir: the folder to resume from")
    if params["w_rank"] and params["rank"] >= params["latent_dim"]:
        raise ValueError(
            f"rank must be smaller than latent_dim ({params['latent_dim']}) when w_rank > 0, "
            f"got rank={params['rank']}"
        )
    if not params["w_zrec"] and params["score_type"] not in ("image", "latent_density"):
        warnings.warn(
            f"w_zrec=0 leaves the auxiliary encoder untrained, so score_type="
            f"{params['score_type']!r} compares z with an untrained encoding; "
            "consider score_type='image' or 'latent_density'",
            UserWarning,
            stacklevel=3,
        )
