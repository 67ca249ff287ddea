"""Tables of the validation sweep (:mod:`benchmarks.validation`) and the decision they support.

Every figure is a validation AUROC on tasks made from training data only. A configuration is
ranked by its *score*: the mean over data sets of its mean AUROC over the data set's classes, so
that MNIST and Fashion-MNIST (four classes each) weigh as much as ELPV (one task). Only cells
that every compared row has are compared: a configuration still running is shown with its
number of cells and left out of the ranking until it covers them all.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import numpy as np

from benchmarks.validation import (
    BASE,
    CHECKPOINTS,
    CLASSES,
    CONFIGS,
    N_FIT,
    N_VAL_ANOMALOUS,
    N_VAL_NORMAL,
    PEERS,
    check_records,
)

DATASETS = tuple(CLASSES)
#: Rows shown in the ranking; the best row of every configuration is listed below it anyway.
TOP = 25
#: The row every other is paired against: the defaults the sweep ended with before the
#: confirmation (GANomaly's balance, no rank term, the default score and epochs).
REFERENCE = "ganomaly/residual_density@15"
#: A row replaces the reference only if it beats it by more than this many standard errors of
#: the paired per-class difference (MNIST and Fashion-MNIST classes; ELPV is one cell).
MARGIN_SE = 2.0


def _cell(record: dict[str, Any]) -> tuple[str, int, int]:
    return record["dataset"], record["class"], record["seed"]


def rows(records: list[dict[str, Any]]) -> dict[str, dict[tuple, float]]:
    """``{row name: {cell: AUROC}}``; a skanogan row is ``config/score_type@epochs``."""
    table: dict[str, dict[tuple, float]] = defaultdict(dict)
    for record in records:
        if record["config"] in PEERS:
            table[record["config"]][_cell(record)] = record["scores"]["default"]["auroc"]
            continue
        for epochs, by_score in record["scores"].items():
            for score_type, metrics in by_score.items():
                name = f"{record['config']}/{score_type}@{epochs}"
                table[name][_cell(record)] = metrics["auroc"]
    return dict(table)


def summary(cells: dict[tuple, float]) -> dict[str, float]:
    """Per-data-set mean AUROC of the given cells and the score (mean of those means)."""
    by_dataset: dict[str, list[float]] = defaultdict(list)
    for (dataset, _, _), auroc in cells.items():
        by_dataset[dataset].append(auroc)
    means = {dataset: float(np.mean(values)) for dataset, values in by_dataset.items()}
    means["score"] = float(np.mean([means[d] for d in DATASETS if d in means]))
    return means


def complete(
    table: dict[str, dict[tuple, float]], classes: dict[str, tuple[int, ...]] | None = None
) -> set[tuple]:
    """The cells of a full sweep (every class of ``classes``, by default :data:`CLASSES`, of
    every data set, at the seeds recorded)."""
    seeds = {cell[2] for cells in table.values() for cell in cells}
    return {(d, c, s) for d, of in (classes or CLASSES).items() for c in of for s in seeds}


def _summary_line(name: str, cells: dict[tuple, float]) -> str:
    means = summary(cells)
    values = " | ".join(f"{means[d]:.3f}" for d in DATASETS)
    return f"| {name} | {values} | {means['score']:.3f} |"


def paired(cells: dict[tuple, float], reference: dict[tuple, float]) -> dict[str, float]:
    """Paired difference of a row from the reference on the MNIST and Fashion-MNIST cells.

    Returns ``{"mean": mean difference, "se": its standard error, "n": cells}``; ``se`` is the
    sample standard deviation of the differences over the square root of their number.
    """
    diffs = [cells[c] - reference[c] for c in reference if c in cells and c[0] != "elpv"]
    se = float(np.std(diffs, ddof=1) / np.sqrt(len(diffs))) if len(diffs) > 1 else float("nan")
    return {"mean": float(np.mean(diffs)), "se": se, "n": len(diffs)}


def _paired_lines(done: dict[str, dict[tuple, float]], best: dict[str, str]) -> list[str]:
    """The best row of each configuration against :data:`REFERENCE`, cell by cell."""
    if REFERENCE not in done:
        return []
    reference = done[REFERENCE]
    reference_score = summary(reference)["score"]
    lines = [
        f"### Paired against `{REFERENCE}`",
        "",
        f"Per-class differences from `{REFERENCE}` (GANomaly's balance without a rank term, "
        "the defaults of skanogan 0.2–0.3, with their default score and epochs) on the same "
        "MNIST and Fashion-MNIST cells: mean ± standard error over "
        f"cells; ELPV is one cell, shown apart. Decision rule, written down before the "
        "every-class confirmation was complete (the sweep's cells had been seen): a row "
        "replaces the reference only if its score is higher and its mean paired difference "
        f"exceeds {MARGIN_SE:g} standard errors.",
        "",
        "| row | cells | MNIST + Fashion-MNIST difference | elpv difference | score difference "
        "| beats the reference |",
        "|---|---|---|---|---|---|",
    ]
    for name in best.values():
        if name == REFERENCE:
            continue
        diff = paired(done[name], reference)
        elpv = [done[name][c] - reference[c] for c in reference if c[0] == "elpv"]
        score = summary(done[name])["score"] - reference_score
        beats = score > 0 and diff["mean"] > MARGIN_SE * diff["se"]
        lines.append(
            f"| {name} | {diff['n']} | {diff['mean']:+.4f} ± {diff['se']:.4f} | "
            + (f"{np.mean(elpv):+.3f}" if elpv else "")
            + f" | {score:+.4f} | {'yes' if beats else 'no'} |"
        )
    return [*lines, ""]


#: Suffix of a configuration that is another one under CPU bfloat16 mixed precision.
BF16_SUFFIX = "_bf16"


def _per_seed_scores(cells: dict[tuple, float]) -> dict[int, float]:
    """The score of each seed's cells."""
    seeds = sorted({cell[2] for cell in cells})
    return {s: summary({c: v for c, v in cells.items() if c[2] == s})["score"] for s in seeds}


