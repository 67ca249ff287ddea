"""Checkpointing: atomic saves keyed by configuration and data, resume only when asked."""

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from skanogan.models.lran import train_step as training

ROOT = Path(__file__).resolve().parents[2]


def _interrupt_at_step(monkeypatch, step):
    real_step = training._train_step
    calls = {"n": 0}

    def interrupted(*args):
        calls["n"] += 1
        if calls["n"] == step:
            raise KeyboardInterrupt
        return real_step(*args)

    monkeypatch.setattr(training, "_train_step", interrupted)


@pytest.mark.slow
@pytest.mark.parametrize("ema_decay", [0.0, 0.9])
def test_resumed_fit_equals_an_uninterrupted_one(tiny, images, tmp_path, monkeypatch, ema_decay):
    """Interrupted in epoch 4 with a checkpoint every 2 epochs, then resumed: same model (with
    a weight average too: the checkpoint keeps the live weights beside it)."""
    reference = tiny(epochs=4, ema_decay=ema_decay).fit(images)
    # 40 images in batches of 16: 3 steps per epoch, so step 10 is in epoch 4.
    _interrupt_at_step(monkeypatch, 10)
    with pytest.raises(KeyboardInterrupt):
        tiny(epochs=4, checkpoint_dir=tmp_path, checkpoint_every=2, ema_decay=ema_decay).fit(images)
    monkeypatch.undo()
    (saved,) = tmp_path.iterdir()
    resumed = tiny(
        epochs=4, checkpoint_dir=tmp_path, checkpoint_every=2, resume=True, ema_decay=ema_decay
    )
    resumed.fit(images)
    assert resumed.n_iter_ == 4
    assert [r["g_total"] for r in resumed.history_] == [r["g_total"] for r in reference.history_]
    np.testing.assert_array_equal(
        resumed.decision_function(images), reference.decision_function(images)
    )
    assert list(tmp_path.iterdir()) == [saved]


@pytest.mark.slow
def test_killed_training_process_resumes_and_finishes(tmp_path):
    """SIGKILL a fitting subprocess after epoch 3, resume in another: 6 epochs in all."""
    script = textwrap.dedent(
        f"""
        import sys
        import numpy as np
        from skanogan import LatentRegularizedGAN
        X = np.random.default_rng(0).random((48, 12, 12)).astype(np.float32)
        detector = LatentRegularizedGAN(
            latent_dim=4, base_channels=4, epochs=6, batch_size=16, device="cpu",
            random_state=0, checkpoint_dir={str(tmp_path)!r}, resume=sys.argv[1] == "resume",
            verbose=2,
        )
        detector.fit(X)
        print("done", detector.n_iter_, len(detector.history_), flush=True)
        """
    )
    command = [sys.executable, "-u", "-c", script]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen([*command, "fresh"], stdout=subprocess.PIPE, text=True, env=env) as first:
        for line in first.stdout:
            if line.startswith("epoch 3:"):
                first.send_signal(signal.SIGKILL)
                break
        first.wait(timeout=60)
    assert first.returncode == -signal.SIGKILL
    # The kill may hit a write: its temporary (a dot file) may remain, the checkpoint is whole.
    assert len([p for p in tmp_path.iterdir() if not p.name.startswith(".")]) == 1
    second = subprocess.run(
        [*command, "resume"], capture_output=True, text=True, env=env, timeout=120
    )
    assert second.returncode == 0, second.stderr
    # Epochs 1-2 (at least) come from the checkpoint; the kill may land before or after
    # epoch 3's checkpoint is written.
    epochs = [line.split(":")[0] for line in second.stdout.splitlines() if line.startswith("epoch")]
    assert epochs[-1] == "epoch 6" and epochs[0] in ("epoch 3", "epoch 4")
    assert second.stdout.splitlines()[-1] == "done 6 6"


def test_other_data_or_parameters_never_share_a_checkpoint(tiny, images, tmp_path):
    """CV folds (other data) and grid points (other weights) write their own files."""
    tiny(epochs=2, checkpoint_dir=tmp_path).fit(images[:30])
    tiny(epochs=2, checkpoint_dir=tmp_path).fit(images[10:])
    tiny(epochs=2, checkpoint_dir=tmp_path, w_rank=0.5).fit(images[10:])
    assert len(list(tmp_path.iterdir())) == 3
    fresh = tiny(epochs=2).fit(images[5:35])
    resumed = tiny(epochs=2, checkpoint_dir=tmp_path, resume=True).fit(images[5:35])
    assert resumed.history_[0]["g_total"] == fresh.history_[0]["g_total"]
    assert len(list(tmp_path.iterdir())) == 4


def test_mismatching_checkpoint_is_refused(tiny, images, tmp_path):
    """A checkpoint of another configuration under this run's name is refused, naming why."""
    tiny(checkpoint_dir=tmp_path / "a").fit(images)
    tiny(checkpoint_dir=tmp_path / "b", w_rank=0.5).fit(images)
    (theirs,) = (tmp_path / "a").iterdir()
    (ours,) = (tmp_path / "b").iterdir()
    shutil.copyfile(theirs, ours)
    with pytest.raises(ValueError, match=r"another configuration.*differs in: w_rank"):
        tiny(checkpoint_dir=tmp_path / "b", w_rank=0.5, resume=True).fit(images)


def test_resume_needs_a_checkpoint_dir(tiny, images):
    """resume=True alone is a clear error."""
    with pytest.raises(ValueError, match="resume=True needs checkpoint_dir"):
        tiny(resume=True).fit(images)


def test_finished_checkpoint_is_reused_without_training(tiny, images, tmp_path, monkeypatch):
    """Resuming a run that already finished trains nothing and gives the same model."""
    done = tiny(epochs=2, checkpoint_dir=tmp_path).fit(images)
    _interrupt_at_step(monkeypatch, 1)  # any training step would raise
    again = tiny(epochs=2, checkpoint_dir=tmp_path, resume=True).fit(images)
    assert again.history_ == done.history_
    np.testing.assert_array_equal(again.decision_function(images), done.decision_function(images))
