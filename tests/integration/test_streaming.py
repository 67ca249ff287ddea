"""Inputs are read one batch at a time: memmaps and other array-likes are never copied whole."""

import tracemalloc

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

import skanogan.core._samples
from skanogan.core._samples import Samples


class RecordingArray:
    """A read-only array-like that can only be sliced (like a zarr array) and records every
    read's number of rows."""

    def __init__(self, data: np.ndarray) -> None:
        self._data = data
        self.shape, self.dtype, self.ndim = data.shape, data.dtype, data.ndim
        self.reads: list[int] = []

    def __getitem__(self, rows):
        if not isinstance(rows, slice):
            raise TypeError(f"only slices, got {type(rows).__name__}")
        out = self._data[rows]
        self.reads.append(len(out))
        return out.copy()


@pytest.fixture
def make(tiny):
    """The shared tiny detector, trained for two epochs and scoring 32 samples per batch."""
    return lambda **params: tiny(**{"epochs": 2, "eval_batch_size": 32, **params})


def _read_only_memmap(path, images: np.ndarray) -> np.memmap:
    """``images`` written to a memmap file at ``path``, opened again read-only."""
    writer = np.memmap(path, dtype=images.dtype, mode="w+", shape=images.shape)
    writer[:] = images
    writer.flush()
    return np.memmap(path, dtype=images.dtype, mode="r", shape=images.shape)


@pytest.fixture(scope="module")
def uint8_images():
    return np.random.default_rng(0).integers(0, 256, size=(100, 1, 12, 12), dtype=np.uint8)


@pytest.fixture
def memmap(tmp_path, uint8_images):
    return _read_only_memmap(tmp_path / "images.uint8", uint8_images)


def test_memmap_fit_and_scores_equal_the_in_memory_array(make, uint8_images, memmap):
    """Same seed, same values: the streaming path gives the same model and scores."""
    in_memory = make(validation_fraction=0.2).fit(uint8_images)
    streamed = make(validation_fraction=0.2).fit(memmap)
    np.testing.assert_array_equal(streamed.pixel_scaler_.data_min, in_memory.pixel_scaler_.data_min)
    np.testing.assert_array_equal(streamed.decision_scores_, in_memory.decision_scores_)
    np.testing.assert_array_equal(
        streamed.decision_function(memmap), in_memory.decision_function(uint8_images)
    )
    np.testing.assert_array_equal(streamed.reconstruct(memmap), in_memory.reconstruct(uint8_images))


def test_array_likes_are_read_a_batch_at_a_time(make, uint8_images, monkeypatch):
    """fit reads scan chunks (CHUNK_BYTES as float32) and training batches; scoring reads
    eval batches only; never X whole."""
    monkeypatch.setattr(skanogan.core._samples, "CHUNK_BYTES", 20 * 4 * 144)
    X = RecordingArray(uint8_images.reshape(100, -1))
    detector = make(image_shape=(12, 12)).fit(X)
    assert X.reads[:6] == [1, 20, 20, 20, 20, 20]  # the layout check, then the scan
    assert max(X.reads) <= 32 and sum(X.reads) >= 4 * len(uint8_images)  # + 2 epochs, threshold
    X.reads.clear()
    scores = detector.decision_function(X)
    assert X.reads == [1, 32, 32, 32, 4]  # the first row is read to check its layout
    np.testing.assert_allclose(scores, detector.decision_function(uint8_images), rtol=1e-6)


@pytest.mark.parametrize(("bad", "word"), [(np.nan, "NaN"), (np.inf, "infinity")])
def test_non_finite_sample_is_named_before_training(make, tmp_path, bad, word):
    """A NaN deep in a memmap fails fit at once, naming the sample; nothing is fitted."""
    path = tmp_path / "float.f4"
    X = np.memmap(path, dtype=np.float32, mode="w+", shape=(90, 8, 8))
    X[:] = 0.5
    X[77, 3, 4] = bad
    detector = make()
    with pytest.raises(ValueError, match=rf"X contains {word}.*sample 77"):
        detector.fit(X)
    with pytest.raises(NotFittedError):
        detector.decision_function(X)  # not half-fitted: n_features_in_ was removed too


