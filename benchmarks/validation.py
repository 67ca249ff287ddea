"""Validation sweep for skanogan's defaults: every choice made on training data only.

The quality issue chooses the default score type, loss weights, low-rank form and weight, epochs
and width of :class:`~skanogan.LatentRegularizedGAN` here, never on a test split. Each cell is
one configuration fitted on one task built from a data set's *training* data only:

- MNIST and Fashion-MNIST, class ``c``: fit on ``n_fit`` (2,000) training images of class ``c``;
  validate on ``n_val_normal`` (1,000) *other* training images of class ``c`` against
  ``n_val_anomalous`` (1,000) training images of the other classes.
- ELPV: the benchmark's per-seed stratified half (``one_class_split(..., test_size=0.5,
  random_state=seed)``); its functional cells are split 70/30 into fit and held-out normals, and
  the held-out normals are validated against the defective cells of the same half, which the
  benchmark's one-class training never uses. Cells are shrunk to 64 px as in the paper profile.

The classes (:data:`CLASSES`) were fixed before the first run, the hard ones included. One fit
per cell serves every score type and three epoch counts: the model is trained 5 epochs at a
time with ``warm_start`` (batch order seeded by epoch, so 3 x 5 epochs are one 15-epoch run) and
scored after each. The peers (LOF, KNN) run on the same cells through the benchmark's adapters,
as a yardstick. Results go to a JSONL file, one record per cell, so a stopped run resumes.

Run from a clone::

    python -m benchmarks.validation run --results benchmarks/results/validation.jsonl
    python -m benchmarks.validation report --results benchmarks/results/validation.jsonl

The best configurations are then confirmed on every class (``--classes every``, to a results
file of its own, into which the sweep's records of those configurations may be copied: they are
the same cells).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import train_test_split

import skanogan
from benchmarks.runner import precision_name
from skanogan import PAPER_SETTINGS, LatentRegularizedGAN, datasets
from skanogan.scoring import SCORE_TYPES

#: Classes of each data set in the sweep, fixed before the first run (hard ones included).
CLASSES = {"mnist": (2, 3, 5, 8), "fashion_mnist": (0, 2, 4, 6), "elpv": (0,)}
#: ``--classes``: the sweep's classes, or every class (to confirm the best configurations).
CLASS_SETS = {
    "sweep": CLASSES,
    "every": {"mnist": tuple(range(10)), "fashion_mnist": tuple(range(10)), "elpv": (0,)},
}
N_FIT, N_VAL_NORMAL, N_VAL_ANOMALOUS = 2000, 1000, 1000
ELPV_SIDE, ELPV_HELD_OUT = 64, 0.3
#: Epoch counts scored in every cell: the model is scored after each of these.
CHECKPOINTS = (5, 10, 15)
#: Settings shared by every configuration (the paper profile's width). Float32 unless a
#: configuration asks for bfloat16: ``amp="auto"`` picks the precision by CPU, the sweep must not.
BASE = {"base_channels": 32, "device": "cpu", "amp": False}
_PAPER = {key: value for key, value in PAPER_SETTINGS.items() if key != "score_type"}
_GANOMALY = {"w_irec": 50.0, "w_adv": 1.0, "w_zrec": 1.0, "w_rank": 0.0, "rank_form": "nuclear"}
#: One lever at a time: the paper's printed weights, GANomaly's balance, and levers around it.
#: Each spells out the loss weights it stands for, never leaning on the library's defaults,
#: which this very sweep changes (:func:`check_records` refuses records that differ).
CONFIGS: dict[str, dict[str, Any]] = {
    "paper": _PAPER,
    "ganomaly": _GANOMALY,
    "ganomaly_nuclear": {**_GANOMALY, "w_rank": 0.05},
    "ganomaly_scale_free": {**_GANOMALY, "w_rank": 1.0, "rank_form": "scale_free"},
    "paper_no_rank": {**_PAPER, "w_rank": 0.0},
    "ganomaly_latent32": {**_GANOMALY, "latent_dim": 32},
    "ganomaly_scale_free_0.1": {**_GANOMALY, "w_rank": 0.1, "rank_form": "scale_free"},
    "ganomaly_width64": {**_GANOMALY, "base_channels": 64},
    "ganomaly_ema": {**_GANOMALY, "ema_decay": 0.99},
    # The default under CPU bfloat16 mixed precision (amp="auto"'s choice on such CPUs).
    "ganomaly_scale_free_0.1_bf16": {
        **_GANOMALY,
        "w_rank": 0.1,
        "rank_form": "scale_free",
        "amp": True,
    },
}
PEERS = ("LOF", "KNN")
#: Parameters the sweep itself sets on every fit (see :func:`run_skanogan`).
_SET_BY_SWEEP = ("score_type", "epochs", "warm_start", "random_state", "verbose")


def _shrink(images: np.ndarray, side: int) -> np.ndarray:
    shrunk = torch.nn.functional.interpolate(
        torch.from_numpy(images[:, None]).float(), size=(side, side), mode="area"
    )
    return shrunk.round().clamp(0, 255).to(torch.uint8).numpy()


def load_cell_data(
    dataset: str, normal_class: int, seed: int, data_home: str | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(X_fit, X_val, y_val)`` of one task, from the data set's training data only.

    ``X_*`` are uint8 ``(n, 1, H, W)``; ``y_val`` is 1 for anomalies. ``data_home`` as in
    :func:`skanogan.datasets.get_data_home` (default: ``$SKANOGAN_DATA``).
    """
    rng = np.random.default_rng(seed)
    if dataset == "elpv":
        data = datasets.load_elpv(data_home)
        train_half, _ = train_test_split(
            np.arange(len(data.target)), test_size=0.5, random_state=seed, stratify=data.target
        )
        train_half = np.sort(train_half)
        normal = train_half[data.target[train_half] == normal_class]
        anomalous = train_half[data.target[train_half] != normal_class]
        normal = rng.permutation(normal)
        n_held = round(ELPV_HELD_OUT * len(normal))
        fit, held = np.sort(normal[n_held:]), np.sort(normal[:n_held])
        images = _shrink(data.images, ELPV_SIDE)
    else:
        data = {"mnist": datasets.load_mnist, "fashion_mnist": datasets.load_fashion_mnist}[
            dataset
        ](data_home)
        target = data.target_train
        normal = rng.permutation(np.flatnonzero(target == normal_class))
        fit, held = np.sort(normal[:N_FIT]), np.sort(normal[N_FIT : N_FIT + N_VAL_NORMAL])
        others = np.flatnonzero(target != normal_class)
        anomalous = np.sort(rng.choice(others, N_VAL_ANOMALOUS, replace=False))
        images = data.images_train[:, None]
    val = np.concatenate([held, anomalous])
    y_val = np.concatenate([np.zeros(len(held)), np.ones(len(anomalous))]).astype(np.int64)
    return images[fit], images[val], y_val


