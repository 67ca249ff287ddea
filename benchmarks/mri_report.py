"""Markdown tables from the records of :mod:`benchmarks.mri`.

Per held-out patient: AUROC and AP as mean ± std over seeds, with a 95 % interval from
resampling slices (each resample applied to every seed, the statistic being the seed mean: the
uncertainty a few tumour slices leave, which the seed spread alone understates), and the
confound AUROC beside them. Pooled: the slices of all held-out patients together (each scored
by the model of its own fold), resampled within patient × label, and the unweighted mean of the
per-patient AUROCs. Then the volume-level ranking of MRBrainTumor1 and the cost of each fit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from benchmarks.configs import LEGACY_VERSION
from benchmarks.mri import BASELINE, MRI_PROFILES, UNMASKED, bootstrap_ci
from benchmarks.runner import read_results

__all__ = ["CONFOUND_FLAG", "render_mri", "write_mri_report"]

#: A confound AUROC at or above this is flagged beside the tumour AUROC.
CONFOUND_FLAG = 0.7


def write_mri_report(results: Iterable[Path]) -> list[str]:
    """Markdown lines for each results file of the MRI suite (records of other suites skipped)."""
    lines: list[str] = []
    for path in results:
        records = [r for r in read_results(Path(path)) if r.get("suite") == "mri"]
        lines += render_mri(records, Path(path).name)
    return lines


def render_mri(records: list[dict[str, Any]], results_name: str = "mri.jsonl") -> list[str]:
    """The markdown section for the MRI records of one results file."""
    if not records:
        return [
            f"## Brain MRI (`{results_name}`)",
            "",
            "No results yet: run `python -m benchmarks run --suite mri`.",
            "",
        ]
    profiles = sorted({r["profile"] for r in records})
    lines = [
        f"## Brain MRI, leave one patient out (`{results_name}`, profile {', '.join(profiles)})",
        "",
        "Protocol (`benchmarks/mri.py`): for each masked patient, train on the two "
        "templates, two of the three healthy heads and the tumour-free slices of the two other "
        "patients; test on every axial slice of the held-out patient (tumour = at least 10 "
        "tumour voxels). No patient gives slices to both sides. Metrics are slice-level, "
        "mean ± std over seeds; [brackets] are 95 % intervals from "
        f"{records[0]['n_bootstrap']:,} stratified bootstrap resamples of slices (seed-mean "
        "statistic: the ± is the seed spread, the interval is the slice uncertainty of the mean "
        "over these seeds and does not contain the seed spread). *Confound*: AUROC of the "
        "same model separating the held-out patient's "
        "tumour-free slices from a held-out healthy "
        f"head's slices; ≥ {CONFOUND_FLAG} is flagged **(confound)**: the detector then also "
        "reacts to the patient's scanner or contrast, not only to the tumour; "
        f"≤ {1 - CONFOUND_FLAG:.1f} is flagged *(healthy head unusual)*: the held-out healthy "
        "head itself looks less like the training data than the patient does. "
        f"`{BASELINE}` is not fitted: the share of the field of view covered by the head, a "
        "stand-in for slice position. skanogan's result is the row of its default score; "
        "its other score types come from the same fit and are shown beside it. Every number "
        "here comes from three patients with 3 to 35 tumour slices each: read the intervals, "
        "not the third decimal.",
        "",
    ]
    for name in profiles:
        profile = MRI_PROFILES.get(name)
        if profile is not None:
            lines.append(
                f"- Profile `{name}`: {profile.description}. Settings `{profile.settings}`, "
                f"image size {profile.image_size}, seeds {list(profile.seeds)}. Command: "
                f"`python -m benchmarks run --suite mri --profile {name}` then "
                "`python -m benchmarks report`."
            )
    # In the order the records first name them: a set would reorder the page between runs.
    for env in dict.fromkeys(tuple(sorted(r["environment"].items())) for r in records):
        lines.append("- Environment: " + ", ".join(f"{k} {v}" for k, v in env))
    lines.append("")
    groups = _groups(records)
    for fold in sorted({r["fold"] for r in records}):
        lines += _fold_table(fold, groups)
    lines += _pooled_table(groups)
    lines += _ranking_table(records)
    return lines


def _groups(records: list[dict]) -> dict[tuple, dict[str, dict[int, dict]]]:
    """``{(detector, is the result, label): {fold: {seed: record}}}``, last record of a cell
    winning."""
    groups: dict[tuple, dict[str, dict[int, dict]]] = defaultdict(lambda: defaultdict(dict))
    for r in records:
        groups[(r["detector"], _is_result(r), _label(r))][r["fold"]][r["seed"]] = r
    return groups


def _is_result(record: dict[str, Any]) -> bool:
    """Whether ``record`` is skanogan's result: scored by the default score of its defaults."""
    defaults = record.get("defaults") or {}
    return record["config"] == f"default/{defaults.get('score_type')}"


