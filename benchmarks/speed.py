"""The speed benchmark: throughput, FLOPs, memory and scaling of skanogan beside PyOD.

``python -m benchmarks run --suite speed --profile quick|paper`` runs :func:`run_speed`, which
writes one JSON file (every figure, the profile, the command, :func:`~benchmarks.runner.
environment`) and a markdown file beside it (same stem, ``.md``) with one table per part:

1. **Throughput.** For each image side and channel count of the profile, the estimator's default
   architecture (``base_channels=64, latent_dim=100``) at batch 64 on synthetic, seeded uint8
   images: training images/s and scoring images/s, FLOPs per image, the achieved GFLOP/s and its
   ratio to the matmul peak (:func:`matmul_peak`) in the dtype the work ran in, measured in the
   same run on the same device with the same threads, and peak host (and CUDA) memory.
2. **Comparison.** skanogan, PyOD's AutoEncoder and DeepSVDD (training) and PyOD's AnoGAN
   (scoring by a latent search per sample), built as in the quality benchmark
   (:func:`~benchmarks.detectors.make_detector`), fitted and scored end to end on the
   same images, so that the docs can state ratios; skanogan's whole ``fit`` also gets its
   counted FLOPs (:func:`fit_flops`) over the same seconds, and their ratio to the peak.
3. **Memmap scaling.** Peak anonymous memory, peak RSS and seconds of ``decision_function`` on
   ``np.memmap`` inputs of growing ``n`` (created in a temporary folder and deleted afterwards),
   each ``n`` scored in a fresh process.
4. **Linearity** (paper profile). Seconds of ``fit`` for a few ``n`` and ``epochs``, with a
   least-squares line through each series.
5. **Profile.** :mod:`torch.profiler` self time of every operator over a few training steps,
   summed by kind (convolutions, matrix products, BatchNorm, Adam, SVD, copies, the rest), and
   the share of the wall time outside any operator (Python, reading the batch).
6. **Memory format.** A training step and a scoring pass with networks and batches in
   ``channels_last`` against the default layout (same weights and batches, interleaved
   repetitions, best of each): is it worth using on this device?

What is timed. Training: ``train_epoch`` on the fitted estimator's own networks and optimizers,
fed by the estimator's own batch path (rows read and converted to float32, copied to the device,
scaled to the network's range, exactly as ``fit`` does), over ``train_steps`` steps after
``warmup_steps`` warm-up steps. Timing ``fit`` itself would add one-off costs that do not scale
with the steps (building the networks, the threshold's scoring pass over the training set, the
per-epoch rollback snapshot); those appear in the comparison and linearity parts, which time
``fit`` end to end. Scoring: the public ``decision_function`` on ``score_images`` images after
one warm-up call, input validation included. On CUDA every timed block starts and ends with
``torch.cuda.synchronize``.

What FLOPs count. :func:`count_flops` uses ``torch.utils.flop_counter.FlopCounterMode``, which
counts matrix products and convolutions (forward and backward; a multiply-add is 2 FLOPs) but
not element-wise work (activations, BatchNorm, losses, Adam) or the rank term's SVD; a
convolution counts only the multiply-adds of real elements, not those on zero padding (which
FlopCounterMode's own formula includes: 12–21 % more for these networks, enough to put a rate
above the peak). Training FLOPs per image are those of one ``train_epoch`` step (G's forward
and backward, then D's) over the batch size; scoring FLOPs per image those of one
``decision_function`` call on a batch over its size. Achieved GFLOP/s = FLOPs/image ×
images/s; the fraction of peak divides it by the peak of the same dtype, measured with the
same threads (``docs/speed.md``, "How FLOPs and the peak are measured").

See Also
--------
benchmarks.runner : the quality benchmark, ``environment()`` and ``PeakMemory``.
benchmarks.detectors : how the PyOD detectors of the comparison are built and scored.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import gc
import json
import math
import multiprocessing
import shlex
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from benchmarks import detectors as det
from benchmarks.runner import PeakMemory, environment, precision_name
from benchmarks.speed_report import render_markdown
from skanogan import LatentRegularizedGAN
from skanogan.core._device import cpu_supports_bf16, resolve_amp_dtype, resolve_device
from skanogan.core._validation import validate_samples
from skanogan.io._files import write_atomically
from skanogan.models.lran.train_step import train_epoch

__all__ = [
    "SPEED_PROFILES",
    "SpeedProfile",
    "compute_dtype",
    "count_flops",
    "fit_flops",
    "matmul_peak",
    "run_speed",
]


@dataclass(frozen=True)
class SpeedProfile:
    """What one ``python -m benchmarks run --suite speed --profile NAME`` measures.

    ``estimator`` holds extra :class:`~skanogan.LatentRegularizedGAN` parameters (empty: the
    default architecture). ``matmul_sides`` are the sides of the square matmuls whose best
    GFLOP/s is the peak (``None``: :data:`PEAK_SIDES`), ``matmul_reps`` the timed products
    of each side. ``comparison_*`` configure part
    2 (``comparison_epochs`` passes over ``comparison_n_train`` images, then scoring of
    ``comparison_n_score`` images). ``memmap_n`` are the sizes of part 3, scored by a model
    with ``scaling_estimator``'s parameters; ``linearity`` the ``(n, epochs)`` fits of part 4.
    ``profile_shape`` is the ``(C, H, W)`` of the profiled training step (part 5);
    ``compile_shapes`` the ``(channels, side)`` measured again with ``compile=True`` in part 1.
    """

    name: str
    sizes: tuple[int, ...]
    channels: tuple[int, ...]
    warmup_steps: int
    train_steps: int
    score_images: int
    comparison_n_train: int
    comparison_epochs: int
    comparison_n_score: int
    memmap_n: tuple[int, ...]
    linearity: tuple[tuple[int, int], ...] = ()
    batch_size: int = 64
    estimator: dict[str, Any] = dataclasses.field(default_factory=dict)
    matmul_sides: tuple[int, ...] | None = None
    matmul_reps: int = 5
    comparison_shape: tuple[int, int, int] = (1, 32, 32)
    comparison_detectors: tuple[str, ...] = ("skanogan", "AutoEncoder", "DeepSVDD", "AnoGAN")
    anogan_iterations: int = det.ANOGAN_ITERATIONS
    scaling_side: int = 32
    scaling_estimator: dict[str, Any] = dataclasses.field(
        default_factory=lambda: {"base_channels": 8, "latent_dim": 16}
    )
    profile_shape: tuple[int, int, int] = (1, 64, 64)
    compile_shapes: tuple[tuple[int, int], ...] = ()
    memory_format_reps: int = 3
    seed: int = 0
    description: str = ""


SPEED_PROFILES: dict[str, SpeedProfile] = {
    "quick": SpeedProfile(
        name="quick",
        sizes=(32, 64, 128),
        channels=(1, 3),
        warmup_steps=2,
        train_steps=8,
        score_images=512,
        comparison_n_train=512,
        comparison_epochs=1,
        comparison_n_score=256,
        memmap_n=(1_000, 10_000, 100_000),
        description="32, 64 and 128 px, 1 and 3 channels, 8 timed training steps (float32 and, "
        "where the device has it, mixed precision); comparison on 512 training and 256 scored "
        "32 px images; memmaps of 1k, 10k and 100k images (about 10 minutes on 2 idle cores)",
    ),
    "paper": SpeedProfile(
        name="paper",
        sizes=(32, 64, 128),
        channels=(1, 3),
        warmup_steps=3,
        train_steps=30,
        score_images=2048,
        comparison_n_train=2048,
        comparison_epochs=3,
        comparison_n_score=1024,
        memmap_n=(10_000, 100_000, 1_000_000),
        linearity=((1_000, 1), (2_000, 1), (4_000, 1), (1_000, 2), (1_000, 4)),
        compile_shapes=((1, 64),),
        description="32, 64 and 128 px, 1 and 3 channels, 30 timed training steps; "
        "comparison on 2,048 training and 1,024 scored 32 px images for 3 epochs; memmaps of "
        "10k, 100k and 1M images (1 GB on disk, 4 GB as float32 in memory); fit for "
        "n = 1k, 2k, 4k and epochs = 1, 2, 4 (meant for a GPU: hours on 2 CPU cores)",
    ),
}


# ---------------------------------------------------------------------------- measuring


def _expand(value: Any, n: int) -> list[int]:
    values = [int(v) for v in (value if isinstance(value, (list, tuple)) else [value])]
    return values * n if len(values) == 1 else values


def _valid_taps(
    positions: int, kernel: int, stride: int, padding: int, dilation: int, bound: int
) -> int:
    """Pairs ``(a < positions, j < kernel)`` with ``0 <= a*stride - padding + j*dilation <
    bound``: along one dimension, the kernel taps that meet a real (not padding) element."""
    return sum(
        1
        for a in range(positions)
        for j in range(kernel)
        if 0 <= a * stride - padding + j * dilation < bound
    )


def _conv_macs(
    x_shape: Any,
    w_shape: Any,
    out_shape: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    transposed: bool,
) -> int:
    """Multiply-adds of a convolution whose two operands are both real elements.

    A regular convolution pairs each output position with the kernel taps that land inside the
    input; a transposed one pairs each input position with the taps that land inside the
    (cropped) output. Taps on zero padding, and outputs a transposed convolution computes only
    to crop them, are left out. Weights are ``(C_out, C_in / groups, k...)`` (regular) or
    ``(C_in, C_out / groups, k...)`` (transposed): ``N * w[0] * w[1]`` channel pairs either way.
    """
    spatial = len(x_shape) - 2
    stride, padding, dilation = (_expand(v, spatial) for v in (stride, padding, dilation))
    taps = 1
    for d in range(spatial):
        x, out, k = x_shape[2 + d], out_shape[2 + d], w_shape[2 + d]
        positions, bound = (x, out) if transposed else (out, x)
        taps *= _valid_taps(positions, k, stride[d], padding[d], dilation[d], bound)
    return x_shape[0] * w_shape[0] * w_shape[1] * taps


def _conv_flop(
    x_shape, w_shape, _bias, stride, padding, dilation, transposed, *args, out_shape=None, **kwargs
) -> int:
    return 2 * _conv_macs(x_shape, w_shape, out_shape, stride, padding, dilation, transposed)


def _conv_backward_flop(
    grad_out_shape,
    x_shape,
    w_shape,
    _bias,
    stride,
    padding,
    dilation,
    transposed,
    _output_padding,
    _groups,
    output_mask,
    out_shape=None,
    **kwargs,
) -> int:
    """The input's and the weight's gradients each pair the same elements as the forward."""
    forward = _conv_macs(x_shape, w_shape, grad_out_shape, stride, padding, dilation, transposed)
    return 2 * forward * (int(bool(output_mask[0])) + int(bool(output_mask[1])))


#: FlopCounterMode's formulas replaced by :func:`count_flops`: convolutions without padding.
_UNPADDED_CONVOLUTIONS = {
    torch.ops.aten.convolution: _conv_flop,
    torch.ops.aten._convolution: _conv_flop,
    torch.ops.aten.convolution_backward: _conv_backward_flop,
}


def count_flops(fn: Callable[[], Any], *, padding: bool = False) -> int:
    """FLOPs of the matrix products and convolutions run by ``fn()`` (forward and backward).

    Counted by ``torch.utils.flop_counter.FlopCounterMode``: a multiply-add is 2 FLOPs;
    element-wise operations, normalisation and optimizer updates are not counted. A
    convolution counts only the multiply-adds whose two operands are real elements
    (:func:`_conv_macs`): FlopCounterMode's own formula (``padding=True``) also counts every
    kernel tap on zero padding and, for a transposed convolution, the border outputs computed
    only to be cropped. Those products need not be executed (oneDNN skips them), and at the
    8×8 and 4×4 maps of these networks they are 12 % and 23 % of a layer's taps, so counting
    them can put the achieved rate above the machine's peak. Where no padding is involved the two
    counts agree.

    Examples
    --------
    >>> count_flops(lambda: torch.nn.Linear(3, 5)(torch.ones(2, 3)))  # 2 * 2 * 3 * 5
    60
    >>> conv = torch.nn.Conv2d(1, 1, kernel_size=3, padding=1, bias=False)
    >>> x = torch.ones(1, 1, 4, 4)
    >>> count_flops(lambda: conv(x)), count_flops(lambda: conv(x), padding=True)  # 2·10², 2·12²
    (200, 288)
    """
    counter = FlopCounterMode(
        display=False, custom_mapping=None if padding else _UNPADDED_CONVOLUTIONS
    )
    with counter:
        fn()
    return int(counter.get_total_flops())


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(fn: Callable[[], Any], device: torch.device) -> float:
    """Seconds of ``fn()``, the device synchronised before and after."""
    _sync(device)
    start = time.perf_counter()
    fn()
    _sync(device)
    return time.perf_counter() - start


#: Sides of the square products :func:`matmul_peak` tries, smallest first, per device type.
PEAK_SIDES = {"cuda": (2048, 4096, 8192), "cpu": (512, 1024, 2048, 4096)}


def matmul_peak(
    device: torch.device,
    *,
    dtype: torch.dtype = torch.float32,
    sides: tuple[int, ...] | None = None,
    reps: int = 5,
    warmup: int = 2,
    threads: int | None = None,
    max_product_seconds: float = 1.0,
) -> dict[str, Any]:
    """The peak GFLOP/s of square ``dtype`` matmuls on ``device``, run with ``threads`` threads.

    For each side (:data:`PEAK_SIDES` of the device type unless given), smallest first:
    ``warmup`` products, then ``reps`` timed ones; the peak is the best rate over every side
    and repetition (``median_gflops``: the median repetition of that side). A side is skipped,
    with every larger one, when its product would take over ``max_product_seconds`` (8× the
    best time of the side before): emulated bfloat16 runs at a few GFLOP/s. ``threads``
    (default: the current count) is set for the measurement and restored afterwards: the peak
    must use the threads the timed run uses.
    """
    sides = tuple(sorted(sides or PEAK_SIDES.get(device.type, PEAK_SIDES["cpu"])))
    previous = torch.get_num_threads()
    threads = threads or previous
    generator = torch.Generator().manual_seed(0)
    per_side: list[dict[str, Any]] = []
    skipped: list[int] = []
    torch.set_num_threads(threads)
    try:
        for side in sides:
            if per_side and per_side[-1]["best_seconds"] * (side / per_side[-1]["side"]) ** 3 > (
                max_product_seconds
            ):
                skipped = [s for s in sides if s >= side]
                break
            a = torch.randn(side, side, generator=generator).to(device, dtype)
            b = torch.randn(side, side, generator=generator).to(device, dtype)
            out = torch.empty(side, side, device=device, dtype=dtype)
            product = functools.partial(torch.mm, a, b, out=out)
            for _ in range(warmup):
                product()
            seconds = [_timed(product, device) for _ in range(reps)]
            flops = 2 * side**3
            per_side.append(
                {
                    "side": side,
                    "best_seconds": min(seconds),
                    "gflops": flops / min(seconds) / 1e9,
                    "median_gflops": flops / float(np.median(seconds)) / 1e9,
                }
            )
    finally:
        torch.set_num_threads(previous)
    best = max(per_side, key=lambda row: row["gflops"])
    return {
        "dtype": str(dtype).removeprefix("torch."),
        "threads": threads,
        "reps": reps,
        "warmup": warmup,
        "sides": [row["side"] for row in per_side],
        "skipped_sides": skipped,
        "per_side": per_side,
        **best,
    }


#: CPU flags that decide the speed of float32 and bfloat16 work, printed beside the figures.
_ISA_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile", "asimd", "bf16", "sve")


def instruction_sets() -> list[str]:
    """Which of :data:`_ISA_FLAGS` this CPU reports (``/proc/cpuinfo``; empty elsewhere)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    flags = set()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            flags.update(line.split(":", 1)[1].split())
    return [flag for flag in _ISA_FLAGS if flag in flags]