def _precision_lines(done: dict[str, dict[tuple, float]]) -> list[str]:
    """Each ``X_bf16`` row against its float32 twin ``X``, seed by seed (``amp="auto"``)."""
    pairs = [
        (name.replace(f"{BF16_SUFFIX}/", "/"), name)
        for name in done
        if name.split("/")[0].endswith(BF16_SUFFIX)
    ]
    pairs = [(float32, bf16) for float32, bf16 in pairs if float32 in done]
    if not pairs:
        return []
    lines = [
        "### bfloat16 against float32",
        "",
        "Each configuration trained under CPU bfloat16 autocast against the same configuration "
        "in float32, on the same cells and seeds. Per-seed score (mean over data sets of the "
        "mean AUROC over classes), mean ± std over seeds, and the paired per-class difference "
        "(MNIST and Fashion-MNIST cells of every seed, mean ± standard error). Criterion "
        "(issue 16): the bfloat16 mean score may not fall below the float32 one by more than "
        "the float32 seed spread (its std over seeds).",
        "",
        "| row | seeds | float32 score per seed | bfloat16 score per seed | float32 mean ± std "
        "| bfloat16 mean ± std | paired difference | within the seed spread |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for float32, bf16 in sorted(pairs):
        seeds32, seeds16 = _per_seed_scores(done[float32]), _per_seed_scores(done[bf16])
        common = sorted(set(seeds32) & set(seeds16))
        a = np.array([seeds32[s] for s in common])
        b = np.array([seeds16[s] for s in common])
        diff = paired(done[bf16], done[float32])
        spread = float(np.std(a, ddof=1)) if len(a) > 1 else float("nan")
        within = b.mean() >= a.mean() - spread
        lines.append(
            f"| {float32} | {len(common)} | {', '.join(f'{v:.4f}' for v in a)} | "
            f"{', '.join(f'{v:.4f}' for v in b)} | {a.mean():.4f} ± {spread:.4f} | "
            f"{b.mean():.4f} ± {np.std(b, ddof=1) if len(b) > 1 else float('nan'):.4f} | "
            f"{diff['mean']:+.4f} ± {diff['se']:.4f} | {'yes' if within else 'no'} |"
        )
    return [*lines, ""]


def render(records: list[dict[str, Any]], classes: dict[str, tuple[int, ...]] | None = None) -> str:
    """The markdown of the sweep: protocol, ranking, best row per configuration, per class.

    Refuses (``ValueError``) records fitted with other parameters than their configuration's.
    """
    check_records(records)
    table = rows(records)
    if not table:
        return "No validation records yet.\n"
    classes = classes or CLASSES
    full = complete(table, classes)
    done = {name: cells for name, cells in table.items() if set(cells) >= full}
    ranked = sorted(done, key=lambda name: -summary(done[name])["score"])
    best = {}
    for config in [*PEERS, *CONFIGS]:
        names = [n for n in ranked if n == config or n.startswith(f"{config}/")]
        if names:
            best[config] = names[0]
    header = ["| row | " + " | ".join(DATASETS) + " | score |", "|" + "---|" * (len(DATASETS) + 2)]
    environments = sorted({json.dumps(r.get("environment", {}), sort_keys=True) for r in records})
    cells = sorted(full)
    lines = [
        "## Validation sweep (training data only)",
        "",
        "Written by `python -m benchmarks.validation report` from the records of "
        "`python -m benchmarks.validation run` (`benchmarks/validation.py` has the protocol). "
        f"Cells: {len(full)} ({', '.join(f'{d} {list(c)}' for d, c in classes.items())}); "
        f"{N_FIT} training normals per MNIST/Fashion-MNIST task, validated on {N_VAL_NORMAL} "
        f"held-out training normals against {N_VAL_ANOMALOUS} training images of the other "
        "classes; ELPV: 70 % of the seed's training-half normals, validated on the other 30 % "
        "against that half's defective cells. "
        f"Epochs scored: {list(CHECKPOINTS)} (one run per cell, scored after each). Settings "
        f"of every configuration: {BASE}, the library's defaults otherwise. "
        "Score = mean over data sets of the mean AUROC over classes. Rows are "
        "`config/score_type@epochs`, and the PyOD peers on the same cells.",
        "",
        "Environments: " + "; ".join(environments),
        "",
        "| config | parameters |",
        "|---|---|",
        *(f"| {name} | {params or 'library defaults'} |" for name, params in CONFIGS.items()),
        "",
        f"### Ranking (complete rows, top {TOP})",
        "",
        *header,
        *(_summary_line(name, done[name]) for name in ranked[:TOP]),
        "",
        "### Best row of each configuration",
        "",
        *header,
        *(_summary_line(name, done[name]) for name in best.values()),
        "",
        *_paired_lines(done, best),
        *_precision_lines(done),
        "### Per class: best row of each configuration",
        "",
        "| row | " + " | ".join(f"{d} {c}" for d, c, _ in cells) + " |",
        "|" + "---|" * (len(cells) + 1),
        *(
            f"| {name} | " + " | ".join(f"{done[name][cell]:.3f}" for cell in cells) + " |"
            for name in best.values()
        ),
    ]
    counts: dict[str, int] = defaultdict(int)
    for name, row_cells in table.items():
        if not set(row_cells) >= full:
            config = name.split("/")[0]
            counts[config] = max(counts[config], len(row_cells))
    if counts:
        lines += [
            "",
            f"Incomplete (cells done of {len(full)}): "
            + ", ".join(f"{config} {count}" for config, count in sorted(counts.items())),
        ]
    return "\n".join(lines) + "\n"
