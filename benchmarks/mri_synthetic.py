"""The synthetic-lesion brain-MRI benchmark: lesions inserted into a held-out healthy head.

Protocol (``python -m benchmarks run --suite mri-synthetic``). Every result of this suite is on
**synthetic** lesions, and is labelled so wherever it is reported.

- *Leave one healthy head out* (:func:`head_folds`): each of the three healthy heads
  (:data:`~benchmarks.mri.HEALTHY`) is held out in turn, none dropped; the detectors train on
  the two population templates and the two other healthy heads. ``colin27_t1_brain`` (the
  skull-stripped Colin27, the same person as ``colin27_t1``) is never used.
- *Lesions*: ``n_copies`` copies of the held-out head, each with the few lesions that
  :func:`benchmarks.lesions.insert_lesions` draws inside the head's brain mask
  (:mod:`benchmarks.brain_masks`), seeded by ``(lesion_seed, head, copy)``. Reported figures use
  ``lesion_seed=0``; other lesion seeds are for choices (preprocessing, thresholds), so that no
  choice is made on the reported lesions. Copies and original are cut into slices exactly as the
  training heads are (:func:`skanogan.mri.volumes_to_slices`).
- *Slice level*, within each held-out head: lesioned slices (at least ``min_tumour_voxels``
  lesion voxels) against lesion-free slices of the **same lesioned copies of that head**, taken
  from the axial range that the lesioned slices span, so that the slices compared come from one
  volume and one range of positions (the ``foreground_fraction`` baseline shows how much
  position still tells); AUROC and AP with
  bootstrap intervals (:func:`~benchmarks.mri.bootstrap_ci`). *Paired*: the share of lesioned
  slices scored above the same slice of the unmodified head (ties count one half). Both are
  broken down by the largest lesion in the slice: size bin and contrast bin
  (:func:`~benchmarks.lesions.size_bin`, :func:`~benchmarks.lesions.contrast_bin`).
- *Pixel level* (the metrics of Baur et al. 2021), inside the brain mask of the copies' slices:
  AUPRC of each map against the lesion mask, and Dice at a threshold set on *healthy training
  slices* (the ``healthy_quantile`` of the map's values inside their brains); the best Dice over
  thresholds is shown as well, labelled an upper bound (it uses the lesion masks). Maps:
  skanogan's residual ``|x - x_rec|`` and the saliency of its selected score; the
  ``intensity_threshold`` baseline, the distance of a pixel from the healthy intensity range
  (the 1st–99th percentiles of the training brains' pixels), which such studies found strong.
- *Residual-map slice scores* (:data:`MAP_SCORES`, a profile's ``map_scores``): slice scores
  this benchmark derives from skanogan's residual map, recorded beside its score types as
  ``default/NAME``; candidates for lesions of a few pixels, not library scores.
- Beside skanogan: the PyOD detectors of the MRI quick profile, the ``foreground_fraction``
  slice-position baseline and the intensity baseline (slice score: the mean of its map in the
  brain), 3 seeds.

One JSON line per (held-out head, detector, config, seed), with the resumable conventions of
:mod:`benchmarks.runner`; for the first seed, a montage of lesioned slices with skanogan's maps
and the lesion contours (:func:`plot_montage`) goes beside the results file
(``mri-synthetic-quick/<head>.png``).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

from benchmarks import detectors as det
from benchmarks.lesions import (
    LesionParams,
    brain_depth,
    contrast_bin,
    insert_lesions,
    size_bin,
)
from benchmarks.mri import (
    BASELINE,
    HEALTHY,
    TEMPLATES,
    _metrics,
    brain_mri_folder,
)
from benchmarks.runner import (
    append_records,
    cell_key,
    drop_torn_tail,
    environment,
    fold_cells,
    read_results,
)

SUITE = "mri-synthetic"
#: The unfitted pixel baseline: distance from the healthy intensity range.
INTENSITY = "intensity_threshold"
MIN_LESION_VOXELS = 10
#: Slice scores this benchmark derives from skanogan's residual map ``|x - x_rec|``
#: (:meth:`~skanogan.LatentRegularizedGAN.anomaly_map`), inside the head (pixels above
#: :data:`HEAD_LEVEL`): candidates for a score that sees lesions of a few pixels, which a summary
#: of the whole slice misses. They are not library scores.
MAP_SCORES = {
    "residual_map_max": "largest value of the residual map smoothed by a Gaussian of 1 px",
    "residual_map_excess": "sum of the residual above the 99th percentile of the training "
    "slices' residuals",
}
HEAD_LEVEL = 0.02


@dataclass(frozen=True)
class SyntheticProfile:
    """What one ``python -m benchmarks run --suite mri-synthetic --profile NAME`` covers."""

    name: str
    image_size: int
    seeds: tuple[int, ...]
    detectors: tuple[str, ...]
    settings: dict[str, Any]
    heads: tuple[str, ...] = tuple(HEALTHY)
    n_copies: int = 8
    lesion_seed: int = 0
    lesions: LesionParams = dataclasses.field(default_factory=LesionParams)
    score_types: tuple[str, ...] = ("residual_density", "latent_density", "latent", "image")
    #: Names of :data:`MAP_SCORES` to record beside the score types.
    map_scores: tuple[str, ...] = ()
    healthy_quantile: float = 0.99
    n_bootstrap: int = 1000
    #: ``"head"``: slices as ``volumes_to_slices`` cuts them by default (head mask, skull kept);
    #: ``"brain"``: every volume skull-stripped with its brain mask, normalised inside the brain.
    preprocessing: str = "head"
    #: The square window (mm) each slice is cut to before resizing (``volumes_to_slices``).
    field_of_view: float = 240.0
    #: Train also on each training slice mirrored left–right (the brain is nearly symmetric, a
    #: lesion is not): twice the slices from the same five volumes.
    mirror: bool = False
    description: str = ""


_PEERS = ("KNN", "LOF", "IForest", "PCA", "OCSVM", "AutoEncoder")
_QUICK = SyntheticProfile(
    name="quick",
    image_size=32,
    seeds=(0, 1, 2),
    detectors=("skanogan", *_PEERS, BASELINE, INTENSITY),
    settings={"epochs": 15},
    description="32 px slices, 3 seeds, 15 epochs, skanogan's defaults otherwise, the MRI "
    "quick profile's PyOD detectors, 8 lesioned copies of each held-out head",
)
# Choices (preprocessing) are made on other lesions than the reported ones: lesion seed 1.
_SELECT = dataclasses.replace(
    _QUICK,
    name="select-head",
    seeds=(0,),
    detectors=("skanogan", BASELINE, INTENSITY),
    lesion_seed=1,
    map_scores=tuple(MAP_SCORES),
    description="for choices only: lesion seed 1, seed 0, the quick profile's settings",
)
# About as many training steps as the quality suite's MNIST fits (~450 slices, 64 a batch).
_LONG = {"epochs": 200}
_QUICK_BRAIN = dataclasses.replace(
    _QUICK,
    name="quick-brain",
    preprocessing="brain",
    description="the quick profile with every volume skull-stripped by its brain mask",
)
_SELECT_BRAIN = dataclasses.replace(
    _SELECT,
    name="select-brain",
    preprocessing="brain",
    description="for choices only: as select-head, every volume skull-stripped",
)
_SELECT_BRAIN_LONG = dataclasses.replace(
    _SELECT_BRAIN,
    name="select-brain-long",
    settings=_LONG,
    description="for choices only: as select-brain, 200 epochs",
)
SYNTHETIC_PROFILES: dict[str, SyntheticProfile] = {
    "quick": _QUICK,
    "quick-brain": _QUICK_BRAIN,
    # Chosen on the select-* profiles (mean of heads AUROC): skull-stripped, 200 epochs.
    "quick-brain-long": dataclasses.replace(
        _QUICK_BRAIN,
        name="quick-brain-long",
        settings=_LONG,
        map_scores=tuple(MAP_SCORES),
        description="the quick-brain profile at 200 epochs, with the residual-map scores: the "
        "preprocessing and epochs chosen on the selection lesions",
    ),
    "paper": dataclasses.replace(
        _QUICK,
        name="paper",
        image_size=64,
        description="64 px slices, 3 seeds, 15 epochs, skanogan's defaults otherwise",
    ),
    "select-head": _SELECT,
    "select-brain": _SELECT_BRAIN,
    "select-head-long": dataclasses.replace(
        _SELECT,
        name="select-head-long",
        settings=_LONG,
        description="for choices only: as select-head, 200 epochs",
    ),
    "select-brain-long": _SELECT_BRAIN_LONG,
    "select-brain-long-fov200": dataclasses.replace(
        _SELECT_BRAIN_LONG,
        name="select-brain-long-fov200",
        field_of_view=200.0,
        description="for choices only: as select-brain-long, slices cut to 200 mm (6.25 mm "
        "pixels at 32 px instead of 7.5 mm)",
    ),
    "select-brain-long-mirror": dataclasses.replace(
        _SELECT_BRAIN_LONG,
        name="select-brain-long-mirror",
        mirror=True,
        description="for choices only: as select-brain-long, training also on every training "
        "slice mirrored left–right",
    ),
    "select-brain-long-64": dataclasses.replace(
        _SELECT_BRAIN_LONG,
        name="select-brain-long-64",
        image_size=64,
        description="for choices only: as select-brain-long, 64 px slices (3.75 mm pixels)",
    ),
    "smoke": SyntheticProfile(
        name="smoke",
        image_size=16,
        seeds=(0,),
        detectors=("skanogan", "KNN", BASELINE, INTENSITY),
        settings={"epochs": 1, "skanogan": {"base_channels": 4, "latent_dim": 4}},
        heads=("itk_kmeanstest_t1",),
        n_copies=2,
        score_types=("residual_density", "image"),
        n_bootstrap=100,
        description="a wiring check, not a result: 16 px, 1 epoch, one head, one seed",
    ),
}


@dataclass(frozen=True)
class SliceCut:
    """What the slices of a fold depend on (hashable, so that they are cut once per head)."""

    image_size: int
    n_copies: int
    lesion_seed: int
    lesions: LesionParams
    preprocessing: str
    field_of_view: float
    mirror: bool

    @classmethod
    def of(cls, profile: SyntheticProfile) -> SliceCut:
        return cls(**{f.name: getattr(profile, f.name) for f in dataclasses.fields(cls)})


def head_folds(heads: tuple[str, ...] = tuple(HEALTHY)) -> list[tuple[str, tuple[str, ...]]]:
    """``(held-out head, training volumes)`` for each head: the templates and the other heads.

    Examples
    --------
    >>> held_out, train = head_folds()[0]
    >>> held_out
    'colin27_t1'
    >>> train
    ('mni_icbm152_2009a_sym_t1', 'mni152_nlin6asym_t1_1mm', 'itk_kmeanstest_t1', 'slicer_mrhead_t1')
    """
    return [(head, (*TEMPLATES, *(h for h in HEALTHY if h != head))) for head in heads]


@dataclass
class HeadData:
    """The slices of one fold: training slices and the held-out head's original and copies."""

    train_images: np.ndarray
    train_brain: np.ndarray  # (n, 1, S, S) bool
    test_images: np.ndarray
    test_brain: np.ndarray
    test_lesion: np.ndarray  # (n, 1, S, S) bool
    table: dict[str, np.ndarray]  # volume_id, copy (-1 = original), slice_index, voxels, label
    lesions: list[list[dict[str, Any]]]  # per copy
    slice_lesion: list[dict[str, Any] | None]  # the largest lesion of each test slice


