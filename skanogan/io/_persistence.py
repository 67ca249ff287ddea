"""The skanogan model file: one safetensors file whose header carries a JSON document.

Tensors (network weights, optimizer moments, score arrays) are stored by safetensors, which
reads raw numbers only; everything else (parameters, scalars, history, the pixel scaling) is
plain JSON in the header's ``"skanogan"`` metadata entry. Decoding accepts only the few types
listed in :data:`_DATACLASSES` and builds nothing else, so loading a file runs no code from it,
unlike pickle.

Files are written atomically: to a temporary file in the target folder, flushed to disk, then
linked into place (which fails if the target appeared meanwhile) or renamed over it when
overwriting is asked for. A reader never sees half a file; a crash leaves the old file intact.

See Also
--------
skanogan.LatentRegularizedGAN.save : the public entry point.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

import skanogan
from skanogan.core._shapes import ImageGeometry, PixelScaler
from skanogan.io._files import check_output_path, write_atomically
from skanogan.models.lran.scoring import GaussianDensity, ScoreScaler

__all__ = ["FORMAT_VERSION", "read_metadata", "read_state", "write_state"]

#: Bumped when a file can no longer be read by older versions; older files stay readable.
#: 2 (skanogan 0.2): the code densities of the density scores (:class:`GaussianDensity`).
#: 3 (skanogan 0.3): the live generator weights beside their average (``ema_decay``).
FORMAT_VERSION = 3
_FORMAT = "skanogan-model"
_DATACLASSES = {
    cls.__name__: cls for cls in (PixelScaler, ScoreScaler, GaussianDensity, ImageGeometry)
}


class _Encoder:
    """Turns an object tree into JSON-ready values, moving arrays and tensors aside."""

    def __init__(self) -> None:
        self.tensors: dict[str, torch.Tensor] = {}

    def _tensor(self, value: torch.Tensor, kind: str) -> dict[str, str]:
        key = f"t{len(self.tensors)}"
        self.tensors[key] = value.detach().cpu().contiguous().clone()
        return {kind: key}

    def encode(self, value: Any) -> Any:
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, torch.Tensor):
            return self._tensor(value, "__tensor__")
        if isinstance(value, np.ndarray):
            if value.dtype.kind in "OUS":
                return {"__strings__": [str(item) for item in value.tolist()]}
            return self._tensor(torch.from_numpy(np.ascontiguousarray(value)), "__ndarray__")
        if isinstance(value, torch.device):
            return {"__device__": str(value)}
        if isinstance(value, os.PathLike):
            return {"__path__": os.fspath(value)}
        if isinstance(value, torch.dtype):
            return {"__dtype__": str(value).removeprefix("torch.")}
        if isinstance(value, np.random.RandomState):
            name, keys, pos, has_gauss, cached = value.get_state()
            return {"__random_state__": [name, keys.tolist(), pos, has_gauss, cached]}
        if isinstance(value, tuple):
            return {"__tuple__": [self.encode(item) for item in value]}
        if isinstance(value, list):
            return [self.encode(item) for item in value]
        if isinstance(value, dict):
            if all(isinstance(key, str) for key in value):
                return {"__dict__": {key: self.encode(item) for key, item in value.items()}}
            # Optimizer states are keyed by parameter index: keep the int keys.
            return {"__items__": [[self.encode(k), self.encode(v)] for k, v in value.items()]}
        if dataclasses.is_dataclass(value) and type(value).__name__ in _DATACLASSES:
            fields = {
                f.name: self.encode(getattr(value, f.name)) for f in dataclasses.fields(value)
            }
            return {"__dataclass__": type(value).__name__, "fields": fields}
        raise TypeError(f"cannot store a value of type {type(value).__name__} in a model file")


def _decode(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(value, list):
        return [_decode(item, tensors) for item in value]
    if not isinstance(value, dict):
        return value
    (tag, payload), *rest = value.items()
    if tag == "__tensor__":
        return tensors[payload]
    if tag == "__ndarray__":
        return tensors[payload].numpy()
    if tag == "__strings__":
        return np.asarray(payload, dtype=object)
    if tag == "__device__":
        return torch.device(payload)
    if tag == "__path__":
        return Path(payload)
    if tag == "__dtype__":
        dtype = getattr(torch, payload, None)
        if not isinstance(dtype, torch.dtype):
            raise ValueError(f"unknown dtype {payload!r}")
        return dtype
    if tag == "__random_state__":
        name, keys, pos, has_gauss, cached = payload
        state = np.random.RandomState()
        state.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
        return state
    if tag == "__tuple__":
        return tuple(_decode(item, tensors) for item in payload)
    if tag == "__dict__":
        return {key: _decode(item, tensors) for key, item in payload.items()}
    if tag == "__items__":
        return {_decode(k, tensors): _decode(v, tensors) for k, v in payload}
    if tag == "__dataclass__":
        if payload not in _DATACLASSES:
            raise ValueError(f"unknown stored type {payload!r}")
        fields = {key: _decode(item, tensors) for key, item in rest[0][1].items()}
        return _DATACLASSES[payload](**fields)
    raise ValueError(f"unknown tag {tag!r}")


def write_state(
    path: Any,
    class_name: str,
    state: dict[str, Any],
    *,
    overwrite: bool,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Write ``state`` (an estimator's ``__getstate__``) to ``path`` atomically.

    ``metadata`` is the caller's own JSON-serialisable dict (e.g. the preprocessing of the
    inputs), stored beside the state and read back by :func:`read_metadata`.
    """
    from safetensors.torch import save

    path = check_output_path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    encoder = _Encoder()
    document = {
        "format": _FORMAT,
        "format_version": FORMAT_VERSION,
        "skanogan_version": skanogan.__version__,
        "torch_version": torch.__version__,
        "class": class_name,
        "state": encoder.encode(state),
        "metadata": {} if metadata is None else metadata,
    }
    if not isinstance(document["metadata"], dict):
        raise TypeError(f"metadata must be a dict, got {type(metadata).__name__}")
    try:
        header = json.dumps(document, allow_nan=True)
    except TypeError as error:
        raise TypeError(
            f"metadata must hold only JSON values (str, numbers, lists, dicts): {error}"
        ) from None
    payload = save(encoder.tensors, metadata={"skanogan": header})
    write_atomically(path, payload, overwrite=overwrite)
    return path


