"""save/load: the safetensors + JSON model file, atomic and never overwriting by accident."""

import json
import os
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.exceptions import NotFittedError

from skanogan import LatentRegularizedGAN
from skanogan.exceptions import DeviceWarning
from skanogan.io._persistence import FORMAT_VERSION, write_state


@pytest.fixture
def fitted(tiny, images):
    return tiny(epochs=2, random_state=np.random.RandomState(7)).fit(images)


def _same_fit(loaded, detector, X):
    np.testing.assert_array_equal(loaded.decision_function(X), detector.decision_function(X))
    np.testing.assert_array_equal(loaded.decision_scores_, detector.decision_scores_)
    np.testing.assert_array_equal(loaded.labels_, detector.labels_)
    assert loaded.threshold_ == detector.threshold_ and loaded.offset_ == detector.offset_
    assert loaded.history_ == detector.history_ and loaded.n_iter_ == detector.n_iter_
    assert loaded.image_shape_ == detector.image_shape_


def test_round_trip_keeps_scores_parameters_and_fitted_attributes(fitted, images, tmp_path):
    """A loaded detector scores exactly as the saved one and has the same parameters."""
    path = fitted.save(tmp_path / "model.safetensors")
    loaded = LatentRegularizedGAN.load(path)
    _same_fit(loaded, fitted, images)
    params, expected = loaded.get_params(), fitted.get_params()
    random_state = params.pop("random_state")
    assert params == {k: v for k, v in expected.items() if k != "random_state"}
    assert random_state.randint(1000) == expected["random_state"].randint(1000)


def test_round_trip_of_a_tabular_model_with_feature_names(tiny, images, tmp_path):
    """Tabular (float64) models and DataFrame feature names survive the file."""
    X = pd.DataFrame(images.reshape(40, -1)[:, :6], columns=list("abcdef"))
    detector = tiny(validation_fraction=0.2).fit(X)
    loaded = LatentRegularizedGAN.load(detector.save(tmp_path / "tabular.safetensors"))
    _same_fit(loaded, detector, X)
    assert list(loaded.feature_names_in_) == list("abcdef")
    np.testing.assert_array_equal(loaded.validation_scores_, detector.validation_scores_)
    with pytest.raises(ValueError, match="feature names"):
        loaded.decision_function(X.rename(columns={"a": "z"}))


@pytest.mark.slow
def test_loaded_detector_continues_training_like_the_original(tiny, images, tmp_path):
    """Optimizer moments are stored: warm_start after load equals warm_start after pickle."""
    detector = tiny(warm_start=True).fit(images)
    loaded = LatentRegularizedGAN.load(detector.save(tmp_path / "model.safetensors"))
    unpickled = pickle.loads(pickle.dumps(detector))
    loaded.fit(images)
    unpickled.fit(images)
    assert loaded.n_iter_ == 2
    np.testing.assert_array_equal(
        loaded.decision_function(images), unpickled.decision_function(images)
    )


def test_existing_file_is_never_overwritten_without_overwrite(fitted, tiny, images, tmp_path):
    """An existing file raises FileExistsError and keeps its bytes; overwrite=True replaces it."""
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        fitted.save(path)
    assert path.read_bytes() == b"precious"
    fitted.save(path, overwrite=True)
    _same_fit(LatentRegularizedGAN.load(path), fitted, images)
    assert os.listdir(tmp_path) == ["model.safetensors"]


def test_a_file_created_during_the_write_is_not_lost(fitted, tmp_path, monkeypatch):
    """The final step refuses a target that appeared meanwhile and cleans its temporary file."""
    path = tmp_path / "model.safetensors"
    real_link = os.link

    def racing_link(source, target):
        path.write_bytes(b"written by someone else")
        return real_link(source, target)

    monkeypatch.setattr(os, "link", racing_link)
    with pytest.raises(FileExistsError):
        fitted.save(path)
    assert path.read_bytes() == b"written by someone else"
    assert os.listdir(tmp_path) == ["model.safetensors"]


def test_failed_write_leaves_the_old_file_and_no_temporary(fitted, tmp_path, monkeypatch):
    """A crash before the rename keeps the previous model intact."""
    path = fitted.save(tmp_path / "model.safetensors")
    before = path.read_bytes()

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        fitted.save(path, overwrite=True)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.safetensors"]


def test_save_needs_a_fitted_detector(tiny, tmp_path):
    """Saving an unfitted detector raises NotFittedError and writes nothing."""
    with pytest.raises(NotFittedError):
        tiny().save(tmp_path / "model.safetensors")
    assert not os.listdir(tmp_path)


@pytest.mark.parametrize(
    ("path", "error", "match"),
    [
        (42, TypeError, "path must be a str or os.PathLike"),
        ("{tmp}/missing/model.safetensors", ValueError, "folder of path .* does not exist"),
        ("{tmp}", ValueError, "is a directory"),
    ],
)
def test_bad_save_paths_are_clear_errors(fitted, tmp_path, path, error, match):
    """save names the path and the problem."""
    path = path.format(tmp=tmp_path) if isinstance(path, str) else path
    with pytest.raises(error, match=match):
        fitted.save(path)


