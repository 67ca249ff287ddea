"""The command line's outputs: score tables, CSV files, anomaly-map PNG/NIfTI files, montages.

==============================  ==============================================================
function                        what
==============================  ==============================================================
:func:`map_paths`               the anomaly-map files ``score --maps`` will write
:func:`montage_paths`           the montage PNGs ``mri score --png`` will write
:func:`check_outputs`           refuse existing outputs (unless overwriting) before any work
:func:`score_table`             a model and inputs → the score CSV's columns
:func:`write_csv`               a table → CSV, atomically
:func:`write_maps`              anomaly maps → PNGs, or NIfTI on each volume's grid
:func:`write_montages`          per-volume montages: slices, map overlaid, tumour contour
==============================  ==============================================================

Every file is written atomically and never over an existing file unless ``overwrite`` is set.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from skanogan.cli._inputs import Inputs, import_pillow
from skanogan.io._files import write_atomically

__all__ = [
    "MAP_SCALE",
    "check_outputs",
    "map_paths",
    "montage_paths",
    "require_matplotlib",
    "score_table",
    "write_csv",
    "write_maps",
    "write_montages",
]

#: Anomaly-map value (``|x - x_rec|`` in the network's [-1, 1] units) drawn white in PNGs.
MAP_SCALE = 1.0


def score_table(detector: Any, inputs: Inputs, model: str | os.PathLike) -> dict[str, Sequence]:
    """The score CSV's columns: ``source, index, score, label`` (+ ``volume, slice, tumour``).

    ``label`` is ``decision_function > threshold_`` (1 = anomalous); ``tumour`` is empty when
    no tumour mask was given. A model that does not fit the inputs is a ``ValueError``.
    """
    from skanogan.mri import score_slices

    try:
        if inputs.slices is not None:
            scored = score_slices(detector, inputs.slices)
        else:
            scores = detector.decision_function(inputs.X)
            scored = {"score": scores, "label": (scores > detector.threshold_).astype(np.int64)}
    except ValueError as exc:
        raise ValueError(f"{model} does not fit these inputs: {exc}") from None
    table = {"source": inputs.source, "index": inputs.index, **scored}
    columns = ["source", "index", "score", "label"]
    if inputs.kind == "nifti":
        table.setdefault("tumour", [""] * len(inputs.X))
        columns += ["volume", "slice", "tumour"]
    return {name: table[name] for name in columns}


def map_paths(inputs: Inputs, folder: Path) -> list[Path]:
    """Anomaly-map files: one PNG per image or array row, one NIfTI per volume."""
    if inputs.kind == "nifti":
        return [folder / f"{volume_id}_map.nii.gz" for volume_id in inputs.slices.geometries]
    if inputs.kind == "images":
        return [folder / f"{Path(source).stem}_map.png" for source in inputs.source]
    return [
        folder / f"{Path(source).stem}_{index}_map.png"
        for source, index in zip(inputs.source, inputs.index, strict=True)
    ]


def montage_paths(inputs: Inputs, folder: Path) -> list[Path]:
    """One montage PNG per NIfTI volume."""
    return [folder / f"{volume_id}_montage.png" for volume_id in inputs.slices.geometries]


def check_outputs(
    files: Sequence[Path], *, overwrite: bool, inputs: Sequence[str | os.PathLike] = ()
) -> None:
    """Fail, before any work, if an output exists (without ``overwrite``) or clashes.

    Parameters
    ----------
    files : sequence of pathlib.Path
        Every file the command will write. Their folders must exist or be creatable.
    overwrite : bool
    inputs : sequence of str or os.PathLike
        Input files, never written over.
    """
    protected = {Path(path).resolve() for path in inputs}
    seen: set[Path] = set()
    for path in files:
        resolved = path.resolve()
        if resolved in seen:
            raise ValueError(f"two outputs would be written to {path}: rename an input")
        if resolved in protected:
            raise ValueError(f"{path} is an input; refusing to write over it")
        if path.is_dir():
            raise ValueError(f"{path} is a folder; give a file name")
        if path.exists() and not overwrite:
            raise FileExistsError(f"{path} exists; pass --overwrite to replace it")
        for parent in path.parents:
            if parent.exists() and not parent.is_dir():
                raise ValueError(f"{parent} is a file, not a folder")
        seen.add(resolved)


def _write(path: Path, payload: bytes, overwrite: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, payload, overwrite=overwrite)


def write_csv(path: Path, table: Mapping[str, Sequence], *, overwrite: bool) -> None:
    """Write ``table`` (columns of equal length) as CSV with a header row, atomically."""
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(list(table))
    writer.writerows(zip(*table.values(), strict=True))
    _write(path, text.getvalue().encode(), overwrite)


def write_maps(detector: Any, inputs: Inputs, paths: Sequence[Path], *, overwrite: bool) -> None:
    """Write the anomaly maps to :func:`map_paths`' files.

    NIfTI input: one map per volume on its original grid, with its affine
    (:func:`~skanogan.mri.volume_maps`, :func:`~skanogan.mri.save_map`). Other input: one 8-bit
    grayscale PNG per image, grey level ``255 * min(map / MAP_SCALE, 1)``, the same scale for
    every image and every model, since ``anomaly_map`` is in the network's [-1, 1] units.
    """
    if inputs.slices is not None:
        from skanogan.mri import save_map, volume_maps

        maps = volume_maps(detector, inputs.slices)
        geometries = inputs.slices.geometries
        for path, (volume_id, geometry) in zip(paths, geometries.items(), strict=True):
            path.parent.mkdir(parents=True, exist_ok=True)
            save_map(maps[volume_id], geometry, path, overwrite=overwrite)
        return
    image_module = import_pillow()
    maps = detector.anomaly_map(inputs.X)
    pixels = np.round(255 * np.clip(maps / MAP_SCALE, 0.0, 1.0)).astype(np.uint8)
    for path, pixel in zip(paths, pixels, strict=True):
        buffer = io.BytesIO()
        image_module.fromarray(pixel, mode="L").save(buffer, format="PNG")
        _write(path, buffer.getvalue(), overwrite)


def require_matplotlib() -> None:
    """Raise a one-line ``ImportError`` unless matplotlib is installed."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ImportError("montages need matplotlib: pip install 'skanogan[plot]'") from None


