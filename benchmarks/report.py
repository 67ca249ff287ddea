"""Markdown tables and plots from a results file of :mod:`benchmarks.runner`.

Every AUROC is reported as mean ± std over seeds: per seed, the mean over the classes a row has
for that seed; then mean and std of those per-seed means. A row that lacks any class or seed
that another row of its data set has is marked incomplete: its mean covers fewer classes. The
paper's own figures are printed beside ours and labelled as the paper's.
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import below_chance
from benchmarks.mri_report import render_mri
from benchmarks.runner import PROFILES, Profile, done_cells, pending, read_results
from benchmarks.speed_report import render_markdown

__all__ = ["PAPER", "aggregate", "render", "write_report"]

# The paper's Tables 1 (MNIST) and 2 (CIFAR-10), as printed there: its row name, our detector,
# AUROC for the normal classes 0..9 (CIFAR-10: plane, car, bird, cat, deer, dog, frog, horse,
# ship, truck, the label order of the data set) and the mean. Only rows with a counterpart here;
# "Proposed method" is skanogan.
_PAPER_TABLE1_MNIST = """
KDE             KDE          0.885 0.996 0.710 0.693 0.844 0.776 0.861 0.884 0.669 0.825 0.8143
DAE             AutoEncoder  0.894 0.999 0.792 0.851 0.888 0.819 0.944 0.922 0.740 0.917 0.8766
VAE             VAE          0.997 0.999 0.936 0.959 0.973 0.964 0.993 0.976 0.923 0.976 0.9696
AnoGAN          AnoGAN       0.966 0.992 0.850 0.887 0.894 0.883 0.947 0.935 0.849 0.924 0.9127
DSVDD           DeepSVDD     0.980 0.997 0.917 0.919 0.949 0.885 0.983 0.946 0.939 0.965 0.9480
Proposed-method skanogan     0.996 0.985 0.969 0.964 0.981 0.940 0.917 0.942 0.921 0.697 0.9310
"""
_PAPER_TABLE2_CIFAR10 = """
KDE             KDE          0.658 0.520 0.657 0.497 0.727 0.496 0.758 0.564 0.680 0.540 0.6097
DAE             AutoEncoder  0.411 0.478 0.616 0.562 0.728 0.513 0.688 0.497 0.487 0.378 0.5358
VAE             VAE          0.700 0.386 0.679 0.535 0.748 0.523 0.687 0.493 0.696 0.386 0.5833
AnoGAN          AnoGAN       0.671 0.547 0.529 0.545 0.651 0.603 0.585 0.625 0.758 0.665 0.6179
DSVDD           DeepSVDD     0.617 0.659 0.508 0.591 0.609 0.657 0.677 0.673 0.759 0.731 0.6481
Proposed-method skanogan     0.889 0.732 0.665 0.697 0.892 0.753 0.823 0.704 0.931 0.888 0.7970
"""


def _rows(table: str) -> dict[str, tuple[str, list[float]]]:
    return {
        row.split()[1]: (row.split()[0], [float(v) for v in row.split()[2:]])
        for row in table.strip().splitlines()
    }


#: The paper's Tables 1–2 (per class, by our detector name), 3 (loss ablation, by weight set)
#: and 6 (score types), for MNIST and CIFAR-10, cited as printed there.
PAPER: dict[str, Any] = {
    "per_class": {"mnist": _rows(_PAPER_TABLE1_MNIST), "cifar10": _rows(_PAPER_TABLE2_CIFAR10)},
    "ablation": {
        "mnist": {"irec_adv": 0.606, "irec_adv_rank": 0.76, "irec_adv_zrec": 0.85, "full": 0.937},
        "cifar10": {
            "irec_adv": 0.514,
            "irec_adv_rank": 0.532,
            "irec_adv_zrec": 0.478,
            "full": 0.797,
        },
    },
    "score_types": {
        "mnist": {"image": 0.868, "latent": 0.937},
        "cifar10": {"image": 0.617, "latent": 0.797},
    },
}
#: How the paper names the data sets it has tables for.
_PAPER_NAMES = {"mnist": "MNIST", "cifar10": "CIFAR-10"}

_ABLATION_TERMS = {
    "irec_adv": "L_irec + L_adv",
    "irec_adv_rank": "L_irec + L_adv + L_rank",
    "irec_adv_zrec": "L_irec + L_adv + L_zrec",
    "full": "L_irec + L_adv + L_zrec + L_rank",
}


def aggregate(records: Iterable[dict[str, Any]], metric: str = "auroc") -> dict:
    """``{(dataset, detector, config): {"classes": {c: mean}, "mean": m, "std": s, ...}}``."""
    cells: dict[tuple, dict[int, dict[int, float]]] = defaultdict(lambda: defaultdict(dict))
    # What a complete row covers: every class and seed that any row of its dataset has.
    expected: dict[str, tuple[set, set]] = defaultdict(lambda: (set(), set()))
    for r in records:
        cells[(r["dataset"], r["detector"], r["config"])][r["seed"]][r["class"]] = r[metric]
        expected[r["dataset"]][0].add(r["class"])
        expected[r["dataset"]][1].add(r["seed"])
    table = {}
    for key, by_seed in cells.items():
        class_sets = {frozenset(classes) for classes in by_seed.values()}
        classes = sorted(set().union(*class_sets))
        all_classes, all_seeds = expected[key[0]]
        per_seed = [np.mean(list(c.values())) for c in by_seed.values()]
        table[key] = {
            "classes": {
                c: float(np.mean([s[c] for s in by_seed.values() if c in s])) for c in classes
            },
            "mean": float(np.mean(per_seed)),
            "std": float(np.std(per_seed)),
            "n_seeds": len(by_seed),
            "complete": class_sets == {frozenset(all_classes)} and set(by_seed) == all_seeds,
        }
    return table


def _mean_std(cell: dict) -> str:
    text = f"{cell['mean']:.3f} ± {cell['std']:.3f}"
    return text if cell["complete"] else text + " (incomplete)"


def _label(detector: str, config: str) -> str:
    return detector if config in ("default", "full/latent") else f"{detector} {config}"


def _quality_tables(records: list[dict], auroc: dict, ap: dict) -> list[str]:
    lines = []
    for dataset in sorted({r["dataset"] for r in records}):
        rows = sorted(
            (key for key in auroc if key[0] == dataset and key[2] in ("default", "full/latent")),
            key=lambda key: -auroc[key]["mean"],
        )
        classes = sorted({c for key in rows for c in auroc[key]["classes"]})
        lines += [
            f"### {dataset}: AUROC per normal class",
            "",
            "| detector | mean AUROC | mean AP | seeds | " + " | ".join(map(str, classes)) + " |",
            "|---" * (len(classes) + 4) + "|",
        ]
        for key in rows:
            cells = [f"{auroc[key]['classes'].get(c, float('nan')):.3f}" for c in classes]
            lines.append(
                f"| {_label(*key[1:])} | {_mean_std(auroc[key])} | {ap[key]['mean']:.3f} | "
                f"{auroc[key]['n_seeds']} | " + " | ".join(cells) + " |"
            )
        for detector, (row, values) in PAPER["per_class"].get(dataset, {}).items():
            cells = [f"*{values[c]:.3f}*" for c in classes]
            lines.append(
                f"| *paper's {row} ({detector})* | *{values[-1]:.3f}* | | | "
                + " | ".join(cells)
                + " |"
            )
        lines += ["", *_paper_differences(auroc, dataset)]
    return lines


def _ablation_tables(records: list[dict], auroc: dict) -> list[str]:
    datasets = sorted({key[0] for key in auroc if key[1] == "skanogan" and key[2] != "full/latent"})
    if not datasets:
        return []
    columns = [
        column
        for dataset in datasets
        for column in [(dataset, False)] + [(dataset, True)] * (dataset in PAPER["ablation"])
    ]
    lines = [
        "### Loss ablation (the paper's Table 3) and score types (Table 6)",
        "",
        "skanogan's latent score unless a score type is named; mean AUROC ± std over seeds. "
        "Without L_zrec the auxiliary encoder is never trained, so the latent score of those "
        "rows compares z with an untrained encoding, as in the paper's ablation. In brackets: "
        "the full model's latent score on the same classes and seeds, where a row covers fewer "
        "than the full model's. The paper's figures are in italics.",
        "",
        "| terms | config | "
        + " | ".join(f"paper, {_PAPER_NAMES[d]}" if paper else d for d, paper in columns)
        + " |",
        "|---|---|" + "---|" * len(columns),
    ]
    for weights, terms in _ABLATION_TERMS.items():
        for score in ("latent", "image", "combined"):
            config = f"{weights}/{score}"
            if not any((d, "skanogan", config) in auroc for d in datasets):
                continue
            cells = []
            for dataset, paper in columns:
                if paper:
                    value = (
                        PAPER["ablation"][dataset][weights]
                        if score == "latent"
                        else PAPER["score_types"][dataset].get(score)
                        if weights == "full"
                        else None
                    )
                    cells.append("" if value is None else f"*{value:.3f}*")
                    continue
                cell = auroc.get((dataset, "skanogan", config))
                cells.append(
                    _mean_std(cell) + _full_on_same_cells(records, dataset, config) if cell else ""
                )
            lines.append(f"| {terms} | {config} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _full_on_same_cells(records: list[dict], dataset: str, config: str) -> str:
    """`` [full: m ± s]``: the full model's latent AUROC on ``config``'s (class, seed) cells,
    or nothing when ``config`` covers every cell the full model has."""

    def of(name: str) -> list[dict]:
        key = (dataset, "skanogan", name)
        return [r for r in records if (r["dataset"], r["detector"], r["config"]) == key]

    covered = {(r["class"], r["seed"]) for r in of(config)}
    full = of("full/latent")
    if config == "full/latent" or {(r["class"], r["seed"]) for r in full} <= covered:
        return ""
    paired = aggregate(r for r in full if (r["class"], r["seed"]) in covered)
    if not paired:
        return ""
    cell = paired[(dataset, "skanogan", "full/latent")]
    return f" [full: {cell['mean']:.3f} ± {cell['std']:.3f}]"


def _paper_differences(auroc: dict, dataset: str) -> list[str]:
    """One sentence for the rows of ``dataset`` the paper also has: ours, its, the difference."""
    rows = []
    for detector, (row, values) in PAPER["per_class"].get(dataset, {}).items():
        config = "full/latent" if detector == "skanogan" else "default"
        ours = auroc.get((dataset, detector, config))
        if ours is not None and ours["complete"]:
            # The paper's mean over the classes our row covers (all ten in the paper profile).
            paper = float(np.mean([values[c] for c in ours["classes"]]))
            rows.append((ours["mean"] - paper, detector, row, ours["mean"], paper))
            classes = sorted(ours["classes"])
    if not rows:
        return []
    rows.sort(key=lambda item: -abs(item[0]))
    parts = [
        f"{detector} {mine:.3f} against the paper's {paper:.3f} for {row} ({diff:+.3f})"
        for diff, detector, row, mine, paper in rows
    ]
    over = "" if len(classes) == 10 else f" (classes {classes}, the paper's figures over them)"
    return [
        f"Where our {_PAPER_NAMES[dataset]} means differ from the paper's{over}, largest "
        "difference first: " + "; ".join(parts) + ".",
        "",
    ]


def _cost_table(records: list[dict]) -> list[str]:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in records:
        if r["config"] in ("default", "full/latent"):
            threads = r["environment"].get("torch_threads")
            groups[(r["dataset"], r["detector"], threads)].append(r)
    lines = [
        "### Cost per task (means over cells)",
        "",
        "Fit and score seconds are wall time; train img/s is training images per second of fit "
        "(all epochs included); peak host MiB is the benchmark process's peak resident memory "
        "during the cell, loaded data sets included. Cells run with different numbers of "
        "torch threads are averaged apart (threads, then the number of cells).",
        "",
        "| dataset | detector | threads (cells) | scoring | n train | n test | fit s | score s "
        "| train img/s | score img/s | peak host MiB |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (dataset, detector, threads), rs in sorted(groups.items(), key=lambda g: str(g[0])):
        mean = {
            k: np.mean([r[k] for r in rs])
            for k in (
                "n_train",
                "n_test",
                "fit_seconds",
                "score_seconds",
                "train_images_per_s",
                "score_images_per_s",
                "peak_host_mib",
            )
        }
        lines.append(
            f"| {dataset} | {detector} | {threads} ({len(rs)}) | {rs[0]['scoring']} | "
            f"{mean['n_train']:.0f} | "
            f"{mean['n_test']:.0f} | {mean['fit_seconds']:.1f} | {mean['score_seconds']:.2f} | "
            f"{mean['train_images_per_s']:.0f} | {mean['score_images_per_s']:.0f} | "
            f"{mean['peak_host_mib']:.0f} |"
        )
    return [*lines, ""]


def _still_to_run(records: list[dict[str, Any]], profile: Profile) -> list[str]:
    """What the profile plans that ``records`` lack, as fits per dataset and detector."""
    own = [r for r in records if r["profile"] == profile.name]
    done = done_cells(own)
    started = tuple(d for d in profile.on_request if any(r["dataset"] == d for r in own))
    profile = dataclasses.replace(profile, datasets=profile.datasets + started)
    missing: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    total = 0
    for (dataset, _, _, detector, weights, _, _), _ in pending(profile, done):
        name = detector if weights in ("default", "full") else f"{detector} {weights}"
        missing[dataset][name] += 1
        total += 1
    not_started = "".join(
        f" Not counted: {d}, run only on request (`--datasets {d}`, from a user's copy of the "
        "data)."
        for d in profile.on_request
        if d not in started
    )
    if not total:
        if not not_started:
            return []
        return [f"### Still to run (profile `{profile.name}`)", "", "Nothing." + not_started, ""]
    per_dataset = "; ".join(
        f"{dataset}: " + ", ".join(f"{name} {count}" for name, count in names.items())
        for dataset, names in missing.items()
    )
    return [
        f"### Still to run (profile `{profile.name}`)",
        "",
        f"{total} fits (class × seed) of the profile are not in this file yet: {per_dataset}. "
        f"`python -m benchmarks run --suite quality --profile {profile.name}"
        + (f" --datasets {' '.join(profile.datasets)}" if started else "")
        + "` runs them, resuming "
        "where this file stops (`--detectors`/`--datasets`/`--ablations NAME...` run a "
        "subset, for instance in several processes with their own `--results` files, appended "
        "to this one afterwards)." + not_started,
        "",
    ]


def render(records: list[dict[str, Any]], results_name: str = "results.jsonl") -> str:
    """The markdown report for ``records`` (one results file)."""
    if not records:
        return "No results yet: run `python -m benchmarks run --suite quality`.\n"
    auroc, ap = aggregate(records, "auroc"), aggregate(records, "ap")
    profiles = sorted({r["profile"] for r in records})
    envs: dict[tuple, set[str]] = {}
    for r in records:
        envs.setdefault(tuple(sorted(r["environment"].items())), set()).add(r["detector"])
    lines = [
        f"## Results of `{results_name}` (profile {', '.join(profiles)})",
        "",
        "Protocol: one class normal, the other classes anomalous (the standard one-class "
        "protocol, the one the paper's tables use); trained on normals of the training split "
        "only, tested on the test split. Mean ± std over seeds of the mean over classes.",
        "",
        "Where we differ from the paper: its figures (in italics) are copied from its Tables 1, 3 "
        'and 6; its text names both "one class normal" and "one class anomalous", and we '
        "report the standard first reading. It gives no epochs, widths or subsets, so ours are "
        "stated per profile below and differ from its unstated ones. PyOD detectors run through "
        "the adapters in `benchmarks/detectors.py`, whose docstring lists every change "
        "from PyOD's defaults (VAE scored by its posterior mean, ALAD's epochs as full passes, "
        "AnoGAN with the per-sample latent search of Schlegl et al., no per-pixel "
        "standardisation of [0, 1] pixels).",
        "",
    ]
    for name in profiles:
        profile = PROFILES.get(name)
        if profile is not None:
            lines += [
                f"- Profile `{name}`: {profile.description}. Settings: `{profile.settings}`, "
                f"n_train cap {profile.n_train}, n_test cap {profile.n_test}, seeds "
                f"{list(profile.seeds)}. Command: `python -m benchmarks run --suite quality "
                f"--profile {name}` then `python -m benchmarks report`."
            ]
    for env, detectors in envs.items():
        which = f" ({', '.join(sorted(detectors))})" if len(envs) > 1 else ""
        lines.append(f"- Environment{which}: " + ", ".join(f"{k} {v}" for k, v in env))
    lines.append("")
    lines += _quality_tables(records, auroc, ap)
    lines += _ablation_tables(records, auroc)
    lines += _cost_table(records)
    for name in profiles:
        if name in PROFILES:
            lines += _still_to_run(records, PROFILES[name])
    return "\n".join(lines)


def _plots(records: list[dict[str, Any]], folder: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    auroc = aggregate(records)
    written = []
    for dataset in sorted({r["dataset"] for r in records}):
        keys = sorted(k for k in auroc if k[0] == dataset and k[2] in ("default", "full/latent"))
        classes = sorted({c for k in keys for c in auroc[k]["classes"]})
        fig, (ax_bar, ax_roc) = plt.subplots(1, 2, figsize=(14, 4.5), layout="constrained")
        width = 0.8 / max(len(keys), 1)
        # tab20 gives each of up to 20 detectors its own colour; skanogan stands out in black.
        palette = plt.get_cmap("tab20").colors
        for i, key in enumerate(keys):
            color = "black" if key[1] == "skanogan" else palette[i % len(palette)]
            values = [auroc[key]["classes"].get(c, np.nan) for c in classes]
            ax_bar.bar(
                np.arange(len(classes)) + i * width, values, width, label=key[1], color=color
            )
            curves = [
                r["roc"] for r in records if (r["dataset"], r["detector"], r["config"]) == key
            ]
            fpr = np.asarray(curves[0][0])
            ax_roc.plot(fpr, np.mean([c[1] for c in curves], axis=0), label=key[1], color=color)
        ax_bar.set(
            xticks=np.arange(len(classes)) + 0.4 - width / 2,
            xticklabels=classes,
            ylim=(0.0, 1.0),
            xlabel="normal class",
            ylabel="AUROC (mean over seeds)",
            title=f"{dataset}: AUROC per class",
        )
        ax_bar.axhline(0.5, color="grey", linestyle=":", linewidth=1)  # chance
        ax_roc.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
        ax_roc.set(
            xlabel="false positive rate",
            ylabel="true positive rate",
            title=f"{dataset}: ROC, mean over classes and seeds",
        )
        # One legend below both panels: inside, it hid the bars of the first classes.
        fig.legend(
            *ax_bar.get_legend_handles_labels(),
            loc="outside lower center",
            ncol=min(len(keys), 7),
            fontsize="small",
        )
        path = folder / f"{dataset}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def write_report(results: Iterable[Path], output: Path, *, plots: bool = True) -> str:
    """Render each results file into one markdown ``output``, plots in a folder beside it.

    Files of the brain-MRI suite (records with ``"suite": "mri"``) are rendered by
    :func:`benchmarks.mri_report.render_mri`, the below-chance diagnosis (``.json``) by
    :func:`benchmarks.below_chance.render`, speed records (other ``.json``) by
    :func:`benchmarks.speed_report.render_markdown`; the others as image-dataset tables.
    """
    sections = []
    folder = output.with_suffix("")
    for path in results:
        if path.suffix == ".json":
            record = json.loads(path.read_text())
            if record.get("suite") == below_chance.SUITE:
                sections.append("\n".join(below_chance.render(record)))
                continue
            # A speed benchmark record (python -m benchmarks run --suite speed), one level down.
            text = render_markdown(record)
            sections.append(
                "\n".join(
                    "#" + line if line.startswith("#") else line for line in text.splitlines()
                )
            )
            continue
        records = read_results(path)
        if records and records[0].get("suite") == "mri":
            sections.append("\n".join(render_mri(records, path.name)))
            continue
        text = render(records, path.name)
        if plots and records:
            subfolder = folder / path.stem
            subfolder.mkdir(parents=True, exist_ok=True)
            images = _plots(records, subfolder)
            text += "\n" + "\n".join(
                f"![{path.stem} {p.stem}]({folder.name}/{path.stem}/{p.name})" for p in images
            )
        sections.append(text)
    output.parent.mkdir(parents=True, exist_ok=True)
    heading = (
        "# Benchmarks\n\nGenerated by `python -m benchmarks report` from the results files named "
        "in each section; every figure can be rerun with the command written beside it.\n\n"
    )
    output.write_text(heading + "\n\n".join(sections) + "\n")
    return output.read_text()
