"""An exponential moving average of the generator's weights: the weights that score when
``ema_decay > 0``.

Averaging the last steps' weights smooths the step-to-step wander of the adversarial game
(Yazıcı et al., 2019, "The unusual effectiveness of averaging in GAN training"). Only the
generator side (``G_e``, ``G_d``, ``G_e'``) is averaged, BatchNorm statistics included; D
never scores.

Between epochs (in rollback snapshots, checkpoints, pickles and model files) the networks hold
the average, so every score, map and ONNX graph uses it without knowing of it, and
:class:`WeightAverage` keeps the trained ("live") weights that training goes on from.
:meth:`WeightAverage.epoch` swaps the two for the length of one epoch.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import torch

from skanogan.models.lran.networks import GANetworks

__all__ = ["WeightAverage"]

_AVERAGED = ("encoder", "decoder", "aux_encoder")


def _copy_states(nets: GANetworks) -> dict[str, dict[str, torch.Tensor]]:
    return {
        name: {
            key: value.detach().clone() for key, value in getattr(nets, name).state_dict().items()
        }
        for name in _AVERAGED
    }


class WeightAverage:
    """The generator's live weights and the step count of its moving average.

    Step ``t`` (from 1) moves the average towards the live weights by ``1 - decay_t``, where
    ``decay_t = min(decay, (1 + t) / (10 + t))``: the warm-up of TensorFlow's
    ``ExponentialMovingAverage``, so that the starting weights fade out within a few dozen
    steps whatever ``decay`` is. ``decay=0`` keeps no average: the networks hold the last
    step's weights. The decay is the estimator's ``ema_decay``, passed to each :meth:`epoch`
    (a warm start may change it).
    """

    def __init__(self) -> None:
        self.live: dict[str, dict[str, torch.Tensor]] | None = None
        self.n_updates = 0

    def state_dict(self) -> dict[str, Any]:
        """``live`` (role → state dict, or ``None``) and ``n_updates`` (live references)."""
        return {"live": self.live, "n_updates": self.n_updates}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.live = state["live"]
        self.n_updates = int(state["n_updates"])

    @contextlib.contextmanager
    def epoch(
        self, nets: GANetworks, decay: float, on_batch: Callable[[], None]
    ) -> Iterator[Callable[[], None]]:
        """Train ``nets`` on the live weights inside the block, calling the callback it yields
        after every step (it updates the average, then calls ``on_batch``); the average goes
        back into ``nets`` at its end.

        Without an average (``decay=0``) and no live weights from an earlier fit to go on
        from, nothing is swapped and the callback is ``on_batch`` itself. On an error the
        networks keep the live weights: the caller rolls them back.
        """
        if not decay and self.live is None:
            yield on_batch
            return
        average = _copy_states(nets)
        if self.live is not None:
            for name in _AVERAGED:
                getattr(nets, name).load_state_dict(self.live[name])
        # state_dict() tensors share the modules' storage, which the steps update in place.
        pairs = [
            (average[name][key], value)
            for name in _AVERAGED
            for key, value in getattr(nets, name).state_dict().items()
        ]
        floats = [(avg, live) for avg, live in pairs if avg.is_floating_point()]
        counts = [(avg, live) for avg, live in pairs if not avg.is_floating_point()]

        def step_done() -> None:
            self.n_updates += 1
            decay_t = min(decay, (1 + self.n_updates) / (10 + self.n_updates))
            with torch.no_grad():
                torch._foreach_lerp_([a for a, _ in floats], [v for _, v in floats], 1 - decay_t)
                for avg, live in counts:
                    avg.copy_(live)
            on_batch()

        yield step_done
        self.live = _copy_states(nets)
        for name in _AVERAGED:
            getattr(nets, name).load_state_dict(average[name])