def _ras_mask(mask: np.ndarray, volume: Any) -> np.ndarray:
    """A mask on the volume's stored grid → its RAS+ grid."""
    import nibabel as nib

    from skanogan.mri import Volume

    image = nib.Nifti1Image(mask.astype(np.uint8), volume.original_affine)
    return Volume.from_image(image).data > 0


def _model_masks(slices: Any, masks: dict[str, np.ndarray]) -> np.ndarray:
    """Each volume's RAS+ mask through the geometry of its kept slices → (n, 1, S, S) bool."""
    ids, index = slices.table["volume_id"], slices.table["slice_index"]
    out = np.zeros(slices.images.shape, dtype=bool)
    for volume_id, geometry in slices.geometries.items():
        rows = np.flatnonzero(ids == volume_id)
        out[rows] = geometry.to_model(masks[volume_id][:, :, index[rows]], fill=0.0) >= 0.5
    return out


@functools.lru_cache(maxsize=2)
def load_head_data(
    folder: Path, head: str, cut: SliceCut, data_home: str | None = None
) -> HeadData:
    """Cut the fold of ``head`` into slices, inserting ``cut``'s lesions (cached)."""
    from benchmarks.brain_masks import load_brain_mask
    from skanogan.mri import load_volume, volumes_to_slices

    (_, train_ids) = next(fold for fold in head_folds() if fold[0] == head)
    paths = {**HEALTHY, **TEMPLATES}
    train_volumes = [load_volume(folder / paths[v]) for v in train_ids]
    brains = {
        v: _ras_mask(load_brain_mask(v, data_home), volume)
        for v, volume in zip(train_ids, train_volumes, strict=True)
    }
    stripped = cut.preprocessing == "brain"
    outside = "background" if stripped else "keep"
    train = volumes_to_slices(
        train_volumes,
        brain_masks=[brains[v] for v in train_ids] if stripped else None,
        outside_mask=outside,
        image_size=cut.image_size,
        field_of_view=cut.field_of_view,
        volume_ids=list(train_ids),
    )

    original = load_volume(folder / paths[head])
    brain = _ras_mask(load_brain_mask(head, data_home), original)
    head_index = list(HEALTHY).index(head)
    volumes, lesion_masks, ids, lesions = [original], [None], [head], []
    depth = brain_depth(brain, original.zooms)
    for copy in range(cut.n_copies):
        rng = np.random.default_rng([cut.lesion_seed, head_index, copy])
        data, mask, drawn = insert_lesions(
            original.data, brain, original.zooms, rng, cut.lesions, depth=depth
        )
        volumes.append(dataclasses.replace(original, data=data))
        lesion_masks.append(mask)
        ids.append(f"{head}#{copy}")
        lesions.append([lesion.as_dict() for lesion in drawn])
    test = volumes_to_slices(
        volumes,
        tumour_masks=lesion_masks,
        brain_masks=[brain] * len(volumes) if stripped else None,
        outside_mask=outside,
        image_size=cut.image_size,
        field_of_view=cut.field_of_view,
        min_tumour_voxels=MIN_LESION_VOXELS,
        volume_ids=ids,
    )
    copy_of = {volume_id: i - 1 for i, volume_id in enumerate(ids)}
    table = {
        "volume_id": test.table["volume_id"],
        "copy": np.array([copy_of[v] for v in test.table["volume_id"]]),
        "slice_index": test.table["slice_index"],
        "lesion_voxels": test.table["tumour_voxels"],
        "label": test.table["label"],
        "foreground_fraction": test.table["foreground_fraction"],
    }
    z_mm = original.zooms[2]
    slice_lesion: list[dict[str, Any] | None] = []
    for copy, k in zip(table["copy"], table["slice_index"], strict=True):
        best, best_radius = None, 0.0
        for lesion in lesions[copy] if copy >= 0 else []:
            dz = abs(k - lesion["center"][2]) * z_mm
            radius = (lesion["diameter_mm"] / 2) ** 2 - dz**2
            if radius > best_radius:
                best, best_radius = lesion, radius
        slice_lesion.append(best)
    train_images, train_brain = train.images, _model_masks(train, brains)
    if cut.mirror:
        # Rows of a slice run towards the subject's right (SliceSet): flipping them mirrors it.
        train_images = np.concatenate([train_images, train_images[:, :, ::-1]])
        train_brain = np.concatenate([train_brain, train_brain[:, :, ::-1]])
    return HeadData(
        train_images=train_images,
        train_brain=train_brain,
        test_images=test.images,
        test_brain=_model_masks(test, dict.fromkeys(ids, brain)),
        test_lesion=test.masks.astype(bool),
        table=table,
        lesions=lesions,
        slice_lesion=slice_lesion,
    )


