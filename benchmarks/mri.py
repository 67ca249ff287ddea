"""The brain-MRI benchmark: leave one patient out, slice-level AUROC and AP with bootstrap CIs.

Protocol (``python -m benchmarks run --suite mri``). Every volume of the shared ``brain_mri``
folder is cut once into axial slices by :func:`~skanogan.mri.volumes_to_slices` (RAS+,
head mask, percentile normalisation, one image size); every detector sees the same slices,
skanogan as images and PyOD's detectors flattened to ``[0, 1]`` vectors
(:func:`~benchmarks.detectors.prepare_inputs`).

One *fold* per masked patient (:func:`patient_folds`), and the split is by volume, so no
patient contributes slices to both sides (:func:`split_slices` checks it):

- test: every slice of the held-out patient, label 1 when the slice holds at least
  ``min_tumour_voxels`` (10) tumour voxels (the library's rule);
- training: every slice of the two templates and of two of the three healthy heads, plus the
  slices of the two other masked patients that hold no tumour voxel at all;
- confound control: the third healthy head is held out of training as well (a different one in
  each fold, paired in sorted order and fixed before any result was seen). The *confound
  AUROC* separates the held-out patient's tumour-free slices (positive) from the held-out
  healthy head's slices (negative) with the same fitted model. Near 0.5, the detector does not
  tell a patient's normal tissue from a healthy head's; high, it reacts to the patient's scanner
  or contrast (both Slicer tumour volumes look contrast-enhanced), and a high tumour AUROC is
  then weaker evidence; low, the held-out healthy head is itself unlike the training data. The
  tumour-free slices of the *training* patients are in the training set, so their separation
  from healthy heads would measure memorisation, not a confound: it is not reported.
- MRBrainTumor1 (no mask) is never trained on: each fold's model scores it, the held-out
  patient and the held-out healthy head at volume level (:func:`~skanogan.mri.volume_scores`,
  mean of the ``top_k`` highest slice scores), for a ranking to look at, not a metric.

Per (held-out patient, detector, config, seed) one JSON line is appended (the conventions of
:mod:`benchmarks.runner`: existing records are skipped, each record is flushed and
fsynced, a torn last line is ignored). It holds the slice AUROC and AP with 95 % bootstrap
intervals (:func:`bootstrap_ci`: slices resampled within each label, seeded), the confound
AUROC with its interval, the volume scores, timings and every per-slice score, from which
:mod:`benchmarks.mri_report` computes the seed-mean and pooled intervals. skanogan is fitted
once per cell with the library's defaults (and the profile's settings) and scored with every
score type, each record named ``default/SCORE`` and holding the model's parameters, the
defaults it was built on and its training precision; its default score is its result, the
others are shown beside it (records of skanogan 0.1.0 are named ``full/SCORE``: its defaults
were then the paper's settings). ``foreground_fraction`` is a baseline that is not
fitted: the slice's foreground area (more tissue scores higher, a sign fixed in advance), to
show how much of an AUROC the slice position alone explains.

See Also
--------
benchmarks.mri_report : markdown tables from these records.
benchmarks.runner : the image benchmark whose fitting and record conventions are reused.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from benchmarks import detectors as det
from benchmarks.configs import library_defaults
from benchmarks.runner import (
    Task,
    append_records,
    cell_key,
    drop_torn_tail,
    environment,
    fit_and_score,
    fold_cells,
    named_profile,
    profile_subset,
    read_results,
)
from skanogan.scoring import SCORE_TYPES

__all__ = [
    "BASELINE",
    "HEALTHY",
    "MRI_PROFILES",
    "PATIENTS",
    "TEMPLATES",
    "UNMASKED",
    "Fold",
    "MRIProfile",
    "bootstrap_ci",
    "brain_mri_folder",
    "load_brain_slices",
    "patient_folds",
    "run_mri",
    "run_mri_profile",
    "split_slices",
]

#: Healthy heads (one subject each); one per fold is held out for the confound control.
#: ``colin27_t1_brain`` is the same subject skull-stripped and is not used: holding out Colin27
#: while training on its stripped copy would leak the subject.
HEALTHY: dict[str, str] = {
    "colin27_t1": "healthy/colin27_t1.nii.gz",
    "itk_kmeanstest_t1": "healthy/itk_kmeanstest_t1.nii.gz",
    "slicer_mrhead_t1": "healthy/slicer_mrhead_t1.nii.gz",
}
#: Population templates, always in training (``mni_icbm152_2009a_sym_t1`` is skull-stripped).
TEMPLATES: dict[str, str] = {
    "mni_icbm152_2009a_sym_t1": "templates/mni_icbm152_2009a_sym_t1.nii.gz",
    "mni152_nlin6asym_t1_1mm": "templates/mni152_nlin6asym_t1_1mm.nii.gz",
}
#: Masked patients, id → (image, tumour mask): one fold each.
PATIENTS: dict[str, tuple[str, str]] = {
    "pyradiomics_brain1": (
        "tumour/pyradiomics_brain1_t1.nii.gz",
        "tumour/pyradiomics_brain1_lesion_mask.nii.gz",
    ),
    "pyradiomics_brain2": (
        "tumour/pyradiomics_brain2_t1.nii.gz",
        "tumour/pyradiomics_brain2_lesion_mask.nii.gz",
    ),
    "slicer_mrbraintumor2": (
        "tumour/slicer_mrbraintumor2_t1.nii.gz",
        "tumour/slicer_mrbraintumor2_tumour_mask.nii.gz",
    ),
}
#: The patient without a mask: volume-level ranking only.
UNMASKED: dict[str, str] = {"slicer_mrbraintumor1": "tumour/slicer_mrbraintumor1_t1.nii.gz"}
#: The unfitted baseline: a slice's foreground fraction as its score.
BASELINE = "foreground_fraction"


@dataclass(frozen=True)
class MRIProfile:
    """What one ``python -m benchmarks run --suite mri --profile NAME`` covers.

    ``settings`` goes to :func:`~benchmarks.detectors.make_detector` (``epochs`` and
    ``"skanogan"`` parameters). ``patients`` are the held-out patients (folds) to run; the
    split of each fold is the same whichever are run. ``n_bootstrap`` resamples per interval;
    ``top_k`` slices per volume score.
    """

    name: str
    image_size: int
    seeds: tuple[int, ...]
    detectors: tuple[str, ...]
    settings: dict[str, Any]
    patients: tuple[str, ...] = tuple(PATIENTS)
    score_types: tuple[str, ...] = tuple(SCORE_TYPES)
    n_bootstrap: int = 1000
    top_k: int = 5
    description: str = ""


MRI_PROFILES: dict[str, MRIProfile] = {
    "quick": MRIProfile(
        name="quick",
        image_size=32,
        seeds=(0, 1, 2),
        detectors=(
            "skanogan",
            "KNN",
            "LOF",
            "IForest",
            "PCA",
            "OCSVM",
            "AutoEncoder",
            BASELINE,
        ),
        settings={"epochs": 5, "skanogan": {"base_channels": 16, "latent_dim": 32}},
        description="32 px slices, 3 seeds, 5 epochs, skanogan at base_channels=16 and "
        "latent_dim=32, six fast PyOD detectors (about 16 CPU-minutes: 23 minutes wall on "
        "2 shared, loaded cores)",
    ),
    "paper": MRIProfile(
        name="paper",
        image_size=64,
        seeds=(0, 1, 2),
        detectors=(*det.DETECTORS, BASELINE),
        settings={"epochs": 15, "skanogan": {"base_channels": 32}},
        description="64 px slices, 3 seeds, 15 epochs, skanogan at base_channels=32, every "
        "benchmark detector (several CPU-hours on 2 cores; minutes on a GPU)",
    ),
    "smoke": MRIProfile(
        name="smoke",
        image_size=16,
        seeds=(0,),
        detectors=("skanogan", "KNN", BASELINE),
        settings={"epochs": 1, "skanogan": {"base_channels": 4, "latent_dim": 4}},
        patients=("pyradiomics_brain2",),
        n_bootstrap=200,
        description="a wiring check, not a result: 16 px, 1 epoch, one fold, one seed",
    ),
}


@dataclass(frozen=True)
class Fold:
    """One leave-one-patient-out split, by volume id.

    Attributes
    ----------
    patient : str
        The held-out patient: all of its slices are the test set.
    healthy_holdout : str
        The healthy head held out for the confound control.
    train_volumes : tuple of str
        Volumes that give training slices (patients among them only their tumour-free ones).
    train_patients : tuple of str
        The masked patients among ``train_volumes``.
    """

    patient: str
    healthy_holdout: str
    train_volumes: tuple[str, ...]
    train_patients: tuple[str, ...] = field(default=())


def patient_folds(
    patients: Sequence[str] = tuple(PATIENTS),
    healthy: Sequence[str] = tuple(HEALTHY),
    templates: Sequence[str] = tuple(TEMPLATES),
) -> list[Fold]:
    """One :class:`Fold` per patient; the i-th patient (sorted) holds out the i-th healthy head.

    Examples
    --------
    >>> fold = patient_folds()[2]
    >>> fold.patient, fold.healthy_holdout, fold.train_patients
    ('slicer_mrbraintumor2', 'slicer_mrhead_t1', ('pyradiomics_brain1', 'pyradiomics_brain2'))
    """
    patients, healthy = sorted(patients), sorted(healthy)
    if len(healthy) < len(patients):
        raise ValueError(
            f"need one healthy head per patient to hold out, got {len(healthy)} for "
            f"{len(patients)} patients"
        )
    folds = []
    for patient, holdout in zip(patients, healthy, strict=False):
        train_patients = tuple(p for p in patients if p != patient)
        heads = tuple(h for h in healthy if h != holdout)
        folds.append(Fold(patient, holdout, (*templates, *heads, *train_patients), train_patients))
    return folds


def split_slices(table: dict[str, np.ndarray], fold: Fold) -> dict[str, np.ndarray]:
    """Row indices of a slice table for one fold: ``train``, ``test``, ``healthy``, ``unmasked``.

    ``train``: the slices of ``fold.train_volumes``, for patients only those with no tumour voxel;
    ``test``: all slices of ``fold.patient``; ``healthy``: those of ``fold.healthy_holdout``;
    ``unmasked``: those of the :data:`UNMASKED` volumes.

    Raises
    ------
    ValueError
        If a volume of the test, confound or unmasked sets would also give training slices.
    """
    ids = np.asarray(table["volume_id"])
    tumour_free = np.asarray(table["tumour_voxels"]) == 0
    is_patient = np.isin(ids, fold.train_patients)
    in_train = np.isin(ids, fold.train_volumes) & (~is_patient | tumour_free)
    held_out = {fold.patient, fold.healthy_holdout, *UNMASKED}
    leaked = held_out & set(fold.train_volumes)
    if leaked:
        raise ValueError(f"fold {fold.patient}: held-out volumes {sorted(leaked)} in training")
    parts = {
        "train": np.flatnonzero(in_train),
        "test": np.flatnonzero(ids == fold.patient),
        "healthy": np.flatnonzero(ids == fold.healthy_holdout),
        "unmasked": np.flatnonzero(np.isin(ids, list(UNMASKED))),
    }
    if not len(parts["test"]) or not len(parts["train"]):
        raise ValueError(f"fold {fold.patient}: no test or no training slices")
    return parts


def brain_mri_folder(data_home: str | os.PathLike | None = None) -> Path:
    """``<data_home>/brain_mri``; by default the project's ``shared/data`` beside the checkout."""
    root = Path(data_home) if data_home else Path(__file__).resolve().parents[2] / "shared/data"
    folder = root / "brain_mri"
    if not folder.is_dir():
        raise FileNotFoundError(
            f"brain MRI folder {folder} not found; pass data_home (--data-home) pointing at the "
            "folder that holds brain_mri/"
        )
    return folder


