"""Markdown tables of the synthetic-lesion MRI suite (:mod:`benchmarks.mri_synthetic`).

Every table says *synthetic*: the lesions are inserted by :mod:`benchmarks.lesions`, whose
parameters are printed from the records. Means ± std are over the seeds of each cell; the
slice-level bootstrap interval shown is the first seed's (slices resampled within each label).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from benchmarks.mri_synthetic import MAP_SCORES, SUITE


def _mean_std(values: list[float | None]) -> str:
    values = [v for v in values if v is not None and np.isfinite(v)]
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}"


def _mean_ci(group: list[dict[str, Any]]) -> str:
    """The seeds' 95 % bootstrap intervals of slice AUROC, their bounds averaged."""
    bounds = [r["slice"]["auroc_ci"] for r in group if r["slice"].get("auroc_ci")]
    if not bounds:
        return ""
    low, high = np.mean(bounds, axis=0)
    return f" [{low:.2f}, {high:.2f}]"


def _row_name(record: dict[str, Any]) -> str:
    if record["detector"] == "skanogan":
        score = record["config"].split("/")[-1]
        # The benchmark's own slice scores, not a score_type of the library.
        suffix = " (benchmark score of the residual map)" if score in MAP_SCORES else ""
        return f"skanogan {score}{suffix}"
    return record["detector"]


def render_synthetic(records: list[dict[str, Any]], source: str) -> list[str]:
    """The suite's section: slice-level table per head, pixel table, breakdowns."""
    records = [r for r in records if r.get("suite") == SUITE]
    lines = [f"## Brain MRI, synthetic lesions ({source})", ""]
    if not records:
        return [*lines, "No results yet: run `python -m benchmarks run --suite mri-synthetic`."]
    first = records[0]
    n_lesions = sum(len(copy) for copy in first["lesions"])
    lines += [
        "**Synthetic lesions** inserted into a held-out healthy head (leave one head out; "
        "training on the templates and the other heads). Protocol: `benchmarks/mri_synthetic.py`;"
        f" generator: `benchmarks/lesions.py`, parameters {first['lesion_params']}, lesion seed "
        f"{first['lesion_seed']} ({len(first['lesions'])} lesioned copies per head, "
        f"{n_lesions} lesions in the first head). Profile `{first['profile']}`, settings "
        f"{first['settings']}, preprocessing `{first.get('preprocessing', 'head')}`"
        f"{', training slices also mirrored left–right' if first.get('mirror') else ''}. Slice "
        "AUROC: lesioned slices against the lesion-free slices of the same lesioned copies of "
        "the head, from the lesioned slices' axial range; paired: share of lesioned slices "
        "scored above their unmodified original. Mean ± std over seeds; [brackets]: 95 % "
        "bootstrap intervals over slices, each seed's bounds averaged.",
        "",
    ]
    cells: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for record in records:
        cells[(_row_name(record), record["fold"])].append(record)
    heads = sorted({r["fold"] for r in records})
    rows = sorted({name for name, _ in cells}, key=lambda n: (not n.startswith("skanogan"), n))
    # AP at chance is the share of lesioned slices among the compared ones, head by head.
    chance = {
        r["fold"]: r["slice"]["n_lesioned"]
        / (r["slice"]["n_lesioned"] + r["slice"]["n_lesion_free"])
        for r in records
    }
    lines += [
        "Slice AP at chance (the share of lesioned slices): "
        + ", ".join(f"{h} {chance[h]:.2f}" for h in heads)
        + ".",
        "",
        "| detector | "
        + " | ".join(f"{h} AUROC | {h} AP | {h} paired" for h in heads)
        + " | mean of heads AUROC |",
        "|---" * (2 + 3 * len(heads)) + "|",
    ]
    for name in rows:
        values, head_means = [], []
        for head in heads:
            group = cells.get((name, head), [])
            values.append(_mean_std([r["slice"]["auroc"] for r in group]) + _mean_ci(group))
            values.append(_mean_std([r["slice"]["ap"] for r in group]))
            values.append(_mean_std([r["slice"]["paired"] for r in group]))
            if group:
                head_means.append(np.mean([r["slice"]["auroc"] for r in group]))
        # Every head counts once, whatever its number of seeds; a missing head shows as "–".
        mean = f"{np.mean(head_means):.3f}" if len(head_means) == len(heads) else "–"
        lines.append(f"| {name} | " + " | ".join(values) + f" | {mean} |")

    lines += [
        "",
        "Pixel level inside the brain (synthetic lesions): AUPRC of each map, Dice at the "
        "threshold set on healthy training slices, and the best Dice over thresholds (an "
        "upper bound: it looks at the lesion masks).",
        "",
        "| detector / map | head | AUPRC | Dice | best Dice (upper bound) |",
        "|---|---|---|---|---|",
    ]
    shown = set()
    for (name, head), group in sorted(cells.items()):
        maps = group[0].get("pixel") or {}
        for kind in maps:
            # The residual map does not depend on the score type: one row per head.
            if kind == "residual" and (kind, head) in shown:
                continue
            shown.add((kind, head))
            values = [
                _mean_std([r["pixel"][kind][key] for r in group])
                for key in ("auprc", "dice", "best_dice_upper_bound")
            ]
            row = "skanogan" if kind == "residual" else name
            lines.append(f"| {row} / {kind} | {head} | " + " | ".join(values) + " |")

    for axis in ("size", "contrast"):
        lines += [
            "",
            f"Slice AUROC and paired share by lesion {axis} (the largest lesion of each slice; "
            "all heads pooled as the mean of their cells; synthetic).",
            "",
        ]
        # Size bins in numeric order ("5-10 mm" before "10-15 mm").
        bins = sorted(
            {b for r in records for b in r["slice"][f"by_{axis}"]},
            key=lambda b: (float(b.split("-")[0]) if axis == "size" else 0.0, b),
        )
        lines += [
            "| detector | " + " | ".join(bins) + " |",
            "|---" * (1 + len(bins)) + "|",
        ]
        for name in rows:
            group = [r for (n, _), g in cells.items() if n == name for r in g]
            entries = []
            for b in bins:
                found = [
                    r["slice"][f"by_{axis}"][b] for r in group if b in r["slice"][f"by_{axis}"]
                ]
                auroc = _mean_std([f["auroc"] for f in found])
                paired = _mean_std([f["paired"] for f in found])
                n = sum(f["n"] for f in found)
                entries.append(f"{auroc} / {paired} (n={n})")
            lines.append(f"| {name} | " + " | ".join(entries) + " |")
    env = first["environment"]
    lines += ["", f"Environment: {env}."]
    return lines
