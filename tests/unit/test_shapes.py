"""Image geometry, pixel scaling, parameter validation and device helpers.

Covers :mod:`skanogan.core._shapes`, :mod:`skanogan.core._validation` and
:mod:`skanogan.core._device`.
"""

from numbers import Integral, Real

import numpy as np
import pytest
import torch

from skanogan.core._device import (
    device_for_unpickling,
    resolve_amp_dtype,
    resolve_device,
    state_to_cpu,
    to_device,
)
from skanogan.core._samples import Samples
from skanogan.core._shapes import ImageGeometry, PixelScaler, resolve_image_shape
from skanogan.core._validation import (
    BOOL,
    NONE,
    ImageShape,
    InstanceOf,
    Interval,
    Options,
    check_params,
)
from skanogan.exceptions import DeviceWarning

NO_CUDA = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA device (torch.cuda.is_available() is False)"
)
CPU = torch.device("cpu")


def _smooth_images(batch, channels, height, width):
    """Low-frequency images, so a resize round trip loses little."""
    rows = torch.linspace(0, 1, height)[:, None]
    cols = torch.linspace(0, 1, width)[None, :]
    images = [
        torch.sin(2 * rows + 0.3 * k) * torch.cos(1.5 * cols - 0.2 * c)
        for k in range(batch)
        for c in range(channels)
    ]
    return torch.stack(images).reshape(batch, channels, height, width)


def _random_images(batch, channels, height, width, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(batch, channels, height, width, generator=generator)


# --- ImageGeometry.plan ---------------------------------------------------------------------


def test_plan_small_image_is_resized_to_16():
    """An 8×8 image is resized up to 16×16, which is already a power of two: no padding."""
    geometry = ImageGeometry.plan((1, 8, 8))
    assert geometry.side == 16
    assert geometry.resized == (16, 16)
    assert geometry.needs_resize
    assert geometry.padding == (0, 0, 0, 0)


def test_plan_28_pads_to_32_symmetrically():
    """A 28×28 image keeps its size and is padded by 2 on each side to 32."""
    geometry = ImageGeometry.plan((1, 28, 28))
    assert geometry.side == 32
    assert geometry.resized == (28, 28)
    assert not geometry.needs_resize
    assert geometry.padding == (2, 2, 2, 2)


def test_plan_240_rgb_pads_to_256():
    """A 3×240×240 image is padded by 8 on each side to 256."""
    geometry = ImageGeometry.plan((3, 240, 240))
    assert geometry.side == 256
    assert geometry.padding == (8, 8, 8, 8)
    assert geometry.image_shape == (3, 240, 240)


def test_plan_rectangular_pads_to_next_power_of_two_of_longer_side():
    """A 20×40 image goes to 64×64 with (left, right, top, bottom) = (12, 12, 22, 22)."""
    geometry = ImageGeometry.plan((1, 20, 40))
    assert geometry.side == 64
    assert geometry.resized == (20, 40)
    assert geometry.padding == (12, 12, 22, 22)


def test_plan_odd_padding_puts_extra_pixel_right_and_bottom():
    """An odd amount of padding puts the extra pixel on the right/bottom."""
    geometry = ImageGeometry.plan((1, 17, 29))
    assert geometry.side == 32
    assert geometry.padding == (1, 2, 7, 8)


def test_plan_power_of_two_side_is_unchanged():
    """A 32×32 image needs neither resize nor padding."""
    geometry = ImageGeometry.plan((2, 32, 32))
    assert geometry.side == 32
    assert not geometry.needs_resize
    assert geometry.padding == (0, 0, 0, 0)


def test_plan_one_short_side_resizes_only_that_side():
    """A 10×20 image resizes its short side to 16 and keeps the other."""
    geometry = ImageGeometry.plan((1, 10, 20))
    assert geometry.resized == (16, 20)
    assert geometry.side == 32
    assert geometry.padding == (6, 6, 8, 8)


# --- ImageGeometry.to_network / to_input ----------------------------------------------------


@pytest.mark.parametrize(
    "shape", [(1, 8, 8), (1, 28, 28), (3, 20, 40), (2, 17, 29), (1, 10, 20), (1, 16, 16)]
)
def test_to_network_gives_square_power_of_two_batch(shape):
    """to_network maps (B, C, H, W) to (B, C, S, S)."""
    geometry = ImageGeometry.plan(shape)
    out = geometry.to_network(_random_images(4, *shape))
    assert out.shape == (4, shape[0], geometry.side, geometry.side)


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 20, 40), (2, 17, 29), (1, 16, 16)])
def test_round_trip_is_exact_without_resize(shape):
    """Without a resize, to_input(to_network(x)) gives back x exactly."""
    geometry = ImageGeometry.plan(shape)
    x = _random_images(3, *shape)
    assert torch.equal(geometry.to_input(geometry.to_network(x)), x)