@functools.lru_cache(maxsize=4)
def load_brain_slices(folder: Path, image_size: int) -> Any:
    """Every volume of the benchmark as one :class:`~skanogan.mri.SliceSet` (cached per size)."""
    from skanogan.mri import volumes_to_slices

    files = {
        **HEALTHY,
        **TEMPLATES,
        **{p: image for p, (image, _) in PATIENTS.items()},
        **UNMASKED,
    }
    masks = [folder / PATIENTS[i][1] if i in PATIENTS else None for i in files]
    return volumes_to_slices(
        [folder / path for path in files.values()],
        tumour_masks=masks,
        image_size=image_size,
        volume_ids=list(files),
    )


def bootstrap_ci(
    y: np.ndarray,
    scores: np.ndarray,
    *,
    metric: str = "auroc",
    strata: np.ndarray | None = None,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    random_state: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of AUROC or AP, resampling slices within strata.

    Parameters
    ----------
    y : array-like of shape (n,)
        1 = positive (tumour), 0 = negative.
    scores : array-like of shape (n,) or (n_runs, n)
        Higher = more anomalous. With several runs (seeds) on the same slices, each resample
        applies to all runs and the statistic is the mean of their metrics: the interval of the
        seed-mean metric from slice uncertainty alone.
    metric : {"auroc", "ap"}
    strata : array-like of shape (n,), default=None
        Slices are resampled with replacement within each stratum, keeping its size; by default
        the labels (both classes keep their counts). For pooled patients pass patient × label.
    n_resamples, confidence, random_state
        Number of resamples, interval coverage, seed of the resampling.

    Returns
    -------
    (low, high) : tuple of float

    Examples
    --------
    >>> y = np.r_[np.zeros(50), np.ones(10)]
    >>> scores = np.r_[np.linspace(0, 1, 50), np.linspace(0.5, 1.5, 10)]
    >>> low, high = bootstrap_ci(y, scores)
    >>> bool(low < roc_auc_score(y, scores) < high)
    True
    """
    y = np.asarray(y).astype(int)
    runs = np.atleast_2d(np.asarray(scores, dtype=np.float64))
    if metric not in _WEIGHTED:
        raise ValueError(f"metric must be one of {sorted(_WEIGHTED)}, got {metric!r}")
    if runs.shape[1] != len(y) or not (y == 1).any() or not (y == 0).any():
        raise ValueError("y and scores need equal length and both labels present")
    weights = _resample_counts(y if strata is None else strata, n_resamples, random_state)
    values = np.mean([_WEIGHTED[metric](y, run, weights) for run in runs], axis=0)
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def _resample_counts(strata: np.ndarray, n_resamples: int, seed: int) -> np.ndarray:
    """(n_resamples, n) multiplicities: each stratum resampled with replacement to its size."""
    strata = np.asarray(strata)
    rng = np.random.default_rng(seed)
    counts = np.zeros((n_resamples, len(strata)))
    for stratum in np.unique(strata):
        members = np.flatnonzero(strata == stratum)
        counts[:, members] = rng.multinomial(
            len(members), np.full(len(members), 1 / len(members)), n_resamples
        )
    return counts


def _weighted_auroc(y: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """AUROC of every weight row (Mann–Whitney with multiplicities, ties count one half)."""
    pos, neg = scores[y == 1], scores[y == 0]
    wins = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    w_pos, w_neg = weights[:, y == 1], weights[:, y == 0]
    total = w_pos.sum(axis=1) * w_neg.sum(axis=1)
    return ((w_pos @ wins) * w_neg).sum(axis=1) / np.maximum(total, 1e-12)


def _weighted_ap(y: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Average precision of every weight row, tied scores as one threshold (as scikit-learn)."""
    order = np.argsort(-scores, kind="stable")
    sorted_scores, positive = scores[order], y[order] == 1
    w = weights[:, order]
    ends = np.r_[np.flatnonzero(np.diff(sorted_scores)), len(scores) - 1]
    true_pos = np.cumsum(w * positive, axis=1)[:, ends]
    seen = np.cumsum(w, axis=1)[:, ends]
    gained = np.diff(true_pos, axis=1, prepend=0.0)
    precision = np.divide(true_pos, seen, out=np.zeros_like(seen), where=seen > 0)
    return (gained * precision).sum(axis=1) / np.maximum(true_pos[:, -1], 1e-12)


_WEIGHTED: dict[str, Callable[..., np.ndarray]] = {"auroc": _weighted_auroc, "ap": _weighted_ap}


def _metrics(y: np.ndarray, scores: np.ndarray, n_resamples: int, seed: int) -> dict[str, Any]:
    """AUROC and AP of one score vector with their bootstrap intervals (NaN if one class)."""
    if not (y == 1).any() or not (y == 0).any():
        return {"auroc": None, "ap": None, "auroc_ci": None, "ap_ci": None}
    out: dict[str, Any] = {
        "auroc": float(roc_auc_score(y, scores)),
        "ap": float(average_precision_score(y, scores)),
    }
    for metric in ("auroc", "ap"):
        ci = bootstrap_ci(y, scores, metric=metric, n_resamples=n_resamples, random_state=seed)
        out[f"{metric}_ci"] = [round(v, 5) for v in ci]
    return out


def _fold_scores(
    detector: str, settings: dict, seed: int, slices: Any, parts: dict, score_types: tuple
) -> tuple[dict[str, np.ndarray], float, float, float | None, dict[str, Any]]:
    """Scores of the evaluated slices (test, healthy, unmasked in that order) per score type,
    the fit and score seconds, the peak host MiB and, for skanogan, ``{score type: what the
    record stores of the model}`` (parameters, defaults, precision)."""
    evaluated = np.concatenate([parts["test"], parts["healthy"], parts["unmasked"]])
    if detector == BASELINE:
        fraction = slices.table["foreground_fraction"][evaluated].astype(np.float64)
        return {"default": fraction}, 0.0, 0.0, None, {}
    task = Task(
        "brain_mri",
        0,
        seed,
        slices.images[parts["train"]],
        slices.images[evaluated],
        np.zeros(len(evaluated)),
        {"n_train": len(parts["train"]), "n_test": len(evaluated)},
    )
    types = score_types if detector == "skanogan" else ("default",)
    scores, fit_s, score_s, memory, params, precision = fit_and_score(
        detector, settings, task, types
    )
    defaults = library_defaults() if detector == "skanogan" else None
    model = {
        t: {"params": p, "defaults": defaults, "precision": precision} for t, p in params.items()
    }
    return scores, fit_s, score_s, memory.host_mib, model


def run_mri_profile(
    profile: MRIProfile,
    results: Path,
    *,
    data_home: str | os.PathLike | None = None,
    log: Callable[[str], None] = print,
) -> int:
    """Run every cell of ``profile`` not yet in ``results``; returns the number of new records."""
    from skanogan.mri import volume_scores

    done = fold_cells(read_results(results), "mri")
    folder = brain_mri_folder(data_home)
    results.parent.mkdir(parents=True, exist_ok=True)
    drop_torn_tail(results)
    env = environment()
    slices = None
    written = 0
    settings = {**profile.settings, "image_shape": (1, profile.image_size, profile.image_size)}
    for fold in patient_folds():
        if fold.patient not in profile.patients:
            continue
        for seed in profile.seeds:
            for detector in profile.detectors:
                types = profile.score_types if detector == "skanogan" else ("default",)
                configs = {t: t if t == "default" else f"default/{t}" for t in types}
                todo = [
                    t
                    for t in types
                    if cell_key("brain_mri", fold.patient, detector, configs[t], seed) not in done
                ]
                if not todo:
                    continue
                if slices is None:
                    slices = load_brain_slices(folder, profile.image_size)
                parts = split_slices(slices.table, fold)
                scores, fit_s, score_s, host_mib, model = _fold_scores(
                    detector, settings, seed, slices, parts, tuple(todo)
                )
                records = [
                    _record(profile, fold, detector, configs[t], seed, slices, parts, values)
                    | {
                        "fit_seconds": fit_s,
                        "score_seconds": score_s,
                        "peak_host_mib": None if host_mib is None else round(host_mib, 1),
                        "volume_scores": volume_scores(
                            values, _evaluated_ids(slices, parts), top_k=profile.top_k
                        ),
                        "settings": settings,
                        **model.get(t, {}),
                        "environment": env,
                        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    }
                    for t, values in scores.items()
                ]
                written += append_records(results, records)
                summary = ", ".join(
                    f"{r['config']} AUROC {_fmt(r['auroc'])} (confound {_fmt(r['confound_auroc'])})"
                    for r in records
                )
                log(f"mri {fold.patient} seed {seed} {detector}: {summary} ({fit_s:.0f}s fit)")
    return written


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _evaluated_ids(slices: Any, parts: dict) -> np.ndarray:
    evaluated = np.concatenate([parts["test"], parts["healthy"], parts["unmasked"]])
    return slices.table["volume_id"][evaluated]


def _record(
    profile: MRIProfile,
    fold: Fold,
    detector: str,
    config: str,
    seed: int,
    slices: Any,
    parts: dict,
    values: np.ndarray,
) -> dict[str, Any]:
    """The metrics part of one record; ``values`` scores test, healthy, unmasked slices."""
    n_test, n_healthy = len(parts["test"]), len(parts["healthy"])
    test_scores, healthy_scores = values[:n_test], values[n_test : n_test + n_healthy]
    labels = slices.table["label"][parts["test"]].astype(int)
    tumour_free = slices.table["tumour_voxels"][parts["test"]] == 0
    confound_y = np.r_[np.ones(tumour_free.sum(), int), np.zeros(n_healthy, int)]
    confound = _metrics(
        confound_y,
        np.r_[test_scores[tumour_free], healthy_scores],
        profile.n_bootstrap,
        seed,
    )
    return {
        "suite": "mri",
        "dataset": "brain_mri",
        "fold": fold.patient,
        "detector": detector,
        "config": config,
        "seed": seed,
        **_metrics(labels, test_scores, profile.n_bootstrap, seed),
        "confound_auroc": confound["auroc"],
        "confound_auroc_ci": confound["auroc_ci"],
        "n_slices": n_test,
        "n_tumour_slices": int(labels.sum()),
        "n_tumour_free_slices": int(tumour_free.sum()),
        "n_healthy_slices": n_healthy,
        "n_train": len(parts["train"]),
        "healthy_holdout": fold.healthy_holdout,
        "train_volumes": list(fold.train_volumes),
        "profile": profile.name,
        "image_size": profile.image_size,
        "n_bootstrap": profile.n_bootstrap,
        "top_k": profile.top_k,
        "slice_index": slices.table["slice_index"][parts["test"]].tolist(),
        "labels": labels.tolist(),
        "tumour_free": tumour_free.astype(int).tolist(),
        "scores": [float(v) for v in test_scores],
        "healthy_scores": [float(v) for v in healthy_scores],
    }


def run_mri(
    profile_name: str,
    results: Path,
    *,
    data_home: str | os.PathLike | None = None,
    log: Callable[[str], None] = print,
    patients: Sequence[str] | None = None,
) -> int:
    """:func:`run_mri_profile` for the profile named ``profile_name`` in :data:`MRI_PROFILES`.

    ``patients`` keeps only those of its held-out patients (folds), to split a long profile over
    processes, each with its own ``results`` file; every fold's split stays the same.

    Raises
    ------
    ValueError
        If the profile is unknown, or a patient is not one of the profile's.
    FileNotFoundError
        If the ``brain_mri`` folder is not under ``data_home``.
    """
    profile = named_profile(MRI_PROFILES, profile_name, "mri")
    if patients is not None:
        kept = profile_subset("patients", patients, profile.patients, profile_name)
        profile = dataclasses.replace(profile, patients=kept)
    return run_mri_profile(profile, Path(results), data_home=data_home, log=log)
