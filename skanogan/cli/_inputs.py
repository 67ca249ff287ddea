"""The command line's inputs: files and folders read into arrays for the detector.

==============================  ==============================================================
function                        what
==============================  ==============================================================
:func:`expand_inputs`           paths and folders → one input kind and a sorted list of files
:func:`read_inputs`             files → :class:`Inputs` (the array, one row per sample)
:func:`read_inputs_for_model`   :func:`read_inputs` as a model's metadata says
==============================  ==============================================================

Input kinds: ``"images"`` (PNG/JPEG files, or folders of them, sorted by name; grayscale
stays one channel, anything else becomes RGB), ``"array"`` (``.npy``, or ``.npz`` holding one
array or read with ``key``) and ``"nifti"`` (``.nii``/``.nii.gz`` volumes, or folders of
them, cut into axial slices by :func:`skanogan.mri.volumes_to_slices`). Every error is a
``ValueError``, ``FileNotFoundError`` or ``ImportError`` with a one-line message naming the file.
"""

from __future__ import annotations

import inspect
import os
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

__all__ = [
    "Inputs",
    "expand_inputs",
    "nifti_defaults",
    "read_inputs",
    "read_inputs_for_model",
]

KINDS = ("images", "array", "nifti")
_SUFFIXES = {
    "images": (".png", ".jpg", ".jpeg"),
    "array": (".npy", ".npz"),
    "nifti": (".nii", ".nii.gz"),
}
_NAMES = {"images": "PNG/JPEG images", "array": ".npy/.npz arrays", "nifti": "NIfTI volumes"}
_NIFTI_SETTINGS = (
    "image_size",
    "spacing",
    "field_of_view",
    "normalization",
    "min_foreground",
    "outside_mask",
)


@dataclass(frozen=True, eq=False)
class Inputs:
    """Samples read from the command line's input files.

    Attributes
    ----------
    kind : {"images", "array", "nifti"}
    files : list of pathlib.Path
        The input files, folders expanded, in reading order.
    X : ndarray or _Stacked
        For the detector: ``(n, C, H, W)`` images, the arrays as stored (several files: one
        array-like over them, read by slices), or ``(n, 1, S, S)`` slices.
    source, index : ndarray of shape (n,)
        The file each sample came from (str) and its position within that file (int).
    slices : SliceSet or None
        For NIfTI input: the slices with their table and geometries.
    metadata : dict
        How the inputs were read, for :meth:`~skanogan.LatentRegularizedGAN.save`.
    """

    kind: str
    files: list[Path]
    X: Any
    source: np.ndarray
    index: np.ndarray
    slices: Any = None
    metadata: dict[str, Any] = field(default_factory=dict)


def nifti_defaults() -> dict[str, Any]:
    """The defaults of :func:`~skanogan.mri.volumes_to_slices` that the CLI exposes."""
    from skanogan.mri import volumes_to_slices

    parameters = inspect.signature(volumes_to_slices).parameters
    return {name: parameters[name].default for name in _NIFTI_SETTINGS}


def _kind_of(path: Path) -> str | None:
    name = path.name.lower()
    return next((kind for kind in KINDS if name.endswith(_SUFFIXES[kind])), None)


def expand_inputs(
    paths: Sequence[str | os.PathLike], *, kinds: Sequence[str] = KINDS, why: str = "expected"
) -> tuple[str, list[Path]]:
    """Expand folders and find the one input kind of ``paths``.

    Parameters
    ----------
    paths : sequence of str or os.PathLike
        Files, or folders whose image and NIfTI files (not subfolders) are taken, sorted by name.
    kinds : sequence of str, default=all kinds
        The kinds accepted here.
    why : str, default="expected"
        Start of the reason given when a file has another kind, e.g. "the model was fitted on".

    Returns
    -------
    kind : str
    files : list of pathlib.Path
    """
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            wanted = [kind for kind in kinds if kind != "array"]
            members = sorted(p for p in path.iterdir() if p.is_file() and _kind_of(p) in wanted)
            if not members:
                names = " or ".join(_NAMES[kind] for kind in wanted)
                raise ValueError(f"folder {path} holds no {names}")
            files.extend(members)
        elif path.exists():
            files.append(path)
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
    if not files:
        raise ValueError("no input given")
    for path in files:
        if _kind_of(path) is None:
            suffixes = ", ".join(s for kind in KINDS for s in _SUFFIXES[kind])
            raise ValueError(f"{path}: unknown extension {path.suffix!r}; expected {suffixes}")
    kind = _kind_of(files[0])
    for path in files:
        if _kind_of(path) not in kinds:
            accepted = " or ".join(_NAMES[k] for k in kinds)
            raise ValueError(f"{path} holds {_NAMES[_kind_of(path)]}, but {why} {accepted}")
        if _kind_of(path) != kind:
            raise ValueError(f"inputs mix {_NAMES[kind]} and {_NAMES[_kind_of(path)]} ({path})")
    return kind, files


