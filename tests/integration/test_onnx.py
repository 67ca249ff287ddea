"""ONNX export: the exported scoring graph, run by onnxruntime, agrees with decision_function."""

import copy
import json

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError

from skanogan import LatentRegularizedGAN, __version__
from skanogan.scoring import SCORE_TYPES

_EXTRA = "needs the 'onnx' extra: pip install 'skanogan[onnx]'"
onnx = pytest.importorskip("onnx", reason=_EXTRA)
onnxruntime = pytest.importorskip("onnxruntime", reason=_EXTRA)

TINY = dict(
    latent_dim=4, base_channels=4, epochs=1, batch_size=16, device="cpu", amp=False, random_state=0
)
BATCH_SIZES = (1, 7)


def run_onnx(path, x):
    """``(score, anomaly_map)`` of the float32 batch ``x`` through the file at ``path``."""
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": np.asarray(x, dtype=np.float32)})


def assert_close(actual, expected):
    """float32 agreement: relative 1e-4, with an absolute floor for scores near zero."""
    scale = float(np.abs(expected).max())
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5 * scale)


def with_score_type(detector, score_type):
    detector = copy.deepcopy(detector)
    return detector.set_params(score_type=score_type)


@pytest.fixture(scope="module")
def gray_images():
    """40 smooth random 12×12 images (one channel, a side < 16: the resize path)."""
    rng = np.random.default_rng(0)
    grid = np.linspace(0, 1, 12)
    base = np.sin(6 * grid)[:, None] * np.cos(4 * grid)[None, :]
    return (base[None] + 0.3 * rng.standard_normal((40, 12, 12))).astype(np.float32)


@pytest.fixture(scope="module")
def gray_detector(gray_images):
    return LatentRegularizedGAN(**TINY).fit(gray_images)


@pytest.fixture(scope="module")
def gray_onnx(gray_detector, tmp_path_factory):
    """The latent-score export of ``gray_detector``."""
    return gray_detector.export_onnx(tmp_path_factory.mktemp("onnx") / "gray.onnx")


@pytest.mark.slow
@pytest.mark.parametrize("score_type", list(SCORE_TYPES))
def test_scores_and_maps_match_pytorch(score_type, gray_detector, gray_images, tmp_path):
    """Each score type and the anomaly map agree with PyTorch, for batches of 1 and 7."""
    detector = with_score_type(gray_detector, score_type)
    path = detector.export_onnx(tmp_path / "model.onnx")
    for n in BATCH_SIZES:
        X = gray_images[:n]
        score, anomaly_map = run_onnx(path, X[:, None])
        assert score.shape == (n,) and score.dtype == np.float32
        assert_close(score, detector.decision_function(X))
        assert_close(anomaly_map, detector.anomaly_map(X))


@pytest.mark.slow
def test_color_uint8_images_match_pytorch(tmp_path):
    """Three channels, uint8 pixels given as float32, 20×20 padded to 32: same scores."""
    rng = np.random.default_rng(1)
    X = rng.integers(0, 256, size=(40, 3, 20, 20), dtype=np.uint8)
    detector = LatentRegularizedGAN(**TINY, score_type="combined").fit(X)
    path = detector.export_onnx(tmp_path / "color.onnx")
    for n in BATCH_SIZES:
        score, anomaly_map = run_onnx(path, X[-n:].astype(np.float32))
        assert_close(score, detector.decision_function(X[-n:]))
        assert anomaly_map.shape == (n, 20, 20)
        assert_close(anomaly_map, detector.anomaly_map(X[-n:]))


@pytest.mark.slow
def test_tabular_exports_in_float32(tmp_path):
    """MLP models export in float32 and agree with their float64 scores to 1e-4."""
    X = np.random.default_rng(2).normal(size=(40, 6))
    detector = LatentRegularizedGAN(**TINY, score_type="combined").fit(X)
    path = detector.export_onnx(tmp_path / "tabular.onnx")
    score, feature_error = run_onnx(path, X[:7])
    assert_close(score, detector.decision_function(X[:7]))
    assert_close(feature_error, detector.anomaly_map(X[:7]))
    # The export worked on copies: the detector's own networks are still float64.
    assert next(detector.encoder_.parameters()).dtype == torch.float64


