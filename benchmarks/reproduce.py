"""Refit one recorded skanogan cell with today's code: do its AUROCs come out the same?

``python -m benchmarks reproduce --results FILE --cell DATASET CLASS SEED`` refits every
skanogan weight set recorded for that cell (its profile, settings and seed; records of skanogan
0.1.0 read through :data:`benchmarks.configs.LEGACY_CONFIGS`), scores it with the recorded
score types and prints the recorded and the new AUROC of each. The refit runs in the precision
the record names (float32 for records without one). It exits with 0 when every
difference is within the tolerance; otherwise it names the records that differ and exits
with 2. A reproduced cell is what lets old records of the paper's settings stand for the
``paper`` row (``python -m benchmarks report --legacy-paper-rows``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sklearn.metrics import roc_auc_score

from benchmarks.configs import LEGACY_CONFIGS, config_params, is_legacy
from benchmarks.runner import PROFILES, fit_and_score, fit_settings, load_task, read_results

__all__ = ["TOLERANCE", "reproduce"]

#: Largest AUROC difference counted as reproduced. One normal/anomalous pair ranked the other way
#: moves the AUROC by 1 / (n_normal x n_anomalous), 2.8e-6 for 200 x 1,800 test images: this asks
#: for the same ranking, not for close scores.
TOLERANCE = 1e-6


def reproduce(
    results: Path,
    dataset: str,
    normal_class: int,
    seed: int,
    *,
    weights: str | None = None,
    data_home: str | None = None,
    tolerance: float = TOLERANCE,
    log: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """Refit the skanogan records of one cell and compare their AUROCs.

    Parameters
    ----------
    results : Path
        A quality results file.
    dataset : str
    normal_class : int
    seed : int
        The cell.
    weights : str, optional
        Refit only this weight set (``"paper"``, ``"default"``, an ablation's name; 0.1.0's
        ``full`` is ``"paper"``); default: every one recorded for the cell.
    data_home : str, optional
        Data folder, as for :func:`benchmarks.runner.run`.
    tolerance : float, default=TOLERANCE
        Largest absolute AUROC difference that counts as the same.
    log : callable, default=print
        Receives one line per record.

    Returns
    -------
    rows : list of dict
        ``config`` (as recorded), ``recorded``, ``refitted``, ``difference`` and ``same``.

    Raises
    ------
    ValueError
        If the file has no skanogan record of the cell, or its profile is unknown.
    """
    cell = [
        r
        for r in read_results(results)
        if (r["detector"], r["dataset"], r["class"], r["seed"])
        == ("skanogan", dataset, normal_class, seed)
    ]
    if not cell:
        raise ValueError(f"{results} has no skanogan record of {dataset} {normal_class} {seed}")
    # One fit per weight set serves all of its recorded score types, as in the run.
    fits: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in cell:
        config = LEGACY_CONFIGS.get(record["config"]) if is_legacy(record) else record["config"]
        if config is None:
            raise ValueError(f"{results}: no known config behind {record['config']!r}")
        if weights in (None, config.split("/")[0]):
            fits[config.split("/")[0]].append({**record, "as": config})
    if not fits:
        raise ValueError(f"{results} has no {weights!r} record of {dataset} {normal_class} {seed}")
    rows = []
    for weights, records in fits.items():
        name = records[0]["profile"]
        if name not in PROFILES:
            raise ValueError(f"{results}: unknown profile {name!r} of {records[0]['config']!r}")
        profile = PROFILES[name]
        task = load_task(dataset, normal_class, seed, profile, data_home)
        # 0.1.0 wrote the config's weights into "settings"; the config's claim comes last, so
        # both spellings fit the same model.
        settings = fit_settings(records[0]["settings"], config_params(weights))
        # In the precision that trained the record (amp="auto" depends on the CPU; records
        # before bfloat16 on the CPU were float32).
        settings["skanogan"]["amp"] = records[0].get("precision", "float32") != "float32"
        score_types = tuple(r["as"].split("/")[1] for r in records)
        scores, fit_s, *_ = fit_and_score("skanogan", settings, task, score_types)
        for record, score_type in zip(records, score_types, strict=True):
            refitted = float(roc_auc_score(task.y_test, scores[score_type]))
            difference = refitted - record["auroc"]
            rows.append(
                {
                    "config": record["config"],
                    "recorded": record["auroc"],
                    "refitted": refitted,
                    "difference": difference,
                    "same": abs(difference) <= tolerance,
                }
            )
            log(
                f"{dataset} class {normal_class} seed {seed} {record['config']} "
                f"(as {record['as']}): recorded {record['auroc']:.6f}, refitted "
                f"{refitted:.6f}, difference {difference:+.2e} "
                + ("(same)" if rows[-1]["same"] else f"(DIFFERS, tolerance {tolerance:g})")
                + f"; {fit_s:.0f}s fit"
            )
    return rows
