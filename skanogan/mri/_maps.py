"""Results back to volumes: maps onto the original voxel grid and into NIfTI files, and one
score per volume.

See Also
--------
skanogan.mri._slices : volumes_to_slices, which makes the slices and their geometries.
"""

from __future__ import annotations

import gzip
import os
from numbers import Integral
from pathlib import Path

import numpy as np

from skanogan.core._validation import Interval, check_params
from skanogan.io._files import check_output_path, write_atomically
from skanogan.mri._geometry import VolumeGeometry
from skanogan.mri._io import Volume, _nibabel

__all__ = ["maps_to_volume", "save_map", "to_original_grid", "volume_scores"]


def maps_to_volume(maps: np.ndarray, geometry: VolumeGeometry) -> np.ndarray:
    """Per-slice maps of one volume at model resolution → a 3-D map on its original grid.

    Undoes, in reverse order, the resize, the field-of-view window, the spacing resampling
    and the RAS+ reorientation. Slices that were not kept, and voxels outside the window, are 0.

    Parameters
    ----------
    maps : ndarray of shape (n_kept, S, S) or (n_kept, 1, S, S)
        One map per kept slice, in table order: e.g.
        ``detector.anomaly_map(slices.images)[slices.table["volume_id"] == volume_id]``.
    geometry : VolumeGeometry
        ``slices.geometries[volume_id]``.

    Returns
    -------
    volume_map : ndarray of shape geometry.original_shape, float32
        In the stored voxel order of the input file: save it with
        :func:`~skanogan.mri.save_map` to overlay the input.

    Examples
    --------
    >>> import numpy as np, nibabel as nib
    >>> from skanogan.mri import Volume, maps_to_volume, volumes_to_slices
    >>> data = np.zeros((20, 20, 10), np.float32)
    >>> data[5:15, 5:15, 2:8] = np.linspace(50.0, 150.0, 10)[:, None, None]
    >>> image = nib.Nifti1Image(data[::-1], np.diag([-2.0, 2.0, 3.0, 1.0]))  # stored LAS
    >>> slices = volumes_to_slices([Volume.from_image(image)], image_size=16, field_of_view=40.0)
    >>> volume_map = maps_to_volume(slices.images, slices.geometries["volume0"])
    >>> volume_map.shape, bool(volume_map[:, :, [0, 1, 8, 9]].any())
    ((20, 20, 10), False)
    """
    maps = np.asarray(maps, dtype=np.float32)
    if maps.ndim == 4 and maps.shape[1] == 1:
        maps = maps[:, 0]
    side = geometry.image_size
    expected = (len(geometry.slice_indices), side, side)
    if maps.shape != expected:
        raise ValueError(
            f"maps has shape {maps.shape}; volume {geometry.volume_id!r} needs one "
            f"{side}×{side} map per kept slice, shape {expected}"
        )
    ras = np.zeros(geometry.ras_shape, dtype=np.float32)
    ras[:, :, geometry.slice_indices] = geometry.to_native(maps)
    return np.ascontiguousarray(to_original_grid(ras, geometry))


def volume_scores(
    slice_scores: np.ndarray, volume_ids: np.ndarray, *, top_k: int = 5
) -> dict[str, float]:
    """One anomaly score per volume: the mean of its ``top_k`` highest slice scores.

    A lesion spans several neighbouring slices. The maximum (``top_k=1``) lets one noisy slice
    decide; the mean of all slices dilutes a focal lesion among dozens of normal ones. A volume
    with fewer than ``top_k`` slices gets the mean of all of them. Higher means more abnormal,
    as for the slice scores (e.g. ``LatentRegularizedGAN.decision_function``).

    Parameters
    ----------
    slice_scores : array-like of shape (n_slices,)
    volume_ids : array-like of shape (n_slices,)
        E.g. ``slices.table["volume_id"]``.
    top_k : int, default=5
        About 5–10 mm of brain at 1–2 mm slices; use fewer for thick slices.

    Returns
    -------
    scores : dict of str to float
        Keyed by volume id, in order of first appearance.

    Examples
    --------
    >>> volume_scores([0.1, 0.9, 0.5, 0.2], ["a", "a", "a", "b"], top_k=2)
    {'a': 0.7, 'b': 0.2}
    """
    check_params({"top_k": top_k}, {"top_k": [Interval(Integral, 1, None)]})
    scores = np.asarray(slice_scores, dtype=np.float64)
    ids = np.asarray(volume_ids)
    if scores.ndim != 1 or ids.shape != scores.shape:
        raise ValueError(
            f"slice_scores and volume_ids must be 1-D of equal length, got shapes "
            f"{scores.shape} and {ids.shape}"
        )
    result = {}
    for volume_id in dict.fromkeys(ids.tolist()):
        highest = np.sort(scores[ids == volume_id])[-top_k:]
        result[volume_id] = float(highest.mean())
    return result


