"""Mixed precision on the CPU: bfloat16 where the CPU runs it natively, else float32.

With :func:`skanogan.core._device.cpu_supports_bf16` patched to True the bfloat16 path runs on any
CPU (emulated, slowly, where the CPU lacks bfloat16 instructions; with the native kernels
where it has them).
"""

import io
import pickle
import types

import numpy as np
import pytest
import torch

from skanogan import LatentRegularizedGAN
from skanogan.core import _device
from skanogan.core._device import cpu_supports_bf16, resolve_amp_dtype
from skanogan.exceptions import DeviceWarning
from skanogan.scoring import SCORE_TYPES

CPU = torch.device("cpu")


def _support(monkeypatch, supported: bool) -> None:
    monkeypatch.setattr(_device, "cpu_supports_bf16", lambda: supported)


@pytest.fixture
def bf16_model(tiny, images, monkeypatch):
    """A tiny detector trained with amp=True on a CPU said to support bfloat16."""
    _support(monkeypatch, True)
    return tiny(amp=True).fit(images)


def test_amp_true_trains_in_bfloat16_on_the_cpu(bf16_model, images):
    """Training steps and scoring run under bfloat16 autocast: a convolution outputs bfloat16."""
    assert bf16_model.amp_dtype_ == torch.bfloat16
    seen = set()
    conv = next(m for m in bf16_model.encoder_.modules() if isinstance(m, torch.nn.Conv2d))
    conv.register_forward_hook(lambda module, args, out: seen.add((module.training, out.dtype)))
    bf16_model.set_params(warm_start=True).fit(images)  # trains, then scores the training set
    assert seen == {(True, torch.bfloat16), (False, torch.bfloat16)}
    assert all(np.isfinite(value) for record in bf16_model.history_ for value in record.values())


def test_bf16_scores_are_float64_finite_and_independent_of_the_batch(bf16_model, images):
    """Every score is float64 and finite, whatever eval_batch_size and sample order."""
    order = np.random.default_rng(0).permutation(len(images))
    assert bf16_model.decision_scores_.dtype == np.float64
    for score_type in SCORE_TYPES:
        bf16_model.set_params(score_type=score_type, eval_batch_size=64)
        expected = bf16_model.decision_function(images)
        assert expected.dtype == np.float64 and np.isfinite(expected).all()
        for batch in (1, 3, 7):
            bf16_model.set_params(eval_batch_size=batch)
            np.testing.assert_allclose(bf16_model.decision_function(images), expected, rtol=1e-6)
        np.testing.assert_allclose(
            bf16_model.decision_function(images[order]), expected[order], rtol=1e-6
        )


def test_bf16_model_keeps_its_precision_through_save_load_and_pickle(bf16_model, images, tmp_path):
    """On a CPU with bfloat16, a loaded or unpickled model scores exactly as before."""
    expected = bf16_model.decision_function(images)
    loaded = LatentRegularizedGAN.load(bf16_model.save(tmp_path / "bf16.safetensors"))
    unpickled = pickle.loads(pickle.dumps(bf16_model))
    for copy in (loaded, unpickled):
        assert copy.amp_dtype_ == torch.bfloat16
        np.testing.assert_array_equal(copy.decision_function(images), expected)


def test_resumed_bf16_fit_stays_in_bfloat16(tiny, images, tmp_path, monkeypatch):
    """Resuming from a checkpoint of a bfloat16 fit keeps training and scoring in bfloat16."""
    _support(monkeypatch, True)
    done = tiny(amp=True, epochs=2, checkpoint_dir=tmp_path).fit(images)
    again = tiny(amp=True, epochs=2, checkpoint_dir=tmp_path, resume=True).fit(images)
    assert again.amp_dtype_ == torch.bfloat16 and again.history_ == done.history_
    np.testing.assert_array_equal(again.decision_function(images), done.decision_function(images))


def test_bf16_model_runs_in_float32_on_a_cpu_without_bfloat16(
    bf16_model, images, tmp_path, monkeypatch
):
    """A bfloat16 model loaded where the CPU lacks bfloat16 warns and runs in float32."""
    path = bf16_model.save(tmp_path / "bf16.safetensors")
    payload = pickle.dumps(bf16_model)
    _support(monkeypatch, False)
    with pytest.warns(DeviceWarning, match="bfloat16 mixed precision.*runs in float32"):
        loaded = LatentRegularizedGAN.load(path)
    with pytest.warns(DeviceWarning, match="bfloat16 mixed precision.*runs in float32"):
        unpickled = pickle.loads(payload)
    for copy in (loaded, unpickled):
        assert copy.amp_dtype_ is None and np.isfinite(copy.decision_function(images)).all()