@pytest.mark.parametrize("shape", [(1, 8, 8), (1, 12, 12), (3, 10, 20), (1, 5, 9)])
def test_round_trip_is_close_with_resize_for_smooth_images(shape):
    """With a resize, the round trip returns the original shape and close values."""
    geometry = ImageGeometry.plan(shape)
    assert geometry.needs_resize
    x = _smooth_images(2, *shape)
    back = geometry.to_input(geometry.to_network(x))
    assert back.shape == x.shape
    error = (back - x).abs()
    # Antialiased down-sampling blurs a little, most at the borders; values stay close.
    assert error.mean().item() < 0.04
    assert error.max().item() < 0.1


def test_edge_padding_replicates_border_values():
    """Padding copies the nearest border pixel (replicate), not zeros."""
    geometry = ImageGeometry.plan((1, 28, 28))
    x = _random_images(2, 1, 28, 28)
    out = geometry.to_network(x)
    # Corners of the padded image take the corner pixel of the input.
    assert torch.equal(out[:, :, 0, 0], x[:, :, 0, 0])
    assert torch.equal(out[:, :, -1, -1], x[:, :, -1, -1])
    # Top padding rows repeat the first input row; left padding columns the first column.
    for row in range(2):
        assert torch.equal(out[:, :, row, 2:30], x[:, :, 0, :])
    for col in range(2):
        assert torch.equal(out[:, :, 2:30, col], x[:, :, :, 0])
    assert torch.equal(out[:, :, 31, 2:30], x[:, :, -1, :])
    assert torch.equal(out[:, :, 2:30, 31], x[:, :, :, -1])
    assert torch.equal(out[:, :, 2:30, 2:30], x)


# --- resolve_image_shape --------------------------------------------------------------------


def test_resolve_image_shape_adds_channel_to_2d_shape():
    """(H, W) becomes (1, H, W)."""
    assert resolve_image_shape((12, 20)) == (1, 12, 20)


def test_resolve_image_shape_keeps_3d_shape_as_ints():
    """(C, H, W) is kept, and numpy ints become Python ints."""
    shape = resolve_image_shape((np.int64(3), 8, 9))
    assert shape == (3, 8, 9)
    assert all(type(s) is int for s in shape)


@pytest.mark.parametrize("shape", [(1, 5), (5, 1), (3, 1, 8), (2, 8, 1)])
def test_resolve_image_shape_rejects_side_of_one(shape):
    """A side of 1 pixel is a ValueError."""
    with pytest.raises(ValueError, match="at least 2 pixels"):
        resolve_image_shape(shape)


def test_resolve_image_shape_rejects_zero_channels():
    """Zero channels is a ValueError."""
    with pytest.raises(ValueError, match="channel"):
        resolve_image_shape((0, 8, 8))


# --- PixelScaler ----------------------------------------------------------------------------


def _image_data():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, size=(10, 2, 4, 5))
    X[:, 0] = X[:, 0] * 10 - 3  # channel 0 in [-3, 7]
    X[:, 1] = X[:, 1] * 255  # channel 1 in [0, 255]
    return X


def test_pixel_scaler_fit_gives_per_channel_min_and_max():
    """fit on (n, C, H, W) learns one min and one max per channel."""
    X = _image_data()
    scaler = PixelScaler.fit([X])
    assert scaler.data_min.shape == (2,)
    assert scaler.data_max.shape == (2,)
    np.testing.assert_array_equal(scaler.data_min, [X[:, 0].min(), X[:, 1].min()])
    np.testing.assert_array_equal(scaler.data_max, [X[:, 0].max(), X[:, 1].max()])
    assert scaler.data_min.dtype == np.float64


def test_pixel_scaler_fit_on_tabular_data_is_per_feature():
    """fit on (n, n_features) learns one min and one max per feature."""
    X = np.array([[0.0, 10.0, -1.0], [2.0, 30.0, 1.0], [1.0, 20.0, 0.0]])
    scaler = PixelScaler.fit([X])
    np.testing.assert_array_equal(scaler.data_min, [0.0, 10.0, -1.0])
    np.testing.assert_array_equal(scaler.data_max, [2.0, 30.0, 1.0])
    out = scaler.transform(torch.tensor(X))
    torch.testing.assert_close(out[1], torch.ones(3, dtype=torch.float64))