def _label(record: dict[str, Any]) -> str:
    """A record's row: the detector, and for skanogan its weights and score type, its default
    score marked as the result; skanogan 0.1.0's ``full/SCORE`` records (no stored parameters,
    the paper's settings as defaults) under that version's name."""
    detector, config = record["detector"], record["config"]
    if config == "default":
        return detector
    weights, score = config.split("/")
    if "params" not in record:
        version = record["environment"]["skanogan"]
        weights = "paper" if (weights, version) == ("full", LEGACY_VERSION) else weights
        return f"{detector} {weights} ({score}, skanogan {version})"
    if _is_result(record):
        return f"{detector} {weights} ({score}: the default score, the result)"
    return f"{detector} {weights} ({score})"


def _ci(interval: tuple[float, float] | None) -> str:
    return "" if interval is None else f"[{interval[0]:.2f}, {interval[1]:.2f}]"


def _mean_std(values: list[float | None]) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}"


def _seed_ci(runs: list[dict], key: str, metric: str, y_key: str = "labels") -> Any:
    """Interval of the seed-mean metric, resampling the slices shared by all seeds."""
    y = np.asarray(runs[0][y_key])
    if any(r[y_key] != runs[0][y_key] for r in runs) or len(set(y)) < 2:
        return None
    scores = np.array([r[key] for r in runs])
    return bootstrap_ci(y, scores, metric=metric, n_resamples=runs[0]["n_bootstrap"])


def _confound_ci(runs: list[dict]) -> Any:
    free = np.asarray(runs[0]["tumour_free"], dtype=bool)
    n_healthy = len(runs[0]["healthy_scores"])
    if not free.any() or not n_healthy:
        return None
    y = np.r_[np.ones(free.sum()), np.zeros(n_healthy)]
    scores = np.array([np.r_[np.asarray(r["scores"])[free], r["healthy_scores"]] for r in runs])
    return bootstrap_ci(y, scores, n_resamples=runs[0]["n_bootstrap"])