@pytest.mark.parametrize(
    ("amp_dtype", "cpu_bf16", "kept"),
    [
        (torch.float16, True, None),
        (torch.bfloat16, True, torch.bfloat16),
        (torch.bfloat16, False, None),
    ],
)
def test_cuda_mixed_precision_model_on_a_cpu_only_machine(
    tiny, images, monkeypatch, amp_dtype, cpu_bf16, kept
):
    """A CUDA model never autocasts float16 on the CPU; bfloat16 stays only where supported.

    Simulated: a CPU-fitted detector whose device_ and amp_dtype_ say CUDA mixed precision.
    """
    detector = tiny().fit(images)
    detector.device_, detector.amp_dtype_ = torch.device("cuda:0"), amp_dtype
    payload = pickle.dumps(detector)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    _support(monkeypatch, cpu_bf16)
    with pytest.warns(DeviceWarning) as warned:
        loaded = pickle.load(io.BytesIO(payload))
    messages = [str(w.message) for w in warned]
    assert any("loaded on the CPU" in message for message in messages)
    assert any("runs in float32" in message for message in messages) == (kept is None)
    assert loaded.device_ == CPU and loaded.amp_dtype_ == kept
    assert np.isfinite(loaded.decision_function(images)).all()


def test_amp_true_on_a_cpu_without_bfloat16_is_a_value_error(tiny, images, monkeypatch):
    """amp=True where bfloat16 would be emulated says so and points to amp=False."""
    _support(monkeypatch, False)
    message = r"amp=True .* lacks native bfloat16 .*AVX-512 BF16 or AMX.*emulated.*amp=False"
    with pytest.raises(ValueError, match=message):
        resolve_amp_dtype(True, CPU)
    with pytest.raises(ValueError, match=message):
        tiny(amp=True).fit(images)


@pytest.mark.parametrize("supported", [True, False])
def test_amp_auto_uses_bfloat16_where_the_cpu_has_it(tiny, images, monkeypatch, supported):
    """amp='auto' trains in bfloat16 on a CPU with native bfloat16 and in float32 on one
    without; amp=False is float32 on both."""
    _support(monkeypatch, supported)
    expected = torch.bfloat16 if supported else None
    assert resolve_amp_dtype("auto", CPU) is expected and resolve_amp_dtype(False, CPU) is None
    model = tiny(amp="auto").fit(images)
    assert model.amp_dtype_ is expected
    assert tiny(amp=False).fit(images).amp_dtype_ is None


def _checks(monkeypatch, machine="x86_64", onednn=True, native=False) -> None:
    """Patch what cpu_supports_bf16 asks: the machine, oneDNN, the x86 BF16/AMX checks."""
    mkldnn = types.SimpleNamespace(_is_mkldnn_bf16_supported=lambda: onednn)
    monkeypatch.setattr(torch, "ops", types.SimpleNamespace(mkldnn=mkldnn))
    monkeypatch.setattr(torch.backends.mkldnn, "is_available", lambda: True)
    monkeypatch.setattr(_device.platform, "machine", lambda: machine)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: native)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)


@pytest.mark.parametrize(
    ("machine", "onednn", "native", "expected"),
    [
        ("x86_64", True, True, True),
        ("x86_64", True, False, False),  # AVX-512 without BF16: oneDNN emulates bfloat16
        ("x86_64", False, True, False),
        ("aarch64", True, False, True),  # on Arm, oneDNN's check is the BF16 extension itself
        ("aarch64", False, False, False),
    ],
)
def test_cpu_supports_bf16_needs_native_instructions(
    monkeypatch, machine, onednn, native, expected
):
    """The support check combines oneDNN's answer with the x86 BF16/AMX instruction checks."""
    _checks(monkeypatch, machine, onednn, native)
    assert cpu_supports_bf16() is expected


def test_cpu_supports_bf16_is_false_without_onednn_s_check(monkeypatch):
    """A torch build without oneDNN's bfloat16 check trains in float32."""
    monkeypatch.setattr(torch, "ops", types.SimpleNamespace(mkldnn=types.SimpleNamespace()))
    assert cpu_supports_bf16() is False


def test_cpu_supports_bf16_is_false_without_the_instruction_checks(monkeypatch):
    """An older torch without torch.cpu's BF16/AMX checks cannot tell native from emulated."""
    _checks(monkeypatch, native=True)
    monkeypatch.delattr(torch.cpu, "_is_avx512_bf16_supported")
    monkeypatch.delattr(torch.cpu, "_is_amx_tile_supported")
    assert cpu_supports_bf16() is False


def test_tabular_models_record_full_precision(tiny, images, monkeypatch):
    """Tabular networks run in float64, which autocast leaves alone: amp_dtype_ says so."""
    _support(monkeypatch, True)
    detector = tiny(amp=True).fit(images.reshape(40, -1)[:, :6])
    assert detector.amp_dtype_ is None


def test_exporting_a_bf16_model_to_onnx_warns_that_the_graph_is_float32(bf16_model, tmp_path):
    """The ONNX graph computes in float32: a bfloat16 model's export says its scores differ."""
    pytest.importorskip("onnx")
    with pytest.warns(
        UserWarning, match="bfloat16 mixed precision.*ONNX graph computes in float32"
    ):
        path = bf16_model.export_onnx(tmp_path / "bf16.onnx")
    assert path.exists()