def evaluation_rows(table: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of the positives and of the negatives of the slice-level comparison.

    Positives: slices of a lesioned copy with at least :data:`MIN_LESION_VOXELS` lesion voxels.
    Negatives: slices of the copies without any lesion voxel, inside the axial range that the
    positives of all copies span (one copy's lesions often cover its whole range). Slices with
    a few rim voxels are neither; the unmodified original is never among them.
    """
    is_copy = table["copy"] >= 0
    positives = np.flatnonzero(is_copy & (table["label"] == 1))
    if not len(positives):
        return positives, positives
    k = table["slice_index"]
    low, high = k[positives].min(), k[positives].max()
    negatives = np.flatnonzero(is_copy & (table["lesion_voxels"] == 0) & (k >= low) & (k <= high))
    return positives, negatives


def paired_share(table: dict[str, np.ndarray], scores: np.ndarray, rows: np.ndarray) -> float:
    """Share of ``rows`` (lesioned slices) scored above the same slice of the original head."""
    original = {
        int(k): scores[i]
        for i, (copy, k) in enumerate(zip(table["copy"], table["slice_index"], strict=True))
        if copy == -1
    }
    wins = [
        float(scores[i] > original[k]) + 0.5 * float(scores[i] == original[k])
        for i in rows
        if (k := int(table["slice_index"][i])) in original
    ]
    return float(np.mean(wins)) if wins else float("nan")


def slice_metrics(
    data: HeadData, scores: np.ndarray, n_bootstrap: int, seed: int
) -> dict[str, Any]:
    """Slice AUROC/AP with intervals, paired share, and both broken down by lesion bins."""
    positives, negatives = evaluation_rows(data.table)
    rows = np.r_[positives, negatives]
    y = np.r_[np.ones(len(positives)), np.zeros(len(negatives))].astype(int)
    out = _metrics(y, scores[rows], n_bootstrap, seed)
    out |= {
        "n_lesioned": len(positives),
        "n_lesion_free": len(negatives),
        "paired": paired_share(data.table, scores, positives),
    }
    for name, bin_of in (
        ("size", lambda d: size_bin(d["diameter_mm"])),
        ("contrast", contrast_bin),
    ):
        bins: dict[str, list[int]] = {}
        for i in positives:
            bins.setdefault(bin_of(data.slice_lesion[i]), []).append(i)
        out[f"by_{name}"] = {
            key: {
                "n": len(members),
                "auroc": float(
                    roc_auc_score(
                        np.r_[np.ones(len(members)), np.zeros(len(negatives))],
                        scores[np.r_[members, negatives]],
                    )
                ),
                "paired": paired_share(data.table, scores, np.asarray(members)),
            }
            for key, members in sorted(bins.items())
        }
    return out


def pixel_metrics(
    data: HeadData, maps: np.ndarray, train_maps: np.ndarray, quantile: float
) -> dict[str, Any]:
    """AUPRC and Dice of per-pixel maps inside the brain of the copies' slices."""
    rows = np.flatnonzero(data.table["copy"] >= 0)
    brain = data.test_brain[rows, 0]
    truth = data.test_lesion[rows, 0][brain]
    values = maps[rows][brain]
    threshold = float(np.quantile(train_maps[data.train_brain[:, 0]], quantile))
    predicted = values > threshold
    precision, recall, _ = precision_recall_curve(truth, values)
    with np.errstate(invalid="ignore", divide="ignore"):
        dice_curve = np.nan_to_num(2 * precision * recall / (precision + recall))
    return {
        "auprc": float(average_precision_score(truth, values)),
        "dice": float(2 * (predicted & truth).sum() / max(predicted.sum() + truth.sum(), 1)),
        "threshold": threshold,
        "best_dice_upper_bound": float(dice_curve.max()),
        "lesion_pixel_share": float(truth.mean()),
    }


def intensity_maps(images: np.ndarray, low: float, high: float) -> np.ndarray:
    """Distance of each pixel from the healthy range ``[low, high]`` → ``(n, S, S)``."""
    x = images[:, 0]
    return np.maximum(low - x, 0) + np.maximum(x - high, 0)


def _fit_scores(
    detector: str, profile: SyntheticProfile, data: HeadData, seed: int
) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]], float, Any]:
    """``{config: slice scores}``, ``{config: pixel metrics}``, the fit seconds, the model."""
    if detector == BASELINE:
        return {"default": data.table["foreground_fraction"].astype(np.float64)}, {}, 0.0, None
    if detector == INTENSITY:
        low, high = np.percentile(data.train_images[data.train_brain], [1, 99])
        maps, train_maps = (
            intensity_maps(data.test_images, low, high),
            intensity_maps(data.train_images, low, high),
        )
        brain = data.test_brain[:, 0]
        scores = (maps * brain).sum(axis=(1, 2)) / np.maximum(brain.sum(axis=(1, 2)), 1)
        pixels = pixel_metrics(data, maps, train_maps, profile.healthy_quantile)
        return {"default": scores}, {"default": {"intensity": pixels}}, 0.0, None
    settings = {**profile.settings, "image_shape": (1, profile.image_size, profile.image_size)}
    model = det.make_detector(detector, seed=seed, settings=settings)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning)
        model.fit(det.prepare_inputs(detector, data.train_images))
    fit_seconds = time.perf_counter() - start
    X_test = det.prepare_inputs(detector, data.test_images)
    if detector != "skanogan":
        return {"default": det.score(detector, model, X_test)}, {}, fit_seconds, model
    scores, pixels = {}, {}
    test_maps, train_maps = (
        model.anomaly_map(data.test_images),
        model.anomaly_map(data.train_images),
    )
    residual = pixel_metrics(data, test_maps, train_maps, profile.healthy_quantile)
    for score_type in profile.score_types:
        model.set_params(score_type=score_type)
        scores[score_type] = model.decision_function(data.test_images)
        saliency = pixel_metrics(
            data,
            model.latent_saliency(data.test_images),
            model.latent_saliency(data.train_images),
            profile.healthy_quantile,
        )
        pixels[score_type] = {"residual": residual, "saliency": saliency}
    model.set_params(score_type=profile.score_types[0])
    scores |= map_scores(
        profile.map_scores, test_maps, data.test_images, train_maps, data.train_images
    )
    return scores, pixels, fit_seconds, model


