"""Per-volume preprocessing: a head mask, intensity normalisation, foreground per axial slice.

Each step is a pure function of arrays on one volume's RAS+ grid (``Volume.data``), so it can be
tested and reused alone; :func:`~skanogan.mri.volumes_to_slices` chains them.

See Also
--------
skanogan.mri._io : reading volumes and masks onto the RAS+ grid.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

__all__ = ["foreground_fraction", "head_mask", "normalize_intensity"]

NORMALIZATIONS = ("percentile", "zscore")


def head_mask(data: np.ndarray, *, fraction: float = 0.1) -> np.ndarray:
    """A threshold mask of the head: bright voxels, one connected piece, holes filled.

    1. Voxels brighter than ``fraction`` × the volume's 99th percentile. MRI background is air,
       close to zero, so a low fraction of a high percentile separates it from tissue on any
       intensity scale (u8 0..255 or i16 0..9999 alike).
    2. The largest 6-connected component: drops noise specks and objects beside the head.
    3. Holes filled in each axial slice: dark tissue inside the head (CSF, ventricles, a
       necrotic tumour core) belongs to the head; 2-D filling also closes holes that open
       towards another slice, which 3-D filling would miss.

    Parameters
    ----------
    data : ndarray of shape (X, Y, Z)
        One volume on its RAS+ grid.
    fraction : float, default=0.1
        Threshold as a fraction of the 99th percentile, in (0, 1).

    Returns
    -------
    mask : ndarray of shape (X, Y, Z), bool
        All False when no voxel exceeds the threshold (e.g. a constant volume).

    Examples
    --------
    >>> import numpy as np
    >>> data = np.zeros((9, 9, 3))
    >>> data[2:7, 2:7] = 100.0
    >>> data[4, 4] = 0.0  # a dark hole inside the head
    >>> data[0, 0] = 100.0  # a bright speck outside it
    >>> mask = head_mask(data)
    >>> int(mask.sum()), bool(mask[4, 4, 1]), bool(mask[0, 0, 1])
    (75, True, False)
    """
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be in (0, 1), got {fraction!r}")
    mask = data > fraction * np.percentile(data, 99)
    labels, n_components = ndimage.label(mask)
    if n_components == 0:
        return mask
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0  # the background label
    mask = labels == sizes.argmax()
    in_plane = ndimage.generate_binary_structure(2, 1)[:, :, np.newaxis]
    return ndimage.binary_fill_holes(mask, structure=in_plane)


def normalize_intensity(
    data: np.ndarray, mask: np.ndarray, *, method: str = "percentile"
) -> np.ndarray:
    """Rescale a whole volume with statistics of its foreground only.

    Background (air, or everything outside the brain) would otherwise dominate the statistics
    and make them depend on the field of view.

    Parameters
    ----------
    data : ndarray of shape (X, Y, Z)
    mask : ndarray of shape (X, Y, Z), bool
        The foreground the statistics are fitted on.
    method : {"percentile", "zscore"}, default="percentile"
        ``"percentile"``: the foreground's 1st and 99th percentiles map to 0 and 1, and the
        result is clipped to [0, 1]; robust to a few very bright voxels (vessels, fat,
        contrast) and bounded, like image pixels. ``"zscore"``: subtract the foreground's mean
        and divide by its standard deviation; unbounded.

    Returns
    -------
    normalized : ndarray of shape (X, Y, Z), float32

    Raises
    ------
    ValueError
        When ``mask`` is empty, or the foreground has a single intensity.

    Examples
    --------
    >>> import numpy as np
    >>> data = np.array([[[0.0, 10.0, 20.0, 1000.0]]])
    >>> mask = np.array([[[False, True, True, False]]])
    >>> normalize_intensity(data, mask, method="zscore")
    array([[[ -3.,  -1.,   1., 197.]]], dtype=float32)
    """
    if method not in NORMALIZATIONS:
        raise ValueError(f"method must be one of {NORMALIZATIONS}, got {method!r}")
    if mask.shape != data.shape:
        raise ValueError(f"mask has shape {mask.shape}, data has shape {data.shape}")
    foreground = data[mask].astype(np.float64)
    if foreground.size == 0:
        raise ValueError("mask is empty: there is no foreground to fit the normalisation on")
    if method == "zscore":
        offset, scale = foreground.mean(), foreground.std()
    else:
        low, high = np.percentile(foreground, [1, 99])
        offset, scale = low, high - low
    if scale <= 0:
        raise ValueError(f"the foreground has a single intensity, {offset:g}; cannot normalise")
    normalized = (data - offset) / scale
    if method == "percentile":
        normalized = np.clip(normalized, 0.0, 1.0)
    return normalized.astype(np.float32)


def foreground_fraction(
    mask: np.ndarray, zooms: Sequence[float], *, field_of_view: float
) -> np.ndarray:
    """Area of the foreground in each axial slice, as a fraction of the model's field of view.

    The denominator is the square field of view that each model image covers
    (``field_of_view``² mm²), not the slice's own voxel count, so the same anatomy gives the
    same fraction whatever field of view the scanner used. It exceeds 1 only when the
    foreground is larger than the field of view.

    Parameters
    ----------
    mask : ndarray of shape (X, Y, Z), bool
        Foreground on the RAS+ grid: axial slices are ``mask[:, :, k]``.
    zooms : sequence of 2 or 3 floats
        Voxel size in mm; the first two are the in-plane ones.
    field_of_view : float
        Side of the square field of view in mm.

    Returns
    -------
    fraction : ndarray of shape (Z,), float64

    Examples
    --------
    >>> import numpy as np
    >>> mask = np.zeros((10, 10, 2), bool)
    >>> mask[:5, :4, 1] = True  # 20 voxels of 2 × 2 mm: 80 mm²
    >>> foreground_fraction(mask, (2.0, 2.0, 5.0), field_of_view=20.0)
    array([0. , 0.2])
    """
    voxel_area = float(zooms[0]) * float(zooms[1])
    return mask.sum(axis=(0, 1)) * voxel_area / float(field_of_view) ** 2
