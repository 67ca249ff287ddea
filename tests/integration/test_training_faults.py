"""Training faults: divergence, D collapse and interruption leave a usable detector."""

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError

from skanogan.exceptions import DivergenceError
from skanogan.models.lran import train_step as training
from tests.factories import tiny_networks


def _poison(monkeypatch, name, bad_calls, make_bad=lambda value: value * float("nan")):
    """Make training.<name> return make_bad(result) on the given (1-based) call numbers."""
    real = getattr(training, name)
    calls = {"n": 0}

    def patched(*args, **kwargs):
        calls["n"] += 1
        value = real(*args, **kwargs)
        return make_bad(value) if bad_calls(calls["n"]) else value

    monkeypatch.setattr(training, name, patched)
    return calls


def test_train_epoch_finds_a_nan_within_the_epoch(monkeypatch):
    """A NaN at step 3 is found at the next check (step 4), not at the end of the epoch."""
    nets = tiny_networks()
    opt = training.make_optimizers(nets, 2e-4, torch.device("cpu"), None)
    cfg = training.TrainConfig(1.0, 1.0, 1.0, 0.0, 0, "feature_matching")
    _poison(monkeypatch, "irec_loss", lambda n: n == 3)
    steps = []
    batches = (torch.rand(4, 1, 16, 16) * 2 - 1 for _ in range(10))
    with pytest.raises(DivergenceError, match="g_irec became non-finite at step 3") as caught:
        training.train_epoch(nets, opt, batches, cfg, lambda: steps.append(1), check_every=2)
    assert len(steps) == 4 and caught.value.term == "g_irec" and caught.value.step == 3


def test_divergence_raises_naming_epoch_and_term_and_rolls_back(tiny, images, monkeypatch):
    """on_divergence='raise': error names epoch 3 and the term; the model is epoch 2's."""
    detector = tiny(epochs=2, warm_start=True).fit(images)
    before = detector.decision_function(images)
    history = list(detector.history_)
    _poison(monkeypatch, "zrec_loss", lambda n: n >= 2)
    detector.set_params(epochs=1)
    with pytest.raises(DivergenceError, match=r"epoch 3.*'g_zrec'.*rolled back to epoch 2") as e:
        detector.fit(images)
    assert e.value.epoch == 3 and e.value.term == "g_zrec"
    assert detector.n_iter_ == 2 and detector.history_ == history
    monkeypatch.undo()
    np.testing.assert_array_equal(detector.decision_function(images), before)


def test_divergence_in_the_first_epoch_leaves_the_detector_unfitted(tiny, images, monkeypatch):
    """With no completed epoch there is nothing to roll back to: the detector is unfitted."""
    _poison(monkeypatch, "irec_loss", lambda n: True)
    detector = tiny()
    with pytest.raises(DivergenceError, match="epoch 1"):
        detector.fit(images)
    with pytest.raises(NotFittedError):
        detector.predict(images)


def test_restart_d_recovers_and_logs_the_restart(tiny, images, monkeypatch):
    """on_divergence='restart_d': one NaN costs one restart of D, logged; training finishes."""
    _poison(monkeypatch, "discriminator_loss", lambda n: n == 2)
    detector = tiny(epochs=2, on_divergence="restart_d").fit(images)
    assert detector.n_iter_ == 2
    assert [record["d_restarts"] for record in detector.history_] == [1.0, 0.0]
    assert all(np.isfinite(list(record.values())).all() for record in detector.history_)
    assert np.isfinite(detector.decision_function(images)).all()


@pytest.mark.slow
def test_restart_d_gives_up_after_three_restarts(tiny, images, monkeypatch):
    """A loss that is always NaN is raised after three restarts of D."""
    _poison(monkeypatch, "discriminator_loss", lambda n: True)
    with pytest.raises(DivergenceError, match=r"after 3 restarts of D.*'d_loss'"):
        tiny(on_divergence="restart_d").fit(images)


def test_restart_discriminator_redraws_weights_and_forgets_adam_state():
    """D's weights are re-initialised, BatchNorm statistics reset, and its Adam moments gone."""
    nets = tiny_networks()
    opt = training.make_optimizers(nets, 2e-4, torch.device("cpu"), None)
    cfg = training.TrainConfig(1.0, 1.0, 1.0, 0.0, 0, "feature_matching")
    training.train_epoch(nets, opt, [torch.rand(4, 1, 16, 16) * 2 - 1] * 3, cfg)
    trained = {k: v.clone() for k, v in nets.discriminator.state_dict().items()}
    assert opt.d_optimizer.state
    training.restart_discriminator(nets, opt, torch.Generator().manual_seed(1))
    assert not opt.d_optimizer.state
    restarted = nets.discriminator.state_dict()
    weights = [key for key in trained if key.endswith(".weight")]
    assert weights and not any(torch.equal(restarted[k], trained[k]) for k in weights)
    norms = [m for m in nets.discriminator.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert norms and all(int(m.num_batches_tracked) == 0 for m in norms)


def test_collapse_is_recorded_and_warned_with_verbose(tiny, images, monkeypatch, capsys):
    """D's loss below the bound all epoch sets d_collapsed and warns when verbose."""
    healthy = tiny().fit(images)
    assert healthy.history_[0]["d_collapsed"] == 0.0
    _poison(monkeypatch, "discriminator_loss", lambda n: True, lambda value: value * 1e-9)
    with pytest.warns(UserWarning, match="epoch 1: the discriminator collapsed"):
        collapsed = tiny(verbose=2).fit(images)
    assert collapsed.history_[0]["d_collapsed"] == 1.0
    assert "epoch 1:" in capsys.readouterr().out


@pytest.mark.slow
def test_keyboard_interrupt_restores_the_last_epoch_and_reraises(tiny, images, monkeypatch):
    """Ctrl-C in epoch 3 after two steps: re-raised, the detector is epoch 2's and usable."""
    detector = tiny(epochs=2, warm_start=True).fit(images)
    before = detector.decision_function(images)
    real_step = training._train_step
    calls = {"n": 0}

    def interrupted(*args):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real_step(*args)

    monkeypatch.setattr(training, "_train_step", interrupted)
    with pytest.raises(KeyboardInterrupt):
        detector.fit(images)
    assert calls["n"] == 3 and detector.n_iter_ == 2 and len(detector.history_) == 2
    np.testing.assert_array_equal(detector.decision_function(images), before)
    assert detector.predict(images).shape == (40,)


def test_keyboard_interrupt_in_the_first_epoch_leaves_it_unfitted(tiny, images, monkeypatch):
    """Interrupted before any epoch completed: re-raised, and the detector is unfitted."""

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(training, "_train_step", interrupted)
    detector = tiny()
    with pytest.raises(KeyboardInterrupt):
        detector.fit(images)
    with pytest.raises(NotFittedError):
        detector.decision_function(images)