def read_inputs(
    paths: Sequence[str | os.PathLike],
    *,
    kinds: Sequence[str] = KINDS,
    why: str = "expected",
    key: str | None = None,
    nifti: Mapping[str, Any] | None = None,
    brain_masks: Sequence[str] | None = None,
    tumour_masks: Sequence[str] | None = None,
) -> Inputs:
    """Read images, arrays or NIfTI volumes into one array for the detector.

    Parameters
    ----------
    paths, kinds, why
        See :func:`expand_inputs`.
    key : str, optional
        The array to read from ``.npz`` files (needed when they hold several).
    nifti : mapping, optional
        Settings of :func:`~skanogan.mri.volumes_to_slices` (``image_size``, ``spacing``,
        ``field_of_view``, ``normalization``, ``min_foreground``); missing ones take its defaults.
    brain_masks, tumour_masks : sequence of str, optional
        NIfTI only: one mask file per volume, in the order of the volumes.

    Returns
    -------
    inputs : Inputs
    """
    kind, files = expand_inputs(paths, kinds=kinds, why=why)
    if key is not None and kind != "array":
        raise ValueError(f"a key selects an array in .npz files; these inputs are {_NAMES[kind]}")
    if kind != "nifti" and (brain_masks or tumour_masks):
        raise ValueError(f"masks go with NIfTI volumes; these inputs are {_NAMES[kind]}")
    if kind == "nifti":
        return _read_volumes(files, dict(nifti or {}), brain_masks, tumour_masks)
    read = _read_image if kind == "images" else lambda path: _read_array(path, key)
    arrays = [read(path) for path in files]
    for path, array in zip(files, arrays, strict=True):
        if array.shape[1:] != arrays[0].shape[1:]:
            raise ValueError(
                f"{path} holds {_describe(kind, array)} but {files[0]} holds "
                f"{_describe(kind, arrays[0])}: all inputs must share one shape"
            )
    return Inputs(
        kind=kind,
        files=files,
        # Never copied together: .npy files stay memory-mapped, read a batch at a time.
        X=arrays[0] if len(arrays) == 1 else _Stacked(arrays),
        source=np.concatenate(
            [np.full(len(a), str(p), dtype=object) for p, a in zip(files, arrays, strict=True)]
        ),
        index=np.concatenate([np.arange(len(a)) for a in arrays]),
        metadata={"input": kind},
    )


class _Stacked:
    """Arrays with one row shape, seen as one along the first axis without being copied.

    An array-like for the detector (a NumPy ``dtype``, a ``shape``, slicing along the first
    axis): it reads the rows of a slice from the arrays that hold them, so memory-mapped
    ``.npy`` inputs stay on disk until a batch is read.

    Examples
    --------
    >>> stacked = _Stacked([np.zeros((2, 3), np.uint8), np.ones((1, 3), np.float32)])
    >>> stacked.shape, stacked.dtype
    ((3, 3), dtype('float32'))
    >>> stacked[1:3]
    array([[0., 0., 0.],
           [1., 1., 1.]], dtype=float32)
    """

    def __init__(self, arrays: Sequence[np.ndarray]) -> None:
        self.arrays = list(arrays)
        self.dtype = np.result_type(*self.arrays)
        self.shape = (sum(len(a) for a in self.arrays), *self.arrays[0].shape[1:])
        self.ndim = len(self.shape)
        self._starts = np.cumsum([0, *(len(a) for a in self.arrays)])

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows: slice) -> np.ndarray:
        if not isinstance(rows, slice) or rows.indices(len(self))[2] != 1:
            raise TypeError(f"rows are read by contiguous slices, not {rows!r}")
        start, stop, _ = rows.indices(len(self))
        first = int(np.searchsorted(self._starts, start, side="right")) - 1
        parts = []
        for i in range(max(first, 0), len(self.arrays)):
            offset = int(self._starts[i])
            if offset >= stop:
                break
            parts.append(self.arrays[i][max(start - offset, 0) : stop - offset])
        if not parts:
            return np.empty((0, *self.shape[1:]), self.dtype)
        return np.concatenate(parts).astype(self.dtype, copy=False)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        whole = self[:]
        return whole if dtype is None else whole.astype(dtype, copy=False)


def _describe(kind: str, array: np.ndarray) -> str:
    if kind == "array":
        return f"samples of shape {array.shape[1:]}"
    channels, height, width = array.shape[1:]
    return f"a {width}x{height} {'grayscale' if channels == 1 else 'RGB'} image"


def import_pillow() -> ModuleType:
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("reading images needs Pillow: pip install 'skanogan[images]'") from None
    return Image