def map_scores(
    names: tuple[str, ...],
    maps: np.ndarray,
    images: np.ndarray,
    train_maps: np.ndarray,
    train_images: np.ndarray,
) -> dict[str, np.ndarray]:
    """The slice scores ``names`` (:data:`MAP_SCORES`) of residual ``maps`` ``(n, S, S)``.

    ``train_maps`` are the maps of the training slices ``train_images``: the excess score's
    level is their residuals' 99th percentile inside their heads, so no test slice sets it.

    Examples
    --------
    >>> maps = np.zeros((2, 8, 8)); maps[1, 3:5, 3:5] = 1.0
    >>> images = np.ones((2, 1, 8, 8))
    >>> scores = map_scores(tuple(MAP_SCORES), maps, images, maps[:1], images[:1])
    >>> [bool(v[1] > v[0]) for v in scores.values()]
    [True, True]
    """
    from scipy import ndimage

    head = images[:, 0] > HEAD_LEVEL
    level = np.quantile(train_maps[train_images[:, 0] > HEAD_LEVEL], 0.99)
    compute = {
        "residual_map_max": lambda: np.where(
            head, ndimage.gaussian_filter(maps, (0, 1.0, 1.0)), 0.0
        ).max(axis=(1, 2)),
        "residual_map_excess": lambda: np.where(head, np.maximum(maps - level, 0.0), 0.0).sum(
            axis=(1, 2)
        ),
    }
    return {name: compute[name]().astype(np.float64) for name in names}