def test_pixel_scaler_maps_training_extremes_to_minus_one_and_one():
    """The training minimum maps to -1 and the maximum to +1, per channel."""
    X = _image_data()
    scaler = PixelScaler.fit([X])
    out = scaler.transform(torch.tensor(X, dtype=torch.float32))
    for channel in range(2):
        assert out[:, channel].min().item() == pytest.approx(-1.0, abs=1e-6)
        assert out[:, channel].max().item() == pytest.approx(1.0, abs=1e-6)
    assert out.dtype == torch.float32


def test_pixel_scaler_does_not_clip_values_outside_training_range():
    """A value beyond the training maximum maps beyond +1."""
    scaler = PixelScaler.fit([np.array([[[[0.0]]], [[[10.0]]]])])
    out = scaler.transform(torch.tensor([[[[20.0]]]]))
    assert out.item() == pytest.approx(3.0)


def test_pixel_scaler_inverse_transform_round_trips():
    """inverse_transform(transform(x)) gives back x."""
    X = _image_data()
    scaler = PixelScaler.fit([X])
    x = torch.tensor(X, dtype=torch.float64)
    torch.testing.assert_close(scaler.inverse_transform(scaler.transform(x)), x)


def test_pixel_scaler_constant_channel_maps_to_minus_one_without_nan():
    """A constant channel gets a unit span: it maps to -1 with no division by zero."""
    X = _image_data()
    X[:, 1] = 4.0
    scaler = PixelScaler.fit([X])
    x = torch.tensor(X, dtype=torch.float32)
    out = scaler.transform(x)
    assert torch.isfinite(out).all()
    assert torch.equal(out[:, 1], torch.full_like(out[:, 1], -1.0))
    torch.testing.assert_close(scaler.inverse_transform(out), x)


# --- _validation ----------------------------------------------------------------------------


def test_check_params_accepts_valid_values():
    """Values that satisfy their rules pass silently."""
    rules = {"n": [Interval(Integral, 1, None)], "lr": [Interval(Real, 0, 1, closed="right")]}
    check_params({"n": 3, "lr": 1.0}, rules)


def test_check_params_out_of_range_is_value_error_naming_parameter_and_value():
    """An out-of-range number raises ValueError with the parameter name and the value."""
    rules = {"latent_dim": [Interval(Integral, 1, 512)]}
    with pytest.raises(ValueError, match=r"^latent_dim must be an int in \[1, 512\], got 0$"):
        check_params({"latent_dim": 0}, rules)
    with pytest.raises(ValueError, match=r"latent_dim .* got 1000$"):
        check_params({"latent_dim": 1000}, rules)


@pytest.mark.parametrize(
    ("closed", "value", "ok"),
    [
        ("both", 0.0, True),
        ("left", 1.0, False),
        ("right", 0.0, False),
        ("neither", 0.5, True),
        ("neither", 1.0, False),
    ],
)
def test_interval_closed_controls_which_ends_belong(closed, value, ok):
    """``closed`` decides whether each end of the interval is accepted."""
    assert Interval(Real, 0, 1, closed=closed).accepts(value) is ok


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_interval_rejects_non_finite_numbers(value):
    """NaN and inf are outside every interval, even an unbounded one."""
    assert not Interval(Real, None, None).accepts(value)


def test_check_params_string_for_number_is_type_error():
    """A string where a number is expected raises TypeError naming the parameter."""
    rules = {"lr": [Interval(Real, 0, None, closed="neither")]}
    with pytest.raises(TypeError, match="lr must be a finite number"):
        check_params({"lr": "0.01"}, rules)


@pytest.mark.parametrize("value", [True, False])
def test_check_params_rejects_bool_for_integral_interval(value):
    """A bool is not an int for an Integral interval, though Python says it is."""
    assert not Interval(Integral, 0, None).accepts(value)
    rules = {"epochs": [Interval(Integral, 0, None)]}
    with pytest.raises(ValueError, match=f"epochs must be an int .*, got {value}"):
        check_params({"epochs": value}, rules)


def test_check_params_rejects_numpy_bool_for_integral_interval():
    """A numpy bool is rejected too (as a TypeError: np.bool_ is not a number type)."""
    assert not Interval(Integral, 0, None).accepts(np.bool_(True))
    with pytest.raises((TypeError, ValueError), match="epochs"):
        check_params({"epochs": np.bool_(True)}, {"epochs": [Interval(Integral, 0, None)]})


