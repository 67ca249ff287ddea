"""Volumes to a set of axial slice images for the detector, with a table describing them.

:func:`volumes_to_slices` chains, for each volume: read into RAS+, foreground mask (given, else
:func:`~skanogan.mri.head_mask`), intensity normalisation on that foreground, the
minimum-foreground rule, then the in-plane geometry of :class:`~skanogan.mri.VolumeGeometry`.

See Also
--------
skanogan.mri._preprocess : the per-volume steps.
skanogan.mri._geometry : the in-plane mapping, both ways.
skanogan.mri._maps : per-slice results back to volumes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np

from skanogan.core._validation import Interval, Options, check_params
from skanogan.mri._geometry import VolumeGeometry
from skanogan.mri._io import Volume, load_mask, load_volume
from skanogan.mri._preprocess import (
    NORMALIZATIONS,
    foreground_fraction,
    head_mask,
    normalize_intensity,
)

__all__ = ["SliceSet", "volumes_to_slices"]

VolumeLike = str | os.PathLike | Volume
MaskLike = str | os.PathLike | np.ndarray | None

_RULES = {
    "image_size": [Interval(Integral, 2, None)],
    "spacing": [Interval(Real, 0, None, closed="right")],
    "field_of_view": [Interval(Real, 0, None, closed="right")],
    "normalization": [Options(NORMALIZATIONS)],
    "min_foreground": [Interval(Real, 0, None)],
    "min_tumour_voxels": [Interval(Integral, 1, None)],
    "outside_mask": [Options(("keep", "background"))],
}


@dataclass(frozen=True, eq=False)
class SliceSet:
    """Axial slices of several volumes, shaped for the detector, with one table row each.

    Attributes
    ----------
    images : ndarray of shape (n_slices, 1, image_size, image_size), float32
        Ready for :class:`~skanogan.LatentRegularizedGAN`. Rows run towards the subject's
        Right, columns towards Anterior: ``plt.imshow(slices.images[i, 0].T, origin="lower")``
        shows slice i from above, anterior up.
    table : dict of str to ndarray of shape (n_slices,)
        ``"volume_id"`` (str); ``"slice_index"`` (int, the axial index k in the RAS+
        volume); ``"foreground_fraction"`` (float, see
        :func:`~skanogan.mri.foreground_fraction`). With tumour masks also
        ``"tumour_voxels"`` (int, tumour voxels in the slice at its own resolution) and
        ``"label"`` (int, 1 when ``tumour_voxels >= min_tumour_voxels``, else 0).
        ``pandas.DataFrame(slices.table)`` makes it a data frame.
    masks : ndarray of shape (n_slices, 1, image_size, image_size), uint8, or None
        The tumour masks through the same geometry as the images (bilinear, then >= 0.5);
        None when no tumour masks were given.
    geometries : dict of str to VolumeGeometry
        One per volume, in input order, including volumes with no kept slice: what
        :func:`maps_to_volume` and :func:`~skanogan.mri.save_map` need.
    """

    images: np.ndarray
    table: dict[str, np.ndarray]
    masks: np.ndarray | None
    geometries: dict[str, VolumeGeometry]


def volumes_to_slices(
    volumes: Sequence[VolumeLike],
    *,
    tumour_masks: Sequence[MaskLike] | None = None,
    brain_masks: Sequence[MaskLike] | None = None,
    image_size: int = 64,
    spacing: float = 1.0,
    field_of_view: float = 240.0,
    normalization: str = "percentile",
    min_foreground: float = 0.05,
    min_tumour_voxels: int = 10,
    outside_mask: str = "keep",
    volume_ids: Sequence[str] | None = None,
) -> SliceSet:
    """Cut volumes into normalised axial slices of one size, with a table describing them.

    Parameters
    ----------
    volumes : sequence of str, os.PathLike or Volume
        Image files (read with :func:`~skanogan.mri.load_volume`) or volumes already read.
    tumour_masks : sequence of (str, os.PathLike, ndarray or None), default=None
        One per volume (nonzero = tumour); None entries are volumes without tumour. Given,
        the table gets ``"tumour_voxels"`` and ``"label"`` and :attr:`SliceSet.masks` is
        filled. Files and arrays follow :func:`~skanogan.mri.load_mask`.
    brain_masks : sequence of (str, os.PathLike, ndarray or None), default=None
        One per volume: the foreground for normalisation and slice selection. None (or a None
        entry) uses :func:`~skanogan.mri.head_mask` on the volume.
    image_size : int, default=64
        Side of the square model images.
    spacing : float, default=1.0
        In-plane pixel size in mm that every slice is resampled to first.
    field_of_view : float, default=240.0
        Side in mm of the square window each image covers, centred on the foreground; 240 mm
        holds an adult head with margin. Physical size stays comparable between volumes: at
        the defaults one model pixel is 240 / 64 = 3.75 mm in every volume.
    normalization : {"percentile", "zscore"}, default="percentile"
        See :func:`~skanogan.mri.normalize_intensity`; fitted on each volume's foreground.
    min_foreground : float, default=0.05
        Keep a slice when its :func:`~skanogan.mri.foreground_fraction` is at least this:
        5 % of the window drops the top of the skull and the neck, which look unlike the
        rest and carry little brain.
    min_tumour_voxels : int, default=10
        A slice is labelled 1 from this many tumour voxels. Fewer are mostly the partial-volume
        rim at a lesion's pole and cover less than one model pixel at the defaults (3.75 mm);
        such slices are labelled 0, but their ``tumour_voxels`` shows them, to drop if wanted.
    outside_mask : {"keep", "background"}, default="keep"
        ``"background"`` sets every voxel outside the foreground (the brain mask, when given) to
        0 before normalisation: with brain masks, the skull and scalp are stripped, so that
        heads scanned with their skull and skull-stripped templates look alike.
    volume_ids : sequence of str, default=None
        One unique id per volume (a patient). By default the file name without ``.nii.gz``
        (or ``.nii`` …), or ``"volume{i}"`` for a volume built in memory.

    Returns
    -------
    slices : SliceSet

    Examples
    --------
    >>> import numpy as np, nibabel as nib
    >>> from skanogan.mri import Volume, volumes_to_slices
    >>> data = np.zeros((20, 20, 10), np.float32)
    >>> data[5:15, 5:15, 2:8] = np.linspace(50.0, 150.0, 10)[:, None, None]  # slices 2..7
    >>> volume = Volume.from_image(nib.Nifti1Image(data, np.diag([2.0, 2.0, 3.0, 1.0])))
    >>> slices = volumes_to_slices([volume], image_size=16, field_of_view=40.0)
    >>> slices.images.shape
    (6, 1, 16, 16)
    >>> slices.table["volume_id"][0], slices.table["slice_index"]
    (np.str_('volume0'), array([2, 3, 4, 5, 6, 7]))
    """
    check_params(
        {
            "image_size": image_size,
            "spacing": spacing,
            "field_of_view": field_of_view,
            "normalization": normalization,
            "min_foreground": min_foreground,
            "min_tumour_voxels": min_tumour_voxels,
            "outside_mask": outside_mask,
        },
        _RULES,
    )
    volumes = _as_list(volumes, "volumes")
    ids = _volume_ids(volumes, volume_ids)
    labelled = tumour_masks is not None
    tumour_masks = _per_volume(tumour_masks, "tumour_masks", len(volumes))
    brain_masks = _per_volume(brain_masks, "brain_masks", len(volumes))
    parts = [
        _slice_volume(
            volume,
            volume_id,
            brain_mask,
            tumour_mask,
            labelled=labelled,
            image_size=image_size,
            spacing=spacing,
            field_of_view=field_of_view,
            normalization=normalization,
            min_foreground=min_foreground,
            min_tumour_voxels=min_tumour_voxels,
            outside_mask=outside_mask,
        )
        for volume, volume_id, brain_mask, tumour_mask in zip(
            volumes, ids, brain_masks, tumour_masks, strict=True
        )
    ]
    images, rows, masks, geometries = zip(*parts, strict=True)
    return SliceSet(
        images=np.concatenate(images),
        table={key: np.concatenate([row[key] for row in rows]) for key in rows[0]},
        masks=np.concatenate(masks) if labelled else None,
        geometries={geometry.volume_id: geometry for geometry in geometries},
    )


def _slice_volume(
    volume: VolumeLike,
    volume_id: str,
    brain_mask: MaskLike,
    tumour_mask: MaskLike,
    *,
    labelled: bool,
    image_size: int,
    spacing: float,
    field_of_view: float,
    normalization: str,
    min_foreground: float,
    min_tumour_voxels: int,
    outside_mask: str,
) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray, VolumeGeometry]:
    """One volume's images, table rows, tumour masks (empty unless ``labelled``), geometry."""
    if not isinstance(volume, Volume):
        volume = load_volume(volume)
    if brain_mask is None:
        foreground = head_mask(volume.data)
    else:
        foreground = load_mask(brain_mask, volume, name="brain mask")
    data = volume.data if outside_mask == "keep" else np.where(foreground, volume.data, 0.0)
    try:
        normalized = normalize_intensity(data, foreground, method=normalization)
    except ValueError as exc:
        raise ValueError(f"volume {volume_id!r} ({volume.path or 'in memory'}): {exc}") from None
    fractions = foreground_fraction(foreground, volume.zooms, field_of_view=field_of_view)
    kept = np.flatnonzero(fractions >= min_foreground)
    geometry = VolumeGeometry.plan(
        volume,
        foreground,
        kept,
        volume_id=volume_id,
        spacing=spacing,
        field_of_view=field_of_view,
        image_size=image_size,
    )
    images = geometry.to_model(normalized[:, :, kept], fill=normalized.min())
    rows = {
        "volume_id": np.full(kept.size, volume_id),
        "slice_index": kept,
        "foreground_fraction": fractions[kept],
    }
    masks = np.zeros((0, 1, image_size, image_size), dtype=np.uint8)
    if labelled:
        tumour = (
            np.zeros(volume.shape, dtype=bool)
            if tumour_mask is None
            else load_mask(tumour_mask, volume, name="tumour mask")
        )
        rows["tumour_voxels"] = tumour[:, :, kept].sum(axis=(0, 1))
        rows["label"] = (rows["tumour_voxels"] >= min_tumour_voxels).astype(np.int64)
        masks = (geometry.to_model(tumour[:, :, kept], fill=0.0) >= 0.5).astype(np.uint8)
    return images, rows, masks, geometry