def _read_image(path: Path) -> np.ndarray:
    """One image as ``(1, C, H, W)``: 1 channel for grayscale, 3 for anything else."""
    image_module = import_pillow()
    try:
        with image_module.open(path) as image:
            if image.mode in ("I", "F") or image.mode.startswith("I;16"):
                array = np.asarray(image, dtype=np.float32)
            elif image.mode in ("1", "L", "LA"):
                array = np.asarray(image.convert("L"))
            else:
                array = np.asarray(image.convert("RGB"))
    except OSError as exc:  # PIL's UnidentifiedImageError and truncated files
        raise ValueError(f"cannot read {path} as an image: {exc}") from None
    array = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
    return array[None]


def _read_array(path: Path, key: str | None) -> np.ndarray:
    try:
        # A .npy file is memory-mapped: the detector reads it a batch at a time.
        loaded = np.load(path, mmap_mode="r", allow_pickle=False)
        if isinstance(loaded, np.lib.npyio.NpzFile):
            with loaded:
                names = list(loaded.files)
                if key is None and len(names) != 1:
                    raise ValueError(f"{path} holds arrays {names}: choose one with --key")
                if key is not None and key not in names:
                    raise ValueError(f"{path} has no array {key!r}; it holds {names}")
                loaded = loaded[key if key is not None else names[0]]
        elif key is not None:
            raise ValueError(f"{path} is not an .npz file; --key selects arrays in .npz files")
    except (OSError, EOFError, zipfile.BadZipFile, ValueError) as exc:
        message = str(exc)
        raise ValueError(
            message if str(path) in message else f"cannot read {path}: {exc}"
        ) from None
    if loaded.dtype.kind not in "biuf" or loaded.ndim < 2:
        raise ValueError(
            f"{path} holds a {loaded.dtype} array of shape {loaded.shape}; expected numbers with "
            "samples along the first axis: (n, features), (n, H, W) or (n, C, H, W)"
        )
    return loaded


def _volume_id(path: Path) -> str:
    return Path(path.name.removesuffix(".gz")).stem


def _read_volumes(
    files: list[Path],
    settings: dict[str, Any],
    brain_masks: Sequence[str] | None,
    tumour_masks: Sequence[str] | None,
) -> Inputs:
    from skanogan.mri import volumes_to_slices

    settings = {**nifti_defaults(), **settings}
    ids = [_volume_id(path) for path in files]
    for volume_id in ids:
        same = [str(path) for path, other in zip(files, ids, strict=True) if other == volume_id]
        if len(same) > 1:
            raise ValueError(f"volumes need distinct file names; {' and '.join(same)} share one")
    for name, masks in (("brain", brain_masks), ("tumour", tumour_masks)):
        if masks and len(masks) != len(files):
            raise ValueError(
                f"{len(masks)} {name} mask(s) for {len(files)} volume(s): give one per volume, "
                "in the order of the volumes"
            )
    slices = volumes_to_slices(
        files,
        tumour_masks=tumour_masks or None,
        brain_masks=brain_masks or None,
        volume_ids=ids,
        **settings,
    )
    if len(slices.images) == 0:
        raise ValueError(
            f"no slice of the {len(files)} volume(s) has a foreground fraction of at least "
            f"{settings['min_foreground']}; lower the minimum foreground"
        )
    volume = slices.table["volume_id"]
    by_id = dict(zip(ids, map(str, files), strict=True))
    return Inputs(
        kind="nifti",
        files=files,
        X=slices.images,
        source=np.array([by_id[v] for v in volume]),
        index=np.concatenate([np.arange(np.sum(volume == v)) for v in ids]),
        slices=slices,
        metadata={"input": "nifti", "nifti": settings, "brain_masks": bool(brain_masks)},
    )


def read_inputs_for_model(
    paths: Sequence[str | os.PathLike],
    model: str | os.PathLike,
    metadata: Mapping[str, Any],
    *,
    kinds: Sequence[str] = KINDS,
    key: str | None = None,
    brain_masks: Sequence[str] | None = None,
    tumour_masks: Sequence[str] | None = None,
) -> Inputs:
    """:func:`read_inputs` as the model's ``metadata`` (from ``fit``) says its inputs were read.

    A model saved without this metadata (from Python) accepts any kind in ``kinds``, and
    NIfTI volumes are then sliced with the defaults.
    """
    fitted_on = metadata.get("input")
    fitted_with_masks = bool(metadata.get("brain_masks"))
    if bool(brain_masks) != fitted_with_masks:
        raise ValueError(
            f"{model} was fitted with{'' if fitted_with_masks else 'out'} brain masks; score "
            + ("with --brain-mask, one per volume" if fitted_with_masks else "without them")
        )
    return read_inputs(
        paths,
        kinds=kinds if fitted_on is None else (fitted_on,),
        why="expected" if fitted_on is None else f"{model} was fitted on",
        key=key,
        nifti=metadata.get("nifti"),
        brain_masks=brain_masks,
        tumour_masks=tumour_masks,
    )