def test_missing_model_file(tmp_path):
    """load of a missing file names it."""
    with pytest.raises(FileNotFoundError, match=r"no model file at .*nothing\.safetensors"):
        LatentRegularizedGAN.load(tmp_path / "nothing.safetensors")


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "plain_safetensors"])
def test_unreadable_model_files_are_value_errors_naming_the_file(fitted, tmp_path, damage):
    """Random bytes, a cut-off file, an empty file or someone else's safetensors: ValueError."""
    from safetensors.torch import save_file

    path = tmp_path / "model.safetensors"
    if damage == "plain_safetensors":
        save_file({"weight": torch.zeros(3)}, path)
    else:
        good = fitted.save(tmp_path / "good.safetensors").read_bytes()
        data = {"garbage": b"\x00not a model" * 50, "truncated": good[: len(good) // 2]}
        path.write_bytes(data.get(damage, b""))
    with pytest.raises(ValueError, match=f"{path} is not a readable skanogan model file"):
        LatentRegularizedGAN.load(path)


def _rewrite(fitted, path, **changes):
    """Write fitted's state with some header fields or state entries changed."""
    state = fitted.__getstate__()
    state.update(changes)
    return write_state(path, "LatentRegularizedGAN", state, overwrite=True)


def test_file_from_a_newer_format_is_refused(fitted, tmp_path, monkeypatch):
    """A newer format version asks for an upgrade instead of misreading the file."""
    from skanogan.io import _persistence

    monkeypatch.setattr(_persistence, "FORMAT_VERSION", FORMAT_VERSION + 1)
    path = _rewrite(fitted, tmp_path / "future.safetensors")
    monkeypatch.setattr(_persistence, "FORMAT_VERSION", FORMAT_VERSION)
    with pytest.raises(ValueError, match=f"model format {FORMAT_VERSION + 1}.*upgrade skanogan"):
        LatentRegularizedGAN.load(path)


def test_file_of_another_class_is_refused(fitted, tmp_path):
    """The header's class must be the loading class."""
    state = fitted.__getstate__()
    path = write_state(tmp_path / "other.safetensors", "SomethingElse", state, overwrite=False)
    with pytest.raises(ValueError, match="holds a SomethingElse"):
        LatentRegularizedGAN.load(path)


def test_loading_builds_only_known_types(fitted, tmp_path):
    """A header naming any other type (e.g. a function to call) is refused, not resolved."""
    from safetensors.torch import save_file

    document = {
        "format": "skanogan-model",
        "format_version": FORMAT_VERSION,
        "skanogan_version": "0",
        "class": "LatentRegularizedGAN",
        "state": {"__dict__": {"x": {"__dataclass__": "os.system", "fields": {}}}},
    }
    path = tmp_path / "evil.safetensors"
    save_file({"t0": torch.zeros(1)}, path, metadata={"skanogan": json.dumps(document)})
    with pytest.raises(ValueError, match=r"corrupt skanogan model file.*unknown stored type"):
        LatentRegularizedGAN.load(path)


def test_cuda_model_file_loads_on_a_cpu_only_machine(fitted, images, tmp_path, monkeypatch):
    """A file whose detector was fitted on CUDA loads onto the CPU with a DeviceWarning.

    Simulated: the CPU-fitted state is written with device_ = cuda:0 and CUDA reported absent.
    """
    expected = fitted.decision_function(images)
    path = _rewrite(fitted, tmp_path / "cuda.safetensors", device_=torch.device("cuda:0"))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(DeviceWarning, match="loaded on the CPU"):
        loaded = LatentRegularizedGAN.load(path)
    assert loaded.device_ == torch.device("cpu") and loaded.amp_dtype_ is None
    np.testing.assert_array_equal(loaded.decision_function(images), expected)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_real_cuda_model_round_trips_through_a_file(tiny, images, tmp_path):
    """On a GPU machine: a CUDA-fitted model reloads on CUDA with the same scores."""
    detector = tiny(device="cuda", amp=False).fit(images)
    loaded = LatentRegularizedGAN.load(detector.save(tmp_path / "cuda.safetensors"))
    assert loaded.device_.type == "cuda"
    np.testing.assert_allclose(
        loaded.decision_function(images), detector.decision_function(images), rtol=1e-5
    )


def test_metadata_is_stored_and_read_without_the_weights(fitted, tmp_path):
    """save(metadata=...) keeps a JSON dict; read_metadata returns it; non-JSON is a TypeError."""
    info = {"input": {"kind": "mri", "spacing": 1.0, "sizes": [64, 64]}}
    path = fitted.save(tmp_path / "model.safetensors", metadata=info)
    assert LatentRegularizedGAN.read_metadata(path) == info
    bare = fitted.save(tmp_path / "bare.safetensors")
    assert LatentRegularizedGAN.read_metadata(bare) == {}
    with pytest.raises(TypeError, match="metadata must hold only JSON values"):
        fitted.save(tmp_path / "bad.safetensors", metadata={"x": object()})
    assert not (tmp_path / "bad.safetensors").exists()