def test_batch_axis_is_dynamic(gray_onnx):
    """The batch dimension of the input and both outputs is symbolic, not fixed."""
    model = onnx.load(str(gray_onnx))
    values = [*model.graph.input, *model.graph.output]
    assert [value.name for value in values] == ["x", "score", "anomaly_map"]
    for value in values:
        first = value.type.tensor_type.shape.dim[0]
        assert first.dim_param and not first.HasField("dim_value")
        assert value.type.tensor_type.elem_type == onnx.TensorProto.FLOAT


def test_metadata_says_how_to_predict(gray_detector, gray_images, gray_onnx):
    """metadata_props hold the version, score type, threshold and input layout."""
    props = {entry.key: entry.value for entry in onnx.load(str(gray_onnx)).metadata_props}
    assert props["skanogan_version"] == __version__
    assert props["score_type"] == gray_detector.score_type
    assert float(props["threshold"]) == gray_detector.threshold_
    assert props["input_layout"] == "N,C,H,W"
    assert json.loads(props["input_shape"]) == ["N", 1, 12, 12]
    assert props["exporter"] in ("dynamo", "torchscript")
    score, _ = run_onnx(gray_onnx, gray_images[:, None])
    labels = (score > float(props["threshold"])).astype(np.int64)
    # float32 scores may fall on the other side of a float64 threshold only at a tie.
    assert np.mean(labels == gray_detector.predict(gray_images)) >= 0.95


def test_no_overwrite_without_overwrite_true(gray_detector, tmp_path):
    """An existing file raises FileExistsError and keeps its bytes; overwrite=True replaces it."""
    path = tmp_path / "model.onnx"
    path.write_bytes(b"not a model")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        gray_detector.export_onnx(path)
    assert path.read_bytes() == b"not a model"
    assert gray_detector.export_onnx(path, overwrite=True, opset=13) == path
    assert onnx.load(str(path)).opset_import[0].version == 13
    assert [p for p in tmp_path.iterdir() if p.name != "model.onnx"] == []


def test_low_opset_uses_torchscript_exporter(gray_detector, gray_images, tmp_path):
    """Opsets below 18 go to the TorchScript exporter, with the same scores."""
    path = gray_detector.export_onnx(tmp_path / "model.onnx", opset=13)
    model = onnx.load(str(path))
    assert model.opset_import[0].version == 13
    assert {p.key: p.value for p in model.metadata_props}["exporter"] == "torchscript"
    score, _ = run_onnx(path, gray_images[:7, None])
    assert_close(score, gray_detector.decision_function(gray_images[:7]))


def test_falls_back_to_torchscript_exporter(gray_detector, gray_images, tmp_path, monkeypatch):
    """When the dynamo exporter fails, the TorchScript one writes an equivalent graph."""
    export = torch.onnx.export

    def failing_dynamo(*args, dynamo=True, **kwargs):
        if dynamo:
            raise RuntimeError("simulated dynamo failure")
        return export(*args, dynamo=dynamo, **kwargs)

    monkeypatch.setattr(torch.onnx, "export", failing_dynamo)
    path = gray_detector.export_onnx(tmp_path / "model.onnx")
    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert props["exporter"] == "torchscript"
    score, _ = run_onnx(path, gray_images[:7, None])
    assert_close(score, gray_detector.decision_function(gray_images[:7]))


@pytest.mark.parametrize("opset", [12, 17.0, "18", True])
def test_invalid_opset_is_refused(opset, gray_detector, tmp_path):
    with pytest.raises(ValueError, match="opset must be None or an int >= 13"):
        gray_detector.export_onnx(tmp_path / "model.onnx", opset=opset)


def test_unfitted_detector_raises(tmp_path):
    with pytest.raises(NotFittedError):
        LatentRegularizedGAN(**TINY).export_onnx(tmp_path / "model.onnx")
    assert not (tmp_path / "model.onnx").exists()
