"""Device resolution, host-to-device batches, and CPU copies of state for pickling."""

from __future__ import annotations

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


def resolve_amp_dtype(amp: str | bool, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``amp`` on ``device``: bfloat16 where supported, else float16.

    Mixed precision runs on CUDA only: ``"auto"`` means "on when CUDA", and ``amp=True`` on
    another device is a ``ValueError``.
    """
    if device.type != "cuda":
        if amp is True:
            raise ValueError(f"amp=True needs a CUDA device, but the device is {device}")
        return None
    if amp is False:
        return None
    with torch.cuda.device(device):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


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
    :meth:`skanogan._samples.Samples.read`): on the CPU the tensor may share its memory.
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
