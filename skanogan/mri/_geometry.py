"""The in-plane mapping between one volume's axial slices and square model images, both ways.

Forward (:meth:`VolumeGeometry.to_model`), for each kept slice ``data[:, :, k]`` of the RAS+
grid (rows run towards Right, columns towards Anterior):

1. resample to ``spacing`` mm pixels (bilinear, antialiased when shrinking), so that a pixel
   covers the same area in every volume;
2. cut a square window of ``field_of_view`` mm, centred on the bounding box of the volume's
   foreground (the same window for every slice of a volume); where it reaches past the slice,
   pad with a given value (the volume's background);
3. resize the window to ``image_size`` × ``image_size``.

Backward (:meth:`VolumeGeometry.to_native`) runs the steps in reverse on 2-D maps: resize to the
window, remove the padding (and put zeros where the window had cropped), resample to the slice's
voxels. Interpolation blurs a little each way; geometry is exact up to rounding each resampled
side to whole pixels.

See Also
--------
skanogan.mri._slices : builds one VolumeGeometry per volume and uses it both ways.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from skanogan.mri._io import Volume

__all__ = ["VolumeGeometry"]


def _resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    # antialias only changes downsampling (it matches plain bilinear when enlarging): without
    # it a 240 → 64 shrink would alias fine texture into the model images.
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)


@dataclass(frozen=True, eq=False)
class VolumeGeometry:
    """How one volume's axial slices became model images, and what maps them back.

    It also carries the volume's original grid (affine, shape, orientation, path), so
    :func:`~skanogan.mri.maps_to_volume` and :func:`~skanogan.mri.save_map` need nothing else.

    Attributes
    ----------
    volume_id : str
    path : pathlib.Path or None
        The volume's file.
    original_affine, original_shape, original_orientation
        As in :class:`~skanogan.mri.Volume`.
    ras_shape : tuple of 3 ints
        Shape of the RAS+ grid (``Volume.shape``).
    in_plane_zooms : tuple of 2 floats
        Voxel size in mm along the first two RAS+ axes.
    slice_indices : ndarray of int
        The kept axial slices, ascending: one model image each, in this order.
    resampled_shape : tuple of 2 ints
        A slice's shape after step 1.
    padding : tuple of 4 ints
        Step 2 as ``torch.nn.functional.pad`` amounts ``(left, right, top, bottom)`` on the
        resampled slice; a negative amount crops.
    image_size : int
        Side of the model images.
    """

    volume_id: str
    path: Path | None
    original_affine: np.ndarray
    original_shape: tuple[int, int, int]
    original_orientation: tuple[str, str, str]
    ras_shape: tuple[int, int, int]
    in_plane_zooms: tuple[float, float]
    slice_indices: np.ndarray
    resampled_shape: tuple[int, int]
    padding: tuple[int, int, int, int]
    image_size: int

    @classmethod
    def plan(
        cls,
        volume: Volume,
        foreground: np.ndarray,
        slice_indices: np.ndarray,
        *,
        volume_id: str,
        spacing: float,
        field_of_view: float,
        image_size: int,
    ) -> VolumeGeometry:
        """Lay out the steps for ``volume``, its RAS+ ``foreground`` mask and kept slices."""
        zooms = volume.zooms[:2]
        resampled = tuple(
            max(1, round(n * z / spacing)) for n, z in zip(volume.shape[:2], zooms, strict=True)
        )
        window = max(1, round(field_of_view / spacing))
        padding = ()
        for axis in (1, 0):  # in torch's pad order: columns (left, right), then rows (top, bottom)
            n_native, n_resampled = volume.shape[axis], resampled[axis]
            inside = np.flatnonzero(foreground.any(axis=(1 - axis, 2)))
            # Centre in pixel-edge coordinates (0 = the slice's first edge), native → resampled.
            centre = (inside[0] + inside[-1] + 1) / 2 if inside.size else n_native / 2
            start = round(centre * n_resampled / n_native - window / 2)
            padding += (-start, start + window - n_resampled)
        return cls(
            volume_id=volume_id,
            path=volume.path,
            original_affine=volume.original_affine,
            original_shape=volume.original_shape,
            original_orientation=volume.original_orientation,
            ras_shape=volume.shape,
            in_plane_zooms=(float(zooms[0]), float(zooms[1])),
            slice_indices=np.asarray(slice_indices, dtype=np.int64),
            resampled_shape=resampled,
            padding=padding,
            image_size=int(image_size),
        )

    def to_model(self, slices: np.ndarray, *, fill: float) -> np.ndarray:
        """Slices ``(X, Y, n)`` of the RAS+ grid → model images ``(n, 1, S, S)``, float32.

        ``fill`` is the value of padded pixels: the volume's background.
        """
        if slices.shape[-1] == 0:  # torch's interpolate refuses empty batches
            return np.zeros((0, 1, self.image_size, self.image_size), dtype=np.float32)
        x = torch.from_numpy(np.ascontiguousarray(np.moveaxis(slices, -1, 0), np.float32))
        x = _resize(x[:, np.newaxis], self.resampled_shape)
        x = F.pad(x, self.padding, mode="constant", value=float(fill))
        return _resize(x, (self.image_size, self.image_size)).numpy()

    def to_native(self, maps: np.ndarray) -> np.ndarray:
        """Maps ``(n, S, S)`` at model resolution → ``(X, Y, n)`` on the slices' voxels.

        Pixels outside the field-of-view window are 0.
        """
        if len(maps) == 0:
            return np.zeros((*self.ras_shape[:2], 0), dtype=np.float32)
        _, _, top, bottom = self.padding
        window = self.resampled_shape[0] + top + bottom
        x = torch.from_numpy(np.ascontiguousarray(maps, np.float32))[:, np.newaxis]
        x = _resize(x, (window, window))
        x = F.pad(x, tuple(-p for p in self.padding), mode="constant", value=0.0)
        x = _resize(x, self.ras_shape[:2])
        return np.moveaxis(x[:, 0].numpy(), 0, -1)