def mixed_precision_available(device: torch.device) -> bool:
    """Whether ``amp=True`` runs on ``device``: any CUDA device, a CPU with native bfloat16."""
    return device.type == "cuda" or cpu_supports_bf16()


def compute_dtype(model: LatentRegularizedGAN) -> torch.dtype:
    """The dtype the fitted ``model``'s convolutions and matmuls run in: its autocast dtype,
    else its networks' dtype; the peak of the same dtype is the one to compare with."""
    return model.amp_dtype_ or model._dtype


def _images(rng: np.random.Generator, n: int, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(0, 256, size=(n, *shape), dtype=np.uint8)


def _estimator(profile: SpeedProfile, epochs: int = 1) -> LatentRegularizedGAN:
    params = {
        "epochs": epochs,
        "batch_size": profile.batch_size,
        "device": "auto",
        "random_state": profile.seed,
    }
    return LatentRegularizedGAN(**{**params, **profile.estimator})


def _training_batches(
    model: LatentRegularizedGAN, samples: Any, rows: list[Any]
) -> Iterator[torch.Tensor]:
    """fit's own batch path: rows read as float32 -> device -> network range and size."""
    for selection in rows:
        yield model._to_network(model._scaled(samples.read(selection)))


PeakOf = Callable[[torch.dtype], dict[str, Any]]


def _fractions(gflops: dict[str, float], dtype: torch.dtype, peak_of: PeakOf) -> dict[str, Any]:
    """Each ``{part}_gflops`` over the peak of the dtype the work ran in (and, for a dtype
    other than float32, over the float32 peak too)."""
    row: dict[str, Any] = {
        "compute_dtype": str(dtype).removeprefix("torch."),
        "peak_gflops": peak_of(dtype)["gflops"],
    }
    for key, value in gflops.items():
        part = key.removesuffix("_gflops")
        row[f"{part}_fraction_of_peak"] = value / row["peak_gflops"]
        if dtype != torch.float32:
            row[f"{part}_fraction_of_float32_peak"] = value / peak_of(torch.float32)["gflops"]
    return row


def _throughput(
    profile: SpeedProfile,
    side: int,
    channels: int,
    peak_of: PeakOf,
    compile: bool = False,
    amp: bool | str = "auto",
) -> dict[str, Any]:
    """Part 1 for one image shape: training and scoring images/s, FLOPs, memory.

    With ``compile``, the estimator's ``compile=True`` networks; the warm-up steps and calls
    compile them, outside the timed blocks. ``amp`` is the estimator's parameter (``False``:
    float32, ``True``: mixed precision). ``peak_of(dtype)`` is the run's matmul peak in that
    dtype (:func:`matmul_peak`, measured with the threads used here).
    """
    rng = np.random.default_rng(profile.seed)
    batch = profile.batch_size
    steps = profile.warmup_steps + profile.train_steps
    X_train = _images(rng, steps * batch, (channels, side, side))
    X_score = _images(rng, profile.score_images, (channels, side, side))
    with PeakMemory() as memory:
        # One fit epoch on two batches builds the networks and optimizers and warms them up.
        model = _estimator(profile).set_params(compile=compile, amp=amp).fit(X_train[: 2 * batch])
        device = model.device_
        samples = validate_samples(model, X_train, reset=False)
        nets, config = model._runtime_networks(), model._train_config()

        order = rng.permutation(len(samples))

        def batches(first: int, count: int):
            steps = range(first, first + count)
            rows = [np.sort(order[step * batch : (step + 1) * batch]) for step in steps]
            return _training_batches(model, samples, rows)

        train_epoch(nets, model.optimizers_, batches(0, profile.warmup_steps), config)
        train_s = _timed(
            lambda: train_epoch(
                nets, model.optimizers_, batches(profile.warmup_steps, profile.train_steps), config
            ),
            device,
        )
        model.decision_function(X_score[: model.eval_batch_size])
        score_s = _timed(lambda: model.decision_function(X_score), device)
    threads = torch.get_num_threads()
    # The same arithmetic with or without compile; FlopCounterMode counts the plain modules.
    # Both counts are of the very work timed above: one training step of the same batch size
    # (what each timed step runs), one decision_function call (per image; linear in n).
    model.set_params(compile=False)
    nets = model.networks_
    counted = {}
    for padding in (False, True):
        step = count_flops(
            lambda: train_epoch(nets, model.optimizers_, batches(0, 1), config), padding=padding
        )
        score = count_flops(lambda: model.decision_function(X_score[:batch]), padding=padding)
        counted[padding] = (step / batch, score / batch)
    (train_flops, score_flops), (train_padded, score_padded) = counted[False], counted[True]
    train_rate = profile.train_steps * batch / train_s
    score_rate = profile.score_images / score_s
    gflops = {
        "train_gflops": train_flops * train_rate / 1e9,
        "score_gflops": score_flops * score_rate / 1e9,
    }
    return {
        "image_size": side,
        "channels": channels,
        "compile": compile,
        "amp": amp,
        "batch_size": batch,
        "train_steps": profile.train_steps,
        "train_seconds": train_s,
        "train_images_per_s": train_rate,
        "score_images": profile.score_images,
        "score_seconds": score_s,
        "score_images_per_s": score_rate,
        "threads": threads,
        "train_gflop_per_image": train_flops / 1e9,
        "score_gflop_per_image": score_flops / 1e9,
        "train_gflop_per_image_with_padding": train_padded / 1e9,
        "score_gflop_per_image_with_padding": score_padded / 1e9,
        **gflops,
        **_fractions(gflops, compute_dtype(model), peak_of),
        "peak_host_mib": round(memory.host_mib, 1),
        "peak_device_mib": memory.device_mib,
    }


def _by_batch_size(sizes: list[int], count_at: Callable[[int], int]) -> int:
    """``count_at(size)`` summed over batches of these ``sizes``, counted once per size."""
    return sum(sizes.count(size) * count_at(size) for size in set(sizes))


def _batch_sizes(n: int, size: int) -> list[int]:
    return [min(size, n - start) for start in range(0, n, size)]


def fit_flops(model: LatentRegularizedGAN, X: Any) -> dict[str, int] | None:
    """Counted FLOPs (:func:`count_flops`) of the ``model.fit(X)`` that fitted ``model``, by part.

    ``training``: every training step of every epoch, each counted at its own batch size (the
    batches of :class:`~skanogan.training.Batches`: a last batch of one is not trained on).
    ``training_codes``: the pass over the training rows whose codes the densities are fitted
    on. ``scoring``: the pass that scores every row (training and validation) for the
    threshold and the score scaler. Nothing else in ``fit`` runs a matrix product or a
    convolution (building the networks, the rollback snapshots, the density fits in NumPy).
    The counts run on a copy of ``model``, which is left as it is. ``None`` when ``fit``
    restarted D: a restart retries part of an epoch, which the history does not record.
    """
    from skanogan.training import Batches

    if any(record["d_restarts"] for record in model.history_):
        return None
    clone = copy.deepcopy(model).set_params(compile=False)
    samples = validate_samples(clone, X, reset=False)
    n = len(samples)
    n_val = math.ceil(clone.validation_fraction * n) if clone.validation_fraction else 0
    n_train = n - n_val
    batches = Batches(n_train, clone.batch_size)
    step_sizes = [len(rows) for rows in batches.rows(np.arange(n_train))]
    nets, config = clone.networks_, clone._train_config()
    rows_of = {size: np.arange(size) for size in step_sizes}

    def step(size: int) -> int:
        data = _training_batches(clone, samples, [rows_of[size]])
        return count_flops(lambda: train_epoch(nets, clone.optimizers_, data, config))

    def reconstruct(size: int) -> int:
        return count_flops(lambda: clone.reconstruct(X[:size]))

    def score(size: int) -> int:
        return count_flops(lambda: clone.decision_function(X[:size]))

    eval_size = clone.eval_batch_size
    return {
        "training": len(model.history_) * _by_batch_size(step_sizes, step),
        "training_codes": _by_batch_size(_batch_sizes(n_train, eval_size), reconstruct),
        "scoring": _by_batch_size(_batch_sizes(n, eval_size), score),
    }


def _fit_rate(
    model: LatentRegularizedGAN, X: Any, fit_seconds: float, peak_of: PeakOf
) -> dict[str, Any]:
    """The counted FLOPs of ``model.fit(X)`` (by part) over its ``fit_seconds``, and the
    ratio to the peak: numerator and denominator cover the same work."""
    parts = fit_flops(model, X)
    if parts is None:
        return {"fit_gflop": None}
    gflops = {"fit_gflops": sum(parts.values()) / 1e9 / fit_seconds}
    return {
        "fit_gflop": sum(parts.values()) / 1e9,
        "fit_gflop_parts": {part: flops / 1e9 for part, flops in parts.items()},
        "threads": torch.get_num_threads(),
        **gflops,
        **_fractions(gflops, compute_dtype(model), peak_of),
    }


def _comparison(
    profile: SpeedProfile,
    models: dict[str, Any],
    device: torch.device,
    log: Callable[[str], None],
    peak_of: PeakOf | None = None,
) -> list[dict[str, Any]]:
    """Part 2: every detector fitted and scored end to end on the same images.

    skanogan's row also has the counted FLOPs of its whole ``fit`` (:func:`fit_flops`: the
    training steps and both passes over the training set), over the same ``fit_seconds``, and
    their ratio to the peak (``peak_of``) of the dtype it computed in.
    """
    rng = np.random.default_rng(profile.seed)
    X_train = _images(rng, profile.comparison_n_train, profile.comparison_shape)
    X_score = _images(rng, profile.comparison_n_score, profile.comparison_shape)
    rows = []
    for name, model in models.items():
        train, test = det.prepare_inputs(name, X_train), det.prepare_inputs(name, X_score)
        with PeakMemory() as memory, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyOD's deprecation chatter, not results
            fit_s = _timed(lambda m=model, x=train: m.fit(x), device)
            score_s = _timed(lambda n=name, m=model, x=test: det.score(n, m, x), device)
        rows.append(
            {
                "detector": name,
                "scoring": det.spec(name).scoring,
                "batch_size": getattr(model, "batch_size", None),
                "epochs": profile.comparison_epochs,
                "n_train": len(X_train),
                "n_score": len(X_score),
                "fit_seconds": fit_s,
                "score_seconds": score_s,
                # Image-epochs per second of fit: comparable whatever the number of passes.
                "train_images_per_s": len(X_train) * profile.comparison_epochs / fit_s,
                "score_images_per_s": len(X_score) / score_s,
                "peak_host_mib": round(memory.host_mib, 1),
                "peak_device_mib": memory.device_mib,
            }
        )
        if name == "skanogan" and peak_of is not None:
            rows[-1].update(_fit_rate(model, train, fit_s, peak_of))
        log(f"comparison {name}: fit {fit_s:.2f} s, score {score_s:.2f} s")
    reference = rows[0]
    for row in rows:
        for key in ("train_images_per_s", "score_images_per_s"):
            row[key.replace("images_per_s", "ratio_to_first")] = row[key] / reference[key]
    return rows


def _memmap_scaling(profile: SpeedProfile, log: Callable[[str], None]) -> list[dict[str, Any]]:
    """Part 3: ``decision_function`` on memmaps of growing ``n``: seconds and peak RSS.

    Each ``n`` is scored in a fresh process, so that its peak RSS is not hidden by memory that
    earlier parts freed but this process kept.
    """
    rng = np.random.default_rng(profile.seed)
    shape = (1, profile.scaling_side, profile.scaling_side)
    model = LatentRegularizedGAN(
        **{**_estimator(profile).get_params(), **profile.scaling_estimator}
    )
    model.fit(_images(rng, 2 * profile.batch_size, shape))
    rows = []
    with tempfile.TemporaryDirectory(prefix="skanogan-speed-") as folder:
        for n in profile.memmap_n:
            path = Path(folder) / f"images-{n}.uint8"
            writer = np.memmap(path, dtype=np.uint8, mode="w+", shape=(n, *shape))
            for start in range(0, n, 65_536):
                stop = min(n, start + 65_536)
                writer[start:stop] = _images(rng, stop - start, shape)
            writer.flush()
            del writer
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
                job = pool.submit(
                    _score_memmap, model, str(path), (n, *shape), torch.get_num_threads()
                )
                row = job.result()
            rows.append({"n": n, "image_size": profile.scaling_side, "channels": 1, **row})
            path.unlink()
            log(
                f"memmap n={n}: {row['seconds']:.1f} s, peak anonymous memory "
                f"+{row['peak_anon_increase_mib']:.0f} MiB, peak RSS "
                f"+{row['peak_rss_increase_mib']:.0f} MiB"
            )
    return rows


def _score_memmap(
    model: LatentRegularizedGAN, path: str, shape: tuple[int, ...], threads: int
) -> dict[str, Any]:
    """In a fresh process: seconds and peak RSS of ``decision_function`` on the memmap."""
    torch.set_num_threads(threads)
    images = np.memmap(path, dtype=np.uint8, mode="r", shape=shape)
    model.decision_function(images[:2])  # warm-up: lazy imports, kernels, allocator
    gc.collect()
    before, anon_before = PeakMemory.rss_mib(), PeakMemory.anon_rss_mib()
    with PeakMemory() as memory:
        seconds = _timed(lambda: model.decision_function(images), model.device_)
    anon_increase = None if anon_before is None else memory.anon_mib - anon_before
    return {
        "seconds": seconds,
        "images_per_s": shape[0] / seconds,
        "input_mib": images.nbytes / 2**20,
        "input_float32_mib": 4 * images.nbytes / 2**20,
        "rss_before_mib": round(before, 1),
        "peak_rss_mib": round(memory.host_mib, 1),
        "peak_rss_increase_mib": round(memory.host_mib - before, 1),
        "anon_before_mib": anon_before,
        "peak_anon_increase_mib": None if anon_increase is None else round(anon_increase, 1),
        "output_mib": shape[0] * 8 / 2**20,
        "peak_device_mib": memory.device_mib,
    }


#: Operator-name fragments of each category of :func:`_profile_step`, matched in this order.
_OP_CATEGORIES = (
    ("convolution", ("conv", "cudnn")),
    ("matmul", ("addmm", "matmul", "::mm", "bmm", "linear")),
    ("batch norm", ("batch_norm",)),
    ("optimizer", ("adam", "_foreach", "optimizer")),
    ("svd (rank term)", ("svd",)),
    ("copies and casts", ("copy", "::to", "contiguous", "clone")),
)


def _category(name: str) -> str:
    lowered = name.lower()
    for category, fragments in _OP_CATEGORIES:
        if any(fragment in lowered for fragment in fragments):
            return category
    return "other element-wise"


def _profile_step(profile: SpeedProfile, device: torch.device) -> dict[str, Any]:
    """Part 5: where the time of a training step goes, by :mod:`torch.profiler`.

    Self time of every operator over 3 steps at ``profile_shape``, summed by
    category; the wall time not spent in any operator is Python and data reading.
    """
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as run_profiler

    rng = np.random.default_rng(profile.seed)
    batch = profile.batch_size
    steps = 3
    X = _images(rng, (steps + 2) * batch, profile.profile_shape)
    model = _estimator(profile).fit(X[: 2 * batch])
    samples = validate_samples(model, X, reset=False)
    nets, config = model._runtime_networks(), model._train_config()

    def batches(first: int, count: int):
        rows = [slice(step * batch, (step + 1) * batch) for step in range(first, first + count)]
        return _training_batches(model, samples, rows)

    train_epoch(nets, model.optimizers_, batches(0, 1), config)
    activities = [ProfilerActivity.CPU]
    if device.type == "cuda":
        activities.append(ProfilerActivity.CUDA)
    with run_profiler(activities=activities) as prof:
        wall = _timed(
            lambda: train_epoch(nets, model.optimizers_, batches(1, steps), config), device
        )
    attribute = "self_device_time_total" if device.type == "cuda" else "self_cpu_time_total"
    events = [(e.key, getattr(e, attribute) / 1e3, e.count) for e in prof.key_averages()]
    events = [e for e in events if e[1] > 0]
    total_ms = sum(ms for _, ms, _ in events)
    categories: dict[str, float] = {}
    for name, ms, _ in events:
        categories[_category(name)] = categories.get(_category(name), 0.0) + ms
    top = sorted(events, key=lambda e: -e[1])[:10]
    return {
        "image_shape": list(profile.profile_shape),
        "batch_size": batch,
        "steps": steps,
        "clock": "device" if device.type == "cuda" else "cpu",
        "wall_ms_per_step": 1e3 * wall / steps,
        "operator_ms_per_step": total_ms / steps,
        "outside_operators_fraction": max(0.0, 1 - total_ms / (1e3 * wall)),
        "categories": {
            name: ms / total_ms for name, ms in sorted(categories.items(), key=lambda c: -c[1])
        },
        "top": [
            {"operator": name, "ms_per_step": ms / steps, "fraction": ms / total_ms, "calls": n}
            for name, ms, n in top
        ],
    }


def _memory_format(profile: SpeedProfile, device: torch.device) -> dict[str, Any]:
    """Part 6: a training step and a scoring pass with the networks and batches in
    ``channels_last`` against the default layout: same weights, same batches, repetitions
    interleaved, the best time of each kept."""
    rng = np.random.default_rng(profile.seed)
    batch, steps = profile.batch_size, 3
    X = _images(rng, steps * batch, profile.profile_shape)
    model = _estimator(profile).fit(X[: 2 * batch])
    samples = validate_samples(model, X, reset=False)
    rows = [slice(step * batch, (step + 1) * batch) for step in range(steps)]
    batches = [b.contiguous() for b in _training_batches(model, samples, rows)]
    config = model._train_config()
    layouts = {}
    for name, layout in (
        ("contiguous", torch.contiguous_format),
        ("channels_last", torch.channels_last),
    ):
        clone = copy.deepcopy(model)
        nets = clone.networks_
        for module in nets.modules().values():
            module.to(memory_format=layout)
        layouts[name] = (clone, nets, [b.contiguous(memory_format=layout) for b in batches])

    def train(name: str) -> None:
        clone, nets, data = layouts[name]
        train_epoch(nets, clone.optimizers_, data, config)

    def score(name: str) -> None:
        _, nets, data = layouts[name]
        for module in nets.modules().values():
            module.eval()
        with torch.inference_mode():
            for x in data:
                nets.aux_encoder(nets.decoder(nets.encoder(x)))

    best: dict[str, dict[str, float]] = {"train": {}, "score": {}}
    for name in layouts:  # warm-up: first calls pick and cache kernels
        train(name)
        score(name)
    for _ in range(profile.memory_format_reps):
        for name in layouts:
            for part, fn in (("train", train), ("score", score)):
                seconds = _timed(lambda f=fn, n=name: f(n), device)
                best[part][name] = min(best[part].get(name, np.inf), seconds)
    return {
        "image_shape": list(profile.profile_shape),
        "batch_size": batch,
        "steps": steps,
        "reps": profile.memory_format_reps,
        **{
            f"{part}_ms_per_step_{name}": 1e3 * seconds / steps
            for part, times in best.items()
            for name, seconds in times.items()
        },
        "train_speedup": best["train"]["contiguous"] / best["train"]["channels_last"],
        "score_speedup": best["score"]["contiguous"] / best["score"]["channels_last"],
    }


def _line(x: list[float], y: list[float]) -> dict[str, float] | None:
    """Least-squares ``y = intercept + slope * x`` and its R² (``None`` under 2 distinct x)."""
    if len(set(x)) < 2:
        return None
    slope, intercept = np.polyfit(x, y, 1)
    residual = np.asarray(y) - (intercept + slope * np.asarray(x))
    total = float(np.sum((np.asarray(y) - np.mean(y)) ** 2))
    r2 = 1.0 - float(np.sum(residual**2)) / total if total > 0 else 1.0
    return {"slope": float(slope), "intercept": float(intercept), "r2": r2}


def _linearity(
    profile: SpeedProfile, device: torch.device, log: Callable[[str], None]
) -> dict[str, Any]:
    """Part 4: seconds of ``fit`` for each ``(n, epochs)``, and a line per series."""
    rng = np.random.default_rng(profile.seed)
    shape = (1, profile.scaling_side, profile.scaling_side)
    rows = []
    for n, epochs in profile.linearity:
        X = _images(rng, n, shape)
        model = _estimator(profile, epochs=epochs)
        seconds = _timed(lambda m=model, x=X: m.fit(x), device)
        rows.append(
            {
                "n": n,
                "epochs": epochs,
                "seconds": seconds,
                "image_epochs_per_s": n * epochs / seconds,
            }
        )
        log(f"linearity n={n} epochs={epochs}: fit {seconds:.1f} s")
    fits = {}
    if rows:
        epochs0 = min(r["epochs"] for r in rows)
        n0 = min(r["n"] for r in rows)
        by_n = [r for r in rows if r["epochs"] == epochs0]
        by_epochs = [r for r in rows if r["n"] == n0]
        fits["seconds_vs_n"] = _line([r["n"] for r in by_n], [r["seconds"] for r in by_n])
        fits["seconds_vs_epochs"] = _line(
            [r["epochs"] for r in by_epochs], [r["seconds"] for r in by_epochs]
        )
        fits["at_epochs"], fits["at_n"] = epochs0, n0
    return {"rows": rows, "fits": fits}


# ---------------------------------------------------------------------------- the run


def run_speed(
    profile: str | SpeedProfile,
    results: Path,
    *,
    command: str | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run every part of ``profile``; write ``results`` (JSON) and its ``.md`` beside it.

    Parameters
    ----------
    profile : str or SpeedProfile
        A name in :data:`SPEED_PROFILES`, or a profile.
    results : Path
        The JSON file to write (replaced if it exists); the markdown file is
        ``results.with_suffix(".md")``. Its folder is created.
    command : str, optional
        The command recorded in the results (default: this process's command line).
    log : callable
        Called with one line per measurement.

    Returns
    -------
    record : dict
        What was written to ``results``.
    """
    if isinstance(profile, str):
        if profile not in SPEED_PROFILES:
            raise ValueError(f"profile must be one of {list(SPEED_PROFILES)}, got {profile!r}")
        profile = SPEED_PROFILES[profile]
    results = Path(results)
    results.parent.mkdir(parents=True, exist_ok=True)
    # Build the comparison's detectors first: a missing PyOD fails now, not after minutes.
    settings = {
        "epochs": profile.comparison_epochs,
        "image_shape": profile.comparison_shape,
        "anogan_iterations": profile.anogan_iterations,
        "skanogan": {"batch_size": profile.batch_size, **profile.estimator},
    }
    models = {
        name: det.make_detector(name, seed=profile.seed, settings=settings)
        for name in profile.comparison_detectors
    }
    started = time.perf_counter()
    probe = _estimator(profile)
    device = resolve_device(probe.device)
    amp_dtype = resolve_amp_dtype(probe.amp, device)
    record: dict[str, Any] = {
        "suite": "speed",
        "profile": profile.name,
        "settings": dataclasses.asdict(profile),
        "command": command or shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "device": str(device),
        "amp_dtype": None if amp_dtype is None else precision_name(amp_dtype),
        "instruction_sets": instruction_sets(),
        "torch_flags": {
            "matmul_allow_tf32": torch.backends.cuda.matmul.allow_tf32,
            "cudnn_allow_tf32": torch.backends.cudnn.allow_tf32,
            "float32_matmul_precision": torch.get_float32_matmul_precision(),
        },
        "environment": environment(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    # Every timed part runs with these threads; so does every peak (measured once per dtype).
    threads = torch.get_num_threads()
    record["threads"] = threads
    peaks: dict[str, dict[str, Any]] = {}

    def peak_of(dtype: torch.dtype) -> dict[str, Any]:
        name = str(dtype).removeprefix("torch.")
        if name not in peaks:
            peaks[name] = matmul_peak(
                device,
                dtype=dtype,
                sides=profile.matmul_sides,
                reps=profile.matmul_reps,
                threads=threads,
            )
            peak = peaks[name]
            log(
                f"{name} matmul peak: {peak['gflops']:.3g} GFLOP/s ({peak['side']}x"
                f"{peak['side']}, {threads} threads) on {device}"
            )
        return peaks[name]

    record["matmul"] = peak_of(torch.float32)
    if amp_dtype is not None:
        record["matmul_amp"] = peak_of(amp_dtype)
    record["peaks"] = peaks
    record["throughput"] = []
    # Each shape in float32 and, where this device has it, in mixed precision: the two rows
    # that decide amp="auto"; the compiled rows run with the default amp.
    amps: list[bool | str] = [False, True] if mixed_precision_available(device) else [False]
    shapes = [
        (side, channels, False, amp)
        for side in profile.sizes
        for channels in profile.channels
        for amp in amps
    ]
    shapes += [(side, channels, True, "auto") for channels, side in profile.compile_shapes]
    for side, channels, compile, amp in shapes:
        row = _throughput(profile, side, channels, peak_of, compile, amp)
        record["throughput"].append(row)
        label = f"{side} px x{channels} {row['compute_dtype']}{' compiled' if compile else ''}"
        log(
            f"{label}: train {row['train_images_per_s']:.1f} img/s "
            f"({row['train_fraction_of_peak']:.0%} of peak), score "
            f"{row['score_images_per_s']:.1f} img/s ({row['score_fraction_of_peak']:.0%})"
        )
    record["profile_step"] = _profile_step(profile, device)
    log(
        "training step profile: "
        + ", ".join(f"{k} {v:.0%}" for k, v in record["profile_step"]["categories"].items())
    )
    record["memory_format"] = _memory_format(profile, device)
    log(
        f"channels_last: training {record['memory_format']['train_speedup']:.2f}x, scoring "
        f"{record['memory_format']['score_speedup']:.2f}x the contiguous layout's speed"
    )
    record["comparison"] = _comparison(profile, models, device, log, peak_of)
    record["memmap"] = _memmap_scaling(profile, log)
    record["linearity"] = _linearity(profile, device, log)
    record["total_seconds"] = time.perf_counter() - started
    record["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    write_atomically(results, (json.dumps(record, indent=1) + "\n").encode(), overwrite=True)
    markdown = render_markdown(record)
    write_atomically(results.with_suffix(".md"), markdown.encode(), overwrite=True)
    return record


# ---------------------------------------------------------------------------- the report
