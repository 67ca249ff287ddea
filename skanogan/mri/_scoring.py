"""A fitted detector applied to a :class:`~skanogan.mri.SliceSet`: score tables and 3-D maps."""

from __future__ import annotations

from typing import Any

import numpy as np

from skanogan.mri._maps import maps_to_volume
from skanogan.mri._slices import SliceSet

__all__ = ["score_slices", "volume_maps"]


def score_slices(detector: Any, slices: SliceSet) -> dict[str, np.ndarray]:
    """One row per slice: ``volume``, ``slice``, ``score``, ``label`` and, if known, ``tumour``.

    Parameters
    ----------
    detector : fitted LatentRegularizedGAN (or any detector with ``decision_function``,
        ``predict`` and PyOD's sign: higher = more anomalous)
    slices : SliceSet

    Returns
    -------
    table : dict of str to ndarray of shape (n_slices,)
        ``volume`` (volume id), ``slice`` (axial index in the RAS+ volume), ``score``
        (``decision_function``), ``label`` (``predict``: 1 = flagged as anomalous) and, when
        the slices came with tumour masks, ``tumour`` (1 = tumour in the mask). Pass it to
        ``pandas.DataFrame`` for a data frame, or see
        :func:`~skanogan.mri.volume_scores` for one score per volume.

    Examples
    --------
    >>> import numpy as np, nibabel as nib
    >>> from skanogan import LatentRegularizedGAN
    >>> from skanogan.mri import Volume, score_slices, volumes_to_slices
    >>> data = np.zeros((20, 20, 10), np.float32)
    >>> data[5:15, 5:15, 2:8] = np.linspace(50.0, 150.0, 10)[:, None, None]
    >>> volume = Volume.from_image(nib.Nifti1Image(data, np.diag([2.0, 2.0, 3.0, 1.0])))
    >>> slices = volumes_to_slices([volume], image_size=16, field_of_view=40.0)
    >>> detector = LatentRegularizedGAN(epochs=1, latent_dim=4, base_channels=4, random_state=0)
    >>> sorted(score_slices(detector.fit(slices.images), slices))
    ['label', 'score', 'slice', 'volume']
    """
    scores = detector.decision_function(slices.images)
    table = {
        "volume": slices.table["volume_id"],
        "slice": slices.table["slice_index"],
        "score": scores,
        "label": (scores > detector.threshold_).astype(np.int64),
    }
    if "label" in slices.table:
        table["tumour"] = slices.table["label"]
    return table


def volume_maps(
    detector: Any, slices: SliceSet, *, kind: str = "residual"
) -> dict[str, np.ndarray]:
    """The detector's per-pixel anomaly map of every slice, put back on each volume's grid.

    Parameters
    ----------
    detector : fitted LatentRegularizedGAN
    slices : SliceSet
    kind : {"residual", "saliency"}, default="residual"
        ``"residual"``: ``detector.anomaly_map``, the pixel error ``|x - x_rec|`` (the image
        score's map). ``"saliency"``: ``detector.latent_saliency``, where the latent score
        reacts to a pixel (the latent score's map).

    Returns
    -------
    maps : dict of str to ndarray
        Keyed by volume id: a float32 array of the volume's original shape, in its original
        voxel order (save it with :func:`~skanogan.mri.save_map`), zero on slices that were
        not kept.
    """
    if kind not in ("residual", "saliency"):
        raise ValueError(f"kind must be 'residual' or 'saliency', got {kind!r}")
    if kind == "residual":
        pixel_maps = detector.anomaly_map(slices.images)
    else:
        pixel_maps = detector.latent_saliency(slices.images)
    ids = slices.table["volume_id"]
    return {
        volume_id: maps_to_volume(pixel_maps[ids == volume_id], geometry)
        for volume_id, geometry in slices.geometries.items()
    }