def test_check_params_accepts_numpy_integer_for_integral_interval():
    """A numpy integer is an Integral and is accepted."""
    check_params({"epochs": np.int64(3)}, {"epochs": [Interval(Integral, 0, None)]})


def test_options_is_type_strict():
    """True is not accepted where 1 is an option, and 1 is not where True is."""
    assert Options((0, 1)).accepts(1)
    assert not Options((0, 1)).accepts(True)
    assert BOOL.accepts(True)
    assert not BOOL.accepts(1)
    assert not Options((1.0,)).accepts(1)


def test_check_params_options_error_lists_allowed_values():
    """A value outside an Options rule is a ValueError listing the options."""
    rules = {"adversarial_loss": [Options(("feature_matching", "bce"))]}
    with pytest.raises(ValueError, match=r"adversarial_loss must be one of 'feature_matching'"):
        check_params({"adversarial_loss": "wgan"}, rules)


def test_check_params_none_passes_with_none_rule_and_is_value_error_otherwise():
    """None passes a [NONE, Interval] rule; without NONE it is a ValueError, not TypeError."""
    check_params({"rank": None}, {"rank": [NONE, Interval(Integral, 0, None)]})
    with pytest.raises(ValueError, match="rank"):
        check_params({"rank": None}, {"rank": [Interval(Integral, 0, None)]})


def test_check_params_reports_first_bad_parameter():
    """With two bad parameters, the error names the first in rule order."""
    rules = {"a": [Interval(Integral, 1, None)], "b": [Interval(Integral, 1, None)]}
    with pytest.raises(ValueError, match=r"^a must"):
        check_params({"a": 0, "b": 0}, rules)


def test_instance_of_accepts_listed_types_only():
    """InstanceOf accepts instances of its types and rejects others."""
    rule = InstanceOf((str, torch.device), "a device")
    assert rule.accepts("cpu")
    assert rule.accepts(torch.device("cpu"))
    assert not rule.accepts(0)
    assert str(rule) == "a device"


@pytest.mark.parametrize("value", [None, (8, 8), [8, 8], (3, 8, 8), (np.int64(1), 4, 4)])
def test_image_shape_accepts_none_and_2d_or_3d_positive_ints(value):
    """ImageShape accepts None, (H, W) and (C, H, W) of positive ints."""
    assert ImageShape().accepts(value)


@pytest.mark.parametrize("value", [(0, 5), ("a", 2), (1, 2, 3, 4), (5,), (2.0, 3), (True, 4), 8])
def test_image_shape_rejects_bad_shapes(value):
    """ImageShape rejects zero sides, non-ints, bools, wrong lengths and non-sequences."""
    assert not ImageShape().accepts(value)


# --- _device --------------------------------------------------------------------------------


def test_resolve_device_cpu():
    """'cpu' and torch.device('cpu') resolve to the CPU."""
    assert resolve_device("cpu") == CPU
    assert resolve_device(CPU) == CPU


def test_resolve_device_auto_without_cuda_is_cpu(monkeypatch):
    """'auto' picks the CPU when CUDA is not available."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == CPU


@pytest.mark.parametrize("device", ["cuda", "cuda:0", torch.device("cuda")])
def test_resolve_device_cuda_without_cuda_is_value_error(monkeypatch, device):
    """An explicit CUDA device without CUDA is a ValueError, never a silent fall-back."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="CUDA is not available"):
        resolve_device(device)


@pytest.mark.parametrize("device", ["mps", "bogus", "meta", 3.5])
def test_resolve_device_unsupported_is_value_error(device):
    """Unsupported or malformed device names are a ValueError."""
    with pytest.raises(ValueError, match="device must be"):
        resolve_device(device)


def test_resolve_amp_dtype_false_on_cpu_is_none():
    """amp=False on the CPU means full precision (amp='auto': tests/integration/test_cpu_amp.py)."""
    assert resolve_amp_dtype(False, CPU) is None


def test_to_device_cpu_casts_without_copying_a_float32_batch():
    """On the CPU, to_device casts to the requested dtype; a float32 batch is not copied again
    (Samples.read already made it the caller's own array)."""
    batch = np.arange(6, dtype=np.float64).reshape(2, 3)
    tensor = to_device(batch, CPU, torch.float32)
    assert tensor.dtype == torch.float32
    assert tensor.device == CPU
    assert tensor.tolist() == batch.tolist()
    own = np.zeros((2, 3), dtype=np.float32)
    assert to_device(own, CPU, torch.float32).data_ptr() == own.ctypes.data


