"""The epoch loop of :mod:`skanogan.training` on a fake model: rollback, restarts, hooks."""

import numpy as np
import pytest
import torch

from skanogan.exceptions import DivergenceError
from skanogan.training import MAX_D_RESTARTS, Batches, Callback, Checkpointing, fit_loop


class Counter:
    """A stateful part whose ``value`` the epochs change, to see what is rolled back."""

    def __init__(self):
        self.value = 0

    def state_dict(self):
        return {"value": torch.tensor(self.value)}

    def load_state_dict(self, states):
        self.value = int(states["value"])


class Detector:
    def __init__(self):
        self.n_iter_ = 0
        self.history_ = []


class Recorder(Callback):
    def __init__(self):
        self.events = []

    def on_train_begin(self, detector, n_epochs):
        self.events.append(("begin", n_epochs))

    def on_batch_end(self, detector):
        self.events.append("batch")

    def on_epoch_end(self, detector, record):
        self.events.append(("epoch", detector.n_iter_))

    def on_train_end(self, detector):
        self.events.append("end")


def _epochs(counter, fail_on=(), interrupt_on=()):
    """A ``run_epoch`` that adds 1 to ``counter`` and fails on the given call numbers."""
    calls = []

    def run_epoch(order, on_batch):
        calls.append(order.copy())
        counter.value += 1
        on_batch()
        if len(calls) in fail_on:
            raise DivergenceError("g_irec became non-finite at step 1", term="g_irec", step=1)
        if len(calls) in interrupt_on:
            raise KeyboardInterrupt
        return {"loss": float(counter.value)}

    return run_epoch, calls


def _loop(detector, counter, run_epoch, **kwargs):
    params = dict(n_epochs=3, n_samples=5, seed=0, restart=lambda rng: None, state=[counter])
    fit_loop(detector, run_epoch=run_epoch, **{**params, **kwargs})


def test_batches_leave_out_a_last_batch_of_one():
    """BatchNorm cannot train on one sample: 9 rows in batches of 4 give 2 batches."""
    batches = Batches(n_train=9, batch_size=4)
    assert batches.n_batches == 2
    assert Batches(n_train=10, batch_size=4).n_batches == 3
    assert Batches(n_train=3, batch_size=64).batch_size == 3


def test_each_epoch_appends_its_record_and_calls_the_hooks_in_order():
    """History, n_iter_ and every hook, once per batch and epoch."""
    detector, counter, recorder = Detector(), Counter(), Recorder()
    run_epoch, _ = _epochs(counter)
    _loop(detector, counter, run_epoch, callbacks=[recorder])
    assert detector.n_iter_ == 3 and [r["loss"] for r in detector.history_] == [1.0, 2.0, 3.0]
    assert all(record["d_restarts"] == 0.0 for record in detector.history_)
    epochs = [event for n in (1, 2, 3) for event in ("batch", ("epoch", n))]
    assert recorder.events == [("begin", 3), *epochs, "end"]


def test_batch_order_depends_on_the_seed_and_the_epoch_only():
    """Epoch k's order is randperm from seed + k: a run resumed at epoch 1 sees the same."""
    counter = Counter()
    run_epoch, calls = _epochs(counter)
    _loop(Detector(), counter, run_epoch, n_epochs=2)
    resumed = Detector()
    resumed.n_iter_ = 1
    run_epoch_again, calls_again = _epochs(Counter())
    _loop(resumed, Counter(), run_epoch_again, n_epochs=1)
    np.testing.assert_array_equal(calls[1], calls_again[0])


def test_divergence_rolls_back_and_raises_naming_the_epoch():
    """on_divergence='raise': the state is that of the last completed epoch."""
    detector, counter, recorder = Detector(), Counter(), Recorder()
    run_epoch, _ = _epochs(counter, fail_on={2})
    with pytest.raises(DivergenceError, match="diverged in epoch 2") as info:
        _loop(detector, counter, run_epoch, callbacks=[recorder])
    assert info.value.epoch == 2 and info.value.term == "g_irec"
    assert counter.value == 1 and detector.n_iter_ == 1
    assert recorder.events[-1] == "end"


def test_restart_retries_the_epoch_and_counts_it():
    """on_divergence='restart_d': restart, retry the same order, record d_restarts."""
    detector, counter = Detector(), Counter()
    run_epoch, calls = _epochs(counter, fail_on={2})
    restarts = []
    _loop(detector, counter, run_epoch, restart=restarts.append, on_divergence="restart_d")
    assert len(restarts) == 1 and isinstance(restarts[0], torch.Generator)
    np.testing.assert_array_equal(calls[1], calls[2])
    assert [r["d_restarts"] for r in detector.history_] == [0.0, 1.0, 0.0]
    assert counter.value == 3  # the diverged attempt was rolled back


def test_restart_gives_up_after_max_restarts():
    detector, counter = Detector(), Counter()
    run_epoch, _ = _epochs(counter, fail_on=set(range(1, 10)))
    with pytest.raises(DivergenceError, match=f"after {MAX_D_RESTARTS} restarts of D"):
        _loop(detector, counter, run_epoch, on_divergence="restart_d")
    assert counter.value == 0 and detector.n_iter_ == 0


def test_keyboard_interrupt_rolls_back_and_reraises():
    detector, counter = Detector(), Counter()
    run_epoch, _ = _epochs(counter, interrupt_on={3})
    with pytest.raises(KeyboardInterrupt):
        _loop(detector, counter, run_epoch)
    assert counter.value == 2 and detector.n_iter_ == 2


def test_checkpointing_saves_at_its_cadence_and_after_the_last_epoch():
    """every=2 over 3 epochs: saves after epochs 2 and 3."""
    detector, counter, saved = Detector(), Counter(), []
    run_epoch, _ = _epochs(counter)
    checkpointing = Checkpointing(lambda: saved.append(detector.n_iter_), every=2)
    _loop(detector, counter, run_epoch, callbacks=[checkpointing])
    assert saved == [2, 3]
