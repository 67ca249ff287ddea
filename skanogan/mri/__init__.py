"""Brain MRI volumes as axial slice images for the detector, and anomaly maps back onto them.

Needs nibabel (``pip install 'skanogan[mri]'``), imported when first used.

==================================  =============================================================
function / class                    what
==================================  =============================================================
:func:`load_volume`                 a file → :class:`Volume` in RAS+, keeping the original grid
:func:`load_mask`                   a mask file or array → bool array on a volume's RAS+ grid
:func:`head_mask`                   threshold, largest component, holes filled
:func:`normalize_intensity`         ``"percentile"`` or ``"zscore"``, fitted on the foreground
:func:`foreground_fraction`         foreground area per axial slice / the field of view
:func:`volumes_to_slices`           volumes → :class:`SliceSet` (images, table, tumour masks)
:func:`maps_to_volume`              per-slice maps → a 3-D map on the original voxel grid
:func:`to_original_grid`            undo the RAS+ reorientation of an array
:func:`save_map`                    a 3-D map → NIfTI with the original affine, atomically
:func:`volume_scores`               slice scores → one score per volume (mean of the top k)
:func:`score_slices`                a fitted detector → table of volume, slice, score, label
:func:`volume_maps`                 a fitted detector → per-volume 3-D anomaly maps
==================================  =============================================================

Examples
--------
>>> import numpy as np, nibabel as nib
>>> from skanogan.mri import Volume, maps_to_volume, volume_scores, volumes_to_slices
>>> data = np.zeros((20, 20, 10), np.float32)
>>> data[5:15, 5:15, 2:8] = np.linspace(50.0, 150.0, 10)[:, None, None]  # the "head"
>>> volume = Volume.from_image(nib.Nifti1Image(data, np.diag([2.0, 2.0, 3.0, 1.0])))
>>> slices = volumes_to_slices([volume], image_size=16, field_of_view=40.0)
>>> slice_scores = slices.images.mean(axis=(1, 2, 3))  # stand-in for decision_function
>>> list(volume_scores(slice_scores, slices.table["volume_id"], top_k=3))
['volume0']
>>> maps_to_volume(slices.images, slices.geometries["volume0"]).shape
(20, 20, 10)
"""

from skanogan.mri._geometry import VolumeGeometry
from skanogan.mri._io import Volume, load_mask, load_volume
from skanogan.mri._maps import maps_to_volume, save_map, to_original_grid, volume_scores
from skanogan.mri._preprocess import foreground_fraction, head_mask, normalize_intensity
from skanogan.mri._scoring import score_slices, volume_maps
from skanogan.mri._slices import SliceSet, volumes_to_slices

__all__ = [
    "SliceSet",
    "Volume",
    "VolumeGeometry",
    "foreground_fraction",
    "head_mask",
    "load_mask",
    "load_volume",
    "maps_to_volume",
    "normalize_intensity",
    "save_map",
    "score_slices",
    "to_original_grid",
    "volume_maps",
    "volume_scores",
    "volumes_to_slices",
]
