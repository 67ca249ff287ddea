"""The original distribution formats: IDX files (MNIST, Fashion-MNIST) and CIFAR-10 pickles."""

from __future__ import annotations

import gzip
import pickle
import zlib
from pathlib import Path

import numpy as np

from skanogan.datasets._base import _checked_images

try:
    from numpy._core.multiarray import _reconstruct
except ImportError:  # numpy < 2
    from numpy.core.multiarray import _reconstruct

# Bunch keys -> (IDX file name without .gz, magic number, shape of one item).
_IDX_FILES = {
    "images_train": ("train-images-idx3-ubyte", 0x0803, (28, 28)),
    "target_train": ("train-labels-idx1-ubyte", 0x0801, ()),
    "images_test": ("t10k-images-idx3-ubyte", 0x0803, (28, 28)),
    "target_test": ("t10k-labels-idx1-ubyte", 0x0801, ()),
}


# ----------------------------------------------------------------------------- IDX files
def _read_maybe_gzip(path: Path) -> bytes:
    """The file's bytes, gunzipped when it starts with gzip's magic (whatever its name)."""
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:  # bad or truncated gzip stream
        raise ValueError(f"{path} is a corrupt gzip file: {exc}") from exc


def _read_idx(path: Path, magic: int, item_shape: tuple[int, ...]) -> np.ndarray:
    """One uint8 IDX file (big-endian header: magic, then one uint32 per dimension)."""
    raw = _read_maybe_gzip(path)
    ndim = 1 + len(item_shape)
    header = 4 * (1 + ndim)
    if len(raw) < header:
        raise ValueError(f"{path} is truncated: {len(raw)} bytes, less than an IDX header")
    found_magic, *dims = (int(v) for v in np.frombuffer(raw, ">u4", count=1 + ndim))
    if found_magic != magic:
        raise ValueError(
            f"{path} is not a {ndim}-D uint8 IDX file: magic number {found_magic:#010x}, "
            f"expected {magic:#010x}"
        )
    if tuple(dims[1:]) != item_shape:
        raise ValueError(f"{path} holds items of shape {tuple(dims[1:])}, expected {item_shape}")
    if len(raw) - header != int(np.prod(dims)):
        raise ValueError(
            f"{path} is truncated or padded: its header announces {tuple(dims)} = "
            f"{int(np.prod(dims))} bytes of data, but {len(raw) - header} follow"
        )
    # frombuffer views the immutable bytes; copy so that callers get a writable array.
    return np.frombuffer(raw, np.uint8, offset=header).reshape(dims).copy()


def _find_idx(folder: Path) -> tuple[dict[str, Path], list[str]]:
    """The IDX file of each Bunch key (plain or .gz), and the names of those missing."""
    found, missing = {}, []
    for key, (stem, _, _) in _IDX_FILES.items():
        hits = [p for p in (folder / stem, folder / f"{stem}.gz") if p.is_file()]
        if hits:
            found[key] = hits[0]
        else:
            missing.append(stem)
    return found, missing


# ----------------------------------------------------------------------------- CIFAR pickles
_PICKLE_GLOBALS = {
    # Python 2 era pickles (the published batches) and numpy >= 2 name the same function.
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class _CifarUnpickler(pickle.Unpickler):
    """Unpickles what a CIFAR-10 batch holds (dicts, bytes, lists, ints, numpy arrays), no more.

    A pickle can name any importable callable; refusing every other global means a tampered
    batch cannot run code.
    """

    def find_class(self, module: str, name: str):
        try:
            return _PICKLE_GLOBALS[module, name]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to unpickle {module}.{name}: a CIFAR-10 batch holds only dicts, "
                "bytes, lists, ints and numpy arrays"
            ) from None


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(n, 3, 32, 32)`` uint8 and int64 labels of one CIFAR-10 python batch."""
    with open(path, "rb") as stream:
        try:
            batch = _CifarUnpickler(stream, encoding="bytes").load()
        except Exception as exc:  # a corrupt pickle fails in many ways; all mean "bad file"
            raise ValueError(f"{path} is not a readable CIFAR-10 batch: {exc}") from exc
    if not isinstance(batch, dict):
        raise ValueError(f"{path} holds a {type(batch).__name__}, not a CIFAR-10 batch dict")
    data, labels = batch.get(b"data", batch.get("data")), batch.get(b"labels", batch.get("labels"))
    if not isinstance(data, np.ndarray) or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise ValueError(f"{path}: b'data' must be an array of shape (n, 3072)")
    # Each row is 1024 red, then 1024 green, then 1024 blue values, each 32×32 row-major.
    images = data.reshape(-1, 3, 32, 32)
    return _checked_images(images, np.asarray(labels), (3, 32, 32), 10, path)
