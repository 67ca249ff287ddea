"""Synthetic lesions inserted into healthy brain volumes, from a seeded generator.

Only three healthy heads and three masked patients are available (``shared/data/README.md``),
too few to tell a working lesion detector from a broken one. The ``mri-synthetic`` suite
therefore inserts lesions into a held-out healthy head; every lesion it reports comes from
:func:`insert_lesions` with the parameters of :class:`LesionParams`, written into the report.
Results on them are labelled *synthetic* wherever they appear.

A lesion is a ball in millimetres (the voxel sizes are honoured, so it stays round in
anisotropic volumes):

- diameter uniform in ``diameter_mm`` (5–25 mm), centre drawn in the brain mask where the whole
  ball fits inside the brain, balls apart from each other;
- intensity: the voxels are multiplied by ``1 + w(r) * c``, which keeps the tissue's texture,
  where ``w`` falls from 1 inside to 0 outside over a smooth (logistic) border of width
  ``border_mm`` and ``c`` is the contrast relative to the *local tissue* (the median brain
  intensity in a shell around the ball);
- half of the lesions hyperintense and half hypointense, and in each group half *inside* the
  healthy intensity range (their target stays between the brain's 1st and 99th percentiles:
  an intensity threshold cannot find them) and half outside it, with at least
  ``min_contrast`` relative contrast either way;
- the lesion mask is ``w >= 0.5`` inside the brain mask.

Examples
--------
>>> import numpy as np
>>> data = np.random.default_rng(0).uniform(50.0, 150.0, (40, 40, 40)).astype(np.float32)
>>> brain = np.zeros(data.shape, bool)
>>> brain[5:35, 5:35, 5:35] = True
>>> params = LesionParams(n_lesions=(2, 2), diameter_mm=(5.0, 10.0))
>>> lesioned, mask, lesions = insert_lesions(
...     data, brain, (1.0, 1.0, 1.0), np.random.default_rng(1), params
... )
>>> len(lesions), bool(mask.any()), bool((mask <= brain).all())
(2, True, True)
>>> bool(np.array_equal(lesioned[~brain], data[~brain]))
True
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import ndimage

__all__ = ["Lesion", "LesionParams", "brain_depth", "contrast_bin", "insert_lesions", "size_bin"]


@dataclass(frozen=True)
class LesionParams:
    """What :func:`insert_lesions` draws from; written into every report that uses it."""

    #: Diameters are uniform in this range (mm).
    diameter_mm: tuple[float, float] = (5.0, 25.0)
    #: Lesions per volume: an integer uniform in this inclusive range.
    n_lesions: tuple[int, int] = (2, 4)
    #: Width (mm) of the logistic border: ``w = 1 / (1 + exp((r - R) / (border_mm / 4)))``.
    border_mm: float = 2.0
    #: Smallest relative contrast ``|c|`` of any lesion.
    min_contrast: float = 0.15
    #: Largest relative contrast of a lesion outside the healthy range.
    max_contrast: float = 0.8
    #: Healthy intensity range: these percentiles of the brain's voxels.
    healthy_percentiles: tuple[float, float] = (1.0, 99.0)
    #: Free space (mm) kept between two lesions.
    gap_mm: float = 3.0


@dataclass(frozen=True)
class Lesion:
    """One inserted lesion (voxel indices on the array passed to :func:`insert_lesions`)."""

    center: tuple[int, int, int]
    diameter_mm: float
    polarity: str  # "hyper" or "hypo"
    in_healthy_range: bool
    contrast: float  # c: the target is local_intensity * (1 + c)
    local_intensity: float
    voxels: int  # voxels of the lesion mask

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def size_bin(diameter_mm: float) -> str:
    """The report's size bins: ``5-10``, ``10-15``, ``15-20``, ``20-25`` mm."""
    low = int(min(max(diameter_mm, 5.0), 24.999) // 5 * 5)
    return f"{low}-{low + 5} mm"


def contrast_bin(lesion: Lesion | dict) -> str:
    """``hyper``/``hypo`` and ``inside``/``outside`` the healthy range, e.g. ``hyper, inside``."""
    get = lesion.get if isinstance(lesion, dict) else lambda key: getattr(lesion, key)
    return f"{get('polarity')}, {'inside' if get('in_healthy_range') else 'outside'}"


def _draw_kinds(n: int, rng: np.random.Generator) -> list[tuple[str, bool]]:
    """Balanced polarity x range kinds, in random order (half hyper, half inside range)."""
    kinds = [("hyper", True), ("hypo", False), ("hypo", True), ("hyper", False)]
    start = int(rng.integers(4))
    chosen = [kinds[(start + i) % 4] for i in range(n)]
    return [chosen[i] for i in rng.permutation(n)]


def _contrast(
    polarity: str,
    inside: bool,
    local: float,
    healthy: tuple[float, float],
    params: LesionParams,
    rng: np.random.Generator,
) -> float | None:
    """Relative contrast ``c`` for this kind at this local intensity; None when impossible."""
    low, high = healthy
    if polarity == "hyper":
        bounds = (params.min_contrast, high / local - 1) if inside else None
        outside = (max(params.min_contrast, high / local - 1), params.max_contrast)
    else:
        bounds = (low / local - 1, -params.min_contrast) if inside else None
        outside = (-params.max_contrast, min(-params.min_contrast, low / local - 1))
    lo, hi = bounds if inside else outside
    if lo >= hi:
        return None
    return float(rng.uniform(lo, hi))


def brain_depth(brain: np.ndarray, zooms: tuple[float, float, float]) -> np.ndarray:
    """Distance (mm) from each voxel of ``brain`` to the nearest voxel outside it (0 outside).

    Examples
    --------
    >>> brain = np.zeros((5, 5, 5), bool)
    >>> brain[1:4, 1:4, 1:4] = True
    >>> float(brain_depth(brain, (2.0, 2.0, 2.0))[2, 2, 2])
    4.0
    """
    return ndimage.distance_transform_edt(
        brain.astype(bool), sampling=np.asarray(zooms, dtype=np.float64)
    )


def insert_lesions(
    data: np.ndarray,
    brain: np.ndarray,
    zooms: tuple[float, float, float],
    rng: np.random.Generator,
    params: LesionParams = LesionParams(),
    *,
    depth: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, list[Lesion]]:
    """Insert a few synthetic lesions inside ``brain``.

    Parameters
    ----------
    data : ndarray of shape (X, Y, Z)
        The healthy volume (any intensity scale with tissue above 0).
    brain : ndarray of shape (X, Y, Z), bool
        Brain mask: lesions lie entirely inside it, and their statistics come from it.
    zooms : tuple of 3 floats
        Voxel size in mm along the axes of ``data``.
    rng : numpy.random.Generator
        The only source of randomness: the same seed gives the same lesions.
    params : LesionParams, default=LesionParams()
    depth : ndarray of shape (X, Y, Z), optional
        :func:`brain_depth` of ``brain`` and ``zooms``, computed when not given; pass it to
        insert lesions into many copies of one head without recomputing it (seconds per copy
        at 1 mm).

    Returns
    -------
    lesioned : ndarray of shape (X, Y, Z), float32
        ``data`` with the lesions; unchanged outside the brain.
    mask : ndarray of shape (X, Y, Z), bool
        Voxels of any lesion.
    lesions : list of Lesion

    Raises
    ------
    ValueError
        When the shapes differ, the brain mask is empty, or no place is left for a lesion.
    """
    if data.shape != brain.shape or data.ndim != 3:
        raise ValueError(f"data {data.shape} and brain {brain.shape} must be one 3-D shape")
    brain = brain.astype(bool)
    if not brain.any():
        raise ValueError("brain mask is empty: there is nowhere to put a lesion")
    zooms_arr = np.asarray(zooms, dtype=np.float64)
    if depth is None:
        depth = brain_depth(brain, zooms)
    elif depth.shape != brain.shape:
        raise ValueError(f"depth {depth.shape} must have the shape of brain {brain.shape}")
    healthy = tuple(float(v) for v in np.percentile(data[brain], params.healthy_percentiles))
    n = int(rng.integers(params.n_lesions[0], params.n_lesions[1] + 1))
    kinds = _draw_kinds(n, rng)
    diameters = rng.uniform(*params.diameter_mm, size=n)

    lesioned = data.astype(np.float32, copy=True)
    mask = np.zeros(data.shape, dtype=bool)
    lesions: list[Lesion] = []
    placed: list[tuple[np.ndarray, float]] = []  # centre (mm), radius (mm)
    for (polarity, inside), diameter in zip(kinds, diameters, strict=True):
        radius = diameter / 2
        spot = _place(
            data, brain, depth, zooms_arr, placed, radius, (polarity, inside), healthy, params, rng
        )
        if spot is None:
            raise ValueError(
                f"no place left for a {diameter:.1f} mm lesion inside the brain mask "
                f"(after {len(lesions)} lesions)"
            )
        center, box, distance, local, contrast = spot
        center_mm = center * zooms_arr
        weight = 1.0 / (1.0 + np.exp((distance - radius) / (params.border_mm / 4)))
        lesioned[box] = np.where(
            brain[box], lesioned[box] * (1.0 + weight * contrast), lesioned[box]
        ).astype(np.float32)
        inner = (weight >= 0.5) & brain[box]
        mask[box] |= inner
        placed.append((center_mm, radius))
        lesions.append(
            Lesion(
                center=tuple(int(v) for v in center),
                diameter_mm=float(diameter),
                polarity=polarity,
                in_healthy_range=inside,
                contrast=contrast,
                local_intensity=local,
                voxels=int(inner.sum()),
            )
        )
    return lesioned, mask, lesions


def _place(
    data: np.ndarray,
    brain: np.ndarray,
    depth: np.ndarray,
    zooms: np.ndarray,
    placed: list[tuple[np.ndarray, float]],
    radius: float,
    kind: tuple[str, bool],
    healthy: tuple[float, float],
    params: LesionParams,
    rng: np.random.Generator,
    attempts: int = 200,
) -> tuple[np.ndarray, tuple[slice, ...], np.ndarray, float, float] | None:
    """A centre where the ball fits in the brain, away from ``placed``, with a contrast of
    ``kind`` possible at its local intensity: ``(centre, box, distance, local, c)``."""
    fits = np.argwhere(depth >= radius + params.border_mm / 2)
    for _ in range(attempts if len(fits) else 0):
        center = fits[int(rng.integers(len(fits)))]
        if any(np.linalg.norm(center * zooms - c) < radius + r + params.gap_mm for c, r in placed):
            continue
        box, distance = _ball(center, radius + 2 * params.border_mm, zooms, data.shape)
        local = float(np.median(data[box][brain[box] & (distance <= radius + 3.0)]))
        if local <= 0:
            continue
        contrast = _contrast(*kind, local, healthy, params, rng)
        if contrast is not None:
            return center, box, distance, local, contrast
    return None


def _ball(
    center: np.ndarray, extent_mm: float, zooms: np.ndarray, shape: tuple[int, ...]
) -> tuple[tuple[slice, ...], np.ndarray]:
    """The box around ``center`` reaching ``extent_mm``, and each voxel's distance (mm) to it."""
    half = np.ceil(extent_mm / zooms).astype(int)
    lower = np.maximum(center - half, 0)
    upper = np.minimum(center + half + 1, shape)
    box = tuple(slice(int(a), int(b)) for a, b in zip(lower, upper, strict=True))
    axes = [
        (np.arange(a, b) - c) * z for a, b, c, z in zip(lower, upper, center, zooms, strict=True)
    ]
    grid = np.meshgrid(*axes, indexing="ij")
    return box, np.sqrt(sum(g**2 for g in grid))