def _metrics(y: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    return {
        "auroc": float(roc_auc_score(y, scores)),
        "ap": float(average_precision_score(y, scores)),
    }


def run_skanogan(config: str, X_fit: np.ndarray, X_val: np.ndarray, y_val: np.ndarray, seed: int):
    """Fit one configuration 5 epochs at a time; every score type after each checkpoint."""
    params = {**BASE, **CONFIGS[config]}
    step = CHECKPOINTS[0]
    model = LatentRegularizedGAN(**params, epochs=step, warm_start=True, random_state=seed)
    results, fit_seconds = {}, 0.0
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="w_zrec=0", category=UserWarning)
        for epochs in CHECKPOINTS:
            start = time.perf_counter()
            model.set_params(score_type="latent").fit(X_fit)
            fit_seconds += time.perf_counter() - start
            assert model.n_iter_ == epochs
            results[str(epochs)] = {
                score_type: _metrics(
                    y_val, model.set_params(score_type=score_type).decision_function(X_val)
                )
                for score_type in SCORE_TYPES
            }
    last = model.history_[-1]
    return {
        "params": {key: value for key, value in model.get_params().items() if key != "verbose"},
        "precision": precision_name(model.amp_dtype_),
        "scores": results,
        "fit_seconds": fit_seconds,
        "history_last": {k: last[k] for k in ("g_irec", "g_adv", "g_zrec", "g_rank", "d_loss")},
    }


def run_peer(name: str, X_fit: np.ndarray, X_val: np.ndarray, y_val: np.ndarray, seed: int):
    """A PyOD detector through the quality benchmark's adapter (same inputs and settings)."""
    from benchmarks import detectors as det

    model = det.make_detector(name, seed=seed, settings={})
    start = time.perf_counter()
    model.fit(det.prepare_inputs(name, X_fit))
    fit_seconds = time.perf_counter() - start
    scores = det.score(name, model, det.prepare_inputs(name, X_val), per_sample=False)
    return {"scores": {"default": _metrics(y_val, scores)}, "fit_seconds": fit_seconds}