def test_samples_read_returns_a_new_writable_array_from_read_only_input():
    """Read-only and memory-mapped inputs are never aliased by the batches the networks see."""
    data = np.ones((4, 2, 2), dtype=np.float32)
    data.setflags(write=False)
    batch = Samples(data, (1, 2, 2)).read(slice(0, 2))
    assert batch.flags.writeable and not np.shares_memory(batch, data)
    tensor = to_device(batch, CPU, torch.float32)
    tensor += 1
    assert data[0, 0, 0] == 1.0


def test_state_to_cpu_copies_nested_tensors():
    """Nested dicts, lists and tuples are rebuilt with detached CPU copies of every tensor."""
    weight = torch.ones(2, requires_grad=True)
    state = {"model": {"w": weight, "steps": 3}, "groups": [torch.zeros(1), ("x", torch.ones(1))]}
    copy = state_to_cpu(state)
    assert copy["model"]["steps"] == 3
    assert isinstance(copy["groups"], list)
    assert isinstance(copy["groups"][1], tuple)
    assert copy["groups"][1][0] == "x"
    assert not copy["model"]["w"].requires_grad
    assert copy["model"]["w"].data_ptr() != weight.data_ptr()
    with torch.no_grad():
        weight.add_(5)
    assert torch.equal(copy["model"]["w"], torch.ones(2))
    assert copy["groups"][0] is not state["groups"][0]
    assert torch.equal(copy["groups"][0], torch.zeros(1))


def test_device_for_unpickling_cuda_without_cuda_warns_and_returns_cpu(monkeypatch):
    """A CUDA-fitted model is loaded on the CPU, with a DeviceWarning, when CUDA is absent."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(DeviceWarning, match="CUDA is not available"):
        assert device_for_unpickling(torch.device("cuda")) == CPU


def test_device_for_unpickling_cpu_is_unchanged(recwarn):
    """A CPU-fitted model stays on the CPU without any warning."""
    assert device_for_unpickling(CPU) == CPU
    assert not [w for w in recwarn if issubclass(w.category, DeviceWarning)]


# --- CUDA-only branches (skipped on CPU-only machines) -------------------------------------


@NO_CUDA
def test_to_device_cuda_pins_then_moves(monkeypatch):
    """On CUDA, to_device pins the host copy and returns the batch on the GPU."""
    original = torch.Tensor.pin_memory
    pinned = []

    def spy(self, *args, **kwargs):
        pinned.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, "pin_memory", spy)
    batch = np.arange(6, dtype=np.float64).reshape(2, 3)
    tensor = to_device(batch, torch.device("cuda"), torch.float32)
    assert pinned == [1]
    assert tensor.device.type == "cuda"
    assert tensor.dtype == torch.float32
    np.testing.assert_array_equal(tensor.cpu().numpy(), batch)


@NO_CUDA
def test_resolve_amp_dtype_on_cuda_is_bf16_or_fp16():
    """On CUDA, amp='auto' and True give bfloat16 where supported, else float16."""
    cuda = torch.device("cuda")
    expected = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    assert resolve_amp_dtype("auto", cuda) == expected
    assert resolve_amp_dtype(True, cuda) == expected
    assert resolve_amp_dtype(False, cuda) is None


@NO_CUDA
def test_resolve_device_cuda_available():
    """'auto' and 'cuda' resolve to CUDA; an index past the device count is a ValueError."""
    assert resolve_device("auto").type == "cuda"
    assert resolve_device("cuda") == torch.device("cuda")
    with pytest.raises(ValueError, match="CUDA device"):
        resolve_device(f"cuda:{torch.cuda.device_count()}")


@NO_CUDA
def test_device_for_unpickling_missing_cuda_index_goes_to_cuda0():
    """A model fitted on a GPU index this machine lacks is loaded on cuda:0 with a warning."""
    missing = torch.device("cuda", torch.cuda.device_count())
    with pytest.warns(DeviceWarning, match="does not exist here"):
        assert device_for_unpickling(missing) == torch.device("cuda:0")
    assert device_for_unpickling(torch.device("cuda:0")) == torch.device("cuda:0")


@NO_CUDA
def test_state_to_cpu_moves_cuda_tensors_to_cpu():
    """state_to_cpu brings CUDA tensors back to the CPU."""
    state = {"w": torch.ones(3, device="cuda")}
    assert state_to_cpu(state)["w"].device == CPU
