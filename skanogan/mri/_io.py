"""Reading volumes into RAS+ orientation, and masks onto a volume's grid.

A :class:`Volume` holds the voxels reoriented to RAS+ by ``nibabel.as_closest_canonical``: the
first axis runs towards the subject's Right, the second towards Anterior, the third towards
Superior, so "axial slice k" is ``data[:, :, k]`` whatever order the scanner wrote. It keeps
the original image's affine, shape and orientation, so that a result computed on the RAS+ grid
can be put back onto the original grid and saved with the original affine
(:mod:`skanogan.mri._maps`), where it overlays the input in any viewer.

nibabel is imported when first needed: ``import skanogan.mri`` works without it, and the first
call that needs it says what to install.

See Also
--------
skanogan.mri._preprocess : masks, intensity normalisation, foreground fractions.
skanogan.mri._geometry : the in-plane mapping between slices and model images.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

__all__ = ["Volume", "load_mask", "load_volume"]

_INSTALL_HINT = "pip install 'skanogan[mri]'"
# Masks written by other tools carry float32-rounded affines; 1e-3 mm is far below any voxel.
_AFFINE_ATOL_MM = 1e-3


def _nibabel() -> ModuleType:
    try:
        import nibabel
    except ImportError:
        raise ImportError(f"skanogan.mri needs nibabel: {_INSTALL_HINT}") from None
    return nibabel


@dataclass(frozen=True, eq=False)
class Volume:
    """One 3-D image in RAS+ orientation, with what is needed to map results back.

    Build one with :func:`load_volume` (a file) or :meth:`Volume.from_image` (a nibabel image).

    Attributes
    ----------
    data : ndarray of shape (X, Y, Z), float32
        Voxel values in RAS+ order, with the header's scaling applied. Non-finite values
        (NaN, ±inf, which some tools write outside the brain) are set to 0.
    affine : ndarray of shape (4, 4)
        Voxel-to-world (mm) affine of ``data``.
    zooms : tuple of 3 floats
        Voxel size in mm along the axes of ``data``, taken from ``affine``.
    original_affine : ndarray of shape (4, 4)
        Affine of the image as stored.
    original_shape : tuple of 3 ints
        Shape of the image as stored (a trailing 4th axis of length 1 removed).
    original_orientation : tuple of 3 str
        Axis codes of the stored image (``nibabel.aff2axcodes``), e.g. ``("L", "P", "S")``.
    path : pathlib.Path or None
        The file read; None for an image built in memory.
    """

    data: np.ndarray
    affine: np.ndarray
    zooms: tuple[float, float, float]
    original_affine: np.ndarray
    original_shape: tuple[int, int, int]
    original_orientation: tuple[str, str, str]
    path: Path | None = None

    @property
    def shape(self) -> tuple[int, int, int]:
        """Shape of :attr:`data`: the RAS+ grid."""
        return self.data.shape

    @classmethod
    def from_image(cls, image: Any, *, path: str | os.PathLike | None = None) -> Volume:
        """Reorient a nibabel image to RAS+ and read its voxels as float32.

        Parameters
        ----------
        image : nibabel.spatialimages.SpatialImage
            A 3-D image, or a 4-D one whose 4th axis has length 1.
        path : str or os.PathLike, default=None
            The file the image came from, kept in :attr:`path` and named in error messages.

        Returns
        -------
        volume : Volume

        Examples
        --------
        >>> import numpy as np, nibabel as nib
        >>> data = np.zeros((4, 5, 6), np.int16)
        >>> data[0, 0, 0] = 7  # stored first: the most Left, most Posterior, most Superior voxel
        >>> volume = Volume.from_image(nib.Nifti1Image(data, np.diag([-2.0, -1.0, -3.0, 1.0])))
        >>> volume.original_orientation, volume.shape, volume.zooms
        (('L', 'P', 'I'), (4, 5, 6), (2.0, 1.0, 3.0))
        >>> float(volume.data[3, 4, 5])  # in RAS+ the same voxel comes last on every axis
        7.0
        """
        nib = _nibabel()
        where = "the image" if path is None else str(path)
        if not isinstance(image, nib.spatialimages.SpatialImage):
            raise TypeError(f"image must be a nibabel spatial image, got {type(image).__name__}")
        shape = tuple(image.shape)
        if len(shape) == 4 and shape[3] == 1:
            image = image.slicer[..., 0]
        elif len(shape) != 3:
            raise ValueError(
                f"{where} has shape {shape}; expected a 3-D volume (or 4-D with one volume, "
                "shape (X, Y, Z, 1))"
            )
        orientation = nib.aff2axcodes(image.affine)
        if None in orientation:
            raise ValueError(
                f"{where} has a degenerate affine with no orientation: {_one_line(image.affine)}"
            )
        try:
            canonical = nib.as_closest_canonical(image)
            data = canonical.get_fdata(dtype=np.float32)
        except Exception as exc:  # corrupt data raises many types: EOFError, OSError, zlib.error…
            raise ValueError(f"{where} could not be read: {exc}") from None
        return cls(
            data=np.nan_to_num(data, nan=0.0, posinf=0.0, neginf=0.0),
            affine=canonical.affine.copy(),
            zooms=tuple(float(z) for z in nib.affines.voxel_sizes(canonical.affine)),
            original_affine=image.affine.copy(),
            original_shape=tuple(int(s) for s in image.shape),
            original_orientation=tuple(orientation),
            path=None if path is None else Path(path),
        )


def load_volume(path: str | os.PathLike) -> Volume:
    """Read a 3-D image file (NIfTI, or any volume format nibabel reads) into RAS+.

    Parameters
    ----------
    path : str or os.PathLike
        The file. A 4-D image is accepted only when its 4th axis has length 1.

    Returns
    -------
    volume : Volume

    Raises
    ------
    ValueError
        Naming the file, when it is missing, a folder, not an image nibabel can identify,
        corrupt or truncated, not a volume (e.g. a GIFTI surface), or not 3-D.
    """
    return _load(path, "path")


def load_mask(
    mask: str | os.PathLike | np.ndarray, volume: Volume, *, name: str = "mask"
) -> np.ndarray:
    """A mask on ``volume``'s RAS+ grid: True where the mask is nonzero.

    Parameters
    ----------
    mask : str, os.PathLike or ndarray
        A file must have the volume's original shape and affine (the grid it was drawn on); it is
        reoriented like the volume. An array must already lie on the RAS+ grid, with shape
        ``volume.shape`` (e.g. computed from ``volume.data``).
    volume : Volume
    name : str, default="mask"
        What the caller calls the mask, for error messages.

    Returns
    -------
    mask : ndarray of shape volume.shape, bool

    Examples
    --------
    >>> import numpy as np, nibabel as nib
    >>> volume = Volume.from_image(nib.Nifti1Image(np.ones((4, 4, 3)), np.eye(4)))
    >>> int(load_mask(volume.data > 0, volume).sum())
    48
    """
    if isinstance(mask, (str, os.PathLike)):
        on_file = _load(mask, name)
        if on_file.original_shape != volume.original_shape or not np.allclose(
            on_file.original_affine, volume.original_affine, atol=_AFFINE_ATOL_MM
        ):
            raise ValueError(
                f"{name} {mask} does not lie on the grid of {volume.path or 'the volume'}: shape "
                f"{on_file.original_shape} vs {volume.original_shape}, affine "
                f"{_one_line(on_file.original_affine)} vs {_one_line(volume.original_affine)}"
            )
        return on_file.data != 0
    if not isinstance(mask, np.ndarray):
        raise TypeError(f"{name} must be a file path or a numpy array, got {type(mask).__name__}")
    if mask.shape != volume.shape:
        raise ValueError(
            f"{name} has shape {mask.shape}, expected the RAS+ shape of "
            f"{volume.path or 'the volume'}, {volume.shape}"
        )
    return mask != 0


def _one_line(affine: np.ndarray) -> str:
    """A 4 x 4 affine as one line of rows, to 3 decimals: error messages stay on one line."""
    return str(np.round(affine, 3).tolist())


def _load(path: Any, name: str) -> Volume:
    """:func:`load_volume` with errors that call the file ``name``."""
    return Volume.from_image(_read_image(path, name), path=path)


def _read_image(path: Any, name: str) -> Any:
    """``nib.load(path)`` with one ``ValueError`` naming the file for every way it can fail."""
    nib = _nibabel()
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name} must be a str or os.PathLike, got {type(path).__name__}")
    if not os.path.exists(path):
        raise ValueError(f"{name} {path} does not exist")
    if os.path.isdir(path):
        raise ValueError(f"{name} {path} is a folder, not an image file")
    try:
        image = nib.load(path)
    except Exception as exc:  # ImageFileError, HeaderDataError, OSError, EOFError, zlib.error…
        raise ValueError(f"{name} {path} is not a readable image file: {exc}") from None
    if not isinstance(image, nib.spatialimages.SpatialImage):
        raise ValueError(f"{name} {path} is a {type(image).__name__}, not a volume image")
    return image