def test_non_finite_sample_in_scoring_is_named(make, uint8_images):
    detector = make(epochs=1).fit(uint8_images)
    X = uint8_images.astype(np.float32)
    X[65, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match=r"X contains NaN \(first in sample 65\)"):
        detector.decision_function(X)


def test_sorted_rows_of_a_sliceable_array_like_are_read_as_runs():
    """Rows 2, 3, 4, 7, 8 of a slice-only array-like: two slices, the rows in order."""
    data = np.arange(30, dtype=np.uint8).reshape(10, 3)
    X = RecordingArray(data)
    batch = Samples(X, (3,)).read(np.array([2, 3, 4, 7, 8]))
    np.testing.assert_array_equal(batch, data[[2, 3, 4, 7, 8]])
    assert X.reads == [3, 2]


def test_samples_read_names_the_index_of_sorted_rows():
    data = np.zeros((10, 3))
    data[7, 1] = np.inf
    with pytest.raises(ValueError, match="sample 7"):
        Samples(data, (3,)).read(np.array([2, 5, 7]))


def _numpy_peak_mib(fn) -> float:
    """Peak of memory traced by tracemalloc (NumPy's buffers included) while ``fn`` runs."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def test_scoring_a_memmap_keeps_host_memory_at_one_batch(make, tmp_path):
    """4,096 32 px images are 16 MiB as float32; scoring holds one 256-image batch (1 MiB)."""
    n, shape = 4096, (1, 32, 32)
    images = np.random.default_rng(1).integers(0, 256, size=(n, *shape), dtype=np.uint8)
    X = _read_only_memmap(tmp_path / "big.uint8", images)
    detector = make(epochs=1, eval_batch_size=256).fit(X[:64])
    full_copy_mib = n * np.prod(shape) * 4 / 2**20
    assert _numpy_peak_mib(lambda: detector.decision_function(X)) < full_copy_mib / 4


def test_fitting_a_memmap_never_copies_it_whole(make, tmp_path, monkeypatch):
    """With 1 MiB scan chunks, fit on 16 MiB (as float32) of images stays far below a copy."""
    monkeypatch.setattr(skanogan.core._samples, "CHUNK_BYTES", 2**20)
    n, shape = 4096, (1, 32, 32)
    images = np.random.default_rng(2).integers(0, 256, size=(n, *shape), dtype=np.uint8)
    X = _read_only_memmap(tmp_path / "train.uint8", images)
    detector = make(epochs=1, batch_size=256, eval_batch_size=256, validation_fraction=0.1)
    full_copy_mib = n * np.prod(shape) * 4 / 2**20
    assert _numpy_peak_mib(lambda: detector.fit(X)) < full_copy_mib / 4
    assert detector.decision_scores_.shape == (n,)


def test_warm_start_fit_on_bad_data_keeps_the_fitted_model(make, uint8_images):
    """A warm-start fit that meets a NaN raises before training and leaves the model as it was."""
    detector = make(epochs=1, warm_start=True).fit(uint8_images)
    before = detector.decision_function(uint8_images[:8])
    bad = uint8_images.astype(np.float32)
    bad[50, 0, 3, 3] = np.nan
    with pytest.raises(ValueError, match="sample 50"):
        detector.fit(bad)
    assert detector.n_iter_ == 1
    np.testing.assert_array_equal(detector.decision_function(uint8_images[:8]), before)


def test_verbose_scoring_of_many_batches_shows_a_progress_bar(make, uint8_images, capsys):
    """verbose=1: a bar for scoring calls of more than 10 batches, none for small calls or
    verbose=0; the scores are the same."""
    detector = make(epochs=1, eval_batch_size=8).fit(uint8_images)
    capsys.readouterr()
    quiet = detector.decision_function(uint8_images)
    assert "score" not in capsys.readouterr().err
    detector.set_params(verbose=1)
    np.testing.assert_array_equal(detector.decision_function(uint8_images), quiet)
    assert "score: 100%" in capsys.readouterr().err
    detector.decision_function(uint8_images[:80])
    assert capsys.readouterr().err == ""