def to_original_grid(array: np.ndarray, volume: Volume | VolumeGeometry) -> np.ndarray:
    """Undo the RAS+ reorientation: an array on ``volume``'s RAS+ grid, in the stored order.

    Parameters
    ----------
    array : ndarray of shape volume.shape (the RAS+ grid)
    volume : Volume or VolumeGeometry
        Anything with ``original_orientation``.

    Returns
    -------
    array : ndarray of shape volume.original_shape
        A view where possible (axes are only permuted and flipped, never resampled).

    Examples
    --------
    >>> import numpy as np, nibabel as nib
    >>> stored = np.arange(24.0).reshape(2, 3, 4)
    >>> volume = Volume.from_image(nib.Nifti1Image(stored, np.diag([-1.0, 1.0, 1.0, 1.0])))
    >>> bool(np.array_equal(to_original_grid(volume.data, volume), stored))
    True
    """
    orientations = _nibabel().orientations
    ras_to_stored = orientations.ornt_transform(
        orientations.axcodes2ornt(("R", "A", "S")),
        orientations.axcodes2ornt(volume.original_orientation),
    )
    return orientations.apply_orientation(array, ras_to_stored)


def save_map(
    map: np.ndarray,
    volume: Volume | VolumeGeometry,
    path: str | os.PathLike,
    *,
    overwrite: bool = False,
) -> Path:
    """Write a 3-D map on the original grid as NIfTI with the original affine, atomically.

    The file is written to a temporary file in the target folder, flushed, then linked into
    place (which fails if the target appeared meanwhile) or renamed over it when ``overwrite``
    is given, so a reader never sees half a file and the input is never touched.

    Parameters
    ----------
    map : ndarray of shape volume.original_shape
        E.g. from :func:`~skanogan.mri.maps_to_volume`. Written as float32.
    volume : Volume or VolumeGeometry
        Gives the original shape and affine, and the input file, which is never overwritten.
    path : str or os.PathLike
        ``*.nii`` or ``*.nii.gz`` (compressed); its folder must exist.
    overwrite : bool, default=False
        Replace an existing file. Without it an existing file raises ``FileExistsError``.

    Returns
    -------
    path : pathlib.Path
    """
    nib = _nibabel()
    path = check_output_path(path)
    if not path.name.endswith((".nii", ".nii.gz")):
        raise ValueError(f"path must end in .nii or .nii.gz, got {path}")
    source = volume.path
    if source is not None and (
        path.resolve() == source.resolve()
        or (path.exists() and source.exists() and path.samefile(source))  # hard links
    ):
        raise ValueError(f"path {path} is the input image itself; refusing to overwrite it")
    map = np.asarray(map)
    if map.shape != volume.original_shape:
        raise ValueError(
            f"map has shape {map.shape}, expected the original shape {volume.original_shape}"
        )
    image = nib.Nifti1Image(map.astype(np.float32), volume.original_affine)
    # nibabel sets only the sform; tools that read the qform first (ITK) need it too.
    image.set_qform(volume.original_affine, code="aligned")
    image.header.set_xyzt_units("mm")
    payload = image.to_bytes()
    if path.name.endswith(".gz"):
        payload = gzip.compress(payload, mtime=0)
    write_atomically(path, payload, overwrite=overwrite)
    return path
