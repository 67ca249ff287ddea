"""``ema_decay``: the generator's moving average scores; training goes on from the live weights."""

import numpy as np
import pytest
import torch

from skanogan import LatentRegularizedGAN


def _generator_states(detector):
    return {
        name: {k: v.clone() for k, v in getattr(detector, f"{name}_").state_dict().items()}
        for name in ("encoder", "decoder", "aux_encoder")
    }


def _assert_states_close(left, right, **tolerance):
    for name in left:
        for key in left[name]:
            torch.testing.assert_close(left[name][key], right[name][key], **tolerance)


def test_default_keeps_no_average(tiny, images):
    """ema_decay=0 (the default) stores no live weights: the networks are the trained ones."""
    detector = tiny(epochs=1).fit(images)
    assert detector.ema_decay == 0.0
    assert detector.optimizers_.weight_average.live is None


def test_average_scores_and_live_weights_are_kept(tiny, images):
    """With a decay the scoring networks differ from the live weights; D is never averaged."""
    detector = tiny(epochs=2, ema_decay=0.9).fit(images)
    average = detector.optimizers_.weight_average
    assert average.n_updates == 2 * 3  # 40 images in batches of 16: 3 steps per epoch
    live = average.live
    assert set(live) == {"encoder", "decoder", "aux_encoder"}
    with pytest.raises(AssertionError):
        _assert_states_close(_generator_states(detector), live)
    plain = tiny(epochs=2).fit(images)
    # Same seed, same steps: the live weights of the averaged fit are the plain fit's weights.
    _assert_states_close(live, _generator_states(plain), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(
        detector.discriminator_.state_dict(), plain.discriminator_.state_dict()
    )
    assert not np.allclose(detector.decision_function(images), plain.decision_function(images))


def test_tiny_decay_tracks_the_live_weights(tiny, images):
    """A decay near 0 leaves the average on the last step's weights: the plain model's scores."""
    averaged = tiny(epochs=2, ema_decay=1e-9).fit(images)
    plain = tiny(epochs=2).fit(images)
    np.testing.assert_allclose(
        averaged.decision_function(images), plain.decision_function(images), rtol=1e-4
    )


def test_warm_start_continues_the_average(tiny, images):
    """Two fits of one epoch with warm_start equal one fit of two epochs."""
    whole = tiny(epochs=2, ema_decay=0.9).fit(images)
    split = tiny(epochs=1, ema_decay=0.9, warm_start=True).fit(images).fit(images)
    _assert_states_close(_generator_states(split), _generator_states(whole))
    _assert_states_close(
        split.optimizers_.weight_average.live, whole.optimizers_.weight_average.live
    )
    np.testing.assert_allclose(split.decision_function(images), whole.decision_function(images))


def test_saved_model_keeps_the_live_weights(tiny, images, tmp_path):
    """A loaded model scores with the average and trains on from the live weights."""
    detector = tiny(epochs=1, ema_decay=0.9).fit(images)
    loaded = LatentRegularizedGAN.load(detector.save(tmp_path / "model.safetensors"))
    np.testing.assert_array_equal(
        loaded.decision_function(images), detector.decision_function(images)
    )
    _assert_states_close(
        loaded.optimizers_.weight_average.live, detector.optimizers_.weight_average.live
    )
    assert loaded.optimizers_.weight_average.n_updates == 3
    for model in (detector, loaded):
        model.set_params(warm_start=True).fit(images)
    np.testing.assert_allclose(loaded.decision_function(images), detector.decision_function(images))


def test_switching_the_average_off_goes_on_from_the_live_weights(tiny, images):
    """A warm start with ema_decay=0 after an averaged fit trains the live weights, and then
    scores with the last step's weights: those of a plain run of as many epochs."""
    detector = tiny(epochs=1, ema_decay=0.9, warm_start=True).fit(images)
    detector.set_params(ema_decay=0.0).fit(images)
    plain = tiny(epochs=2).fit(images)
    _assert_states_close(
        _generator_states(detector), _generator_states(plain), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("value", [1.0, -0.1, 1.5])
def test_decay_outside_the_range_is_refused(tiny, images, value):
    with pytest.raises(ValueError, match="ema_decay"):
        tiny(ema_decay=value).fit(images)