def cells(
    configs: list[str], seeds: tuple[int, ...], classes: dict[str, tuple[int, ...]] | None = None
) -> Iterator[tuple[str, str, int, int]]:
    """``(config, dataset, class, seed)``, peers first (seconds), then configs in order; the
    classes are :data:`CLASSES` unless given."""
    for config in [*PEERS, *configs]:
        for seed in seeds:
            for dataset, classes_of in (classes or CLASSES).items():
                for normal_class in classes_of:
                    yield config, dataset, normal_class, seed


def _key(record: dict[str, Any]) -> tuple:
    return record["config"], record["dataset"], record["class"], record["seed"]


def read_records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:  # a torn last line from a killed run
            continue
    return records


def check_records(records: list[dict[str, Any]]) -> None:
    """Raise a ``ValueError`` naming the records fitted with other parameters than their
    configuration's: ``BASE``, the configuration and today's defaults for the rest (a
    parameter a record lacks counts at the value older versions trained with). ``amp`` is
    checked as the precision that trained the model (records without one: float32, the only
    CPU precision before bfloat16)."""
    defaults = LatentRegularizedGAN().get_params()
    wrong = []
    for record in records:
        if record["config"] in PEERS:
            continue
        expected = {**defaults, **BASE, **CONFIGS[record["config"]]}
        differ = sorted(
            key
            for key, value in expected.items()
            if key not in (*_SET_BY_SWEEP, "amp")
            and record["params"].get(key, LatentRegularizedGAN._implicit_params.get(key)) != value
        )
        precision = "bfloat16" if expected["amp"] is True else "float32"
        if record.get("precision", "float32") != precision:
            differ.append("amp")
        if differ:
            wrong.append(f"{'/'.join(map(str, _key(record)))} ({', '.join(differ)})")
    if wrong:
        raise ValueError(
            f"{len(wrong)} records differ from the configuration they claim: {'; '.join(wrong)}"
        )


def environment() -> dict[str, Any]:
    return {
        "cpu": platform.processor() or platform.machine(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "skanogan": skanogan.__version__,
    }


def run(
    configs: list[str],
    seeds: tuple[int, ...],
    results: Path,
    worker: tuple[int, int],
    data_home: str | None = None,
    classes: dict[str, tuple[int, ...]] | None = None,
) -> None:
    """Fit this worker's share of the cells not yet in ``results``, appending one record each."""
    done = {_key(record) for record in read_records(results)}
    index, count = worker
    for position, cell in enumerate(cells(configs, seeds, classes)):
        config, dataset, normal_class, seed = cell
        if position % count != index or cell in done:
            continue
        X_fit, X_val, y_val = load_cell_data(dataset, normal_class, seed, data_home)
        runner = run_peer if config in PEERS else run_skanogan
        outcome = runner(config, X_fit, X_val, y_val, seed)
        record = {
            "config": config,
            "dataset": dataset,
            "class": normal_class,
            "seed": seed,
            "n_fit": len(X_fit),
            "n_val": len(X_val),
            **outcome,
            "environment": environment(),
        }
        with results.open("a") as out:
            out.write(json.dumps(record) + "\n")
        if config in PEERS:
            summary = f"AUROC {outcome['scores']['default']['auroc']:.3f}"
        else:
            last = outcome["scores"][str(CHECKPOINTS[-1])]
            summary = " ".join(f"{name} {v['auroc']:.3f}" for name, v in last.items())
        print(
            f"{config} {dataset} {normal_class} seed {seed}: {summary} "
            f"({outcome['fit_seconds']:.0f} s)",
            flush=True,
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.validation")
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="fit the cells not yet in the results file")
    run_parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    run_parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    run_parser.add_argument("--worker", default="0/1", help="K/N: run every N-th cell from K")
    run_parser.add_argument("--data-home", help="data folder (default: $SKANOGAN_DATA)")
    for p in (run_parser, sub.add_parser("report", help="print the validation tables")):
        p.add_argument("--results", type=Path, default=Path("benchmarks/results/validation.jsonl"))
        p.add_argument(
            "--classes",
            choices=list(CLASS_SETS),
            default="sweep",
            help="the sweep's four classes per data set, or every class",
        )
    args = parser.parse_args(argv)
    classes = CLASS_SETS[args.classes]
    if args.command == "run":
        index, count = (int(part) for part in args.worker.split("/"))
        args.results.parent.mkdir(parents=True, exist_ok=True)
        run(args.configs, tuple(args.seeds), args.results, (index, count), args.data_home, classes)
    else:
        from benchmarks.validation_report import render

        print(render(read_records(args.results), classes))


if __name__ == "__main__":
    main()
