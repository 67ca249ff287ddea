"""The epoch loop shared by the detectors (internal), in the spirit of skorch's ``fit_loop``.

- :func:`~skanogan.training.loop.fit_loop`: epochs with a fixed batch order per epoch, the
  rollback to the last completed epoch on a divergence or Ctrl-C, D restarts
  (``on_divergence="restart_d"``) and the :class:`~skanogan.exceptions.DivergenceError`.
- :mod:`~skanogan.training.callbacks`: the hooks it calls (progress bar, one line per epoch, the
  collapse warning, checkpoint cadence).

One step and one epoch of a model's own game live with the model, e.g.
:mod:`skanogan.models.lran.train_step`.
"""

from skanogan.training.callbacks import (
    Callback,
    Checkpointing,
    CollapseWarning,
    EpochPrinter,
    ProgressBar,
    verbose_callbacks,
)
from skanogan.training.loop import MAX_D_RESTARTS, Batches, fit_loop

__all__ = [
    "MAX_D_RESTARTS",
    "Batches",
    "Callback",
    "Checkpointing",
    "CollapseWarning",
    "EpochPrinter",
    "ProgressBar",
    "fit_loop",
    "verbose_callbacks",
]