def plot_montage(model: Any, data: HeadData, path: Path, *, title: str, n_slices: int = 6) -> Path:
    """Lesioned slices (largest lesions first, one per lesion) with skanogan's residual and
    saliency maps, lesion contours in red and the brain's in yellow, as one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = []
    for i in np.argsort(-data.table["lesion_voxels"], kind="stable"):
        lesion = data.slice_lesion[i]
        if (
            data.table["label"][i]
            and data.table["copy"][i] >= 0
            and lesion not in [data.slice_lesion[j] for j in rows]
        ):
            rows.append(int(i))
        if len(rows) == n_slices:
            break
    images = data.test_images[rows]
    maps = {"residual |x - x_rec|": model.anomaly_map(images)}
    maps[f"saliency ({model.score_type})"] = model.latent_saliency(images)
    fig, axes = plt.subplots(3, len(rows), figsize=(2.0 * len(rows), 6.4), squeeze=False)
    for column, i in enumerate(rows):
        lesion = data.slice_lesion[i]
        panels = [
            ("image", images[column, 0], "gray"),
            *((k, v[column], "magma") for k, v in maps.items()),
        ]
        for row, (name, picture, cmap) in enumerate(panels):
            ax = axes[row, column]
            ax.imshow(picture.T, origin="lower", cmap=cmap)
            ax.contour(data.test_lesion[i, 0].T, levels=[0.5], colors="red", linewidths=0.8)
            ax.contour(data.test_brain[i, 0].T, levels=[0.5], colors="yellow", linewidths=0.5)
            ax.set_xticks([])
            ax.set_yticks([])
            if column == 0:
                ax.set_ylabel(name, fontsize=8)
        axes[0, column].set_title(
            f"{lesion['diameter_mm']:.0f} mm, {contrast_bin(lesion)}", fontsize=8
        )
    fig.suptitle(f"{title} (synthetic lesions)", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def run_synthetic_profile(
    profile: SyntheticProfile,
    results: Path,
    *,
    data_home: str | os.PathLike | None = None,
    log: Callable[[str], None] = print,
) -> int:
    """Run every cell of ``profile`` not yet in ``results``; returns the number of new records."""
    done = fold_cells(read_results(results), SUITE)
    folder = brain_mri_folder(data_home)
    results.parent.mkdir(parents=True, exist_ok=True)
    drop_torn_tail(results)
    env = environment()
    written = 0
    for head, _ in head_folds(profile.heads):
        for seed in profile.seeds:
            for detector in profile.detectors:
                configs = (
                    (*profile.score_types, *profile.map_scores)
                    if detector == "skanogan"
                    else ("default",)
                )
                names = {c: c if c == "default" else f"default/{c}" for c in configs}
                # A profile that gained configs refits, and writes only the new ones.
                missing = {
                    c
                    for c in configs
                    if cell_key("brain_mri_synthetic", head, detector, names[c], seed) not in done
                }
                if not missing:
                    continue
                data = load_head_data(
                    folder,
                    head,
                    SliceCut.of(profile),
                    None if data_home is None else str(data_home),
                )
                scores, pixels, fit_seconds, model = _fit_scores(detector, profile, data, seed)
                if detector == "skanogan" and seed == profile.seeds[0]:
                    montage = results.with_suffix("") / f"{head}.png"
                    plot_montage(model, data, montage, title=f"{head}, {profile.name}, seed {seed}")
                records = [
                    {
                        "suite": SUITE,
                        "synthetic": True,
                        "profile": profile.name,
                        "dataset": "brain_mri_synthetic",
                        "fold": head,
                        "detector": detector,
                        "config": names[config],
                        "seed": seed,
                        "slice": slice_metrics(data, values, profile.n_bootstrap, seed),
                        "pixel": pixels.get(config),
                        "fit_seconds": fit_seconds,
                        "lesions": data.lesions,
                        "lesion_params": dataclasses.asdict(profile.lesions),
                        "lesion_seed": profile.lesion_seed,
                        "preprocessing": profile.preprocessing,
                        "mirror": profile.mirror,
                        "scores": [round(float(v), 6) for v in values],
                        "settings": profile.settings,
                        "environment": env,
                        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    }
                    for config, values in scores.items()
                    if config in missing
                ]
                written += append_records(results, records)
                for record in records:
                    s = record["slice"]
                    log(
                        f"{SUITE} {head} seed {seed} {detector} {record['config']}: AUROC "
                        f"{s['auroc']:.3f}, paired {s['paired']:.3f} ({fit_seconds:.0f}s fit)"
                    )
    return written
