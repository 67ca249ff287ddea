"""Persistence: pickle and joblib round trips, and CUDA-fitted models on CPU-only machines."""

import io
import pickle

import joblib
import numpy as np
import pytest
import torch

from skanogan.exceptions import DeviceWarning


def test_pickle_round_trip_keeps_scores(tiny, images):
    """A pickled detector scores exactly as before and keeps its fitted attributes."""
    detector = tiny(epochs=2).fit(images)
    clone = pickle.loads(pickle.dumps(detector))
    np.testing.assert_array_equal(
        clone.decision_function(images), detector.decision_function(images)
    )
    assert clone.history_ == detector.history_ and clone.threshold_ == detector.threshold_
    assert clone.device_ == torch.device("cpu")


def test_joblib_round_trip_keeps_scores(tiny, images, tmp_path):
    """joblib.dump/load round-trips too (tabular model here)."""
    X = images.reshape(40, -1)[:, :6]
    detector = tiny().fit(X)
    joblib.dump(detector, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(loaded.decision_function(X), detector.decision_function(X))


def test_pickling_does_not_change_the_detector(tiny, images):
    """__getstate__ works on a copy: the live detector keeps its networks."""
    detector = tiny().fit(images)
    pickle.dumps(detector)
    assert isinstance(detector.encoder_, torch.nn.Module)
    detector.decision_function(images)


def test_unfitted_detector_pickles(tiny):
    """An unfitted detector round-trips with its parameters."""
    detector = tiny(w_rank=0.5)
    assert pickle.loads(pickle.dumps(detector)).get_params() == detector.get_params()


def test_warm_start_after_unpickling(tiny, images):
    """Optimizer state survives pickling, so warm_start continues training."""
    detector = tiny(warm_start=True).fit(images)
    clone = pickle.loads(pickle.dumps(detector))
    assert clone.optimizers_.g_optimizer.state_dict()["state"]
    clone.fit(images)
    assert clone.n_iter_ == 2


def _tensors(obj):
    """Every tensor reachable from a pickled state (dicts, lists, tuples)."""
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, dict):
        for value in obj.values():
            yield from _tensors(value)
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            yield from _tensors(value)


def test_cuda_model_unpickles_on_a_cpu_only_machine(tiny, images, monkeypatch):
    """A model fitted on CUDA is saved as CPU tensors and loads on CPU with a DeviceWarning.

    The CUDA side is simulated: a CPU-fitted detector whose device_ says cuda:0 goes through the
    same __getstate__ path as a real CUDA model (state_dicts copied to the CPU).
    """
    detector = tiny(epochs=2).fit(images)
    expected = detector.decision_function(images)
    detector.device_ = torch.device("cuda:0")
    state = detector.__getstate__()
    assert all(t.device.type == "cpu" for t in _tensors(state))
    assert not any(isinstance(v, torch.nn.Module) for v in state.values())
    payload = pickle.dumps(detector)

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(DeviceWarning, match="loaded on the CPU"):
        loaded = pickle.load(io.BytesIO(payload))
    assert loaded.device_ == torch.device("cpu") and loaded.amp_dtype_ is None
    np.testing.assert_array_equal(loaded.decision_function(images), expected)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_real_cuda_model_pickles_to_cpu_tensors(tiny, images):
    """On a GPU machine: a CUDA-fitted model's pickle holds only CPU tensors and reloads on CUDA."""
    detector = tiny(device="cuda", amp=False).fit(images)
    assert all(t.device.type == "cpu" for t in _tensors(detector.__getstate__()))
    loaded = pickle.loads(pickle.dumps(detector))
    assert loaded.device_.type == "cuda"
    np.testing.assert_allclose(
        loaded.decision_function(images), detector.decision_function(images), rtol=1e-5
    )