def write_montages(
    detector: Any, inputs: Inputs, scores: np.ndarray, paths: Sequence[Path], *, overwrite: bool
) -> None:
    """One PNG per volume: its kept slices seen from above, the anomaly map overlaid.

    The map uses the scale of :func:`write_maps` (0 to ``MAP_SCALE``); slices with a tumour
    mask get its contour in cyan.
    """
    require_matplotlib()
    from matplotlib.figure import Figure

    slices = inputs.slices
    maps = detector.anomaly_map(inputs.X)
    ids = slices.table["volume_id"]
    for volume_id, path in zip(slices.geometries, paths, strict=True):
        rows = np.flatnonzero(ids == volume_id)
        columns = max(1, math.ceil(math.sqrt(len(rows))))
        figure = Figure(figsize=(2 * columns, 2 * max(1, math.ceil(len(rows) / columns))))
        for position, row in enumerate(rows):
            axes = figure.add_subplot(math.ceil(len(rows) / columns), columns, position + 1)
            axes.imshow(slices.images[row, 0].T, origin="lower", cmap="gray")
            axes.imshow(maps[row].T, origin="lower", cmap="hot", alpha=0.5, vmin=0, vmax=MAP_SCALE)
            if slices.masks is not None and slices.masks[row, 0].any():
                axes.contour(slices.masks[row, 0].T, levels=[0.5], colors="cyan", linewidths=0.8)
            axes.set_title(
                f"slice {slices.table['slice_index'][row]}: {scores[row]:.3g}", fontsize=7
            )
            axes.set_axis_off()
        figure.suptitle(f"{volume_id}: anomaly map (white = error {MAP_SCALE:g} or more)")
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=80)
        _write(path, buffer.getvalue(), overwrite)
