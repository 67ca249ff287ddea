"""Tables of the validation sweep (:mod:`benchmarks.validation`) and the decision they support.

Every figure is a validation AUROC on tasks made from training data only. A configuration is
ranked by its *score*: the mean over data sets of its mean AUROC over the data set's classes, so
that MNIST and Fashion-MNIST (four classes each) weigh as much as ELPV (one task). Only cells
that every compared row has are compared: a configuration still running is shown with its
number of cells and left out of the ranking until it covers them all.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from benchmarks.validation import CHECKPOINTS, CLASSES, CONFIGS, PEERS

DATASETS = tuple(CLASSES)


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


def complete(table: dict[str, dict[tuple, float]]) -> set[tuple]:
    """The cells of a full sweep (every class of every data set, at the seeds recorded)."""
    seeds = {cell[2] for cells in table.values() for cell in cells}
    return {(d, c, s) for d, classes in CLASSES.items() for c in classes for s in seeds}


def render(records: list[dict[str, Any]]) -> str:
    table = rows(records)
    if not table:
        return "No validation records yet."
    full = complete(table)
    done = {name: cells for name, cells in table.items() if set(cells) >= full}
    ranked = sorted(done, key=lambda name: -summary(done[name])["score"])
    header = "| row | " + " | ".join(DATASETS) + " | score |"
    lines = [
        "## Validation sweep (training data only)",
        "",
        f"Cells: {len(full)} ({', '.join(f'{d} {list(c)}' for d, c in CLASSES.items())}); "
        f"epochs scored: {list(CHECKPOINTS)}. Score = mean over data sets of the mean AUROC "
        "over classes. Rows: `config/score_type@epochs`, and the PyOD peers on the same cells.",
        "",
        "### Ranking (complete rows)",
        "",
        header,
        "|" + "---|" * (len(DATASETS) + 2),
    ]
    for name in ranked:
        means = summary(done[name])
        values = " | ".join(f"{means[d]:.3f}" for d in DATASETS)
        lines.append(f"| {name} | {values} | {means['score']:.3f} |")
    lines += [
        "",
        "### Best row of each configuration",
        "",
        header,
        "|" + "---|" * (len(DATASETS) + 2),
    ]
    for config in [*PEERS, *CONFIGS]:
        names = [n for n in ranked if n == config or n.startswith(f"{config}/")]
        if names:
            means = summary(done[names[0]])
            values = " | ".join(f"{means[d]:.3f}" for d in DATASETS)
            lines.append(f"| {names[0]} | {values} | {means['score']:.3f} |")
    pending = sorted(
        {name.split("/")[0] for name, cells in table.items() if not set(cells) >= full}
    )
    if pending:
        counts = {
            config: max(len(c) for n, c in table.items() if n.split("/")[0] == config)
            for config in pending
        }
        lines += [
            "",
            "Incomplete (cells done of "
            + str(len(full))
            + "): "
            + ", ".join(f"{config} {count}" for config, count in counts.items()),
        ]
    return "\n".join(lines) + "\n"