def _fold_table(fold: str, groups: dict) -> list[str]:
    any_run = next(iter(next(g[fold] for g in groups.values() if fold in g).values()))
    lines = [
        f"### Held-out patient `{fold}`: {any_run['n_slices']} slices, "
        f"{any_run['n_tumour_slices']} with tumour; confound against "
        f"`{any_run['healthy_holdout']}` ({any_run['n_healthy_slices']} slices); "
        f"{any_run['n_train']} training slices",
        "",
        "| detector | seeds | AUROC | 95 % CI | AP | 95 % CI | confound AUROC | 95 % CI | fit s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (_, _, label), by_fold in sorted(groups.items(), key=lambda item: _order(item[0])):
        if fold not in by_fold:
            continue
        runs = [by_fold[fold][s] for s in sorted(by_fold[fold])]
        confound = [r["confound_auroc"] for r in runs if r["confound_auroc"] is not None]
        flag = ""
        if confound and np.mean(confound) >= CONFOUND_FLAG:
            flag = " **(confound)**"
        elif confound and np.mean(confound) <= 1 - CONFOUND_FLAG:
            flag = " *(healthy head unusual)*"
        lines.append(
            f"| {label} | {len(runs)} | "
            f"{_mean_std([r['auroc'] for r in runs])} | {_ci(_seed_ci(runs, 'scores', 'auroc'))} | "
            f"{_mean_std([r['ap'] for r in runs])} | {_ci(_seed_ci(runs, 'scores', 'ap'))} | "
            f"{_mean_std(confound)}{flag} | {_ci(_confound_ci(runs))} | "
            f"{np.mean([r['fit_seconds'] for r in runs]):.1f} |"
        )
    return [*lines, ""]


def _order(key: tuple) -> tuple:
    """A row key's place: skanogan first (its result first), the other detectors, the unfitted
    baseline last."""
    detector, is_result, label = key
    rank = 0 if detector == "skanogan" else 2 if detector == BASELINE else 1
    return rank, not is_result, detector, label


def _pooled_table(groups: dict) -> list[str]:
    folds = sorted({f for g in groups.values() for f in g})
    lines = [
        f"### Pooled over held-out patients ({', '.join(folds)})",
        "",
        "Slices of all held-out patients together; each patient's slices are scored by the "
        "model that did not see that patient, so scores of different folds share one ranking "
        "(their scales can differ between folds). *Mean of patients* is the unweighted mean of "
        "the per-patient AUROCs; intervals resample slices within patient × label.",
        "",
        "| detector | seeds | pooled AUROC | 95 % CI | pooled AP | 95 % CI | "
        "mean of patients AUROC | pooled confound AUROC |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (_, _, label), by_fold in sorted(groups.items(), key=lambda item: _order(item[0])):
        seeds = sorted(set.intersection(*(set(by_fold.get(f, {})) for f in folds)))
        if not seeds:
            lines.append(f"| {label} | 0 | incomplete | | | | | |")
            continue
        y = np.concatenate([by_fold[f][seeds[0]]["labels"] for f in folds])
        strata = np.concatenate(
            [[f"{f}/{v}" for v in by_fold[f][seeds[0]]["labels"]] for f in folds]
        )
        scores = np.array([np.concatenate([by_fold[f][s]["scores"] for f in folds]) for s in seeds])
        n_boot = by_fold[folds[0]][seeds[0]]["n_bootstrap"]
        auroc = [roc_auc_score(y, run) for run in scores]
        ap = [average_precision_score(y, run) for run in scores]
        cis = [
            bootstrap_ci(y, scores, metric=m, strata=strata, n_resamples=n_boot)
            for m in ("auroc", "ap")
        ]
        macro = [np.mean([by_fold[f][s]["auroc"] for f in folds]) for s in seeds]
        confound = [_pooled_confound(by_fold, folds, s) for s in seeds]
        lines.append(
            f"| {label} | {len(seeds)} | {_mean_std(auroc)} | {_ci(cis[0])} | "
            f"{_mean_std(ap)} | {_ci(cis[1])} | {_mean_std(macro)} | {_mean_std(confound)} |"
        )
    return [*lines, ""]


def _pooled_confound(by_fold: dict, folds: list[str], seed: int) -> float | None:
    positives, negatives = [], []
    for f in folds:
        r = by_fold[f][seed]
        positives.append(np.asarray(r["scores"])[np.asarray(r["tumour_free"], dtype=bool)])
        negatives.append(np.asarray(r["healthy_scores"]))
    pos, neg = np.concatenate(positives), np.concatenate(negatives)
    if not len(pos) or not len(neg):
        return None
    return float(roc_auc_score(np.r_[np.ones(len(pos)), np.zeros(len(neg))], np.r_[pos, neg]))


def _ranking_table(records: list[dict]) -> list[str]:
    (unmasked,) = UNMASKED
    lines = [
        f"### Volume level: `{unmasked}` (no mask) against held-out volumes",
        "",
        "Each fold's model scores three volumes it never saw: the held-out patient, "
        f"`{unmasked}` and the held-out healthy head; a volume's score is the mean of its "
        "`top_k` highest slice scores (mean over seeds here). A ranking to look at, not a "
        "metric: one healthy volume per fold, and volumes differ in slice count and thickness.",
        "",
        "| detector | held-out patient | patient score | "
        f"{unmasked} | held-out healthy | healthy score | {unmasked} above healthy |",
        "|---|---|---|---|---|---|---|",
    ]
    cells: dict[tuple, list[dict]] = defaultdict(list)
    for r in records:
        cells[(r["detector"], _is_result(r), _label(r), r["fold"])].append(r)
    for (_, _, label, fold), runs in sorted(
        cells.items(), key=lambda item: (item[0][3], *_order(item[0][:3]))
    ):
        healthy = runs[0]["healthy_holdout"]
        patient = [r["volume_scores"][fold] for r in runs]
        tumour1 = [r["volume_scores"][unmasked] for r in runs]
        normal = [r["volume_scores"][healthy] for r in runs]
        above = sum(t > h for t, h in zip(tumour1, normal, strict=True))
        lines.append(
            f"| {label} | {fold} | {np.mean(patient):.4g} | "
            f"{np.mean(tumour1):.4g} | {healthy} | {np.mean(normal):.4g} | "
            f"{above}/{len(runs)} seeds |"
        )
    return [*lines, ""]