def read_state(path: Any, class_name: str) -> dict[str, Any]:
    """Read the state of a file written by :func:`write_state`; clear errors for anything else."""
    path, header, tensors = _open(path, class_name, with_tensors=True)
    try:
        return _decode(header["state"], tensors)
    except (KeyError, IndexError, AttributeError, TypeError, ValueError) as error:
        raise ValueError(f"{path} is a corrupt skanogan model file ({error!r})") from None


def read_metadata(path: Any, class_name: str) -> dict[str, Any]:
    """The ``metadata`` dict stored by :func:`write_state` (empty when none was given)."""
    return _open(path, class_name, with_tensors=False)[1].get("metadata", {})


def _open(
    path: Any, class_name: str, *, with_tensors: bool
) -> tuple[Path, dict[str, Any], dict[str, torch.Tensor]]:
    from safetensors import SafetensorError, safe_open

    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}")
    try:
        with safe_open(path, framework="pt") as stored:
            header = json.loads((stored.metadata() or {})["skanogan"])
            keys = stored.keys() if with_tensors else []
            tensors = {key: stored.get_tensor(key) for key in keys}
        if not isinstance(header, dict) or header.get("format") != _FORMAT:
            raise KeyError("format")
        if not isinstance(header.get("format_version"), int) or "class" not in header:
            raise KeyError("format_version")
    except (SafetensorError, KeyError, TypeError, ValueError, OSError) as error:
        raise ValueError(
            f"{path} is not a readable skanogan model file ({type(error).__name__}: {error})"
        ) from None
    if header["format_version"] > FORMAT_VERSION:
        raise ValueError(
            f"{path} was written by skanogan {header['skanogan_version']} in model format "
            f"{header['format_version']}; this skanogan {skanogan.__version__} reads format "
            f"{FORMAT_VERSION} or older: upgrade skanogan to load it"
        )
    if header["class"] != class_name:
        raise ValueError(f"{path} holds a {header['class']}, not a {class_name}")
    return path, header, tensors
