"""Device resolution, host-to-device batches, and CPU copies of state for pickling."""

from __future__ import annotations

import platform
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

from skanogan.exceptions import DeviceWarning


def resolve_device(device: str | torch.device) -> torch.device:
    """Turn ``"auto" | "cpu" | "cuda" | "cuda:N"`` or a :class:`torch.device` into a usable device.

    ``"auto"`` picks CUDA when present. An explicit CUDA device that this machine does not have
    is a ``ValueError``, never a silent fall-back.
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}"
        ) from exc
    if resolved.type == "cpu":
        return resolved
    if resolved.type != "cuda":
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    if not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested, but CUDA is not available here")
    if resolved.index is not None and resolved.index >= torch.cuda.device_count():
        raise ValueError(
            f"device={device!r} was requested, but only {torch.cuda.device_count()} "
            "CUDA device(s) exist"
        )
    return resolved


def cpu_supports_bf16() -> bool:
    """Whether this CPU computes in bfloat16 natively, so that CPU mixed precision pays off.

    oneDNN's own check (``torch.ops.mkldnn._is_mkldnn_bf16_supported``, absent from some torch
    builds) also says yes on x86 CPUs with AVX-512 but without its BF16 instructions, where
    bfloat16 is emulated and slower than float32: there, AVX-512 BF16 or AMX is required too.
    """
    onednn_check = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    if onednn_check is None or not torch.backends.mkldnn.is_available() or not onednn_check():
        return False
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return True  # Arm: oneDNN checks for the BF16 extension itself
    checks = [
        getattr(torch.cpu, name, None)
        for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    ]
    # A torch without these checks cannot tell native from emulated: stay in float32.
    return any(check is not None and check() for check in checks)


def resolve_amp_dtype(amp: str | bool, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``amp`` on ``device``, or ``None`` for full precision.

    On CUDA, ``"auto"`` and ``True`` give bfloat16 where supported, else float16 (with loss
    scaling). On the CPU, mixed precision is bfloat16 and only where :func:`cpu_supports_bf16`:
    there ``"auto"`` turns it on (it trained about twice as fast with validation AUROC within the
    float32 seed spread, ``benchmarks/results/validation-precision.md``), elsewhere ``"auto"``
    stays float32 and ``True`` is a ``ValueError``. Float16 is never used on the CPU.
    """
    if amp is False:
        return None
    if device.type == "cuda":
        with torch.cuda.device(device):
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if amp == "auto":
        return torch.bfloat16 if cpu_supports_bf16() else None
    if not cpu_supports_bf16():
        raise ValueError(
            f"amp=True asks for bfloat16 mixed precision on {device}, but this CPU lacks native "
            "bfloat16 instructions (AVX-512 BF16 or AMX): bfloat16 would be emulated, slower "
            "than float32. Use amp=False"
        )
    return torch.bfloat16


def amp_dtype_after_loading(
    amp_dtype: torch.dtype | None, device: torch.device
) -> torch.dtype | None:
    """The autocast dtype of a model trained under ``amp_dtype`` once loaded onto ``device``.

    A CUDA model keeps its precision. On the CPU only bfloat16 survives, and only where
    :func:`cpu_supports_bf16`; otherwise (float16, or bfloat16 on a CPU without it) the model
    runs in float32, with a :class:`~skanogan.exceptions.DeviceWarning`, since its scores then
    differ from those its threshold and score statistics were fitted on.
    """
    if amp_dtype is None or device.type == "cuda":
        return amp_dtype
    if amp_dtype == torch.bfloat16 and cpu_supports_bf16():
        return amp_dtype
    if amp_dtype == torch.float16:
        reason = "which skanogan never uses on the CPU"
    else:
        reason = "but this CPU lacks native bfloat16 instructions (AVX-512 BF16 or AMX)"
    warnings.warn(
        f"this model was trained with {str(amp_dtype).removeprefix('torch.')} mixed precision, "
        f"{reason}: it runs in float32 here, so its scores differ from those its threshold_ "
        "was set on",
        DeviceWarning,
        stacklevel=3,
    )
    return None


@contextmanager
def cuda_autotune(device: torch.device) -> Iterator[None]:
    """cuDNN's autotuner on for the block when ``device`` is CUDA (fixed shapes: the fastest
    convolution algorithm is found once per shape), unless the user asked for deterministic
    cuDNN; the global flag is restored afterwards."""
    if device.type != "cuda" or torch.backends.cudnn.deterministic:
        yield
        return
    previous = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = True
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark = previous


def to_device(batch: np.ndarray, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """One numpy batch on ``device`` as ``dtype``: pinned and non-blocking on CUDA.

    ``batch`` must be the caller's own writable array (such as a batch from
    :meth:`skanogan.core._samples.Samples.read`): on the CPU the tensor may share its memory.
    """
    tensor = torch.from_numpy(batch).to(dtype)
    if device.type == "cuda":
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor


def state_to_cpu(state: Any) -> Any:
    """A copy of a (nested) state dict with every tensor on the CPU."""
    if isinstance(state, torch.Tensor):
        return state.detach().to("cpu", copy=True)
    if isinstance(state, dict):
        return {key: state_to_cpu(value) for key, value in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(state_to_cpu(value) for value in state)
    return state


def device_for_unpickling(fitted_on: torch.device) -> torch.device:
    """Where a model fitted on ``fitted_on`` goes when unpickled here.

    A CUDA model goes to the CPU, with a :class:`~skanogan.exceptions.DeviceWarning`, when
    CUDA is not available.
    """
    if fitted_on.type == "cuda" and not torch.cuda.is_available():
        warnings.warn(
            f"this model was fitted on {fitted_on}, but CUDA is not available: "
            "it is loaded on the CPU",
            DeviceWarning,
            stacklevel=3,
        )
        return torch.device("cpu")
    if fitted_on.type == "cuda" and (fitted_on.index or 0) >= torch.cuda.device_count():
        warnings.warn(
            f"this model was fitted on {fitted_on}, which does not exist here: "
            "it is loaded on cuda:0",
            DeviceWarning,
            stacklevel=3,
        )
        return torch.device("cuda:0")
    return fitted_on
