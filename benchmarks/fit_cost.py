"""What a default fit costs against the paper's settings, timed back to back (issue 14's 2× cap).

skanogan 0.1.0's defaults were exactly :data:`skanogan.PAPER_SETTINGS`, so "today's skanogan
rows" of the quality table and the ``paper`` weight set are the same fit. This script fits
both weight sets (:func:`benchmarks.configs.config_params`) on one task of a quality profile,
with that profile's settings, interleaved ``pairs`` times (``default``, ``paper``,
``default``, …) in one process with a fixed thread count, so that the two share the machine's
state. Run it on an idle machine::

    python -m benchmarks.fit_cost --threads 2 --pairs 2

It writes ``benchmarks/results/fit-cost.json`` (every fit's seconds, the medians, their ratio,
the environment) and prints one line per fit. ``fit`` includes everything a user's ``fit`` does:
training, the code densities, the training scores for the threshold.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch

from benchmarks.configs import config_params
from benchmarks.runner import (
    PROFILES,
    environment,
    fit_and_score,
    fit_settings,
    load_task,
    named_profile,
)

__all__ = ["WEIGHT_SETS", "main", "time_fits"]

#: The weight sets timed, in the order of each pair.
WEIGHT_SETS: tuple[str, ...] = ("default", "paper")


def time_fits(
    profile_name: str,
    dataset: str,
    normal_class: int,
    seed: int,
    pairs: int,
    *,
    data_home: str | None = None,
    log: Any = print,
) -> dict[str, Any]:
    """Fit :data:`WEIGHT_SETS` alternately ``pairs`` times on one task; seconds of each fit.

    Returns
    -------
    record : dict
        ``"seconds"`` (``{weights: [fit seconds, …]}``), ``"median_seconds"``, ``"ratio"``
        (median default / median paper), the task, the profile's settings and the environment.
    """
    if pairs < 1:
        raise ValueError(f"pairs must be at least 1, got {pairs}")
    profile = named_profile(PROFILES, profile_name, "quality")
    if dataset not in profile.datasets + profile.on_request:
        raise ValueError(f"dataset {dataset!r} is not in the {profile_name} profile")
    task = load_task(dataset, normal_class, seed, profile, data_home)
    settings = {w: fit_settings(profile.settings, config_params(w)) for w in WEIGHT_SETS}
    seconds: dict[str, list[float]] = {weights: [] for weights in WEIGHT_SETS}
    for pair in range(pairs):
        for weights in WEIGHT_SETS:
            _, fit_s, _, _, _, _ = fit_and_score("skanogan", settings[weights], task, ("default",))
            seconds[weights].append(fit_s)
            log(f"pair {pair + 1}/{pairs} {weights}: {fit_s:.1f} s")
    medians = {weights: statistics.median(values) for weights, values in seconds.items()}
    return {
        "profile": profile_name,
        "settings": profile.settings,
        "dataset": dataset,
        "class": normal_class,
        "seed": seed,
        "n_train": task.meta["n_train"],
        "pairs": pairs,
        "seconds": seconds,
        "median_seconds": medians,
        "ratio": medians["default"] / medians["paper"],
        "environment": environment(),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.fit_cost``; returns the exit status (2 on bad input)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fit_cost", description=__doc__)
    parser.add_argument("--profile", default="paper")
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--class", dest="normal_class", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--results", default="benchmarks/results/fit-cost.json")
    parser.add_argument("--data-home", default=None)
    args = parser.parse_args(argv)
    try:
        if args.threads is not None:
            if args.threads < 1:
                raise ValueError(f"--threads must be at least 1, got {args.threads}")
            torch.set_num_threads(args.threads)
        record = time_fits(
            args.profile,
            args.dataset,
            args.normal_class,
            args.seed,
            args.pairs,
            data_home=args.data_home,
        )
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    path = Path(args.results)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1) + "\n")
    print(
        f"median fit: default {record['median_seconds']['default']:.1f} s, paper "
        f"{record['median_seconds']['paper']:.1f} s, ratio {record['ratio']:.2f} ({path})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
