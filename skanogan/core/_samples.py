"""The input ``X`` of one public call, read and converted one batch at a time.

A memory-mapped archive of a million images must not be copied whole as float32 (4x its size
for uint8 images) just to be scored. So :func:`~skanogan.core._validation.validate_samples` checks
only what can be checked without reading the values (layout, dtype, feature count) and wraps
``X`` in :class:`Samples`; the values are converted to float32 and checked to be finite when a
batch of rows is read. The estimator never holds more than one batch of converted rows, plus a
scan's chunk (:data:`CHUNK_BYTES`) in ``fit``.

``X`` may be a NumPy array, an ``np.memmap``, or any array-like with a NumPy ``dtype``, a
``shape`` and slicing along its first axis (an ``h5py`` dataset, a zarr or dask array, ...).
NumPy arrays are indexed directly; other array-likes are read by slices only, one slice per run
of consecutive rows of a batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["CHUNK_BYTES", "Samples"]

#: Rows of a sequential scan (the finiteness and range pass of ``fit``, the checkpoint
#: fingerprint) are read in chunks of about this many bytes once converted.
CHUNK_BYTES = 16 * 2**20


class Samples:
    """Rows of ``data`` as float32 samples of ``sample_shape``, read on demand.

    Parameters
    ----------
    data : array-like
        The samples along the first axis, in any layout whose rows hold ``prod(sample_shape)``
        values in C order (``(n, F)``, ``(n, H, W)`` or ``(n, C, H, W)``). Not copied.
    sample_shape : tuple of int
        ``(C, H, W)`` for images, ``(F,)`` for tabular data.
    dtype : numpy dtype, default=np.float32
        What rows are converted to: float32 for the image networks, float64 for the tabular
        ones (which run in float64).

    Examples
    --------
    >>> samples = Samples(np.arange(12, dtype=np.uint8).reshape(3, 4), (1, 2, 2))
    >>> samples.read(slice(1, 2))
    array([[[[4., 5.],
             [6., 7.]]]], dtype=float32)
    """

    def __init__(
        self, data: Any, sample_shape: tuple[int, ...], dtype: np.dtype | type = np.float32
    ) -> None:
        self.data = data
        self.sample_shape = tuple(sample_shape)
        self.dtype = np.dtype(dtype)

    def __len__(self) -> int:
        return int(self.data.shape[0])

    def read(self, rows: slice | np.ndarray) -> np.ndarray:
        """The given rows (a slice, or sorted indices) as a new array of samples of ``dtype``.

        Raises
        ------
        ValueError
            When a value is NaN or infinite, or too large for ``dtype``; the message gives the
            index of the first such sample in ``X``.
        """
        raw = self._raw(rows)
        batch = np.array(raw, dtype=self.dtype).reshape(raw.shape[0], *self.sample_shape)
        finite = np.isfinite(batch)
        if not finite.all():
            first = int(np.flatnonzero(~finite.reshape(len(batch), -1).all(axis=1))[0])
            index = rows.start + first if isinstance(rows, slice) else int(rows[first])
            if np.isnan(batch[first]).any():
                problem = "NaN"
            else:
                problem = f"infinity or a value too large for dtype('{self.dtype}')"
            raise ValueError(f"Input X contains {problem} (first in sample {index}).")
        return batch

    def _raw(self, rows: slice | np.ndarray) -> np.ndarray:
        if isinstance(rows, slice) or isinstance(self.data, np.ndarray):
            return np.asarray(self.data[rows])
        runs = np.split(rows, np.flatnonzero(np.diff(rows) != 1) + 1)
        return np.concatenate([np.asarray(self.data[run[0] : run[-1] + 1]) for run in runs])

    def chunks(self, rows: np.ndarray | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``(indices, samples)`` of consecutive chunks of ``rows`` (sorted; default: all)."""
        row_bytes = self.dtype.itemsize * int(np.prod(self.sample_shape))
        per_chunk = max(1, CHUNK_BYTES // row_bytes)
        if rows is None:
            for start in range(0, len(self), per_chunk):
                stop = min(len(self), start + per_chunk)
                yield np.arange(start, stop), self.read(slice(start, stop))
        else:
            for start in range(0, len(rows), per_chunk):
                chunk = rows[start : start + per_chunk]
                yield chunk, self.read(chunk)
