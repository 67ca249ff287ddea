"""Hooks of :func:`~skanogan.training.loop.fit_loop`: progress, per-epoch lines, checkpoints.

Each is a small :class:`Callback`; the estimator picks them from its parameters (``verbose``,
``checkpoint_dir``, ``checkpoint_every``), as skorch's nets pick ``ProgressBar`` or
``Checkpoint``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

__all__ = [
    "Callback",
    "Checkpointing",
    "CollapseWarning",
    "EpochPrinter",
    "ProgressBar",
    "verbose_callbacks",
]


class Callback:
    """The hooks of the loop; each does nothing unless overridden."""

    def on_train_begin(self, detector: Any, n_epochs: int) -> None:
        """Before the first of ``n_epochs`` epochs."""

    def on_batch_end(self, detector: Any) -> None:
        """After every training batch."""

    def on_epoch_end(self, detector: Any, record: dict[str, float]) -> None:
        """After every completed epoch, once ``record`` is in ``history_``."""

    def on_train_end(self, detector: Any) -> None:
        """At the end, also when training stops with an error."""


class ProgressBar(Callback):
    """A tqdm bar over the batches of this ``fit``, showing ``postfix`` keys of each record."""

    def __init__(self, n_batches: int, postfix: tuple[str, ...] = ("g_total", "d_loss")):
        self.n_batches = n_batches
        self.postfix = postfix
        self.bar: Any = None

    def on_train_begin(self, detector: Any, n_epochs: int) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(total=n_epochs * self.n_batches, desc="fit", unit="batch")

    def on_batch_end(self, detector: Any) -> None:
        self.bar.update()

    def on_epoch_end(self, detector: Any, record: dict[str, float]) -> None:
        self.bar.set_postfix({key: record[key] for key in self.postfix})

    def on_train_end(self, detector: Any) -> None:
        if self.bar is not None:
            self.bar.close()


class EpochPrinter(Callback):
    """One line per epoch with every value of its record (``verbose=2``)."""

    def on_epoch_end(self, detector: Any, record: dict[str, float]) -> None:
        print(
            f"epoch {detector.n_iter_}: "
            + " ".join(f"{key}={value:.4g}" for key, value in record.items())
        )


class CollapseWarning(Callback):
    """A warning for each epoch whose record says D collapsed (``d_collapsed``).

    ``bound`` is the model's definition of a collapse, for the message: D's loss stayed below
    it all epoch.
    """

    def __init__(self, bound: float):
        self.bound = bound

    def on_epoch_end(self, detector: Any, record: dict[str, float]) -> None:
        if record["d_collapsed"]:
            warnings.warn(
                f"epoch {detector.n_iter_}: the discriminator collapsed (its loss stayed below "
                f"{self.bound:g} all epoch), so the adversarial term no longer guides G; "
                "consider a smaller w_adv or lr",
                UserWarning,
                # on_epoch_end ← fit_loop ← the estimator's fit ← the caller of fit.
                stacklevel=4,
            )


class Checkpointing(Callback):
    """Calls ``save()`` every ``every`` epochs and after the last epoch of this ``fit``."""

    def __init__(self, save: Callable[[], None], every: int):
        self.save = save
        self.every = every
        self.target = 0

    def on_train_begin(self, detector: Any, n_epochs: int) -> None:
        self.target = detector.n_iter_ + n_epochs

    def on_epoch_end(self, detector: Any, record: dict[str, float]) -> None:
        if detector.n_iter_ % self.every == 0 or detector.n_iter_ == self.target:
            self.save()


def verbose_callbacks(verbose: int, n_batches: int, collapse_bound: float) -> list[Callback]:
    """The hooks that a detector's ``verbose`` asks for.

    0: none. 1: a progress bar over the ``n_batches`` of each epoch. 2: one line per epoch.
    From 1, a warning for each epoch in which D collapsed (its loss below ``collapse_bound``).
    """
    callbacks: list[Callback] = [ProgressBar(n_batches)] if verbose == 1 else []
    if verbose == 2:
        callbacks.append(EpochPrinter())
    if verbose:
        callbacks.append(CollapseWarning(collapse_bound))
    return callbacks
