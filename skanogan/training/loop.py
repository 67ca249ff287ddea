"""The epoch loop: epochs, rollback, D restarts and divergence errors, with callbacks.

:func:`fit_loop` knows nothing of a model's networks or losses: the model hands it one epoch
(``run_epoch``), what to roll back (objects with ``state_dict``/``load_state_dict``) and what to
do after a divergence (``restart``). It keeps ``n_iter_`` and ``history_`` of the detector and
calls the :class:`~skanogan.training.callbacks.Callback` hooks.

See Also
--------
skanogan.training.callbacks : progress bar, per-epoch lines, collapse warning, checkpoints.
skanogan.models.lran.train_step : the LRAN's epoch, called here as ``run_epoch``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

import numpy as np
import torch

from skanogan.exceptions import DivergenceError
from skanogan.training.callbacks import Callback

__all__ = ["MAX_D_RESTARTS", "Batches", "fit_loop"]

#: on_divergence="restart_d" retries a diverging epoch this often before giving up.
MAX_D_RESTARTS = 3


class Batches:
    """How an epoch's sample order is cut into training batches.

    ``batch_size`` is clamped to the ``n_train`` samples. BatchNorm cannot train on one
    sample, so a last batch of one is left out of that epoch.

    Examples
    --------
    >>> batches = Batches(n_train=9, batch_size=4)
    >>> batches.n_batches, [rows.tolist() for rows in batches.rows(np.arange(9)[::-1])]
    (2, [[5, 6, 7, 8], [1, 2, 3, 4]])
    """

    def __init__(self, n_train: int, batch_size: int):
        self.batch_size = min(batch_size, n_train)
        self.n_batches = n_train // self.batch_size + (n_train % self.batch_size > 1)

    def rows(self, order: np.ndarray) -> Iterator[np.ndarray]:
        """The sorted sample indices of each batch, in the epoch's ``order``."""
        size = self.batch_size
        for start in range(0, self.n_batches * size, size):
            yield np.sort(order[start : start + size])


class Stateful(Protocol):
    """What the loop rolls back: a networks container, the optimizers."""

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, states: dict[str, Any]) -> None: ...


def fit_loop(
    detector: Any,
    *,
    n_epochs: int,
    n_samples: int,
    seed: int,
    run_epoch: Callable[[np.ndarray, Callable[[], None]], dict[str, float]],
    restart: Callable[[torch.Generator], None],
    state: Sequence[Stateful],
    on_divergence: str = "raise",
    callbacks: Sequence[Callback] = (),
) -> None:
    """Train ``detector`` for ``n_epochs`` more epochs, appending one record per epoch.

    Parameters
    ----------
    detector : estimator
        Has ``n_iter_`` (epochs completed) and ``history_`` (their records); both are updated
        here, after each completed epoch.
    n_epochs : int
        Epochs to train in this call.
    n_samples : int
        Training samples; epoch ``k`` visits them in ``torch.randperm(n_samples)`` order drawn
        from a generator seeded with ``seed + k``, so a resumed run sees the same batches as an
        uninterrupted one.
    run_epoch : callable
        ``run_epoch(order, on_batch)`` trains one epoch in that sample order, calls
        ``on_batch()`` after each batch and returns the epoch's record; it raises
        :class:`~skanogan.exceptions.DivergenceError` when a loss is not finite.
    restart : callable
        ``restart(rng)`` re-initialises what diverged (D and its optimizer state), with the
        epoch's generator, before the epoch is retried.
    state : sequence of objects with ``state_dict`` and ``load_state_dict``
        What a diverging or interrupted epoch is rolled back to the end of the previous epoch.
    on_divergence : {"raise", "restart_d"}, default="raise"
        ``"raise"``: roll back and raise. ``"restart_d"``: roll back, ``restart`` and retry the
        epoch, up to :data:`MAX_D_RESTARTS` times; the record's ``d_restarts`` counts them.
    callbacks : sequence of Callback
        Called at the start, after every batch, after every completed epoch and at the end
        (also when training stops with an error).

    Raises
    ------
    DivergenceError
        Naming the epoch, the loss term and the step, after the rollback.
    KeyboardInterrupt
        After the rollback to the last completed epoch.
    """
    target = detector.n_iter_ + n_epochs

    def on_batch() -> None:
        for callback in callbacks:
            callback.on_batch_end(detector)

    for callback in callbacks:
        callback.on_train_begin(detector, n_epochs)
    snapshot = _snapshot(state)
    try:
        while detector.n_iter_ < target:
            rng = torch.Generator().manual_seed(seed + detector.n_iter_)
            order = torch.randperm(n_samples, generator=rng).numpy()
            for restarts in range(MAX_D_RESTARTS + 1):
                try:
                    record = run_epoch(order, on_batch)
                    break
                except DivergenceError as error:
                    _restore(state, snapshot)
                    if on_divergence == "raise" or restarts == MAX_D_RESTARTS:
                        raise _divergence(error, detector.n_iter_, restarts) from None
                    restart(rng)
                except KeyboardInterrupt:
                    _restore(state, snapshot)
                    raise
            record["d_restarts"] = float(restarts)
            detector.history_.append(record)
            detector.n_iter_ += 1
            snapshot = _snapshot(state)
            for callback in callbacks:
                callback.on_epoch_end(detector, record)
    finally:
        for callback in callbacks:
            callback.on_train_end(detector)


def _snapshot(state: Sequence[Stateful]) -> list[dict[str, Any]]:
    """Copies of every state dict, on the device: the rollback point."""
    return copy.deepcopy([part.state_dict() for part in state])


def _restore(state: Sequence[Stateful], snapshot: list[dict[str, Any]]) -> None:
    for part, states in zip(state, snapshot, strict=True):
        part.load_state_dict(states)


def _divergence(error: DivergenceError, n_iter: int, restarts: int) -> DivergenceError:
    epoch = n_iter + 1
    retried = f" after {restarts} restarts of D" if restarts else ""
    return DivergenceError(
        f"training diverged in epoch {epoch}{retried}: the loss term {error.term!r} became "
        f"NaN or infinite at step {error.step}. The networks were rolled back to epoch "
        f"{n_iter}. Try a smaller lr, on_divergence='restart_d', or check the input "
        "scaling.",
        term=error.term,
        step=error.step,
        epoch=epoch,
    )