def _as_list(values: Any, name: str) -> list:
    if isinstance(values, (str, os.PathLike, Volume, np.ndarray)) or not isinstance(
        values, Sequence
    ):
        raise TypeError(
            f"{name} must be a list (or other sequence) with one entry per volume, "
            f"got {type(values).__name__}"
        )
    if not values:
        raise ValueError(f"{name} is empty; give at least one volume")
    return list(values)


def _per_volume(masks: Sequence[MaskLike] | None, name: str, n_volumes: int) -> list:
    if masks is None:
        return [None] * n_volumes
    masks = _as_list(masks, name)
    if len(masks) != n_volumes:
        raise ValueError(f"{name} has {len(masks)} entries for {n_volumes} volumes")
    return masks


def _volume_ids(volumes: list, volume_ids: Sequence[str] | None) -> list[str]:
    if volume_ids is None:
        ids = [_default_id(volume, i) for i, volume in enumerate(volumes)]
    else:
        if isinstance(volume_ids, np.ndarray):  # e.g. a column of a table
            volume_ids = volume_ids.tolist()
        ids = _as_list(volume_ids, "volume_ids")
        if len(ids) != len(volumes) or not all(isinstance(i, str) for i in ids):
            raise ValueError(f"volume_ids must hold one str per volume ({len(volumes)}), got {ids}")
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"volume ids must be unique; repeated: {duplicates}. Pass volume_ids")
    return ids


def _default_id(volume: VolumeLike, index: int) -> str:
    path = volume.path if isinstance(volume, Volume) else volume
    if path is None:
        return f"volume{index}"
    name = Path(path).name.removesuffix(".gz")
    return Path(name).stem
