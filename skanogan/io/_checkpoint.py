"""Training checkpoints keyed by the configuration and a fingerprint of the training data.

A checkpoint file is a model file (:mod:`skanogan.io._persistence`) named after a hash of what
determines the training: the parameters that change the networks' trajectory, the epoch at which
this ``fit`` started and the training samples themselves. Clones in a grid search or the folds
of a cross-validation therefore write distinct files and never resume from each other's weights.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from skanogan.io._persistence import read_state, write_state

__all__ = ["Checkpoint"]

#: Parameters that do not change the trained weights, left out of the key.
_NOT_IN_KEY = frozenset(
    {
        "checkpoint_dir",
        "checkpoint_every",
        "resume",
        "verbose",
        "device",
        "compile",
        "eval_batch_size",
        "contamination",
        "score_type",
        "warm_start",
    }
)
_CONFIG = "_checkpoint_config"


def _fingerprint(chunks: Iterable[tuple[np.ndarray, np.ndarray]]) -> str:
    """blake2b of the samples' float32 values and their shape, chunk by chunk."""
    digest = hashlib.blake2b(digest_size=16)
    for _, chunk in chunks:
        digest.update(repr(chunk.shape[1:]).encode())
        digest.update(np.ascontiguousarray(chunk).tobytes())
    return digest.hexdigest()


class Checkpoint:
    """Where one ``fit`` saves its progress and resumes from.

    ``params`` are the estimator's parameters, ``chunks`` the training samples (after the
    validation split) as :meth:`skanogan.core._samples.Samples.chunks` yields them, and
    ``start_iter`` the ``n_iter_`` at which this ``fit`` began. An
    integer ``seed`` (from ``random_state``) is part of the key; without one the run is not
    reproducible, so no seed is keyed.
    """

    def __init__(
        self,
        folder: Any,
        class_name: str,
        params: dict[str, Any],
        chunks: Iterable[tuple[np.ndarray, np.ndarray]],
        start_iter: int,
    ) -> None:
        self.class_name = class_name
        self.config = {
            "params": {
                key: repr(value) for key, value in sorted(params.items()) if key not in _NOT_IN_KEY
            },
            "start_iter": start_iter,
            "data": _fingerprint(chunks),
        }
        if not isinstance(params.get("random_state"), (int, np.integer)):
            self.config["params"].pop("random_state", None)
        key = hashlib.sha256(json.dumps(self.config, sort_keys=True).encode()).hexdigest()[:20]
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{class_name}-{key}.safetensors"

    @classmethod
    def for_fit(cls, detector: Any, chunks: Iterable[tuple[np.ndarray, np.ndarray]]) -> Checkpoint:
        """The checkpoint of a ``fit`` of ``detector`` starting now, in its ``checkpoint_dir``."""
        params = detector.get_params(deep=False)
        return cls(
            params["checkpoint_dir"], type(detector).__name__, params, chunks, detector.n_iter_
        )

    def save(self, state: dict[str, Any]) -> None:
        """Replace the checkpoint atomically with ``state`` (an estimator's ``__getstate__``)."""
        write_state(self.path, self.class_name, {**state, _CONFIG: self.config}, overwrite=True)

    def load(self) -> dict[str, Any] | None:
        """The saved state, or ``None`` when there is no checkpoint for this run yet."""
        if not self.path.exists():
            return None
        state = read_state(self.path, self.class_name)
        stored = state.pop(_CONFIG, None)
        if stored != self.config:
            differ = sorted(
                key
                for key in {*self.config["params"], *(stored or {}).get("params", {})}
                if self.config["params"].get(key) != (stored or {}).get("params", {}).get(key)
            )
            if stored and stored.get("data") != self.config["data"]:
                differ.append("training data")
            if stored and stored.get("start_iter") != self.config["start_iter"]:
                differ.append("starting epoch")
            raise ValueError(
                f"checkpoint {self.path} was written by another configuration or other data "
                f"(differs in: {', '.join(differ) or 'its header'}); refusing to resume from it"
            )
        return state
